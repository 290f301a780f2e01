-- Non-secret state of a procedure that has no column of its own (JSON object), e.g. whether
-- the first secret answer of a password recovery was right, told only after the second one.
ALTER TABLE conversation_sessions ADD COLUMN flow_data TEXT NOT NULL DEFAULT '{}';
