"""The e-mails, as Jinja2 templates beside this module (``<name>.j2``, all on ``layout.j2``).

Each e-mail is one template rendered twice: with ``html`` false and no escaping for the text
part, with ``html`` true and autoescaping for the HTML part, so that a value from a user or from
the school's file can never become markup. The subject is the template's ``subject`` block.
Template names are the outbox's (the ``template`` column): rows already queued still render.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import jinja2

# The e-mails that carry a code and a link (params: prenom, code, link, hours) and the notices.
CODE_MAILS = frozenset({"verification", "recovery", "email_change"})
NOTICES = frozenset({"password_changed", "email_changed"})
# Answers to an incoming e-mail (params: subject and the template's values; see bot/mail_in).
ANSWERS = frozenset({"mail_answer"})


@dataclass(frozen=True)
class RenderedMail:
    """Subject, text part and HTML part of one e-mail."""

    subject: str
    text: str = field(repr=False)
    html: str = field(repr=False)


@functools.cache
def _environment(html: bool) -> jinja2.Environment:
    """The templates' environment for one part (autoescaping for HTML only)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bot.texts.mail", "."),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_BLANK_LINES = re.compile(r"\n\s*\n")


def _tidy_text(text: str) -> str:
    """Paragraphs separated by one blank line, lines without surrounding spaces."""
    paragraphs = (
        "\n".join(line.strip() for line in block.strip().splitlines())
        for block in _BLANK_LINES.split(text)
    )
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def render(name: str, **params: object) -> RenderedMail:
    """The e-mail ``name`` with ``params`` (``school`` and ``prenom`` always; see each template).
    An unknown name raises :class:`jinja2.TemplateNotFound`, a missing parameter
    :class:`jinja2.UndefinedError`."""
    if name not in CODE_MAILS | NOTICES | ANSWERS:
        raise jinja2.TemplateNotFound(name)
    text_template = _environment(False).get_template(f"{name}.j2")
    subject = "".join(
        text_template.blocks["subject"](text_template.new_context({**params, "html": False}))
    )
    text = text_template.render(**params, html=False)
    html = _environment(True).get_template(f"{name}.j2").render(**params, html=True)
    return RenderedMail(subject=" ".join(subject.split()), text=_tidy_text(text), html=html.strip())
