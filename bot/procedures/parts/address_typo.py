"""A typed e-mail address whose domain looks like a typo of a common one (« gmial.com »): the
bot suggests the likely address before sending, instead of sending a code nobody will read."""

from __future__ import annotations

import difflib

from bot import texts
from bot.procedures.view import InputKind, Prompt, rows_of

# Domains French families and apprentices use most; a domain close to one of these, and not
# one of them, is probably a typo.
COMMON_DOMAINS = (
    "gmail.com",
    "hotmail.fr",
    "hotmail.com",
    "outlook.fr",
    "outlook.com",
    "live.fr",
    "yahoo.fr",
    "yahoo.com",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "sfr.fr",
    "laposte.net",
    "icloud.com",
    "gmx.fr",
    "neuf.fr",
    "bbox.fr",
    "aol.com",
    "protonmail.com",
    "proton.me",
)


def suggested_address(address: str) -> str | None:
    """The address with its domain corrected, if the domain looks like a typo of a common one
    (None if it is fine or unlike any)."""
    local, _, domain = address.rpartition("@")
    domain = domain.casefold()
    if not local or domain in COMMON_DOMAINS:
        return None
    close = difflib.get_close_matches(domain, COMMON_DOMAINS, n=1, cutoff=0.8)
    return f"{local}@{close[0]}" if close else None


def confirm_address_prompt(address: str, prefix: str, send_label: str, change_label: str) -> Prompt:
    """The address shown back before its code is sent (choices ``prefix:send`` and
    ``prefix:change``); one whose domain looks like a typo comes with the likely one and
    « Oui, corriger » (``prefix:fix``)."""
    suggestion = suggested_address(address)
    if suggestion is None:
        rows = rows_of((send_label, f"{prefix}:send"), (change_label, f"{prefix}:change"))
        return Prompt(texts.confirm_email(address), rows, InputKind.CHOICE)
    rows = rows_of(
        (texts.BUTTON_EMAIL_FIX, f"{prefix}:fix"),
        (texts.BUTTON_EMAIL_KEEP, f"{prefix}:send"),
        (change_label, f"{prefix}:change"),
    )
    return Prompt(texts.email_typo(address, suggestion), rows, InputKind.CHOICE)
