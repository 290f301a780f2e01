"""Plain rules on one incoming e-mail, without any channel: read it whatever its shape, tell an
automatic message (auto-reply, out-of-office, bounce) from a person's, read the DMARC verdict
of the school's own mail server, strip quoted history and signatures, thread the answer.

Nothing here raises on bad input (no ``Message-ID``, broken MIME, 8-bit headers, unknown
charsets, huge messages): a message the bot cannot read well is still a message."""

from __future__ import annotations

import contextlib
import email
import email.utils
import html
import logging
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message

from bot.outbox.mail import validate_email_address

logger = logging.getLogger(__name__)

# Characters of the person's text kept (the rest is cut: a phone screen, a quick answer).
MAX_TEXT = 20_000
# Ids kept in the answer's References (RFC 5322 lets it grow; a long thread stays bounded).
MAX_REFERENCES = 10
MAX_SUBJECT = 200

# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """What the bot uses of one e-mail (``text`` is the person's own words)."""

    sender: str | None
    subject: str
    message_id: str | None
    references: tuple[str, ...]
    text: str = field(repr=False)
    automatic: str | None
    dmarc: str | None
    headers: tuple[tuple[str, str], ...] = field(repr=False, default=())


def _clean(value: str) -> str:
    """A header value as text: 8-bit bytes (kept as surrogates by the parser) read as UTF-8,
    line breaks folded."""
    with contextlib.suppress(UnicodeError):
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return " ".join(value.split())


def _headers(message: Message) -> tuple[tuple[str, str], ...]:
    """All headers, decoded (RFC 2047) where possible, never raising."""
    found: list[tuple[str, str]] = []
    for name, value in message.raw_items():
        text = str(value)
        with contextlib.suppress(Exception):
            text = str(email.header.make_header(email.header.decode_header(text)))
        found.append((name.lower(), _clean(text)))
    return tuple(found)


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str:
    return next((value for key, value in headers if key == name), "")


def _all(headers: tuple[tuple[str, str], ...], name: str) -> list[str]:
    return [value for key, value in headers if key == name]


_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s]+>")


def message_ids(value: str) -> list[str]:
    """The well-formed ``<id@host>`` of a header value (others are dropped)."""
    return _MESSAGE_ID.findall(value or "")


def _decode_part(part: Message) -> str:
    """A text part's content: its charset if the bytes are that; else UTF-8 (8-bit text sent
    without a charset, or under a wrong one), else Windows-1252, else Latin-1 (any byte)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        return str(part.get_payload() or "")
    declared = part.get_content_charset() or "utf-8"
    for charset in (declared, "utf-8", "cp1252"):
        with contextlib.suppress(LookupError, UnicodeError):
            return payload.decode(charset)
    return payload.decode("latin-1")


_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)
_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.I)


def html_to_text(markup: str) -> str:
    """The words of an HTML part (an e-mail with no text part), line breaks kept."""
    text = _BREAK.sub("\n", markup)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    return "\n".join(line.strip() for line in text.splitlines())


def body_text(message: Message) -> str:
    """The first text/plain part that is no attachment, else the first text/html one."""
    plain: Message | None = None
    rich: Message | None = None
    with contextlib.suppress(Exception):
        for part in message.walk():
            if part.is_multipart():
                continue
            if str(part.get("Content-Disposition", "")).lower().startswith("attachment"):
                continue
            kind = part.get_content_type()
            if kind == "text/plain" and plain is None:
                plain = part
            elif kind == "text/html" and rich is None:
                rich = part
    if plain is not None:
        return _decode_part(plain)
    if rich is not None:
        return html_to_text(_decode_part(rich))
    return ""


def parse(raw: bytes, authserv_id: str | None = None) -> Incoming:
    """Read one e-mail (its first bytes: the reader cuts huge ones) without ever raising."""
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
        headers = _headers(message)
    except Exception:  # the parser is lenient; this is the last guard
        logger.warning("mail_in: unreadable message (%d bytes)", len(raw))
        message = EmailMessage()
        headers = ()
    text = ""
    try:
        text = body_text(message)
    except Exception:
        logger.warning("mail_in: unreadable body")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Incoming(
        sender=sender_address(_first(headers, "from")),
        subject=_first(headers, "subject"),
        message_id=next(iter(message_ids(_first(headers, "message-id"))), None),
        references=tuple(
            message_ids(_first(headers, "references"))
            or message_ids(_first(headers, "in-reply-to"))
        ),
        text=strip_quotes(text[: MAX_TEXT * 5])[:MAX_TEXT],
        automatic=automatic_reason(headers, message),
        dmarc=dmarc_result(_all(headers, "authentication-results"), authserv_id),
        headers=headers,
    )


def sender_address(value: str) -> str | None:
    """The normalised address of a From value, or None."""
    with contextlib.suppress(Exception):
        _, address = email.utils.parseaddr(value)
        return validate_email_address(address)
    return None


def address_key_text(address: str) -> str:
    """The form of an address its keyed hash is made of (the outbox's « mail-address »)."""
    return address.strip().casefold()


# --- automatic messages ----------------------------------------------------------------------

_ROBOT_LOCAL = re.compile(r"^(mailer-daemon|postmaster|no-?reply|bounces?)([+-].*)?$", re.I)
_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_AUTOMATIC_SUBJECT = re.compile(
    r"^\s*(r[ée]ponse automatique|absence|auto(matic)? ?reply|out of (the )?office|"
    r"undeliverable|non remis|delivery status notification|mail delivery failed)\b",
    re.I,
)


def automatic_reason(headers: tuple[tuple[str, str], ...], message: Message) -> str | None:
    """Why ``message`` is automatic (never answered: RFC 3834), or None for a person's."""
    submitted = _first(headers, "auto-submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return "auto-submitted"
    with contextlib.suppress(Exception):
        if message.get_content_type() == "multipart/report":
            return "report"
    for name in ("from", "sender", "return-path"):
        value = _first(headers, name)
        if name == "return-path" and value.strip() == "<>":
            return "null-sender"
        _, address = email.utils.parseaddr(value)
        if address and _ROBOT_LOCAL.match(address.partition("@")[0]):
            return "robot-sender"
    if _first(headers, "precedence").strip().lower() in _AUTOMATIC_PRECEDENCE:
        return "precedence"
    for name in ("x-autoreply", "x-autorespond", "x-auto-reply"):
        if any(key == name for key, _ in headers):
            return "x-autoreply"
    suppress = _first(headers, "x-auto-response-suppress").lower()
    if any(word in suppress for word in ("all", "oof", "autoreply")):
        return "x-auto-response-suppress"
    if any(key in ("list-id", "list-unsubscribe") for key, _ in headers):
        return "list"
    if _AUTOMATIC_SUBJECT.match(_first(headers, "subject")):
        return "subject"
    return None


# --- Authentication-Results (RFC 8601) -------------------------------------------------------


def _without_comments(value: str) -> str:
    """``value`` without its (nested) comments; quoted strings kept."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if char == '"' and depth == 0:
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
            continue
        elif not quoted and char == ")" and depth:
            depth -= 1
            continue
        if depth == 0:
            out.append(char)
    return "".join(out)


_DMARC = re.compile(r"^\s*dmarc\s*=\s*([A-Za-z]+)", re.I)


def dmarc_result(values: list[str], authserv_id: str | None) -> str | None:
    """The DMARC result (``pass``, ``fail``, ``none``…) that the server named ``authserv_id``
    wrote, from the topmost of its headers that has one; None if none (or no id is trusted).
    A header written by anyone else is ignored: anyone can write one."""
    if not authserv_id:
        return None
    trusted = authserv_id.strip().lower()
    for value in values:
        parts = _without_comments(value).split(";")
        head = parts[0].split()
        if not head or head[0].strip('"').lower() != trusted:
            continue
        for part in parts[1:]:
            found = _DMARC.match(part)
            if found:
                return found.group(1).lower()
    return None


# --- quoted history and signatures -----------------------------------------------------------

# A Gmail attribution cut in two by its line length: « …, Nom <\nadresse> a écrit : ».
_WRAPPED_ATTRIBUTION = re.compile(r"^(Le .{5,200}?<)\s*\n\s*(\S+@\S+>\s*a\s+écrit\s*:)", re.M)
# Where the person's words end, in the forms the library misses (measured: README).
_CUT = re.compile(
    r"^(?:"
    r">?\s*-{2,}\s*(?:Message d'origine|Original Message|Message transféré|"
    r"Forwarded message)\s*-{2,}"
    r"|Envoyé de mon (?:iPhone|iPad|smartphone|mobile|téléphone|appareil)\b.*"
    r"|Envoyé depuis mon \S.*"
    r"|Sent from my \S.*"
    r"|-- ?"
    r"|_{10,}"
    r")\s*$",
    re.M | re.I,
)


def _own_cut(text: str) -> str:
    found = _CUT.search(text)
    return text[: found.start()] if found else text


def _library_cut(text: str) -> str:
    """mail-parser-reply's French rules (its ``body``: the newest reply, no signature)."""
    try:
        from mailparser_reply import EmailReplyParser

        replies = EmailReplyParser(languages=["fr", "en"]).read(text=text).replies
        if replies:
            return str(replies[0].body)
    except Exception:  # a library bug must not lose the message
        logger.warning("mail_in: quote stripping failed; the text is kept")
    return text


def strip_quotes(text: str) -> str:
    """The person's own words: quoted history (French Gmail, Outlook, Thunderbird, Apple Mail
    forms) and signatures (« -- », « Envoyé de mon iPhone ») removed, and any quoted line (an
    answer written below or between the quotes keeps its own lines)."""
    if not text.strip():
        return ""
    joined = _WRAPPED_ATTRIBUTION.sub(r"\1\2", text)
    words = _unquoted(_own_cut(_library_cut(joined)))
    return words or _unquoted(joined)


def _unquoted(text: str) -> str:
    """``text`` without its quoted (« > ») lines."""
    return "\n".join(line for line in text.splitlines() if not line.startswith(">")).strip()


# --- the answer's threading ------------------------------------------------------------------

_REPLY_PREFIX = re.compile(r"^\s*(re|r[ée]p)\s*:", re.I)


def reply_subject(subject: str) -> str:
    """« Re: » and the subject (once), on one line; a neutral one if there is none."""
    clean = " ".join(subject.split())[:MAX_SUBJECT]
    if not clean:
        return "Re: votre message"
    return clean if _REPLY_PREFIX.match(clean) else f"Re: {clean}"


def reply_references(incoming: Incoming) -> tuple[str | None, str | None]:
    """(In-Reply-To, References) of the answer (RFC 5322 §3.6.4); None where unknown."""
    if incoming.message_id is None:
        return None, " ".join(incoming.references[-MAX_REFERENCES:]) or None
    chain = [*incoming.references, incoming.message_id][-MAX_REFERENCES:]
    return incoming.message_id, " ".join(chain)
