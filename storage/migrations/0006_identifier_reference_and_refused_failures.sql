-- The identifier typed at an identifier prompt is no longer kept (a password typed there by
-- mistake would stay in clear for 30 days): only its throttle key (an HMAC) and the id of the
-- account it names, if any, until the provisional password or the recovery proves it.
ALTER TABLE conversation_sessions ADD COLUMN identifiant_key TEXT;
ALTER TABLE conversation_sessions ADD COLUMN candidate_account_id INTEGER;
-- Sessions of earlier versions: the typed text of an identifier not proven yet goes.
UPDATE conversation_sessions SET identifiant = NULL WHERE account_id IS NULL;
-- A failure counted while attempts were refused (delay or lock), its secret checked only to
-- count it: 0 for the attempts the throttle let through (see storage/throttle.py reserve).
ALTER TABLE auth_failures ADD COLUMN while_refused INTEGER NOT NULL DEFAULT 0;
