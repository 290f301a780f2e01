"""``run_bot.py support list [--ouverts] [--json]`` and ``support show N``: the tickets, for
staff (metadata only: who, when, state, first-response time; never a message's text)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.settings import Settings
from bot.staff.cli import region_and_rights
from bot.texts import formatting
from bot.texts import region as region_texts
from bot.texts import staff as staff_texts
from bot.texts import support as texts
from storage.db import Database
from storage.support import SupportRepository, Ticket


def add_support_parser(commands: Any) -> None:
    """The ``support`` sub-commands."""
    support = commands.add_parser("support", help=texts.CLI_SUPPORT_HELP)
    sub = support.add_subparsers(dest="support_command", metavar="COMMANDE", required=True)
    listing = sub.add_parser("list", help=texts.CLI_LIST_HELP)
    listing.add_argument("--ouverts", action="store_true", help=texts.CLI_OPEN_HELP)
    listing.add_argument("--json", action="store_true", help=texts.CLI_JSON_HELP)
    listing.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)
    show = sub.add_parser("show", help=texts.CLI_SHOW_HELP)
    show.add_argument("number", type=int, metavar=texts.CLI_NUMBER)
    show.add_argument("--json", action="store_true", help=texts.CLI_JSON_HELP)
    show.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)


def ticket_json(ticket: Ticket) -> dict[str, object]:
    """A ticket as JSON values (times in ISO 8601, UTC)."""
    return {
        "numero": ticket.id,
        "etat": ticket.state,
        "telegram_user_id": ticket.telegram_user_id,
        "account_id": ticket.account_id,
        "ouverte_le": ticket.opened_at.isoformat(),
        "premiere_reponse_le": ticket.first_response_at.isoformat()
        if ticket.first_response_at
        else None,
        "close_le": ticket.closed_at.isoformat() if ticket.closed_at else None,
        "delai_premiere_reponse_secondes": int(
            (ticket.first_response_at - ticket.opened_at).total_seconds()
        )
        if ticket.first_response_at
        else None,
        "messages_utilisateur": ticket.user_messages,
        "messages_equipe": ticket.staff_messages,
    }


def ticket_line(ticket: Ticket) -> str:
    """One row of ``support list``."""
    return (
        f"{ticket.id:<5} {texts.CLI_STATES.get(ticket.state, ticket.state):<9} "
        f"{formatting.when(ticket.opened_at):<21}{formatting.when(ticket.first_response_at):<21}"
        f"{ticket.user_messages}/{ticket.staff_messages}"
    )


def ticket_text(ticket: Ticket) -> str:
    """``support show N``."""
    values = [
        str(ticket.id),
        texts.CLI_STATES.get(ticket.state, ticket.state),
        str(ticket.telegram_user_id),
        formatting.when(ticket.opened_at),
        formatting.when(ticket.first_response_at),
        formatting.duration(ticket.first_response_at - ticket.opened_at)
        if ticket.first_response_at
        else "—",
        formatting.when(ticket.closed_at),
        f"{ticket.user_messages}/{ticket.staff_messages}",
    ]
    return formatting.aligned(list(zip(texts.CLI_FIELDS, values, strict=True)))


async def support_command(settings: Settings, args: argparse.Namespace) -> int:
    """Print tickets (in a region, of ``--etablissement``'s accounts only); 2 without a
    database (none is created), 1 for an unknown number."""
    _, rights = region_and_rights(settings, args.etablissement)
    if not settings.database_path.exists():
        print(staff_texts.OUTBOX_NO_DATABASE.format(path=settings.database_path), file=sys.stderr)
        return 2
    database = await Database.open(settings.database_path)
    try:
        repository = SupportRepository(database)
        if args.support_command == "show":
            ticket = await repository.get(args.number, rights.scope)
            if ticket is None:
                print(texts.CLI_UNKNOWN.format(number=args.number), file=sys.stderr)
                return 1
            tickets = [ticket]
        else:
            tickets = await repository.tickets(open_only=args.ouverts, scope=rights.scope)
    finally:
        await database.close()
    if args.json:
        values = [ticket_json(t) for t in tickets]
        shown = values[0] if args.support_command == "show" else values
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    elif args.support_command == "show":
        print(ticket_text(tickets[0]))
    elif not tickets:
        print(texts.CLI_NONE)
    else:
        print(texts.CLI_HEAD)
        for ticket in tickets:
            print(ticket_line(ticket))
    return 0
