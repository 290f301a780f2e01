"""``run_bot.py accounts show|reset|unlock|history|export|stats|letters``: thin command-line
front of :mod:`bot.staff.service` (parsing and printing only). Exit codes: 0 done, 1 unknown
account or refused, 2 usage or file error.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.directory.port import PasswordRejected
from bot.settings import Settings
from bot.staff import report as report_layout
from bot.staff.private_files import open_private
from bot.staff.rights import StaffRights, cli_rights, everything
from bot.staff.service import (
    EXPORT_COLUMNS,
    PasswordRefused,
    StaffService,
    bot_link,
    letter_link,
    spreadsheet_cell,
)
from bot.texts import region as region_texts
from bot.texts import staff as staff_texts
from storage.staff import EstablishmentFigures

if TYPE_CHECKING:
    from bot.region import Region

# The parser class of the command line (bot.cli.FrenchArgumentParser).
Parser = TypeVar("Parser", bound=argparse.ArgumentParser)

STAFF_COMMANDS = ("show", "reset", "unlock", "history", "export", "stats", "letters")
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def add_staff_parsers(accounts: argparse._SubParsersAction[Parser]) -> None:
    """The staff sub-commands of ``accounts``."""
    show = accounts.add_parser("show", help=staff_texts.CLI_HELP["show"])
    show.add_argument("identifiant")
    show.add_argument("--json", action="store_true", help=staff_texts.CLI_HELP["json"])
    show.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)
    reset = accounts.add_parser(
        "reset",
        help=staff_texts.CLI_HELP["reset"],
    )
    reset.add_argument("identifiant")
    reset.add_argument(
        "--mot-de-passe",
        dest="password",
        metavar="MOT_DE_PASSE",
        help=staff_texts.CLI_HELP["password"],
    )
    reset.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)
    unlock = accounts.add_parser("unlock", help=staff_texts.CLI_HELP["unlock"])
    unlock.add_argument("identifiant")
    unlock.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)
    history = accounts.add_parser("history", help=staff_texts.CLI_HELP["history"])
    history.add_argument("identifiant")
    history.add_argument("--json", action="store_true", help=staff_texts.CLI_HELP["json"])
    history.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)
    export = accounts.add_parser("export", help=staff_texts.CLI_HELP["export"])
    export.add_argument(
        "file", type=Path, metavar="FICHIER", help=staff_texts.CLI_HELP["export_file"]
    )
    export.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)
    stats = accounts.add_parser("stats", help=staff_texts.CLI_HELP["stats"])
    stats.add_argument("--json", action="store_true", help=staff_texts.CLI_HELP["json"])
    stats.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)
    letters = accounts.add_parser(
        "letters",
        help=staff_texts.CLI_HELP["letters"],
        description=staff_texts.CLI_HELP["letters_description"],
    )
    letters.add_argument(
        "file", type=Path, metavar="FICHIER", help=staff_texts.CLI_HELP["letters_file"]
    )
    letters.add_argument("--profil", help=staff_texts.CLI_HELP["profil"])
    letters.add_argument("--etablissement", help=staff_texts.CLI_HELP["etablissement"])
    letters.add_argument("--yes", action="store_true", help=staff_texts.CLI_HELP["yes"])


def actor() -> str:
    """``cli:<system user>`` for the audit trail."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


@asynccontextmanager
async def open_staff_service(settings: Settings) -> AsyncIterator[StaffService]:
    """The staff service over the configured database (closed on exit). Staff commands need
    accounts, so they never create the database or the key: a missing one raises
    :class:`storage.db.DatabaseMissing` or :class:`bot.security.ServerSecretMissing`."""
    from bot.procedures.throttle import throttle_policy
    from bot.security import KeyedHasher, SecretHasher, load_or_create_server_secret
    from storage.db import Database
    from storage.records import RecordRepository
    from storage.staff import StaffRepository
    from storage.throttle import ThrottleRepository

    database = await Database.open(settings.database_path, create=False)
    directory = None
    try:
        key = load_or_create_server_secret(settings.server_secret_file, create=False)
        if settings.directory == "ldap":
            from bot.directory.factory import open_directory

            directory = open_directory(settings, database, SecretHasher(settings.argon2), None)
        yield StaffService(
            repository=StaffRepository(database),
            throttle=ThrottleRepository(database),
            records=RecordRepository(database),
            hasher=SecretHasher(settings.argon2),
            keyed=KeyedHasher(key),
            throttle_policy=throttle_policy(settings),
            directory=directory,
        )
    finally:
        close_directory = getattr(directory, "close", None)
        if close_directory is not None:
            close_directory()
        await database.close()


def region_and_rights(
    settings: Settings, etablissement: str | None
) -> tuple[Region | None, StaffRights]:
    """The region (None: one school, no SCHOOLS_DIR) and the operator's rights for
    ``--etablissement``. Raises :class:`bot.school.SchoolConfigError` (a school file is wrong)
    or :class:`bot.staff.rights.EstablishmentChoiceError` (none named while several exist, or
    an unknown one): French sentences the command line prints (exit 2)."""
    if settings.schools_dir is None:
        return None, everything(actor())
    from bot.region import region_of

    region = region_of(settings)
    return region, cli_rights(region, etablissement, actor())


def _err(text: str) -> None:
    print(text, file=sys.stderr)


async def staff_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run one staff sub-command (the LDAP directory unreachable: a French message, exit 2)."""
    from bot.directory.port import DirectoryUnavailable

    try:
        return await _staff_command(settings, args)
    except DirectoryUnavailable:
        from bot.texts import ldap as ldap_texts

        _err(ldap_texts.STAFF_DIRECTORY_UNAVAILABLE)
        return EXIT_USAGE


async def _staff_command(settings: Settings, args: argparse.Namespace) -> int:
    command = args.accounts_command
    region, rights = region_and_rights(settings, getattr(args, "etablissement", None))
    if command == "export" and not args.file.parent.is_dir():
        _err(staff_texts.export_no_folder(str(args.file.parent)))
        return EXIT_USAGE
    async with open_staff_service(settings) as staff:
        if command == "show":
            report = await staff.report(args.identifiant, acting_as=rights)
            if report is None:
                _err(staff_texts.staff_unknown_account(args.identifiant))
                return EXIT_REFUSED
            if args.json:
                print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
            else:
                print(report_layout.account_text(report))
            return EXIT_OK
        if command == "reset":
            try:
                result = await staff.reset(
                    args.identifiant, actor(), args.password, acting_as=rights
                )
            except PasswordRefused:
                _err(staff_texts.STAFF_PASSWORD_REFUSED)
                return EXIT_USAGE
            except PasswordRejected as refusal:  # the LDAP directory's own policy
                from bot.texts import ldap as ldap_texts

                _err(ldap_texts.staff_provisional_refused(refusal.rule))
                return EXIT_USAGE
            if result is None:
                _err(staff_texts.staff_unknown_account(args.identifiant))
                return EXIT_REFUSED
            print(
                staff_texts.staff_reset_done(
                    result.report.identifiant,
                    result.provisional_password,
                    result.generated,
                    result.was_locked,
                )
            )
            return EXIT_OK
        if command == "unlock":
            before = await staff.unlock(args.identifiant, actor(), acting_as=rights)
            if before is None:
                _err(staff_texts.staff_unknown_account(args.identifiant))
                return EXIT_REFUSED
            print(
                staff_texts.staff_unlock_done(
                    args.identifiant, before.locked, before.failures_last_24h
                )
            )
            return EXIT_OK
        if command == "history":
            events = await staff.history(args.identifiant, acting_as=rights)
            if events is None:
                _err(staff_texts.staff_unknown_account(args.identifiant))
                return EXIT_REFUSED
            if args.json:
                rows = [{**asdict(e), "at": e.at.strftime("%Y-%m-%dT%H:%M:%SZ")} for e in events]
                print(json.dumps(rows, ensure_ascii=False, indent=2))
            else:
                print(report_layout.history_text(args.identifiant, events))
            return EXIT_OK
        if command == "export":
            exported = await staff.export_rows(acting_as=rights)
            write_export(args.file, exported)
            print(staff_texts.staff_export_done(len(exported), str(args.file)))
            return EXIT_OK
        if command == "stats":
            refresh = getattr(staff.directory, "refresh_all", None)
            if refresh is not None:  # LDAP: the funnel counts every entry of the directory
                await refresh()
            funnel = await staff.funnel(acting_as=rights)
            state_counts = getattr(staff.directory, "state_counts", None)
            states = await state_counts() if state_counts is not None else None
            figures = (
                establishment_rows(
                    region, await staff.establishment_figures(acting_as=rights), rights
                )
                if region is not None and region.establishments
                else None
            )
            if args.json:
                data = funnel.to_json()
                if figures is not None:  # a region: one row per establishment (issue 27)
                    data["par_uai"] = figures
                if states is not None:  # LDAP: blocked and deleted entries (issue 25)
                    data["annuaire"] = {"bloques": states.get("bloque", 0)}
                    data["annuaire"]["supprimes"] = states.get("supprime", 0)
                    data["annuaire"]["educonnect"] = states.get("educonnect", 0)
                print(json.dumps(data, ensure_ascii=False, indent=2))
            else:
                print(report_layout.funnel_text(funnel))
                if figures is not None:
                    print()
                    print(region_texts.STATS_BY_ESTABLISHMENT)
                    print(establishments_table(figures))
                if states:
                    from bot.texts import ldap as ldap_texts

                    print(ldap_texts.stats_states(states))
            return EXIT_OK
        if command == "letters":
            return await letters_command(settings, staff, args, region, rights)
    raise AssertionError(command)


# Only these hold text from outside the bot (the import file, the directory), and they come
# first; the other columns are the bot's own words, dates and oui/non, which never start a
# formula.
FREE_TEXT_COLUMNS = ("identifiant", "profil", "prenom", "nom", "etablissement")
assert EXPORT_COLUMNS[: len(FREE_TEXT_COLUMNS)] == FREE_TEXT_COLUMNS


def write_export(path: Path, rows: list[tuple[str, ...]]) -> None:
    """The export CSV: ``;`` separated, UTF-8 with BOM (opens as is in a spreadsheet), every
    cell quoted and no cell read as a formula (OWASP « CSV Injection », see
    :func:`bot.staff.service.spreadsheet_cell`, on the free-text columns only); mode 0600 (it
    names every account)."""
    free = len(FREE_TEXT_COLUMNS)
    with os.fdopen(open_private(path), "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_ALL)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(
            [spreadsheet_cell(cell) for cell in row[:free]] + list(row[free:]) for row in rows
        )


async def bot_username(settings: Settings) -> str | None:
    """``TELEGRAM_BOT_USERNAME``, else the username Telegram gives for the token (getMe)."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username.lstrip("@")
    if settings.telegram_bot_token is None:
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    root = settings.telegram_api_url.rstrip("/")
    try:
        async with Bot(settings.telegram_bot_token.get_secret_value(), f"{root}/bot") as bot:
            return bot.username
    except TelegramError as error:
        _err(f"getMe failed: {error}")
        return None


def confirm(question: str) -> bool:
    """Ask on the terminal; anything but « o », « oui », « y » or « yes » is no."""
    try:
        answer = input(question)
    except EOFError:
        return False
    return answer.strip().casefold() in {"o", "oui", "y", "yes"}


async def letters_command(
    settings: Settings,
    staff: StaffService,
    args: argparse.Namespace,
    region: Region | None = None,
    rights: StaffRights | None = None,
) -> int:
    """``accounts letters FILE.pdf [--profil …] [--etablissement …] [--yes]``. One school:
    ``--etablissement`` filters on the accounts' establishment name, as always; a region: it
    names the establishment (UAI), whose school file heads the letters."""
    name_filter = args.etablissement if region is None else None
    # One school file heads a letter: one establishment a file.
    if region is not None and region.needs_choice and (rights is None or rights.uais is None):
        from bot.staff.rights import EstablishmentChoiceError

        raise EstablishmentChoiceError(region_texts.establishment_required(list(region.uais)))
    from datetime import UTC, datetime

    from tqdm import tqdm

    from bot.school import load_school_config
    from bot.staff.accounts_import import parse_profil
    from bot.staff.letters import render_letters
    from storage.accounts import Profil

    path: Path = args.file
    if not path.parent.is_dir():
        _err(staff_texts.export_no_folder(str(path.parent)))
        return EXIT_USAGE
    profil = None
    if args.profil:
        parsed = parse_profil(args.profil)
        if parsed is None:
            _err(staff_texts.unknown_profil(args.profil, [p.value for p in Profil]))
            return EXIT_USAGE
        profil = parsed.value
    username = await bot_username(settings)
    if not username:
        _err(staff_texts.STAFF_BOT_USERNAME_MISSING)
        return EXIT_USAGE
    accounts = await staff.accounts_for_letters(profil, name_filter, acting_as=rights)
    if not accounts:
        print(staff_texts.STAFF_LETTERS_NONE)
        return EXIT_OK
    if not args.yes and not confirm(staff_texts.staff_letters_confirm(len(accounts), str(path))):
        print(staff_texts.STAFF_LETTERS_CANCELLED)
        return EXIT_REFUSED
    if not settings.school_config.is_file():  # never the example's school on a letter
        from bot.texts import ops as ops_texts

        _err(ops_texts.school_missing(str(settings.school_config)))
        return EXIT_USAGE
    school = load_school_config(settings.school_config)
    letter_uai = None
    if region is not None and rights is not None and rights.uais:
        chosen = region.by_uai(next(iter(rights.uais)))
        if chosen is not None:
            school = chosen.school
            letter_uai = chosen.uai
    bar = tqdm(total=2 * len(accounts), unit="étape", desc="Courriers", disable=None)

    def tick(steps: int) -> None:
        bar.update(steps)

    letters = await staff.prepare_letters(accounts, progress=tick)
    partial = path.with_name(path.name + ".part")
    try:
        await asyncio.to_thread(
            render_letters,
            letters,
            school,
            bot_link(username, letter_uai),
            partial,
            datetime.now(UTC),
            tick,
            lambda letter: letter_link(username, letter),
        )
        filters = f"profil={profil or '*'},etablissement={args.etablissement or '*'}"
        if rights is not None and rights.uais:  # a region: the establishment acted on
            filters += f",uai={','.join(sorted(rights.uais))}"
        stored = await staff.commit_letters(letters, actor(), f"{path.name};{filters}")
        partial.replace(path)
    finally:
        bar.close()
        partial.unlink(missing_ok=True)
    print(staff_texts.staff_letters_done(stored, str(path)))
    return EXIT_OK


def establishment_rows(
    region: Region, figures: list[EstablishmentFigures], rights: StaffRights
) -> list[dict[str, object]]:
    """One row per establishment the rights cover (each, even without accounts; accounts with
    no UAI as the region's row), the least activated first: which schools need help."""
    by_uai = {figure.uai: figure for figure in figures}
    rows = [
        _row(uai, establishment.name, by_uai.get(uai, EstablishmentFigures(uai, 0, 0, 0)))
        for uai, establishment in region.establishments.items()
        if rights.covers(uai)
    ]
    if None in by_uai:
        rows.append(_row(None, region_texts.REGION_ROW, by_uai[None]))
    return sorted(rows, key=lambda row: (_rate(row), str(row["uai"] or "~")))


def _row(uai: str | None, name: str, figure: EstablishmentFigures) -> dict[str, object]:
    return {
        "uai": uai,
        "nom": name,
        "comptes": figure.accounts,
        "actives": figure.activated,
        "taux_activation": round(figure.activated / figure.accounts, 3) if figure.accounts else 0.0,
        "demandes_ouvertes": figure.open_tickets,
    }


def _rate(row: dict[str, object]) -> float:
    rate = row["taux_activation"]
    assert isinstance(rate, float)
    return rate


def establishments_table(rows: list[dict[str, object]]) -> str:
    """The establishments' figures as an aligned table for a terminal."""
    header = region_texts.ESTABLISHMENTS_HEADER
    cells = [
        (
            str(row["uai"] or "—"),
            str(row["nom"]),
            str(row["comptes"]),
            f"{row['actives']} ({round(100 * _rate(row))} %)",
            str(row["demandes_ouvertes"]),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *cells]
    )


async def establishments_command(settings: Settings, *, as_json: bool) -> int:
    """``etablissements [--json]``: each configured establishment with its UAI, name, accounts,
    activated accounts and open tickets (sorted by UAI). Without SCHOOLS_DIR: says so."""
    if settings.schools_dir is None:
        print(region_texts.NO_ESTABLISHMENT, file=sys.stderr if as_json else sys.stdout)
        if as_json:
            print("[]")
        return EXIT_OK
    from bot.region import region_of

    region = region_of(settings)
    async with open_staff_service(settings) as staff:
        figures = {f.uai: f for f in await staff.establishment_figures()}
    rows = [
        {
            "uai": uai,
            "nom": region.establishments[uai].name,
            "comptes": figures[uai].accounts if uai in figures else 0,
            "actives": figures[uai].activated if uai in figures else 0,
            "demandes_ouvertes": figures[uai].open_tickets if uai in figures else 0,
        }
        for uai in region.uais
    ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    table = [
        {**row, "taux_activation": row["actives"] / row["comptes"] if row["comptes"] else 0.0}  # type: ignore[operator]
        for row in rows
    ]
    print(establishments_table(table))
    return EXIT_OK
