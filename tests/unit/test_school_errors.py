"""The school file's errors are French (bot.texts.ops), name the file and what to fix, and
never carry the English of Python or of the C library: staff read them as the start-up
refusal's one sentence."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.school import SchoolConfigError, load_school_config

from support import DATA

ENGLISH = re.compile(
    r"\b(needs|must|cannot|empty|Expected|No such file|Permission denied|Is a directory|"
    r"invalid|codec|at line)\b",
    re.IGNORECASE,
)
GOOD = (DATA / "school.toml").read_text(encoding="utf-8")


def error_of(path: Path) -> str:
    with pytest.raises(SchoolConfigError) as caught:
        load_school_config(path)
    message = str(caught.value)
    assert not ENGLISH.search(message), message
    return message


def school(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "school.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "cgu.txt").write_text("Les CGU.", encoding="utf-8")
    return path


def good_with_cgu_beside(tmp_path: Path) -> str:
    """The tests' school file, its CGU named cgu.txt (beside it in tmp_path)."""
    return re.sub(r'(?m)^cgu = ".*"$', 'cgu = "cgu.txt"', GOOD)


def test_missing_unreadable_or_not_utf8_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    message = error_of(missing)
    assert str(missing) in message and "introuvable" in message
    assert "dossier" in error_of(tmp_path)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('[etablissement]\nnom = "Lycée"\n'.encode("latin-1"))
    assert "UTF-8" in error_of(latin1)
    if os.geteuid() != 0:  # root reads any file
        locked = school(tmp_path, GOOD)
        locked.chmod(0)
        assert "droits" in error_of(locked)


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    message = error_of(school(tmp_path, "[etablissement]\nnom Lycée\n"))
    assert "syntaxe TOML" in message and "ligne 2" in message and "colonne" in message


def test_missing_values_and_wrong_ones(tmp_path: Path) -> None:
    text = good_with_cgu_beside(tmp_path)
    assert 'cgu = "cgu.txt"' in text
    assert load_school_config(school(tmp_path, text)).cgu_text == "Les CGU."

    no_url = re.sub(r"(?m)^ent_url = .*$", "", text)
    assert "il manque « ent_url » dans [etablissement]" in error_of(school(tmp_path, no_url))
    ftp = re.sub(r"(?m)^ent_url = .*$", 'ent_url = "ftp://ent"', text)
    assert "« ent_url »" in error_of(school(tmp_path, ftp))

    path = school(tmp_path, text)
    (tmp_path / "cgu.txt").write_text("  \n", encoding="utf-8")
    assert "CGU" in error_of(path) and "vide" in error_of(path)
    (tmp_path / "cgu.txt").unlink()
    assert "CGU" in error_of(path) and "introuvable" in error_of(path)

    one_question = re.sub(r"(?s)liste = \[.*?\]\n", 'liste = ["Une seule ?"]\n', text)
    assert "au moins 2 questions" in error_of(school(tmp_path, one_question))


def test_quick_answers(tmp_path: Path) -> None:
    text = good_with_cgu_beside(tmp_path)
    base = re.sub(r"(?s)\[\[reponses_rapides\]\].*?(?=\[questions_secretes\])", "", text)
    assert "[[reponses_rapides]]" not in base and "[questions_secretes]" in base
    assert "« titre » et « texte »" in error_of(
        school(tmp_path, base + '\n[[reponses_rapides]]\ntitre = "Sans texte"\n')
    )
    entry = '\n[[reponses_rapides]]\ntitre = "T"\ntexte = "X"\n'
    assert "« action »" in error_of(school(tmp_path, base + entry + 'action = "voler"\n'))
    assert "« mots_cles »" in error_of(school(tmp_path, base + entry + 'mots_cles = "a"\n'))
