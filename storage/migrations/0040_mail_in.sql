-- Incoming e-mail (issue 26): one row per IMAP message read from INBOX, written in the same
-- transaction as what the bot owes for it (its automatic answer, in the outbox), so that a
-- restart or a kill -9 loses and repeats nothing. A message is known by the mailbox's
-- UIDVALIDITY and its UID (RFC 3501: a UID is never reused while UIDVALIDITY stays).
-- No body is kept here (the message stays in the mailbox); the sender only as the keyed hash
-- of its address (the outbox's « mail-address » key), to cap the answers per address.
CREATE TABLE mail_in (
    mailbox       TEXT NOT NULL,
    uidvalidity   INTEGER NOT NULL,
    uid           INTEGER NOT NULL,
    received_at   TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('answered', 'automatic', 'capped', 'unverified', 'no_sender', 'own')),
    reason        TEXT,
    address_key   TEXT,
    outbox_id     INTEGER,
    PRIMARY KEY (mailbox, uidvalidity, uid)
);
CREATE INDEX mail_in_address ON mail_in (address_key, outcome, received_at);
CREATE INDEX mail_in_received ON mail_in (received_at);
