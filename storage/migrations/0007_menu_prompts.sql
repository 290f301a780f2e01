-- The last menu the bot showed a Telegram user outside a procedure (« Mon compte », its
-- confirmation to delete, the changed CGU): its buttons carry this nonce, so a button of an
-- older menu, or forged data, is refused. With the changed CGU, the exact version shown.
CREATE TABLE menu_prompts (
    telegram_user_id INTEGER PRIMARY KEY,
    nonce            TEXT NOT NULL,
    cgu_version      TEXT,
    shown_at         TEXT NOT NULL
);
