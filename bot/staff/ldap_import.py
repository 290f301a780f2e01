"""``accounts import`` with ``DIRECTORY=ldap`` and ``LDAP_PROVISIONAL_SOURCE=local`` (issue 25).

The directory is the source of the accounts; its entries to activate hold no usable password
(``{SCRIPT}LOCK``). The school has the letters' CSV (identifier, provisional password): each
line whose identifier is an entry to activate gets the password's argon2id hash here. The
other columns (names, profile, establishment) are ignored, the directory's values win; the
output says so. A line names an entry that is not found, blocked or deleted, or already
active: rejected, with why. Importing the same file again changes nothing.
"""

from __future__ import annotations

import asyncio
import csv
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.security import KeyedHasher, SecretHasher, normalise_identifiant
from bot.texts import ldap as ldap_texts
from storage.accounts import AccountStatus

NEEDED = ("identifiant", "mot_de_passe_provisoire")


class LocalImportFileError(ValueError):
    """The file cannot be read (not UTF-8, empty, no identifier or password column)."""


@dataclass
class LocalImportReport:
    """What the import did (or would do, with ``dry_run``)."""

    set: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def total(self) -> int:
        """Lines read (header excluded)."""
        return self.set + self.unchanged + len(self.rejected)


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "_".join(part for part in "".join(c if c.isalnum() else " " for c in plain).split())


def read_lines(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The folded header and the non-blank lines (file line number, values by column)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LocalImportFileError(ldap_texts.LOCAL_IMPORT_NOT_UTF8) from error
    first = text.split("\n", 1)[0]
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=";" if first.count(";") >= first.count(",") else ",",
    )
    try:
        header = [_fold(name) for name in next(reader)]
    except StopIteration as error:
        raise LocalImportFileError(ldap_texts.LOCAL_IMPORT_EMPTY) from error
    missing = [name for name in NEEDED if name not in header]
    if missing:
        raise LocalImportFileError(ldap_texts.local_import_missing(missing))
    lines = []
    for row in reader:
        if any(cell.strip() for cell in row):
            values = {
                name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)
            }
            lines.append((reader.line_num, values))
    return header, lines


async def import_provisional_passwords(
    path: Path,
    directory: Any,
    hasher: SecretHasher,
    keyed: KeyedHasher,
    now: datetime,
    *,
    actor: str = "cli",
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    concurrency: int = 4,
    scope: frozenset[str] | None = None,
) -> LocalImportReport:
    """Hash each line's provisional password for its directory entry to activate
    (:class:`bot.directory.ldap.LdapDirectory`, ``LDAP_PROVISIONAL_SOURCE=local``). With
    ``scope`` (a region's ``--etablissement``), an entry of another establishment is refused
    like an unknown one."""
    header, lines = read_lines(path.read_bytes())
    report = LocalImportReport(
        dry_run=dry_run, ignored_columns=[name for name in header if name not in NEEDED]
    )
    seen: dict[str, int] = {}
    valid: list[tuple[int, str, str]] = []
    for number, values in lines:
        identifiant, password = values["identifiant"], values["mot_de_passe_provisoire"]
        norm = normalise_identifiant(identifiant)
        if not identifiant:
            report.rejected.append((number, ldap_texts.LOCAL_IMPORT_NO_IDENTIFIANT))
        elif not password:
            report.rejected.append((number, ldap_texts.LOCAL_IMPORT_NO_PASSWORD))
        elif norm in seen:
            report.rejected.append((number, ldap_texts.local_import_duplicate(seen[norm])))
        else:
            seen[norm] = number
            valid.append((number, identifiant, password))
    done = len(report.rejected)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(number: int, identifiant: str, password: str) -> None:
        nonlocal done
        async with semaphore:
            account = await directory.find(identifiant)
            if account is not None and scope is not None and account.uai not in scope:
                account = None
            if account is None:
                report.rejected.append((number, ldap_texts.LOCAL_IMPORT_UNKNOWN))
            elif account.status != AccountStatus.TO_ACTIVATE:
                report.rejected.append((number, ldap_texts.LOCAL_IMPORT_ACTIVE))
            else:
                joined = f"{normalise_identifiant(account.identifiant)}\x1f{password}"
                mark = keyed.digest(joined, purpose="import-ldap-local")
                if await directory.mirror.import_fingerprint(account.id) == mark:
                    report.unchanged += 1
                elif dry_run:
                    report.set += 1
                else:
                    hashed = await hasher.hash(password)
                    if await directory.mirror.set_provisional_hash(
                        account.id, hashed, mark, actor, now
                    ):
                        report.set += 1
                    else:
                        report.rejected.append((number, ldap_texts.LOCAL_IMPORT_ACTIVE))
        done += 1
        if progress:
            progress(done, len(lines))

    await asyncio.gather(*(one(*line) for line in valid))
    report.rejected.sort()
    return report
