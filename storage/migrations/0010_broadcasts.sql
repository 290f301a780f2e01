-- Staff broadcasts (issue 11). A campaign is recorded with its ledger: one row per
-- campaign × recipient × channel (UNIQUE), written with the campaign, so that a restart
-- resumes where it stopped. A row is marked 'in_flight' before its send: one found so at
-- start-up was being sent when the bot died and becomes 'uncertain' (never sent again).
CREATE TABLE broadcast_campaigns (
    id            INTEGER PRIMARY KEY,
    state         TEXT NOT NULL DEFAULT 'en_attente'
                  CHECK (state IN ('en_attente', 'en_cours', 'terminee', 'annulee')),
    message       TEXT NOT NULL,
    subject       TEXT NOT NULL DEFAULT '',
    segment       TEXT NOT NULL,
    profils       TEXT NOT NULL DEFAULT '[]',
    etablissement TEXT,
    channel       TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT
);
CREATE TABLE broadcast_deliveries (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES broadcast_campaigns (id) ON DELETE CASCADE,
    channel     TEXT NOT NULL CHECK (channel IN ('telegram', 'email')),
    -- The Telegram user id (private chat) or the e-mail address.
    recipient   TEXT NOT NULL,
    account_id  INTEGER,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'in_flight', 'sent', 'blocked', 'failed', 'uncertain')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    done_at     TEXT,
    UNIQUE (campaign_id, channel, recipient)
);
CREATE INDEX broadcast_deliveries_status ON broadcast_deliveries (campaign_id, status, id);
CREATE INDEX broadcast_deliveries_done ON broadcast_deliveries (done_at);
-- « Ne plus recevoir de rappels »: kept until the person asks again; respected by every later
-- campaign (security notices are not reminders and always go).
CREATE TABLE reminder_opt_outs (
    channel   TEXT NOT NULL,
    recipient TEXT NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (channel, recipient)
);
-- Telegram users who blocked the bot (403): left out of campaigns until they write again.
CREATE TABLE telegram_blocked (
    telegram_user_id INTEGER PRIMARY KEY,
    at               TEXT NOT NULL
);
-- The running bot's heartbeat (one row), so that the command line can tell no bot is running.
CREATE TABLE bot_heartbeat (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    at         TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    rate_per_s REAL NOT NULL
);
