-- The random token each printed letter's QR code carries (/start c_<token>): the bot then knows
-- the account without the identifier being typed. Kept as a keyed hash (HMAC-SHA-256, the server
-- key outside the database); one a account: reprinting a letter replaces it, a staff reset and
-- the activation void it.
CREATE TABLE letter_tokens (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);
