"""How the bot talks to the Bot API: one rate limiter, per-chat ordering of updates."""
