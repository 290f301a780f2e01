"""Staff import of accounts from a CSV file (the school's export).

Columns: ``identifiant``, ``mot_de_passe_provisoire``, ``profil``, ``prenom``, ``nom``,
``etablissement``; ``;`` or ``,`` delimiter; UTF-8 with or without BOM. A bad line is reported
with its line number and does not stop the others; importing the same file again changes
nothing. Provisional passwords are hashed (argon2id) as they are read, never stored in clear.

Control characters (a line break inside a quoted cell, a tab…) never enter the database: in a
name or an establishment they become a space (they would break an e-mail's subject, a letter's
layout); in an identifier or a provisional password, which must be typed back exactly, the line
is refused. Provisional passwords follow the rule of ``accounts reset --mot-de-passe``
(:func:`provisional_password_ok`).
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.outbox.mail import validate_email_address
from bot.security import KeyedHasher, SecretHasher, normalise_identifiant
from bot.texts import broadcast as broadcast_texts
from bot.texts import region as region_texts
from bot.texts import staff as staff_texts
from storage.accounts import ImportedAccount, ImportOutcome, Profil, SqliteAccountDirectory
from storage.broadcasts import BroadcastRepository

REQUIRED_COLUMNS = (
    "identifiant",
    "mot_de_passe_provisoire",
    "profil",
    "prenom",
    "nom",
    "etablissement",
)

PROFIL_ALIASES: dict[str, Profil] = {
    "apprenti": Profil.APPRENTI,
    "apprentie": Profil.APPRENTI,
    "maitre_apprentissage": Profil.MAITRE_APPRENTISSAGE,
    "maitre_d_apprentissage": Profil.MAITRE_APPRENTISSAGE,
    "maitre": Profil.MAITRE_APPRENTISSAGE,
    "eleve": Profil.ELEVE,
    "parent": Profil.PARENT,
    "personnel": Profil.PERSONNEL,
    "autre": Profil.AUTRE,
}

MAX_FIELD_LENGTH = 200
# The one rule of a provisional password given by staff (import and ``accounts reset``).
MIN_PROVISIONAL_LENGTH = 8
MAX_PROVISIONAL_LENGTH = 128
# Typed back exactly by their owner: refused, never cleaned.
TYPED_COLUMNS = ("identifiant", "mot_de_passe_provisoire")
# Unicode's control characters (Cc), line (Zl) and paragraph (Zp) separators.
_CONTROLS = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029"
_CONTROL = re.compile(f"[{_CONTROLS}]")
_CONTROL_RUN = re.compile(f"\\s*[{_CONTROLS}][\\s{_CONTROLS}]*")
# Optional column: an address for reminders only (never a recovery address).
EMAIL_CONTACT = "email_contact"
# Optional column: the establishment's UAI (issue 27), checked against SCHOOLS_DIR's.
UAI_COLUMN = "uai"


class ImportFileError(ValueError):
    """The file cannot be read at all (no header, missing columns, not UTF-8)."""


@dataclass(frozen=True)
class CsvLine:
    """One line of the file, not checked yet."""

    number: int
    values: dict[str, str]


@dataclass
class ImportReport:
    """What an import did (or would do, with ``dry_run``)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def total(self) -> int:
        """Lines read (header excluded)."""
        return self.added + self.updated + self.unchanged + len(self.rejected)


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a control character (a line break, a tab, NUL…)."""
    return _CONTROL.search(text) is not None


def one_line(text: str) -> str:
    """``text`` with each run of control characters (and the spaces around it) as one space."""
    return _CONTROL_RUN.sub(" ", text).strip() if _CONTROL.search(text) else text


def provisional_password_ok(password: str) -> bool:
    """The one rule of a provisional password given by staff: 8 to 128 characters, no space,
    no control character (its owner types it in Telegram)."""
    return (
        MIN_PROVISIONAL_LENGTH <= len(password) <= MAX_PROVISIONAL_LENGTH
        and not any(ch.isspace() for ch in password)
        and not has_control_characters(password)
    )


def _fold(text: str) -> str:
    """Lower case, no accents, words joined by ``_``: « Maître d'apprentissage » →
    ``maitre_d_apprentissage``."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def parse_profil(text: str) -> Profil | None:
    """The profile of a CSV value, tolerant of case, accents and spacing."""
    return PROFIL_ALIASES.get(_fold(text))


def read_csv(data: bytes) -> Iterator[CsvLine]:
    """Lines of a CSV file as dicts keyed by the folded column names; numbers are file lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(staff_texts.IMPORT_NOT_UTF8.format(position=error.start)) from error
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [_fold(name) for name in next(reader)]
    except StopIteration as error:
        raise ImportFileError(staff_texts.IMPORT_EMPTY_FILE) from error
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportFileError(staff_texts.IMPORT_MISSING_COLUMNS.format(columns=", ".join(missing)))
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        number = reader.line_num
        values = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        for name, value in values.items():
            if name not in TYPED_COLUMNS:
                values[name] = one_line(value)
        if len(row) > len(header):
            values["__extra__"] = "yes"
        yield CsvLine(number, values)


def check_line(line: CsvLine) -> str | None:
    """Why the line cannot be imported (for staff, in French), or None."""
    values = line.values
    if "__extra__" in values:
        return staff_texts.IMPORT_EXTRA_CELLS
    identifiant = values.get("identifiant", "")
    if not identifiant:
        return staff_texts.IMPORT_NO_IDENTIFIANT
    if any(ch.isspace() for ch in identifiant):
        return staff_texts.IMPORT_SPACE_IN_IDENTIFIANT
    if has_control_characters(identifiant):
        return staff_texts.IMPORT_CONTROL_IN_IDENTIFIANT
    if not values.get("mot_de_passe_provisoire"):
        return staff_texts.IMPORT_NO_PROVISIONAL
    if parse_profil(values.get("profil", "")) is None:
        allowed = ", ".join(p.value for p in Profil)
        return staff_texts.IMPORT_UNKNOWN_PROFIL.format(
            value=values.get("profil", ""), allowed=allowed
        )
    if not provisional_password_ok(values["mot_de_passe_provisoire"]):
        return staff_texts.IMPORT_PROVISIONAL_REFUSED
    for name, value in values.items():
        if len(value) > MAX_FIELD_LENGTH:
            return staff_texts.IMPORT_TOO_LONG.format(column=name, limit=MAX_FIELD_LENGTH)
    contact = values.get(EMAIL_CONTACT, "")
    if contact and validate_email_address(contact) is None:
        return broadcast_texts.EMAIL_CONTACT_INVALID
    return None


def fingerprint(keyed: KeyedHasher, line: CsvLine) -> str:
    """Keyed hash of the line's values: equal fingerprints mean an unchanged line."""
    joined = "\x1f".join(line.values.get(column, "") for column in REQUIRED_COLUMNS)
    uai = line.values.get(UAI_COLUMN, "").strip().upper()
    if uai:  # (a file without the column keeps the fingerprints it always had)
        joined += "\x1f" + uai
    return keyed.digest(joined, purpose="import")


def line_uai(
    line: CsvLine, known_uais: Collection[str] | None, only_uai: str | None
) -> tuple[str | None, str | None]:
    """The establishment of a line, and why it is refused (or None): its ``uai`` cell (upper
    case) must name a known establishment (``known_uais``; None: not checked, one school) and,
    when the import is for one establishment (``only_uai``), that one; an empty cell takes
    ``only_uai``."""
    raw = line.values.get(UAI_COLUMN, "").strip()
    uai = raw.upper() or only_uai
    if uai is None:
        return None, None
    if known_uais is not None and uai not in known_uais:
        return None, region_texts.uai_unknown_in_import(raw)
    if only_uai is not None and uai != only_uai:
        return None, region_texts.uai_outside_import(raw, only_uai)
    return uai, None


async def import_accounts(
    path: Path,
    directory: SqliteAccountDirectory,
    hasher: SecretHasher,
    keyed: KeyedHasher,
    now: datetime,
    *,
    actor: str = "cli",
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    concurrency: int = 4,
    known_uais: Collection[str] | None = None,
    only_uai: str | None = None,
) -> ImportReport:
    """Import the CSV file at ``path``; ``progress(done, total)`` is called as lines are done.

    In a region (issue 27): ``known_uais``, the establishments a ``uai`` cell may name;
    ``only_uai``, the one establishment this import is for (its staff's ``--etablissement``):
    its lines only, and never an identifier another establishment already has."""
    lines = list(read_csv(path.read_bytes()))
    report = ImportReport(dry_run=dry_run)
    seen: dict[str, int] = {}
    valid: list[CsvLine] = []
    uais: dict[int, str | None] = {}
    for line in lines:
        reason = check_line(line)
        norm = normalise_identifiant(line.values.get("identifiant", ""))
        if reason is None and norm in seen:
            reason = staff_texts.IMPORT_DUPLICATE.format(line=seen[norm])
        if reason is None:
            uais[line.number], reason = line_uai(line, known_uais, only_uai)
        if reason is not None:
            report.rejected.append((line.number, reason))
        else:
            seen[norm] = line.number
            valid.append(line)
    if only_uai is not None and valid:
        norms = {line.number: normalise_identifiant(line.values["identifiant"]) for line in valid}
        owners = await directory.uais_of(list(norms.values()))
        taken = [
            line
            for line in valid
            if norms[line.number] in owners and owners[norms[line.number]] != only_uai
        ]
        for line in taken:
            report.rejected.append((line.number, region_texts.IDENTIFIER_RESERVED))
        valid = [line for line in valid if line not in taken]
    done = len(report.rejected)
    if progress:
        progress(done, len(lines))

    semaphore = asyncio.Semaphore(concurrency)
    counter_lock = asyncio.Lock()

    async def one(line: CsvLine) -> ImportOutcome:
        nonlocal done
        async with semaphore:
            values = line.values
            candidate = ImportedAccount(
                identifiant=values["identifiant"],
                identifiant_norm=normalise_identifiant(values["identifiant"]),
                provisional_password_hash=None,
                profil=parse_profil(values["profil"]) or Profil.AUTRE,
                prenom=values.get("prenom", ""),
                nom=values.get("nom", ""),
                etablissement=values.get("etablissement", ""),
                fingerprint=fingerprint(keyed, line),
                uai=uais.get(line.number),
            )
            outcome, needs_hash = await directory.plan_import(candidate)
            if not dry_run and outcome != ImportOutcome.UNCHANGED:
                hashed = (
                    await hasher.hash(values["mot_de_passe_provisoire"]) if needs_hash else None
                )
                candidate = ImportedAccount(
                    **{**candidate.__dict__, "provisional_password_hash": hashed}
                )
                outcome = await directory.import_account(candidate, now, actor)
        async with counter_lock:
            done += 1
            if progress:
                progress(done, len(lines))
        return outcome

    outcomes = await asyncio.gather(*(one(line) for line in valid))
    if not dry_run and any(EMAIL_CONTACT in line.values for line in valid):
        await BroadcastRepository(directory.db).set_contacts(
            [
                (
                    normalise_identifiant(line.values["identifiant"]),
                    validate_email_address(line.values.get(EMAIL_CONTACT, "")),
                )
                for line in valid
                if EMAIL_CONTACT in line.values
            ],
            now,
        )
    for outcome in outcomes:
        if outcome == ImportOutcome.ADDED:
            report.added += 1
        elif outcome == ImportOutcome.UPDATED:
            report.updated += 1
        else:
            report.unchanged += 1
    report.rejected.sort()
    return report
