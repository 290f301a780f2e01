-- Staff tools: the funnel and reports look up audit events by kind, and open procedures by
-- account (10,000 accounts and more).
CREATE INDEX audit_events_event ON audit_events (event, account_id);
CREATE INDEX conversation_sessions_account ON conversation_sessions (account_id);
