-- When the request of an outbox Telegram item that creates a message (a post, a copy) left for
-- Telegram: set just before it leaves (not while it waits in the limiter's queue), cleared when
-- an answer proves nothing was done. An item found with it at the next attempt — after a
-- `kill -9`, say — may have been delivered: it is given up as « incertain », never sent again.
ALTER TABLE outbox ADD COLUMN in_flight_at TEXT;
