"""ENT activation bot: settings, texts, rules, security, mail, application factory, sandbox."""
