"""``run_bot.py broadcast new|list|status|cancel``: staff record campaigns, the running bot
sends them. Exit codes: 0 done, 1 refused or unknown campaign, 2 usage or file error, 3
``--wait`` stopped because no bot is running (nothing would move)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bot.broadcast.message import render, unknown_placeholders
from bot.settings import Settings
from bot.staff.accounts_import import has_control_characters
from bot.staff.cli import actor, region_and_rights
from bot.staff.rights import StaffRights
from bot.texts import broadcast as texts
from bot.texts import region as region_texts
from storage.broadcasts import (
    Audience,
    BroadcastRepository,
    CampaignState,
    CampaignStats,
    Channel,
    Segment,
)
from storage.db import Database

# The parser class of the command line (bot.cli.FrenchArgumentParser).
Parser = TypeVar("Parser", bound=argparse.ArgumentParser)

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_NO_BOT = 0, 1, 2, 3
CHANNELS = {
    "telegram": (Channel.TELEGRAM,),
    "email": (Channel.EMAIL,),
    "tous": (Channel.TELEGRAM, Channel.EMAIL),
}
MESSAGE_LIMIT = 4000
# A heartbeat older than this many heartbeat intervals: no bot is running.
STALE_BEATS = 3


def add_broadcast_parser(commands: argparse._SubParsersAction[Parser]) -> None:
    """``broadcast`` and its sub-commands."""
    help_ = texts.CLI_HELP
    broadcast = commands.add_parser("broadcast", help=help_["broadcast"])
    sub = broadcast.add_subparsers(dest="broadcast_command", required=True, metavar="COMMANDE")
    new = sub.add_parser("new", help=help_["new"])
    new.add_argument(
        "--message", type=Path, required=True, metavar="FICHIER", help=help_["message"]
    )
    new.add_argument(
        "--segment", choices=[s.value for s in Segment], default="tous", help=help_["segment"]
    )
    new.add_argument("--profil", action="append", default=[], help=help_["profil"])
    new.add_argument("--etablissement", help=help_["etablissement"])
    new.add_argument(
        "--canal", choices=("telegram", "email", "tous"), default="telegram", help=help_["canal"]
    )
    new.add_argument("--objet", default="", help=help_["objet"])
    new.add_argument("--maintenant", action="store_true", help=help_["maintenant"])
    new.add_argument("--yes", action="store_true", help=help_["yes"])
    new.add_argument("--wait", action="store_true", help=help_["wait"])
    new.add_argument("--json", action="store_true", help=help_["json"])
    listing = sub.add_parser("list", help=help_["list"])
    listing.add_argument("--json", action="store_true", help=help_["json"])
    listing.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)
    status = sub.add_parser("status", help=help_["status"])
    status.add_argument("number", type=int, metavar="NUMERO", help=help_["number"])
    status.add_argument("--json", action="store_true", help=help_["json"])
    status.add_argument("--wait", action="store_true", help=help_["wait"])
    status.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)
    cancel = sub.add_parser("cancel", help=help_["cancel"])
    cancel.add_argument("number", type=int, metavar="NUMERO", help=help_["number"])
    cancel.add_argument("--etablissement", help=region_texts.CLI_ETABLISSEMENT_HELP)


def stats_json(stats: CampaignStats) -> dict[str, object]:
    """The JSON object of a campaign (keys: id, state, recipients, sent, blocked, failed,
    uncertain, pending, rate_per_s)."""
    return asdict(stats)


async def broadcast_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run one ``broadcast`` sub-command (the database must exist: it is never created). In
    a region, ``--etablissement`` names the establishment whose accounts a new campaign
    reaches, and whose campaigns the other sub-commands see."""
    region, rights = region_and_rights(settings, args.etablissement)
    database = await Database.open(settings.database_path, create=False)
    try:
        repository = BroadcastRepository(database)
        command = args.broadcast_command
        if command == "new":
            return await _new(settings, repository, args, rights, regional=region is not None)
        if command == "list":
            return await _list(settings, repository, as_json=args.json, rights=rights)
        if command == "status":
            return await _status(settings, repository, args.number, args.json, args.wait, rights)
        return await _cancel(repository, args.number, rights)
    finally:
        await database.close()


async def _new(
    settings: Settings,
    repository: BroadcastRepository,
    args: argparse.Namespace,
    rights: StaffRights,
    *,
    regional: bool = False,
) -> int:
    path: Path = args.message
    if not path.is_file():
        print(texts.NO_SUCH_FILE.format(path=path), file=sys.stderr)
        return EXIT_USAGE
    if args.canal != "telegram" and not settings.broadcast_unsubscribe_url:
        print(texts.CANAL_NOT_YET, file=sys.stderr)
        return EXIT_USAGE
    if has_control_characters(args.objet):  # a header: one line, or the e-mail cannot go
        print(texts.SUBJECT_ON_ONE_LINE, file=sys.stderr)
        return EXIT_USAGE
    message = path.read_text(encoding="utf-8").strip()
    if not message:
        print(texts.EMPTY_MESSAGE.format(path=path), file=sys.stderr)
        return EXIT_USAGE
    if len(message) > MESSAGE_LIMIT:
        print(texts.MESSAGE_TOO_LONG.format(length=len(message)), file=sys.stderr)
        return EXIT_USAGE
    unknown = unknown_placeholders(message)
    if unknown:
        print(texts.unknown_placeholders(unknown), file=sys.stderr)
        return EXIT_USAGE
    audience = Audience(
        segment=Segment(args.segment),
        profils=tuple(args.profil),
        # One school: the accounts' establishment name, as always; a region: the UAI.
        etablissement=None if regional else args.etablissement,
        channels=CHANNELS[args.canal],
        uais=rights.uais,
    )
    recipients = await repository.recipients(audience)
    if not recipients:
        print(texts.NO_RECIPIENT, file=sys.stderr)
        if Channel.EMAIL not in audience.channels:
            by_email = await repository.recipients(replace(audience, channels=(Channel.EMAIL,)))
            if by_email:
                open_ = bool(settings.broadcast_unsubscribe_url)
                print(texts.no_recipient_hint(len(by_email), email_open=open_), file=sys.stderr)
            elif audience.segment == Segment.A_ACTIVER:
                print(texts.NO_RECIPIENT_TELEGRAM, file=sys.stderr)
        return EXIT_REFUSED
    sample = render(message, recipients[0].prenom, recipients[0].etablissement)
    out = sys.stderr if args.json else sys.stdout
    counts = {channel.value: 0 for channel in audience.channels}
    for recipient in recipients:
        counts[recipient.channel.value] += 1
    subject = None
    if Channel.EMAIL in audience.channels:
        subject = args.objet or texts.email_subject(recipients[0].etablissement)
    print(texts.preview(await repository.next_id(), counts, sample, subject), file=out)
    quiet = settings.quiet_hours_window
    now = datetime.now(UTC)
    if quiet is not None and not args.maintenant and quiet.contains(now):
        print(texts.quiet_hours_wait(quiet.ends(now).astimezone(quiet.zone)), file=out)
    if not args.yes:
        try:
            answer = await asyncio.to_thread(input, texts.CONFIRM)
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("o", "oui", "y", "yes"):
            print(texts.NOT_RECORDED, file=out)
            return EXIT_REFUSED
    now = datetime.now(UTC)
    number = await repository.create(
        audience, message, args.objet, actor(), now, send_now=args.maintenant
    )
    stats = await repository.stats(number, now)
    assert stats is not None
    print(texts.recorded(number, stats.recipients), file=out)
    await _warn_if_no_bot(settings, repository)
    code = EXIT_OK
    if args.wait:
        stats, code = await _wait(settings, repository, number, stats.recipients)
    if args.json:
        print(json.dumps(stats_json(stats), ensure_ascii=False, indent=2))
    return code


async def _list(
    settings: Settings, repository: BroadcastRepository, *, as_json: bool, rights: StaffRights
) -> int:
    campaigns = await repository.all_stats(datetime.now(UTC), rights.scope)
    if as_json:
        print(json.dumps([stats_json(c) for c in campaigns], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not campaigns:
        print(texts.NO_CAMPAIGN)
    for campaign in campaigns:
        print(texts.list_line(stats_json(campaign)))
    await _warn_if_no_bot(settings, repository)
    return EXIT_OK


async def _status(
    settings: Settings,
    repository: BroadcastRepository,
    number: int,
    as_json: bool,
    wait: bool,
    rights: StaffRights,
) -> int:
    stats = await repository.stats(number, datetime.now(UTC), rights.scope)
    if stats is None:
        print(texts.NO_SUCH_CAMPAIGN.format(number=number), file=sys.stderr)
        return EXIT_REFUSED
    await _warn_if_no_bot(settings, repository)
    code = EXIT_OK
    if wait:
        stats, code = await _wait(settings, repository, number, stats.recipients)
    if as_json:
        print(json.dumps(stats_json(stats), ensure_ascii=False, indent=2))
    else:
        print(texts.status_text(stats_json(stats)))
    return code


async def _cancel(repository: BroadcastRepository, number: int, rights: StaffRights) -> int:
    campaign = await repository.campaign(number, rights.scope)
    if campaign is None:
        print(texts.NO_SUCH_CAMPAIGN.format(number=number), file=sys.stderr)
        return EXIT_REFUSED
    if not await repository.cancel(number, datetime.now(UTC)):
        state = texts.STATES.get(campaign.state.value, campaign.state.value)
        print(texts.CANNOT_CANCEL.format(number=number, state=state), file=sys.stderr)
        return EXIT_REFUSED
    print(texts.CANCELLED.format(number=number))
    return EXIT_OK


async def _bot_silent_for(settings: Settings, repository: BroadcastRepository) -> float | None:
    """Seconds since the running bot's last heartbeat if that is too old (inf: no bot ever
    ran on this database); None while a bot runs."""
    beat = await repository.heartbeat()
    if beat is None:
        return float("inf")
    age = datetime.now(UTC) - beat.at
    limit = timedelta(seconds=settings.broadcast_heartbeat_seconds * STALE_BEATS)
    return age.total_seconds() if age > limit else None


async def _warn_if_no_bot(settings: Settings, repository: BroadcastRepository) -> None:
    """Say so on stderr when no bot has written its heartbeat lately."""
    silent = await _bot_silent_for(settings, repository)
    if silent is not None:
        print(texts.no_bot_running(None if silent == float("inf") else silent), file=sys.stderr)


async def _wait(
    settings: Settings, repository: BroadcastRepository, number: int, total: int
) -> tuple[CampaignStats, int]:
    """Follow the campaign with a progress bar until it is finished or cancelled (exit code
    0). Nothing moves without a running bot: when none has beaten for as long as one takes to
    show up (``STALE_BEATS`` heartbeats), say so and stop (exit code 3)."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit="msg", desc=texts.WAIT_DESC, file=sys.stderr, disable=None)
    grace = settings.broadcast_heartbeat_seconds * STALE_BEATS
    silent_since: float | None = None
    try:
        while True:
            stats = await repository.stats(number, datetime.now(UTC))
            assert stats is not None
            bar.n = stats.recipients - stats.pending
            bar.set_postfix(envoyes=stats.sent, bloques=stats.blocked, echecs=stats.failed)
            if stats.state in (CampaignState.TERMINEE, CampaignState.ANNULEE):
                bar.refresh()
                return stats, EXIT_OK
            if await _bot_silent_for(settings, repository) is None:
                silent_since = None
                bar.set_description_str(texts.WAIT_DESC, refresh=False)
            elif silent_since is None:
                silent_since = time.monotonic()
                bar.set_description_str(texts.WAIT_NO_BOT_DESC, refresh=False)
            elif time.monotonic() - silent_since >= grace:
                bar.close()
                print(texts.wait_no_bot(number), file=sys.stderr)
                return stats, EXIT_NO_BOT
            bar.refresh()
            await asyncio.sleep(0.5)
    finally:
        bar.close()
