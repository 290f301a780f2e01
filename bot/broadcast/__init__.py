"""Staff broadcasts: the message's placeholders, the worker that sends campaigns, the command
line (``run_bot.py broadcast …``)."""
