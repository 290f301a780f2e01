"""The plain rules of incoming e-mail (bot/mail_in/rules.py), without any channel."""

from __future__ import annotations

import pytest

from bot.mail_in.rules import (
    dmarc_result,
    parse,
    reply_references,
    reply_subject,
    strip_quotes,
)

from mail_in_samples import SAMPLES

PERSON = (
    b"From: Paul Durand <Paul.Durand@Example.ORG>\r\n"
    b"To: activation@lycee.example\r\n"
    b"Subject: Mon code\r\n"
    b"Message-ID: <abc@example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Bonjour, je n'ai pas re\xc3\xa7u l'e-mail.\r\n"
)


def with_headers(*lines: str, base: bytes = PERSON) -> bytes:
    extra = "".join(f"{line}\r\n" for line in lines).encode()
    return extra + base


def test_a_person_is_read() -> None:
    incoming = parse(PERSON)
    assert incoming.sender == "Paul.Durand@example.org"
    assert incoming.subject == "Mon code"
    assert incoming.message_id == "<abc@example.org>"
    assert incoming.text == "Bonjour, je n'ai pas reçu l'e-mail."
    assert incoming.automatic is None


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-replied", "auto-submitted"),
        ("Auto-Submitted: auto-generated; owner-email=x@y.z", "auto-submitted"),
        ("Precedence: bulk", "precedence"),
        ("Precedence: auto_reply", "precedence"),
        ("Precedence: list", "precedence"),
        ("X-Autoreply: yes", "x-autoreply"),
        ("X-Autorespond: yes", "x-autoreply"),
        ("X-Auto-Response-Suppress: All", "x-auto-response-suppress"),
        ("List-Id: <parents.lycee.example>", "list"),
        ("Return-Path: <>", "null-sender"),
    ],
)
def test_automatic_messages_are_recognised(header: str, reason: str) -> None:
    assert parse(with_headers(header)).automatic == reason


def test_auto_submitted_no_is_a_person() -> None:
    assert parse(with_headers("Auto-Submitted: no")).automatic is None


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.org", "postmaster@example.org"])
def test_bounce_senders_are_automatic(sender: str) -> None:
    raw = PERSON.replace(b"Paul Durand <Paul.Durand@Example.ORG>", sender.encode())
    assert parse(raw).automatic == "robot-sender"


def test_a_delivery_report_is_automatic() -> None:
    raw = (
        b"From: Mail Delivery System <mailer@mx.example.org>\r\n"
        b"Subject: Returned mail\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b--\r\n"
    )
    assert parse(raw).automatic == "report"


@pytest.mark.parametrize(
    "subject", ["Réponse automatique : Mon code", "Absence du bureau", "Out of Office: x"]
)
def test_out_of_office_subjects_are_automatic(subject: str) -> None:
    raw = PERSON.replace(b"Subject: Mon code", f"Subject: {subject}".encode())
    assert parse(raw).automatic == "subject"


# --- DMARC -----------------------------------------------------------------------------------


def test_dmarc_from_the_trusted_server_only() -> None:
    ours = (
        "mx.lycee.example; spf=pass smtp.mailfrom=example.org; "
        "dmarc=fail (p=reject) header.from=example.org"
    )
    forged = "mx.lycee.example.attacker; dmarc=pass header.from=example.org"
    assert dmarc_result([ours], "mx.lycee.example") == "fail"
    assert dmarc_result([forged], "mx.lycee.example") is None
    assert dmarc_result([forged, ours], "MX.Lycee.Example") == "fail"
    assert dmarc_result([ours], None) is None


def test_dmarc_comments_and_version() -> None:
    value = 'mx.lycee.example 1; dkim=pass (good; "signature") header.d=x; dmarc=pass (p=none)'
    assert dmarc_result([value], "mx.lycee.example") == "pass"
    assert dmarc_result(["mx.lycee.example; none"], "mx.lycee.example") is None
    assert dmarc_result(["mx.lycee.example; dkim=pass (dmarc=fail)"], "mx.lycee.example") is None


def test_dmarc_is_read_from_the_message() -> None:
    raw = with_headers("Authentication-Results: mx.lycee.example; dmarc=fail header.from=x")
    assert parse(raw, "mx.lycee.example").dmarc == "fail"
    assert parse(raw, "other.example").dmarc is None


# --- quotes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "body", "words"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_french_quotes_and_signatures_are_stripped(name: str, body: str, words: str) -> None:
    assert " ".join(strip_quotes(body).split()) == " ".join(words.split())


def test_an_answer_below_the_quote_is_kept() -> None:
    body = "> Bonjour Léa,\n> Votre code.\n\nMerci, c'est bon.\n"
    assert strip_quotes(body) == "Merci, c'est bon."


# --- threading -------------------------------------------------------------------------------


def test_threading() -> None:
    raw = with_headers("References: <r1@x.org> <r2@x.org>")
    incoming = parse(raw)
    assert reply_references(incoming) == (
        "<abc@example.org>",
        "<r1@x.org> <r2@x.org> <abc@example.org>",
    )
    assert reply_subject("Mon code") == "Re: Mon code"
    assert reply_subject("RE: Mon code") == "RE: Mon code"
    assert reply_subject("") == "Re: votre message"
    assert reply_subject("a\r\nBcc: x@y.z") == "Re: a Bcc: x@y.z"


# --- bad input never crashes -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not an e-mail at all",
        b"From: a@b.c\r\n\r\nno message-id\r\n",
        b"From: =?utf-8?b?w6k=?= <\xc3\xa9l\xc3\xa8ve@example.org>\r\n"
        b"Subject: \xc3\xa9t\xe9\r\n\r\nx",
        b"From: a@b.c\r\nContent-Type: text/plain; charset=x-unknown-42\r\n\r\n\xe9t\xe9",
        b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nbroken",
        b"From: a@b.c\r\nContent-Type: multipart/alternative\r\n\r\nno boundary",
        b"From: a@b.c\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
        b"From: <<<>>>\r\nMessage-ID: <<>>\r\nReferences: <a b@c>\r\n\r\nx",
        b"From: a@b.c\r\nContent-Type: text/html\r\n\r\n<p>Bonjour<br>mon <b>code</b></p>",
        b"From: a@b.c\r\n\r\n" + b"x" * 3_000_000,
    ],
)
def test_bad_input_never_crashes(raw: bytes) -> None:
    incoming = parse(raw, "mx.lycee.example")
    assert isinstance(incoming.text, str)
    assert len(incoming.text) <= 20_000


def test_unknown_charset_and_html_are_read() -> None:
    odd = parse(b"From: a@b.c\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n\xe9t\xe9")
    assert odd.text == "été"
    undeclared = parse("From: a@b.c\r\n\r\nJ'ai reçu l'été".encode())
    assert undeclared.text == "J'ai reçu l'été"
    wrong = parse(
        b"From: a@b.c\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n\xc3\xa9t\xc3\xa9"
    )
    assert wrong.text == "été"
    rich = parse(b"From: a@b.c\r\nContent-Type: text/html\r\n\r\n<p>Bonjour<br>mon code</p>")
    assert rich.text == "Bonjour\nmon code"
    no_id = parse(b"From: a@b.c\r\n\r\nx")
    assert no_id.message_id is None
    assert reply_references(no_id) == (None, None)
