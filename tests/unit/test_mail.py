"""Sending e-mails to a real aiosmtpd server on 127.0.0.1, and address helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from bot import texts
from bot.outbox.mail import (
    MailDeliveryError,
    Mailer,
    OutgoingMail,
    SmtpConfig,
    mask_email,
    validate_email_address,
)
from bot.sandbox.mailbox import Mailbox, free_port
from bot.school import SchoolConfig


@pytest_asyncio.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


async def test_sends_text_and_html_in_utf8(mailbox: Mailbox) -> None:
    mailer = Mailer(SmtpConfig("127.0.0.1", mailbox.port, sender="ENT <no-reply@example.org>"))
    await mailer.send(
        OutgoingMail("lea@example.org", "Votre code à saisir", "Bonjour Léa, voilà", "<p>Voilà</p>")
    )
    mail = await mailbox.wait_for(1)
    assert mail.subject == "Votre code à saisir"
    assert mail.recipients == ("lea@example.org",)
    assert "Bonjour Léa" in mail.text and "<p>Voilà</p>" in mail.html
    raw = mailbox.raw[0].decode("ascii", "replace")
    assert "Auto-Submitted: auto-generated" in raw and "@example.org>" in raw


async def test_unreachable_server_raises_a_delivery_error() -> None:
    mailer = Mailer(SmtpConfig("127.0.0.1", free_port(), timeout=3))
    with pytest.raises(MailDeliveryError) as caught:
        await mailer.send(OutgoingMail("a@example.org", "s", "t", "h"))
    assert "t" not in str(caught.value).split(":")[-1] or "Error" in str(caught.value)


def test_password_is_not_in_the_config_repr() -> None:
    assert "hunter2" not in repr(SmtpConfig("h", 25, password="hunter2"))


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("Lea.Martin@Example.ORG", "Lea.Martin@example.org"),
        ("lea@example.org", "lea@example.org"),
        ("pas-une-adresse", None),
        ("a@b", None),
        ("deux@example.org trois@example.org", None),
        ("Léa <lea@example.org>", None),
        ("", None),
    ],
)
def test_validate_email_address(address: str, expected: str | None) -> None:
    assert validate_email_address(address) == expected


def test_mask_email() -> None:
    assert mask_email("lea.martin@example.org") == "l********n@example.org"
    assert mask_email("ab@x.fr") == "a*@x.fr"


@pytest.mark.parametrize(
    ("builder", "button", "why"),
    [
        (texts.verification_email_html, "Confirmer mon adresse", "Vous activez votre compte"),
        (texts.recovery_email_html, "Changer mon mot de passe", "changer le mot de passe"),
        (texts.email_change_html, "Confirmer ma nouvelle adresse", "adresse de secours"),
    ],
)
def test_code_emails_share_one_template(
    school: SchoolConfig, builder: Callable[..., str], button: str, why: str
) -> None:
    html = builder(school, "Léa <b>", "12345678", "https://t.me/b?start=tok&x", 48)
    assert button in html and why in html and "12345678" in html
    assert "Léa &lt;b&gt;" in html and 'href="https://t.me/b?start=tok&amp;x"' in html
    assert "48 heures" in html and html.count("<p>Bonjour") == 1


@pytest.mark.parametrize(
    ("builder", "why"),
    [
        (texts.verification_email_text, "Vous activez votre compte"),
        (texts.recovery_email_text, "changer le mot de passe"),
        (texts.email_change_text, "utiliser cette adresse"),
    ],
)
def test_code_email_texts_share_one_template(
    school: SchoolConfig, builder: Callable[..., str], why: str
) -> None:
    text = builder(school, "Léa", "12345678", "https://t.me/b?start=tok", 48)
    assert why in text and school.ent_nom in text
    assert "Votre code de confirmation : 12345678" in text and "https://t.me/b?start=tok" in text
    assert "48 heures" in text and text.startswith("Bonjour Léa,")
