-- The optional CSV column email_contact (e.g. the address the school has for a parent): used
-- for reminders only, never as a recovery address (that one must be verified by the user).
CREATE TABLE reminder_contacts (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
