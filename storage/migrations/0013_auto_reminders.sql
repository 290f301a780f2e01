-- Automatic reminders (issue 11), scheduled from the database, each at most once per procedure
-- (one row per kind × user × procedure, UNIQUE): « le lien e-mail expire bientôt » and « votre
-- activation n'est pas finie ». Same life as the ledger rows: in_flight before the send,
-- uncertain if the bot died meanwhile.
CREATE TABLE auto_reminders (
    id                   INTEGER PRIMARY KEY,
    kind                 TEXT NOT NULL CHECK (kind IN ('lien_expire', 'inacheve')),
    telegram_user_id     INTEGER NOT NULL,
    chat_id              INTEGER NOT NULL,
    procedure_started_at TEXT NOT NULL,
    status               TEXT NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'in_flight', 'sent', 'blocked', 'failed', 'uncertain')),
    created_at           TEXT NOT NULL,
    done_at              TEXT,
    last_error           TEXT,
    UNIQUE (kind, telegram_user_id, procedure_started_at)
);
CREATE INDEX auto_reminders_status ON auto_reminders (status, id);
