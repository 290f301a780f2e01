"""The names of what the outbox sends (its ``template`` column), apart from how it sends them
(:mod:`bot.outbox.senders`, which needs python-telegram-bot): the procedures name them
without loading it."""

from __future__ import annotations

# Templates of outbox e-mails (the ``template`` column).
VERIFICATION = "verification"
RECOVERY = "recovery"
EMAIL_CHANGE = "email_change"
PASSWORD_CHANGED = "password_changed"
EMAIL_CHANGED = "email_changed"
DELETE_MESSAGE = "delete_message"
# The automatic answer to an incoming e-mail (bot/mail_in/), threaded to it.
MAIL_ANSWER = "mail_answer"
# Telegram messages to staff (e.g. an account just locked).
STAFF_NOTICE = "staff_notice"
# A message in a user's forum topic of the staff group (support with topics).
TOPIC_POST = "topic_post"
# Support relays: a photo or document copied (copyMessage) with a caption of ours; an edit of
# a relayed message mirrored on its copy; a copy deleted (its original now holds a password).
RELAY_COPY = "relay_copy"
RELAY_EDIT = "relay_edit"
RELAY_DELETE = "relay_delete"

# Telegram's limit on a media caption (characters, after entities parsing).
CAPTION_LIMIT = 1024

# The params key of an e-mail's establishment (a UAI, issue 27): the e-mail is written in that
# establishment's words (its name, ENT, contacts); absent: the region's.
MAIL_UAI = "uai"
