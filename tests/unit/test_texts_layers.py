"""The texts package is a leaf: chat catalogue, staff texts, e-mail templates; and the chat
catalogue can be swapped for another language without touching the handlers."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from bot import texts
from bot.directory.port import DirectoryRule
from bot.settings import PROJECT_ROOT
from bot.texts import languages
from bot.texts import ldap as ldap_texts

IMPORT_ALL_TEXTS = """
import pkgutil, sys
import bot.texts
for module in pkgutil.walk_packages(bot.texts.__path__, "bot.texts."):
    __import__(module.name)
print("\\n".join(sorted(sys.modules)))
"""


def test_importing_the_texts_imports_no_feature_of_the_bot() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL_TEXTS],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        check=True,
    )
    modules = result.stdout.split()
    assert "bot.texts.staff" in modules and "bot.texts.mail" in modules
    wrong = [
        name
        for name in modules
        if name.startswith(
            (
                "bot.staff",
                "bot.procedures",
                "conversations",
                "bot.outbox",
                "bot.directory",
                "bot.broadcast",
                "bot.support",
            )
        )
    ]
    assert not wrong, f"bot.texts must not import {wrong}"


def test_every_rule_of_the_directory_has_its_own_text() -> None:
    """The texts key the directory's rules by value (they do not import bot.directory)."""
    other = ldap_texts.directory_password_refused(DirectoryRule.OTHER)
    for rule in DirectoryRule:
        refused = ldap_texts.directory_password_refused(rule)
        assert (refused == other) == (rule is DirectoryRule.OTHER), rule


def test_a_catalogue_replaces_the_texts_it_has_and_keeps_french_for_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    french_cancelled, french_not_text = texts.CANCELLED, texts.NOT_TEXT
    english = types.ModuleType("tests_catalogue_en")
    english.CANCELLED = "OK, I stopped. Your account was not changed."  # type: ignore[attr-defined]
    english.confirm_email = lambda address: f"Is this your address? {address}"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tests_catalogue_en", english)
    monkeypatch.setitem(languages.CATALOGUES, "en", "tests_catalogue_en")
    try:
        languages.select("en")
        assert texts.CANCELLED == english.CANCELLED and french_not_text == texts.NOT_TEXT
        assert texts.confirm_email("a@b.fr") == "Is this your address? a@b.fr"
        missing = languages.missing("en")
        assert "NOT_TEXT" in missing and "CANCELLED" not in missing and "welcome" in missing
    finally:
        languages.select("fr")
    assert french_cancelled == texts.CANCELLED
    assert texts.confirm_email("a@b.fr").startswith("Est-ce bien votre adresse ?")
    assert languages.missing("fr") == []


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no catalogue"):
        languages.select("xx")
