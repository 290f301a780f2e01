-- Every code e-mail a Telegram user asked for (sent, refused or a decoy alike): at most
-- MAX_MAILS_PER_USER_PER_DAY a day per person, whatever the mailboxes and accounts. Kept 24
-- hours (the purge of old attempts), even after « Supprimer mes données ».
CREATE TABLE mail_requests (
    id               INTEGER PRIMARY KEY,
    telegram_user_id INTEGER NOT NULL,
    at               TEXT NOT NULL
);
CREATE INDEX mail_requests_user_at ON mail_requests (telegram_user_id, at);
