-- One row for each message screened before it may go to the school's team (relayed, held back
-- or refused alike): the per-minute cap counts them before any hashing, and hash_checks how
-- many password hashes the message cost, so that a person's hashing stays within a budget.
-- No text, only when and how much.
CREATE TABLE support_screenings (
    id               INTEGER PRIMARY KEY,
    telegram_user_id INTEGER NOT NULL,
    screened_at      TEXT NOT NULL,
    hash_checks      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX support_screenings_user ON support_screenings (telegram_user_id, screened_at);
