"""Sending e-mails to a real aiosmtpd server on 127.0.0.1, and address helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import jinja2
import pytest
import pytest_asyncio

from bot.outbox.mail import (
    MailDeliveryError,
    Mailer,
    OutgoingMail,
    SmtpConfig,
    mask_email,
    validate_email_address,
)
from bot.outbox.templates import (
    EMAIL_CHANGE,
    EMAIL_CHANGED,
    PASSWORD_CHANGED,
    RECOVERY,
    VERIFICATION,
)
from bot.sandbox.mailbox import Mailbox, free_port
from bot.school import SchoolConfig
from bot.texts import mail as mail_templates


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
    ("template", "button", "why"),
    [
        (VERIFICATION, "Confirmer mon adresse", "Vous activez votre compte"),
        (RECOVERY, "Changer mon mot de passe", "changer le mot de passe"),
        (EMAIL_CHANGE, "Confirmer ma nouvelle adresse", "adresse de secours"),
    ],
)
def test_code_emails_share_one_template(
    school: SchoolConfig, template: str, button: str, why: str
) -> None:
    html = mail_templates.render(
        template,
        school=school,
        prenom="Léa <b>",
        code="12345678",
        link="https://t.me/b?start=tok&x",
        hours=48,
    ).html
    assert button in html and why in html and "12345678" in html
    assert "Léa &lt;b&gt;" in html and 'href="https://t.me/b?start=tok&amp;x"' in html
    assert "48 heures" in html and html.count("<p>Bonjour") == 1


@pytest.mark.parametrize(
    ("template", "why"),
    [
        (VERIFICATION, "Vous activez votre compte"),
        (RECOVERY, "changer le mot de passe"),
        (EMAIL_CHANGE, "utiliser cette adresse"),
    ],
)
def test_code_email_texts_share_one_template(school: SchoolConfig, template: str, why: str) -> None:
    text = mail_templates.render(
        template,
        school=school,
        prenom="Léa",
        code="12345678",
        link="https://t.me/b?start=tok",
        hours=48,
    ).text
    assert why in text and school.ent_nom in text
    assert "Votre code de confirmation : 12345678" in text and "https://t.me/b?start=tok" in text
    assert "48 heures" in text and text.startswith("Bonjour Léa,")


@pytest.mark.parametrize("template", [VERIFICATION, RECOVERY, EMAIL_CHANGE])
def test_a_name_is_escaped_in_html_and_intact_in_text(school: SchoolConfig, template: str) -> None:
    link = "https://t.me/ent_bot?start=Abc-123_x"
    mail = mail_templates.render(
        template, school=school, prenom="<b>Zoé & Cie</b>", code="40719385", link=link, hours=48
    )
    assert "<b>Zoé" not in mail.html and "Bonjour &lt;b&gt;Zoé &amp; Cie&lt;/b&gt;," in mail.html
    assert mail.text.startswith("Bonjour <b>Zoé & Cie</b>,\n\n")
    for part in (mail.text, mail.html):
        assert "40719385" in part and link in part
    assert f'href="{link}"' in mail.html and "<" not in mail.subject


@pytest.mark.parametrize(
    ("template", "params", "subject", "body"),
    [
        (PASSWORD_CHANGED, {}, "votre mot de passe a été changé", "vient d'être changé"),
        (
            EMAIL_CHANGED,
            {"masked_new": "n<*>w@example.org"},
            "votre adresse de secours a été changée",
            "remplacée par",
        ),
    ],
)
def test_notices_render_both_parts_from_one_template(
    school: SchoolConfig, template: str, params: dict[str, str], subject: str, body: str
) -> None:
    mail = mail_templates.render(template, school=school, prenom="Zoé & <i>", **params)
    assert subject in mail.subject and mail.subject.startswith(school.ent_nom)
    assert body in mail.text and body in mail.html
    assert mail.text.startswith("Bonjour Zoé & <i>,")
    assert "Bonjour Zoé &amp; &lt;i&gt;," in mail.html
    if params:
        assert "n<*>w@example.org" in mail.text and "n&lt;*&gt;w@example.org" in mail.html


def test_every_outbox_template_has_its_e_mail() -> None:
    assert {VERIFICATION, RECOVERY, EMAIL_CHANGE} == mail_templates.CODE_MAILS
    assert {PASSWORD_CHANGED, EMAIL_CHANGED} == mail_templates.NOTICES
    with pytest.raises(jinja2.TemplateNotFound):
        mail_templates.render("layout")


def test_a_missing_parameter_fails_instead_of_sending_a_blank(school: SchoolConfig) -> None:
    with pytest.raises(jinja2.UndefinedError):
        mail_templates.render(VERIFICATION, school=school, prenom="Léa", code="1", hours=48)
