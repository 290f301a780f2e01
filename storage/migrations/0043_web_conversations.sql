-- The web channel (issue 24): one row a conversation opened in the ENT's widget or its
-- no-JavaScript page, found by the keyed hash of its random id (the id itself is never stored),
-- and its outbound log: every message shown, numbered, so that a reload or a reconnection
-- shows what came after the last one seen, nothing twice. Secrets never enter either table.
CREATE TABLE web_conversations (
    id INTEGER PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    -- The engine's own small state (JSON, never a secret).
    state TEXT NOT NULL DEFAULT '{}',
    -- The nonce of the choices shown last: a button of an older message is refused.
    nonce TEXT,
    last_seq INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX web_conversations_last_seen ON web_conversations (last_seen_at);
CREATE TABLE web_messages (
    conversation_id INTEGER NOT NULL REFERENCES web_conversations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    -- 'bot' or 'person'
    sender TEXT NOT NULL,
    -- JSON: a prompt (text, rows, input, autocomplete) or the person's words
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
