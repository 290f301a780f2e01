-- Support with forum topics (issue 13): one topic of the staff group a user, created once.
CREATE TABLE support_topics (
    telegram_user_id INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL,
    thread_id        INTEGER NOT NULL,
    closed           INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    UNIQUE (chat_id, thread_id)
);
