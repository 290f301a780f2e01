-- Support with forum topics (issue 13): the title a topic was given (edited when the facts in it
-- change), and the intent to create one, written before createForumTopic: a restart that finds
-- an intent without its topic knows a topic may exist and does not create a second one.
ALTER TABLE support_topics ADD COLUMN title TEXT;
CREATE TABLE support_topic_intents (
    telegram_user_id INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL,
    started_at       TEXT NOT NULL
);
