"""What the school file says, as plain values (read and checked by
:func:`bot.school.load_school_config`, which re-exports them): below the texts, which read it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from bot.config.hours import OpeningHours


class SchoolConfigError(ValueError):
    """The school file is missing a value or has a wrong one; the message is French (it is
    shown to staff as it is)."""


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

    @cached_property
    def cgu_version(self) -> str:
        """SHA-256 of the CGU text: what a user accepts is recorded with this version
        (computed once: it is read at every step)."""
        return hashlib.sha256(self.cgu_text.encode("utf-8")).hexdigest()
