-- Durable outbox: every message that is not the direct answer to an update (e-mails, owed
-- deletions of messages holding a secret) is written here in the transaction of the change that
-- causes it, then sent by the application's worker. Never a secret in clear: a code e-mail keeps
-- a random seed from which the code and link token are derived with the server key (HMAC), and
-- the seed and parameters are wiped once the item is sent or given up.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('code_mail', 'notice_mail', 'telegram_delete')),
    template        TEXT NOT NULL,
    params          TEXT NOT NULL DEFAULT '{}',
    seed            TEXT,
    account_id      INTEGER,
    address_key     TEXT,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'given_up')),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error      TEXT,
    done_at         TEXT
);
CREATE INDEX outbox_pending ON outbox (status, id);
CREATE INDEX outbox_account ON outbox (account_id, created_at);
CREATE INDEX outbox_address ON outbox (address_key, created_at);
