"""Command line: ``python run_bot.py [run | sandbox | init | backup | outbox |
accounts import|show|reset|unlock|history|export|stats|letters … |
broadcast new|list|status|cancel … | support list|show …]`` (staff sub-commands in
:mod:`bot.staff.cli`, broadcasts in :mod:`bot.broadcast.cli`, support tickets in
:mod:`bot.support.cli`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from bot.settings import Settings, load_settings
from bot.texts import ops as ops_texts
from bot.texts import region as region_texts
from bot.texts import staff as staff_texts

logger = logging.getLogger("bot")


def configure_logging(level: str, log_format: str = "text") -> None:
    """Logs on stderr, plain or one JSON object a line (``LOG_FORMAT=json``). Libraries that
    could print a token or an update stay quiet."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if log_format == "json":
        from bot.ops.logs import JsonFormatter

        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    quiet_noisy_loggers()


def quiet_noisy_loggers() -> None:
    """Libraries whose debug logs could show the bot token (in URLs), an update's text or an
    incoming e-mail (aioimaplib logs every byte it receives)."""
    noisy_loggers = ("httpx", "httpcore", "telegram", "aiosqlite", "mail.log", "aiohttp.access")
    for noisy in (*noisy_loggers, "aioimaplib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class FrenchArgumentParser(argparse.ArgumentParser):
    """argparse, speaking French: headings, the help option, and its error messages (a usage
    error is one French line and how to get help, exit code 2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = staff_texts.CLI_ARGUMENTS
        self._optionals.title = staff_texts.CLI_OPTIONS
        self.add_argument("-h", "--help", action="help", help=staff_texts.CLI_HELP_OPTION)

    def format_usage(self) -> str:
        return super().format_usage().replace("usage: ", staff_texts.CLI_USAGE, 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage: ", staff_texts.CLI_USAGE, 1)

    def error(self, message: str) -> NoReturn:
        for pattern, french in staff_texts.CLI_ERRORS:
            match = re.fullmatch(pattern, message)
            if match:
                message = french.format(*match.groups())
                break
        self.exit(2, staff_texts.cli_error(self.prog.split()[0], message) + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = FrenchArgumentParser(
        prog="run_bot.py",
        description=staff_texts.CLI_HELP["description"],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE")
    commands.add_parser("run", help=staff_texts.CLI_HELP["run"])
    commands.add_parser("sandbox", help=staff_texts.CLI_HELP["sandbox"])
    commands.add_parser("init", help=ops_texts.CLI_INIT_HELP)
    backup = commands.add_parser("backup", help=ops_texts.CLI_BACKUP_HELP)
    backup.add_argument("file", type=Path, metavar="FICHIER", help=ops_texts.CLI_BACKUP_FILE)
    accounts = commands.add_parser("accounts", help=staff_texts.CLI_HELP["accounts"])
    accounts_commands = accounts.add_subparsers(
        dest="accounts_command", required=True, metavar="COMMANDE"
    )
    importer = accounts_commands.add_parser("import", help=staff_texts.CLI_HELP["import"])
    # The dest stays « file »; metavar is only what --help and errors show.
    importer.add_argument(
        "file", type=Path, metavar="FICHIER", help=staff_texts.CLI_HELP["import_file"]
    )
    importer.add_argument("--dry-run", action="store_true", help=staff_texts.CLI_HELP["dry_run"])
    importer.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)
    establishments = commands.add_parser(
        "etablissements", help=region_texts.CLI_ESTABLISHMENTS_HELP
    )
    establishments.add_argument("--json", action="store_true", help=staff_texts.CLI_HELP["json"])
    outbox = commands.add_parser("outbox", help=staff_texts.CLI_HELP["outbox"])
    outbox.add_argument("--json", action="store_true", help=staff_texts.CLI_HELP["json"])
    from bot.broadcast.cli import add_broadcast_parser
    from bot.staff.cli import add_staff_parsers

    add_staff_parsers(accounts_commands)
    add_broadcast_parser(commands)
    from bot.support.cli import add_support_parser

    add_support_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``run_bot.py``: a private file others can read and whose mode cannot be
    changed, or a missing database or key a staff command needs, gets a French message (2)."""
    from bot.config.ldap import LdapSetupError
    from bot.config.school import SchoolConfigError
    from bot.security import ServerSecretMissing
    from storage.db import DatabaseMissing, DatabaseTooNew
    from storage.files import UnsafePermissions

    try:
        return _main(argv)
    except (LdapSetupError, SchoolConfigError) as error:
        print(error, file=sys.stderr)
    except UnsafePermissions as error:
        print(staff_texts.file_permissions_refused(str(error.path), error.mode), file=sys.stderr)
    except DatabaseTooNew as error:
        too_new = ops_texts.database_too_new(str(error.path), error.found, error.known)
        print(too_new, file=sys.stderr)
    except DatabaseMissing as error:
        print(staff_texts.no_database(str(error.path)), file=sys.stderr)
    except ServerSecretMissing as error:
        print(staff_texts.no_server_key(str(error.path)), file=sys.stderr)
    except Exception as error:
        if _raised(error, "bot.config.refusal", "StartupRefused") or _raised(
            error, "bot.staff.rights", "EstablishmentChoiceError"
        ):
            print(error, file=sys.stderr)
        elif _raised(error, "telegram.error", "InvalidToken"):
            # PTB's own message holds the token: never printed.
            print(staff_texts.TOKEN_REFUSED, file=sys.stderr)
        else:
            raise
    return 2


def _raised(error: Exception, module: str, name: str) -> bool:
    """Whether ``error`` is ``module.name``, without importing the module: a command that
    never loaded it (``accounts export`` never loads python-telegram-bot, nor the start-up
    checks) cannot have raised it."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(error, getattr(loaded, name))


def _main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.directory == "ldap" and args.command == "accounts":
        refused = _refused_with_ldap(args.accounts_command, settings)
        if refused:
            print(refused, file=sys.stderr)
            return 2
    if args.command == "accounts" and args.accounts_command != "import":
        from bot.staff.cli import staff_command

        return asyncio.run(staff_command(settings, args))
    if args.command == "broadcast":
        from bot.broadcast.cli import broadcast_command

        return asyncio.run(broadcast_command(settings, args))
    if args.command == "support":
        from bot.support.cli import support_command

        return asyncio.run(support_command(settings, args))
    if args.command == "etablissements":
        from bot.staff.cli import establishments_command

        return asyncio.run(establishments_command(settings, as_json=args.json))
    if args.command == "outbox":
        from bot.outbox.cli import outbox_command

        return asyncio.run(outbox_command(settings, as_json=args.json))
    if args.command == "backup":
        from bot.ops.backup import backup_command

        return asyncio.run(backup_command(settings, args.file))
    if args.command == "init":
        from bot.ops.init import init_command

        return asyncio.run(init_command(settings))
    if args.command == "accounts" and settings.directory == "ldap":
        return asyncio.run(
            local_import_command(
                settings, args.file, dry_run=args.dry_run, etablissement=args.etablissement
            )
        )
    if args.command == "accounts":
        return asyncio.run(
            import_command(
                settings, args.file, dry_run=args.dry_run, etablissement=args.etablissement
            )
        )
    if args.command == "sandbox" or (args.command is None and settings.telegram_bot_token is None):
        from bot.sandbox.run import run_sandbox

        return asyncio.run(run_sandbox(settings))
    if settings.telegram_bot_token is None:
        print(staff_texts.RUN_NEEDS_TOKEN, file=sys.stderr)
        return 2
    if args.command is None:  # still runs, as before; `run` says what is meant
        print(ops_texts.RUN_WITHOUT_COMMAND, file=sys.stderr)
    from bot.ops.startup import check_before_start

    check_before_start(settings)
    return asyncio.run(run_polling(settings))


def _refused_with_ldap(accounts_command: str, settings: Settings) -> str | None:
    """Why a staff command cannot run with DIRECTORY=ldap (None if it can): the import reads
    only the letters' provisional passwords, when the bot keeps them (local source)."""
    from bot.texts import ldap as ldap_texts

    if accounts_command == "import" and settings.ldap_provisional_source != "local":
        return ldap_texts.IMPORT_REFUSED_DIRECTORY_SOURCE
    return None


async def run_polling(settings: Settings) -> int:
    """Run the bot against the Bot API until SIGINT or SIGTERM."""
    from bot.app import build_application, start_bot, stop_bot
    from bot.ops.startup import wait_for_smtp

    application = build_application(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The SMTP server is probed beside the start (one line an attempt until it answers): the
    # bot serves users meanwhile, the outbox keeps their e-mails. Start-up retries until
    # Telegram answers; SIGINT/SIGTERM meanwhile stops them.
    smtp_check = asyncio.ensure_future(wait_for_smtp(settings.smtp))
    starting = asyncio.ensure_future(start_bot(application, freeze_gc=True))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((starting, stopping), return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            await starting  # raises what start_bot raised (a wrong token, say)
            await stopping
        else:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
    finally:
        stopping.cancel()
        smtp_check.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await smtp_check
        await stop_bot(application)
    return 0


async def import_command(
    settings: Settings, path: Path, *, dry_run: bool, etablissement: str | None = None
) -> int:
    """``accounts import FILE.csv [--dry-run] [--etablissement UAI]``: load accounts, with a
    progress bar. In a region the ``uai`` column is checked against the establishments and
    the import is for one of them (or ``tous``)."""
    from datetime import UTC, datetime

    from tqdm import tqdm

    from bot.security import KeyedHasher, SecretHasher, load_or_create_server_secret
    from bot.staff.accounts_import import ImportFileError, import_accounts
    from bot.staff.cli import region_and_rights
    from storage.accounts import SqliteAccountDirectory
    from storage.db import Database

    if not path.is_file():
        print(staff_texts.IMPORT_NO_SUCH_FILE.format(path=path), file=sys.stderr)
        return 2
    region, rights = region_and_rights(settings, etablissement)
    known_uais = set(region.establishments) if region is not None else None
    only_uai = next(iter(rights.uais)) if rights.uais else None
    from bot.ops.startup import check_server_secret

    check_server_secret(settings)
    database = await Database.open(settings.database_path)
    keyed = KeyedHasher(load_or_create_server_secret(settings.server_secret_file))
    bar = tqdm(total=0, unit="ligne", desc="Import", disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        report = await import_accounts(
            path,
            SqliteAccountDirectory(database),
            SecretHasher(settings.argon2),
            keyed,
            datetime.now(UTC),
            actor=f"cli:{path.name}",
            dry_run=dry_run,
            progress=progress,
            known_uais=known_uais,
            only_uai=only_uai,
        )
    except ImportFileError as error:
        bar.close()
        print(staff_texts.IMPORT_CANNOT_READ.format(path=path, error=error), file=sys.stderr)
        return 2
    finally:
        await database.close()
    bar.close()
    print(
        staff_texts.import_summary(
            str(path),
            report.total,
            report.added,
            report.updated,
            report.unchanged,
            report.rejected,
            dry_run=dry_run,
        )
    )
    return 1 if report.rejected else 0


async def local_import_command(
    settings: Settings, path: Path, *, dry_run: bool, etablissement: str | None = None
) -> int:
    """``accounts import FILE.csv [--dry-run] [--etablissement UAI]`` with DIRECTORY=ldap
    (local provisional passwords; in a region, entries of that establishment only): exit 0,
    1 when lines were rejected, 2 when the file cannot be read or the directory does not
    answer."""
    from datetime import UTC, datetime

    from bot.directory.factory import open_directory
    from bot.directory.port import DirectoryUnavailable
    from bot.ops.startup import check_server_secret
    from bot.security import KeyedHasher, SecretHasher, load_or_create_server_secret
    from bot.staff.cli import region_and_rights
    from bot.staff.ldap_import import LocalImportFileError, import_provisional_passwords
    from bot.texts import ldap as ldap_texts
    from storage.db import Database

    if not path.is_file():
        print(ldap_texts.local_import_no_file(str(path)), file=sys.stderr)
        return 2
    _, rights = region_and_rights(settings, etablissement)
    check_server_secret(settings)
    database = await Database.open(settings.database_path)
    hasher = SecretHasher(settings.argon2)
    directory: Any = open_directory(settings, database, hasher, None)
    try:
        report = await import_provisional_passwords(
            path,
            directory,
            hasher,
            KeyedHasher(load_or_create_server_secret(settings.server_secret_file)),
            datetime.now(UTC),
            actor=f"cli:{path.name}",
            dry_run=dry_run,
            scope=rights.scope,
        )
    except LocalImportFileError as error:
        print(ldap_texts.local_import_cannot_read(str(path), str(error)), file=sys.stderr)
        return 2
    except DirectoryUnavailable:
        print(ldap_texts.STAFF_DIRECTORY_UNAVAILABLE, file=sys.stderr)
        return 2
    finally:
        directory.close()
        await database.close()
    print(ldap_texts.local_import_summary(str(path), report))
    return 1 if report.rejected else 0
