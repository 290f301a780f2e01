"""The establishment's own content: name, ENT address, CGU text, contacts, secret questions.

It is read from a small TOML file (see ``config/school.example.toml``), never hard-coded.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from bot.config.hours import OpeningHoursError, parse_opening_hours
from bot.config.school import QUICK_ACTIONS as QUICK_ACTIONS
from bot.config.school import Contact as Contact
from bot.config.school import QuickAnswer as QuickAnswer
from bot.config.school import SchoolConfig as SchoolConfig
from bot.config.school import SchoolConfigError as SchoolConfigError
from bot.texts import ops as ops_texts


def load_school_config(path: Path) -> SchoolConfig:
    """Read and check the school file at ``path`` (errors in French, from bot.texts.ops)."""
    return school_from_data(path, read_school_file(path))


def read_school_file(path: Path) -> dict[str, Any]:
    """The TOML of a school file, unchecked (a syntax or reading error in French)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        line, column = _toml_position(error)
        raise SchoolConfigError(ops_texts.school_syntax(str(path), line, column)) from error
    except (OSError, UnicodeDecodeError) as error:
        raise SchoolConfigError(
            ops_texts.school_unreadable(str(path), _why_unreadable(error))
        ) from error


def school_from_data(path: Path, data: dict[str, Any]) -> SchoolConfig:
    """Check a school file's values (``path`` names it in errors; a relative CGU path starts
    from its folder). :mod:`bot.region` calls it with a region file merged with an
    establishment's."""
    etab = data.get("etablissement", {})
    if not isinstance(etab, dict):
        raise SchoolConfigError(ops_texts.school_section(str(path), "etablissement"))
    for key in ("nom", "ent_url", "cgu"):
        if not etab.get(key):
            raise SchoolConfigError(ops_texts.school_needs(str(path), "etablissement", key))
    if not str(etab["ent_url"]).startswith(("https://", "http://")):
        raise SchoolConfigError(ops_texts.school_bad_url(str(path)))

    cgu_path = (path.parent / etab["cgu"]).resolve()
    try:
        cgu_text = cgu_path.read_text(encoding="utf-8-sig").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SchoolConfigError(
            ops_texts.cgu_unreadable(str(cgu_path), _why_unreadable(error))
        ) from error
    if not cgu_text:
        raise SchoolConfigError(ops_texts.cgu_empty(str(cgu_path)))
    if etab.get("cgu_ajout"):  # an establishment's additions to the region's CGU
        addition_path = (path.parent / etab["cgu_ajout"]).resolve()
        try:
            addition = addition_path.read_text(encoding="utf-8-sig").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise SchoolConfigError(
                ops_texts.cgu_unreadable(str(addition_path), _why_unreadable(error))
            ) from error
        if addition:
            cgu_text = f"{cgu_text}\n\n{addition}"

    contacts = tuple(
        Contact(**{k: str(v) for k, v in c.items() if k in Contact.__dataclass_fields__})
        for c in data.get("contacts", [])
    )
    questions = tuple(str(q) for q in data.get("questions_secretes", {}).get("liste", []))
    if len(questions) < 2:
        raise SchoolConfigError(ops_texts.school_too_few_questions(str(path)))
    quick_answers = tuple(_quick_answer(path, item) for item in data.get("reponses_rapides", []))
    horaires = None
    if "horaires" in data:
        if not isinstance(data["horaires"], dict):
            raise SchoolConfigError(ops_texts.school_section(str(path), "horaires"))
        try:
            horaires = parse_opening_hours(data["horaires"])
        except OpeningHoursError as error:
            raise SchoolConfigError(f"{path} : {error}") from None
    return SchoolConfig(
        etablissement=str(etab["nom"]),
        ent_nom=str(etab.get("ent_nom") or "ENT"),
        ent_url=str(etab["ent_url"]),
        cgu_text=cgu_text,
        contacts=contacts,
        secret_questions=questions,
        mot_de_passe_oublie_url=str(etab.get("mot_de_passe_oublie_url", "")),
        connexion_externe={str(k): str(v) for k, v in data.get("connexion_externe", {}).items()},
        quick_answers=quick_answers,
        horaires=horaires,
    )


def _toml_position(error: tomllib.TOMLDecodeError) -> tuple[int | None, int | None]:
    """Line and column of a TOML syntax error (Python 3.14 has attributes; before, the
    message ends with « (at line L, column C) »)."""
    line, column = getattr(error, "lineno", None), getattr(error, "colno", None)
    if isinstance(line, int) and isinstance(column, int):
        return line, column
    match = re.search(r"at line (\d+), column (\d+)", str(error))
    return (int(match.group(1)), int(match.group(2))) if match else (None, None)


def _why_unreadable(error: OSError | UnicodeDecodeError) -> str:
    """Why a file cannot be read, in French (never the C library's English text)."""
    if isinstance(error, UnicodeDecodeError):
        return ops_texts.FILE_NOT_UTF8
    if isinstance(error, FileNotFoundError):
        return ops_texts.FILE_NOT_FOUND
    if isinstance(error, PermissionError):
        return ops_texts.FILE_NOT_READABLE
    if isinstance(error, IsADirectoryError):
        return ops_texts.FILE_IS_A_FOLDER
    return ops_texts.file_unreadable(type(error).__name__)


def _quick_answer(path: Path, item: dict[str, object]) -> QuickAnswer:
    """One ``[[reponses_rapides]]`` entry, checked."""
    titre, texte = str(item.get("titre") or ""), str(item.get("texte") or "")
    action = str(item.get("action") or "")
    if not titre or not texte:
        raise SchoolConfigError(ops_texts.quick_answer_needs(str(path)))
    if action not in QUICK_ACTIONS:
        actions = ", ".join(f"« {name} »" for name in QUICK_ACTIONS[1:])
        raise SchoolConfigError(ops_texts.quick_answer_action(str(path), actions))
    keywords = item.get("mots_cles") or []
    if not isinstance(keywords, list):
        raise SchoolConfigError(ops_texts.quick_answer_keywords(str(path)))
    return QuickAnswer(titre, texte, action, tuple(str(k) for k in keywords))
