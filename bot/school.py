"""The establishment's own content: name, ENT address, CGU text, contacts, secret questions.

It is read from a small TOML file (see ``config/school.example.toml``), never hard-coded.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bot.support.hours import OpeningHours, OpeningHoursError, parse_opening_hours


class SchoolConfigError(ValueError):
    """The school file is missing a value or has a wrong one."""


@dataclass(frozen=True)
class Contact:
    """Somebody users can turn to for help."""

    nom: str
    role: str = ""
    email: str = ""
    telephone: str = ""
    horaires: str = ""


QUICK_ACTIONS = ("", "renvoyer", "recommencer", "contacts")


@dataclass(frozen=True)
class QuickAnswer:
    """A short answer of the school to a frequent problem (« 🆘 Je bloque »), with an optional
    action button: ``renvoyer`` (the e-mail), ``recommencer``, ``contacts``."""

    titre: str
    texte: str
    action: str = ""
    mots_cles: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchoolConfig:
    """Everything the bot says that belongs to the school."""

    etablissement: str
    ent_nom: str
    ent_url: str
    cgu_text: str
    contacts: tuple[Contact, ...]
    secret_questions: tuple[str, ...]
    mot_de_passe_oublie_url: str = ""
    connexion_externe: dict[str, str] = field(default_factory=dict)
    quick_answers: tuple[QuickAnswer, ...] = ()
    # The team's opening hours (``[horaires]``); None: always there.
    horaires: OpeningHours | None = None

    @property
    def cgu_version(self) -> str:
        """SHA-256 of the CGU text: what a user accepts is recorded with this version."""
        return hashlib.sha256(self.cgu_text.encode("utf-8")).hexdigest()


def load_school_config(path: Path) -> SchoolConfig:
    """Read and check the school file at ``path``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SchoolConfigError(f"Cannot read the school file {path}: {error}") from error

    etab = data.get("etablissement", {})
    for key in ("nom", "ent_url", "cgu"):
        if not etab.get(key):
            raise SchoolConfigError(f"{path}: [etablissement] needs '{key}'")
    if not str(etab["ent_url"]).startswith(("https://", "http://")):
        raise SchoolConfigError(f"{path}: ent_url must be an http(s) address")

    cgu_path = (path.parent / etab["cgu"]).resolve()
    try:
        cgu_text = cgu_path.read_text(encoding="utf-8-sig").strip()
    except OSError as error:
        raise SchoolConfigError(f"Cannot read the CGU file {cgu_path}: {error}") from error
    if not cgu_text:
        raise SchoolConfigError(f"The CGU file {cgu_path} is empty")

    contacts = tuple(
        Contact(**{k: str(v) for k, v in c.items() if k in Contact.__dataclass_fields__})
        for c in data.get("contacts", [])
    )
    questions = tuple(str(q) for q in data.get("questions_secretes", {}).get("liste", []))
    if len(questions) < 2:
        raise SchoolConfigError(f"{path}: [questions_secretes] liste needs at least 2 questions")
    quick_answers = tuple(_quick_answer(path, item) for item in data.get("reponses_rapides", []))
    horaires = None
    if "horaires" in data:
        if not isinstance(data["horaires"], dict):
            raise SchoolConfigError(f"{path} : [horaires] doit être une section")
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


def _quick_answer(path: Path, item: dict[str, object]) -> QuickAnswer:
    """One ``[[reponses_rapides]]`` entry, checked."""
    titre, texte = str(item.get("titre") or ""), str(item.get("texte") or "")
    action = str(item.get("action") or "")
    if not titre or not texte:
        raise SchoolConfigError(f"{path}: each [[reponses_rapides]] needs 'titre' and 'texte'")
    if action not in QUICK_ACTIONS:
        raise SchoolConfigError(
            f"{path}: [[reponses_rapides]] action must be one of {', '.join(QUICK_ACTIONS[1:])}"
        )
    keywords = item.get("mots_cles") or []
    if not isinstance(keywords, list):
        raise SchoolConfigError(f"{path}: [[reponses_rapides]] mots_cles must be a list")
    return QuickAnswer(titre, texte, action, tuple(str(k) for k in keywords))
