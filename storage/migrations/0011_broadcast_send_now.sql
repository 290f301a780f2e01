-- A campaign staff sent with --maintenant (« Envoyer maintenant ») ignores the quiet hours.
ALTER TABLE broadcast_campaigns ADD COLUMN send_now INTEGER NOT NULL DEFAULT 0;
