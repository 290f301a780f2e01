"""The activation letter's PDF (bot/staff/letters.py), read back with pypdfium2: a phone number
is never broken over two lines, wherever the contact line wraps (issue 22.15)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2 as pdfium

from bot.school import Contact, SchoolConfig
from bot.staff.letters import render_letters
from bot.staff.service import Letter
from storage.staff import StaffAccount

PHONES = ("+33 1 23 45 67 89", "01 23 45 67 89", "03 87 65 43 21")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def account() -> StaffAccount:
    return StaffAccount(
        id=1,
        identifiant="lea.martin",
        identifiant_norm="lea.martin",
        profil="eleve",
        prenom="Léa",
        nom="Martin",
        etablissement="Lycée de Test",
        status="a_activer",
        has_provisional_password=True,
        email=None,
        email_verified_at=None,
        has_secret_questions=False,
        telegram_user_id=None,
        cgu_version=None,
        cgu_accepted_at=None,
        activated_at=None,
        imported_at=NOW,
        updated_at=NOW,
    )


def page_lines(path: Path) -> list[str]:
    document = pdfium.PdfDocument(path)
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    return [line.replace("\xa0", " ") for line in text.splitlines()]


def test_a_phone_number_stays_on_one_line(tmp_path: Path, school: SchoolConfig) -> None:
    """The contact line wraps at every possible place across these role lengths: each phone
    number is read whole on one line of the page."""
    letter = Letter(account(), "Xq7-Tb4k-Wpz", None)
    for length in range(0, 48, 2):
        contacts = tuple(
            Contact(
                nom="Secrétariat",
                role="vie scolaire " + "x" * length,
                email="secretariat@lycee-exemple.fr",
                telephone=phone,
                horaires="du lundi au vendredi, 8 h – 17 h",
            )
            for phone in PHONES
        )
        path = tmp_path / f"letters-{length}.pdf"
        render_letters(
            [letter], dataclasses.replace(school, contacts=contacts), "https://t.me/b", path, NOW
        )
        lines = page_lines(path)
        for phone in PHONES:
            assert any(phone in line for line in lines), (length, phone, lines[-8:])
