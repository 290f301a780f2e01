"""The procedures: plain typed services, no Telegram (activation, recovery, « Mon compte »)."""
