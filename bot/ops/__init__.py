"""Running the bot for real: installation (``run_bot.py init``), start-up checks, health,
alerts and backups."""
