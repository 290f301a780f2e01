-- Support (issue 13): tickets with the school's team and the help mode of each user. Only
-- metadata is kept (who, when, state, first-response time, direction of each message): the
-- texts themselves live in the Telegram chats, never here.
CREATE TABLE support_tickets (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    telegram_user_id  INTEGER NOT NULL,
    chat_id           INTEGER NOT NULL,
    account_id        INTEGER,
    state             TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    opened_at         TEXT NOT NULL,
    first_response_at TEXT,
    closed_at         TEXT,
    updated_at        TEXT NOT NULL
);
-- At most one open ticket a user.
CREATE UNIQUE INDEX support_tickets_open ON support_tickets (telegram_user_id) WHERE state = 'open';
CREATE INDEX support_tickets_state ON support_tickets (state, updated_at);

CREATE TABLE support_messages (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES support_tickets (id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('user', 'staff')),
    at        TEXT NOT NULL
);
CREATE INDEX support_messages_ticket ON support_messages (ticket_id, at);

-- The help mode a user is in (quick answers shown, or writing to the team); the procedure's
-- session is untouched and resumes when the mode ends.
CREATE TABLE support_modes (
    telegram_user_id INTEGER PRIMARY KEY,
    mode             TEXT NOT NULL CHECK (mode IN ('menu', 'compose')),
    since            TEXT NOT NULL
);
