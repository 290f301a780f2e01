"""What the settings and the school file say, as plain values (SMTP, LDAP, quiet and opening
hours, the password policy, the school's content), with the rules that need nothing else: the
bottom layer above storage, which bot.settings, bot.school and bot.texts read without loading
any of the bot's features."""
