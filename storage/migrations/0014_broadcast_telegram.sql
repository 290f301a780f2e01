-- /diffusion, the staff's broadcasts from Telegram: a campaign can be paused, and its progress
-- message (edited in place by the running bot, at most every 3 seconds) is remembered, so that
-- a restart goes on editing it. A staff member's campaign being written (segment, channel, text)
-- is a draft row, never memory; its buttons carry its nonce.
ALTER TABLE broadcast_campaigns ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE broadcast_campaigns ADD COLUMN progress_chat_id INTEGER;
ALTER TABLE broadcast_campaigns ADD COLUMN progress_message_id INTEGER;
ALTER TABLE broadcast_campaigns ADD COLUMN progress_reported INTEGER NOT NULL DEFAULT 0;
CREATE TABLE broadcast_drafts (
    telegram_user_id INTEGER PRIMARY KEY,
    step             TEXT NOT NULL CHECK (step IN ('segment', 'canal', 'texte', 'confirmation')),
    nonce            TEXT NOT NULL,
    segment          TEXT,
    channel          TEXT,
    message          TEXT,
    updated_at       TEXT NOT NULL
);
