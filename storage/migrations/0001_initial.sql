-- Accounts to activate, as imported by staff. Secrets are argon2id hashes only.
CREATE TABLE accounts (
    id                        INTEGER PRIMARY KEY,
    identifiant               TEXT NOT NULL,
    identifiant_norm          TEXT NOT NULL UNIQUE,
    provisional_password_hash TEXT,
    profil                    TEXT NOT NULL,
    prenom                    TEXT NOT NULL DEFAULT '',
    nom                       TEXT NOT NULL DEFAULT '',
    etablissement             TEXT NOT NULL DEFAULT '',
    status                    TEXT NOT NULL DEFAULT 'a_activer'
                              CHECK (status IN ('a_activer', 'active')),
    password_hash             TEXT,
    email                     TEXT,
    email_verified_at         TEXT,
    secret_question1          TEXT,
    secret_answer1_hash       TEXT,
    secret_question2          TEXT,
    secret_answer2_hash       TEXT,
    telegram_user_id          INTEGER,
    cgu_version               TEXT,
    cgu_accepted_at           TEXT,
    activated_at              TEXT,
    -- HMAC (server secret) of the imported line, to see that a re-import changes nothing
    -- without re-hashing; cleared once the provisional password is no longer usable.
    import_fingerprint        TEXT,
    imported_at               TEXT NOT NULL,
    updated_at                TEXT NOT NULL
);
CREATE INDEX accounts_telegram_user ON accounts (telegram_user_id);

-- Where each Telegram user is in a procedure: written before every answer the bot gives.
CREATE TABLE conversation_sessions (
    telegram_user_id   INTEGER PRIMARY KEY,
    chat_id            INTEGER NOT NULL,
    flow               TEXT NOT NULL,
    step               TEXT NOT NULL,
    prompt_nonce       TEXT NOT NULL DEFAULT '',
    profil             TEXT,
    identifiant        TEXT,
    account_id         INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    cgu_version        TEXT,
    cgu_accepted_at    TEXT,
    email              TEXT,
    email_verified_at  TEXT,
    code_hash          TEXT,
    token_hash         TEXT UNIQUE,
    code_expires_at    TEXT,
    code_sent_at       TEXT,
    resend_count       INTEGER NOT NULL DEFAULT 0,
    question1          TEXT,
    answer1_hash       TEXT,
    question2          TEXT,
    answer2_hash       TEXT,
    new_password_hash  TEXT,
    started_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

-- Throttling of guessable secrets, keyed by an HMAC of the normalised identifier (known or not).
CREATE TABLE throttle (
    key                  TEXT PRIMARY KEY,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_failure_at      TEXT,
    locked_at            TEXT
);
CREATE TABLE auth_failures (
    id  INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at  TEXT NOT NULL
);
CREATE INDEX auth_failures_key_at ON auth_failures (key, at);

-- Which identifiers each Telegram user tried, to cap how many different ones in 24 hours.
CREATE TABLE identifiant_attempts (
    telegram_user_id INTEGER NOT NULL,
    key              TEXT NOT NULL,
    last_at          TEXT NOT NULL,
    PRIMARY KEY (telegram_user_id, key)
);

-- Every acceptance of the CGU: which text (SHA-256), when (UTC), by which Telegram user.
CREATE TABLE cgu_acceptances (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    cgu_version      TEXT NOT NULL,
    accepted_at      TEXT NOT NULL,
    telegram_user_id INTEGER NOT NULL
);

-- Append-only trail of what happened to accounts; never a secret.
CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    event      TEXT NOT NULL,
    account_id INTEGER,
    actor      TEXT NOT NULL,
    details    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_account ON audit_events (account_id, at);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
