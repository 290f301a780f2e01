"""The local sandbox: a Bot API server, an SMTP catcher and a web page (no Telegram needed)."""
