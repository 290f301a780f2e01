-- The outbox also carries Telegram messages the bot owes (staff told that an account locked):
-- SQLite cannot change a CHECK constraint, so the table is rebuilt with the new kind.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('code_mail', 'notice_mail', 'telegram_delete', 'telegram_message')),
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
INSERT INTO outbox_new SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (status, id);
CREATE INDEX outbox_account ON outbox (account_id, created_at);
CREATE INDEX outbox_address ON outbox (address_key, created_at);
