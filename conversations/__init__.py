"""One module per conversation; :mod:`conversations.common` holds what they share."""
