"""Reusable parts the procedures compose: an identifier prompt, a checked secret (throttled),
the owed e-mails and their limits, a proof by e-mail (code and link), a secret-question pair."""
