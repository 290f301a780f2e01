-- When the last alert of each kind (an exception's type) went to ALERT_CHAT_ID: at most one per
-- kind per 10 minutes, across restarts too (a bot restarting in a loop would alert each time).
-- One row a kind; no personal data.
CREATE TABLE ops_alerts (
    kind     TEXT PRIMARY KEY,
    last_at  TEXT NOT NULL
);
