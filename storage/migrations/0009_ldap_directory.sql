-- LDAP directory (issue 10). Each directory entry the bot meets gets a local ``accounts`` row
-- (its id is the account id everywhere in the bot) that remembers the entry's DN; its password
-- columns stay empty in LDAP mode.
ALTER TABLE accounts ADD COLUMN directory_dn TEXT;
-- Which Telegram user is setting the password in the directory right now (and since when): two
-- chats that both proved the provisional password cannot both write it; exactly one wins.
ALTER TABLE accounts ADD COLUMN directory_claim_by INTEGER;
ALTER TABLE accounts ADD COLUMN directory_claim_at TEXT;
CREATE UNIQUE INDEX accounts_directory_dn ON accounts (directory_dn) WHERE directory_dn IS NOT NULL;

-- The outbox also carries the directory writes still owed after a password was set (status and
-- recovery address): SQLite cannot change a CHECK constraint, so the table is rebuilt.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('code_mail', 'notice_mail', 'telegram_delete', 'telegram_message', 'directory_write')),
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
