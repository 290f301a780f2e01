"""The bot under load: replies while passwords are hashed, activations against the argon2 ceiling.

    python bench/bench_load.py [--chatters 200] [--hashers 20] [--duration 60] [--think 2]
                               [--cheap] [--quick]

The real bot (``bot.app.build_application`` and ``start_bot``, production settings but the
paths, the ports and the bench limits below) runs in its own process against the local Bot API
server (``bot/sandbox/bot_api_server.py``) and aiosmtpd, both in this process, over HTTP and a
real SQLite file. Two kinds of simulated users:

- ``--chatters`` users chat on steps that hash nothing, with a think time (exponential, mean
  ``--think`` seconds) between steps: /start (« Tout recommencer » when asked), a profile, the
  identifier, « Changer d'identifiant », the identifier again, and so on;
- ``--hashers`` users activate accounts one after the other without pause, alternately by
  e-mail (the code read from the e-mail) and by secret questions: every hashing step of the
  activation (provisional password, answers and their confirmations, new password and its
  confirmation).

After ``--warmup`` seconds, ``--duration`` seconds are measured. Printed, in one run:

- the argon2 ceiling: hashes a second on a saturated pool of the bot's size and parameters,
  measured here before the bot starts and after it stops, the mean of both used (production
  parameters, those of the settings object's defaults, unless ``--cheap``);
- activations a second, and their ratio to the ceiling at the argon2 operations counted per
  activation in the bot process (how busy the pool is with useful work), and at the operations
  the security needs (2 by e-mail, 4 by questions);
- the ceiling under the chatters' load: the bot's own pool (its size, its priority) saturated
  in the bot's process for ``--ceiling-seconds`` while the chatters chat, before the hashers
  start — what the CPU left by the replies allows — and the activations' ratio to it;
- p50 / p95 / p99 of the reply time per kind of step (from the user's update to the bot's
  answer arriving at the server), the non-hashing steps together;
- inside the bot process (a bench-only hook: ``--serve`` mode of this file, never in
  production): the worst event-loop stall (a 5 ms ticker), the SQLite write lock's held share
  and its wait, the argon2 operations;
- the load of the machine (``os.getloadavg``) and this process's own worst loop stall (the
  simulated users and the Bot API server share it).

``BENCH_LOAD_SLOW=20`` puts the bot's loop in asyncio's debug mode, which logs every callback
that holds it over 20 ms (slower: for diagnosis, not for figures).

``--quick``: 40 chatters, 6 hashers, 15 s, 3 s of warm-up (to iterate).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import gc
import json
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.sandbox.bot_api_server import LocalBotApi, SandboxUser
from bot.sandbox.mailbox import CaughtMail, Mailbox
from bot.security import Argon2Params, KeyedHasher, SecretHasher, load_or_create_server_secret
from bot.settings import PROJECT_ROOT, Settings
from storage.db import Database, to_db_time

TOKEN = "123456789:AAE2eBenchTokenForTheLocalBotApiServer"
PROVISIONAL = "Prov-Bench-7Kq"
NEW_PASSWORD = "Velo-Rouge-Soleil-42"
CHEAP = Argon2Params(time_cost=1, memory_cost=1024, parallelism=1)
HASHING_STEPS = {"provisional", "answer", "answer_again", "password", "confirmation"}
# Hashes a step costs that the security needs (the rest can be saved): by e-mail, the
# provisional password's check and the new password's hash; by questions, the two answers too.
NEEDED_OPS = {"email": 2, "questions": 4}


# --- the bot's process (bench-only probes) ---------------------------------------------------


def serve(config_path: Path) -> None:
    """Run the bot with the probes until SIGTERM; SIGUSR1 resets them, SIGUSR2 writes them to
    the stats file named in the config."""
    config = json.loads(config_path.read_text(encoding="utf-8"))
    with contextlib.suppress(Exception):  # Linux: die with the bench
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    asyncio.run(_serve(config))


class Probe:
    """What the bot's process measures: loop stalls, write-lock holds, argon2 operations."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.started = time.perf_counter()
        self.loop_cpu = time.thread_time()  # called on the loop's thread
        self.process_cpu = time.process_time()
        self.worst_stall = 0.0
        self.stalls: list[float] = []
        self.held = 0.0
        self.holds = 0
        self.waits: list[float] = []
        self.hold_times: list[float] = []
        self.argon2 = 0
        self.works = 0
        self.write_times: list[float] = []
        self.gc_pauses: list[float] = []  # the garbage collector's, on the loop's thread

    def as_json(self) -> dict[str, Any]:
        elapsed = time.perf_counter() - self.started
        stalls = sorted(self.stalls) or [0.0]
        waits = sorted(self.waits) or [0.0]
        holds = sorted(self.hold_times) or [0.0]
        return {
            "elapsed": elapsed,
            "loop_cpu": time.thread_time() - self.loop_cpu,
            "process_cpu": time.process_time() - self.process_cpu,
            "worst_stall": self.worst_stall,
            "stall_p99": stalls[int(len(stalls) * 0.99) - 1 if len(stalls) > 1 else 0],
            "held_share": self.held / elapsed if elapsed else 0.0,
            "transactions": self.holds,
            "wait_p50": statistics.median(waits),
            "wait_p95": waits[int(len(waits) * 0.95) - 1 if len(waits) > 1 else 0],
            "hold_p50": statistics.median(holds),
            "argon2": self.argon2,
            "works": self.works,
            "write_p50": statistics.median(self.write_times) if self.write_times else None,
            "write_p95": percentile(self.write_times, 0.95) if self.write_times else None,
            "gc_count": len(self.gc_pauses),
            "gc_worst": max(self.gc_pauses, default=0.0),
            "gc_total": sum(self.gc_pauses),
        }


def _install_probes(probe: Probe, database: Any) -> None:
    """Count argon2 operations; time the write lock (an asyncio lock held across the
    transaction, or the writer thread's transactions, whichever the code has)."""
    original_hash = SecretHasher.hash
    original_verify = SecretHasher.verify

    async def counted_hash(self: SecretHasher, secret: str) -> str:
        probe.argon2 += 1
        return await original_hash(self, secret)

    async def counted_verify(self: SecretHasher, stored_hash: str | None, secret: str) -> bool:
        probe.argon2 += 1
        return await original_verify(self, stored_hash, secret)

    SecretHasher.hash = counted_hash  # type: ignore[method-assign]
    SecretHasher.verify = counted_verify  # type: ignore[method-assign]

    lock = getattr(database, "_write_lock", None)
    if isinstance(lock, asyncio.Lock):
        original_acquire = lock.acquire
        original_release = lock.release
        taken: list[float] = []

        async def acquire() -> bool:
            asked = time.perf_counter()
            result = await original_acquire()
            now = time.perf_counter()
            probe.waits.append(now - asked)
            taken.append(now)
            return result

        def release() -> None:
            now = time.perf_counter()
            if taken:
                held = now - taken.pop()
                probe.held += held
                probe.hold_times.append(held)
                probe.holds += 1
            original_release()

        lock.acquire = acquire  # type: ignore[method-assign]
        lock.release = release  # type: ignore[method-assign]
    run_write = getattr(database, "_run_write", None)
    if run_write is not None:  # a batch of write() works = one transaction on the thread
        mutex = threading.Lock()

        def timed(works: list[Any]) -> Any:
            start = time.perf_counter()
            try:
                return run_write(works)
            finally:
                held = time.perf_counter() - start
                with mutex:
                    probe.held += held
                    probe.hold_times.append(held)
                    probe.holds += 1
                    probe.works += len(works)

        database._run_write = timed
        original_write = database.write

        async def write(work: Any) -> Any:
            asked = time.perf_counter()
            try:
                return await original_write(work)
            finally:
                probe.write_times.append(time.perf_counter() - asked)

        database.write = write


async def _serve(config: dict[str, Any]) -> None:
    from bot.app import build_application, services_of, start_bot, stop_bot
    from bot.cli import configure_logging

    configure_logging("WARNING")
    settings = Settings(_env_file=None, **config["settings"])  # type: ignore[call-arg]
    probe = Probe()
    application = build_application(settings)
    await start_bot(application, poll_timeout=1, freeze_gc=True)  # as run_bot.py does
    _install_probes(probe, services_of(application).database)
    probe.reset()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stats = Path(config["stats"])

    def dump() -> None:
        figures = probe.as_json()
        status = Path("/proc/self/status")
        if status.exists():  # Linux: resident memory now and at its highest
            for line in status.read_text(encoding="utf-8").splitlines():
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    figures[name] = int(value.split()[0]) * 1024
        figures["ptb_sets"] = sum(
            len(getattr(application, name, ()))
            for name in (
                "_user_ids_to_be_updated_in_persistence",
                "_chat_ids_to_be_updated_in_persistence",
            )
        )
        figures["ptb_data"] = len(application.user_data) + len(application.chat_data)
        stats.write_text(json.dumps(figures), encoding="utf-8")

    async def saturate(seconds: float, target: Path) -> None:
        # The bot's own pool (its size, its priority), saturated while the chatters chat.
        hasher = services_of(application).ports.hasher
        rate = await saturated_rate(hasher, hasher.threads, seconds)
        target.write_text(str(rate), encoding="utf-8")

    loop.add_signal_handler(signal.SIGUSR1, probe.reset)
    loop.add_signal_handler(
        signal.SIGHUP,
        lambda: loop.create_task(
            saturate(config["loaded_ceiling_seconds"], Path(config["loaded_ceiling"]))
        ),
    )
    loop.add_signal_handler(signal.SIGUSR2, dump)
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    async def ticker() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            late = time.perf_counter() - before - 0.005
            probe.stalls.append(late)
            probe.worst_stall = max(probe.worst_stall, late)

    if os.environ.get("BENCH_LOAD_SLOW"):  # diagnosis: asyncio names the slow callbacks
        loop.set_debug(True)
        loop.slow_callback_duration = float(os.environ["BENCH_LOAD_SLOW"]) / 1000
    tick = loop.create_task(ticker())
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            probe.gc_pauses.append(time.perf_counter() - gc_started[0])

    gc.callbacks.append(on_gc)
    Path(config["ready"]).write_text("ready", encoding="utf-8")
    await stop.wait()
    tick.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await tick
    await stop_bot(application)


# --- the simulated users ---------------------------------------------------------------------


class Recorder:
    """Reply times by kind of step, inside the measured window only."""

    def __init__(self) -> None:
        self.window: tuple[float, float] | None = None
        self.start_at = float("inf")
        self.end_at = float("inf")
        self.times: dict[str, list[float]] = defaultdict(list)
        self.activations: dict[str, int] = defaultdict(int)
        # Steps whose expected answer never came (the user starts its cycle again).
        self.failures: dict[str, int] = defaultdict(int)

    def measuring(self, moment: float) -> bool:
        return self.start_at <= moment < self.end_at

    def add(self, kind: str, began: float, ended: float) -> None:
        if self.measuring(began):
            self.times[kind].append(ended - began)


class Lost(Exception):
    """A step's expected answer never came within the timeout."""


class Users:
    """The users' side: each user's bot messages wake it (a listener of the server)."""

    def __init__(self, server: LocalBotApi, mailbox: Mailbox, recorder: Recorder) -> None:
        self.server = server
        self.recorder = recorder
        self.woken: dict[int, asyncio.Event] = {}
        self.codes: dict[str, asyncio.Future[str]] = {}
        server.add_listener(self._on_event)
        mailbox.add_listener(self._on_mail)

    def _on_event(self, event: dict[str, Any]) -> None:
        # a bot message, an edit (the « sending » message becomes « sent »), a deletion…
        woken = self.woken.get(int(event.get("user_id") or 0))
        if woken is not None:
            woken.set()

    def _on_mail(self, mail: CaughtMail) -> None:
        found = re.search(r"\b(\d{8})\b", mail.text)
        for recipient in mail.recipients:
            future = self.codes.get(recipient)
            if future is not None and not future.done() and found:
                future.set_result(found.group(1))

    async def turn(
        self,
        user: SandboxUser,
        kind: str,
        action: Callable[[], Awaitable[object]],
        expect: tuple[str, ...],
        timeout: float = 20,
    ) -> str:
        """Do ``action``; wait for a bot message containing one of ``expect``; record the
        time; return the message's text."""
        woken = self.woken.setdefault(user.id, asyncio.Event())
        seen = sum(1 for m in user.messages if m.from_bot)
        began = time.perf_counter()
        woken.clear()
        try:
            await action()
        except AssertionError:  # no such button: the chat is not where the user thinks
            self.recorder.failures[kind] += self.recorder.measuring(began)
            raise Lost(kind) from None
        deadline = began + timeout
        while True:
            for message in [m for m in user.messages if m.from_bot][seen:]:
                if any(word in message.text for word in expect):
                    self.recorder.add(kind, began, time.perf_counter())
                    return message.text
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                if self.recorder.measuring(began):
                    self.recorder.failures[kind] += 1
                raise Lost(kind)
            woken.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):  # (3.11's wait_for can eat a cancel)
                    await woken.wait()


async def chatter(users: Users, user: SandboxUser, identifiant: str, think: float) -> None:
    """Non-hashing steps, forever, with a think time between them."""
    rng = random.Random(user.id)

    async def pause() -> None:
        await asyncio.sleep(rng.expovariate(1 / think) if think > 0 else 0)

    await asyncio.sleep(rng.uniform(0, think or 0.1))
    while True:
        with contextlib.suppress(Lost):
            await chatter_cycle(users, user, identifiant, pause)


async def chatter_cycle(
    users: Users, user: SandboxUser, identifiant: str, pause: Callable[[], Awaitable[None]]
) -> None:
    """/start, a profile, then twice: the identifier, « Changer d'identifiant »."""
    text = await users.turn(
        user, "start", lambda: user.send_text("/start"), ("Bonjour", "démarche en cours")
    )
    if "Bonjour" not in text:
        await pause()
        await users.turn(user, "restart", lambda: user.press("Tout recommencer"), ("Bonjour",))
    await pause()
    await users.turn(user, "profile", lambda: user.press("Apprenti"), ("identifiant",))
    for _ in range(2):
        await pause()
        await users.turn(user, "identifier", partial(user.send_text, identifiant), ("provisoire",))
        await pause()
        await users.turn(
            user,
            "change_identifier",
            lambda: user.press("Changer d'identifiant"),
            ("identifiant",),
        )
    await pause()


async def hasher(
    users: Users, user: SandboxUser, accounts: asyncio.Queue[str], by_email: bool
) -> None:
    """Activations one after the other, no pause, alternately by e-mail and by questions."""
    while True:
        with contextlib.suppress(Lost):
            await activation(users, user, accounts.get_nowait(), by_email)
        by_email = not by_email


async def activation(users: Users, user: SandboxUser, identifiant: str, by_email: bool) -> None:
    """One activation, from /activer to « activé »."""
    turn = users.turn
    text = await turn(
        user, "start", lambda: user.send_text("/activer"), ("identifiant", "démarche en cours")
    )
    if "démarche en cours" in text:  # a step was lost: the earlier activation is left
        await turn(user, "restart", lambda: user.press("Tout recommencer"), ("identifiant",))
    await turn(user, "identifier", partial(user.send_text, identifiant), ("provisoire",))
    await turn(user, "provisional", lambda: user.send_text(PROVISIONAL), ("Acceptez-vous",))
    await turn(user, "cgu", lambda: user.press("J'accepte"), ("Étape 3",))
    if by_email:
        address = f"{identifiant}@example.org"
        code = asyncio.get_running_loop().create_future()
        users.codes[address] = code
        await turn(user, "recovery", lambda: user.press("e-mail"), ("adresse e-mail",))
        await turn(
            user,
            "email",
            partial(user.send_text, address),
            ("C'est envoyé", "partira dans quelques instants"),
        )
        try:
            async with asyncio.timeout(20):
                typed = await code
        except TimeoutError:
            users.recorder.failures["mail"] += 1
            raise Lost("mail") from None
        users.codes.pop(address, None)
        await turn(user, "code", partial(user.send_text, typed), ("Étape 4",))
    else:
        await turn(user, "recovery", lambda: user.press("questions"), ("(1 sur 2)",))
        for question, after in (("Question A", "(2 sur 2)"), ("Question B", "Étape 4")):
            await turn(user, "question", lambda q=question: user.press(q), ("réponse",))
            await turn(user, "answer", lambda: user.send_text("Mon Éléphant"), ("même réponse",))
            await turn(user, "answer_again", lambda: user.send_text("Mon Éléphant"), (after,))
    await turn(user, "password", lambda: user.send_text(NEW_PASSWORD), ("deuxième fois",))
    began = time.perf_counter()
    await turn(user, "confirmation", lambda: user.send_text(NEW_PASSWORD), ("activé",))
    if users.recorder.measuring(began):
        users.recorder.activations["email" if by_email else "questions"] += 1


# --- the run ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def pool_size(settings: Settings) -> int:
    """The bot's argon2 pool size (the setting, where the code has one)."""
    threads = getattr(settings, "argon2_threads", None)
    if threads:
        return int(threads)
    from bot import security

    default = getattr(security, "default_argon2_threads", None)
    return default() if default else min(4, os.cpu_count() or 1)


async def ceiling(params: Argon2Params, threads: int, seconds: float) -> float:
    """Hashes a second on a saturated pool of ``threads`` threads."""
    from concurrent.futures import ThreadPoolExecutor

    hasher = SecretHasher(params, ThreadPoolExecutor(threads, thread_name_prefix="ceiling"))
    await hasher.hash("warm-up")
    return await saturated_rate(hasher, threads, seconds)


async def saturated_rate(hasher: SecretHasher, threads: int, seconds: float) -> float:
    """Hashes a second through ``hasher`` kept busy (twice ``threads`` hashes asked at once)
    for ``seconds``."""
    done = 0
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < end:
            await hasher.hash("Velo-Rouge-Soleil-42")
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(threads * 2)))
    return done / (time.perf_counter() - start)


async def seed_accounts(settings: Settings, count: int, params: Argon2Params) -> list[str]:
    """``count`` accounts to activate, sharing one provisional hash (hashed once)."""
    database = await Database.open(settings.database_path)
    load_or_create_server_secret(settings.server_secret_file)
    hashed = await SecretHasher(params).hash(PROVISIONAL)
    stamp = to_db_time(datetime.now(UTC))
    names = [f"bench.user{n:05d}" for n in range(count)]
    async with database.transaction() as connection:
        await connection.executemany(
            """INSERT INTO accounts (identifiant, identifiant_norm, provisional_password_hash,
                   profil, prenom, nom, etablissement, import_fingerprint, imported_at,
                   updated_at)
               VALUES (?, ?, ?, 'apprenti', 'Bench', 'User', 'Lycée', 'bench', ?, ?)""",
            [(name, name, hashed, stamp, stamp) for name in names],
        )
    await database.close()
    return names


def bench_overrides(
    folder: Path, server: LocalBotApi, mailbox: Mailbox, params: Argon2Params
) -> dict[str, Any]:
    """The settings of a bench's bot (``folder`` for its files, ``params`` for argon2id),
    without the per-user limits that would refuse the simulated users."""
    return {
        "telegram_bot_token": TOKEN,
        "telegram_api_url": server.root_url,
        "database_path": str(folder / "bot.sqlite3"),
        "server_secret_file": str(folder / "server.key"),
        "school_config": str(PROJECT_ROOT / "tests" / "data" / "school.toml"),
        "smtp_host": "127.0.0.1",
        "smtp_port": mailbox.port,
        "argon2_time_cost": params.time_cost,
        "argon2_memory_cost": params.memory_cost,
        "argon2_parallelism": params.parallelism,
        # bench limits: one Telegram user activates many accounts, many mails an address
        "max_identifiants_per_user": 10**6,
        "mail_address_cooldown_seconds": 0,
        "max_mails_per_address_per_day": 10**6,
        "max_mails_per_account_per_day": 10**6,
        "max_mails_per_user_per_day": 10**6,
        "reminder_unfinished": False,
        "reminder_link_expiring": False,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chatters", type=int, help="200 (--quick: 40)")
    parser.add_argument("--hashers", type=int, help="20 (--quick: 6)")
    parser.add_argument("--duration", type=float, help="measured seconds: 60 (--quick: 15)")
    parser.add_argument("--warmup", type=float, help="seconds before measuring: 10 (--quick: 3)")
    parser.add_argument("--think", type=float, default=2.0, help="chatters' mean pause (s)")
    parser.add_argument("--cheap", action="store_true", help="argon2id t=1, m=1 MiB (test cost)")
    parser.add_argument("--quick", action="store_true", help="40 chatters, 6 hashers, 15 s")
    parser.add_argument("--ceiling-seconds", type=float, default=5.0)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    defaults = (40, 6, 15.0, 3.0) if args.quick else (200, 20, 60.0, 10.0)
    for name, value in zip(("chatters", "hashers", "duration", "warmup"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.quick:
        args.ceiling_seconds = min(args.ceiling_seconds, 2.0)
    # a run that hangs says where (then stops)
    faulthandler.dump_traceback_later(
        args.warmup + args.duration + 4 * args.ceiling_seconds + 150, exit=True
    )
    load = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    params = CHEAP if args.cheap else Settings(_env_file=None).argon2  # type: ignore[call-arg]
    server = LocalBotApi(bot_token=TOKEN, bot_username="bench_bot", bot_first_name="Bench")
    await server.start(host="127.0.0.1", port=0)
    mailbox = Mailbox()
    mailbox.start("127.0.0.1")
    overrides = bench_overrides(folder, server, mailbox, params)
    settings = Settings(_env_file=None, **overrides)  # type: ignore[call-arg]
    threads = pool_size(settings)
    hashes_per_second = await ceiling(params, threads, args.ceiling_seconds)
    accounts: asyncio.Queue[str] = asyncio.Queue()
    count = max(200, int(args.hashers * (args.duration + args.warmup + 30)))
    for name in await seed_accounts(settings, count, params):
        accounts.put_nowait(name)
    KeyedHasher(load_or_create_server_secret(settings.server_secret_file))
    config = folder / "serve.json"
    stats, ready = folder / "stats.json", folder / "ready"
    loaded_ceiling_file = folder / "loaded-ceiling"
    config.write_text(
        json.dumps(
            {
                "settings": overrides,
                "stats": str(stats),
                "ready": str(ready),
                "loaded_ceiling": str(loaded_ceiling_file),
                "loaded_ceiling_seconds": args.ceiling_seconds,
            }
        ),
        encoding="utf-8",
    )
    bot = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).resolve()), "--serve", str(config)
    )
    recorder = Recorder()
    tasks: list[asyncio.Task[None]] = []
    own_worst = 0.0
    own_cpu = 0.0
    loaded_ceiling = float("nan")
    try:
        while not ready.exists():
            if bot.returncode is not None:
                raise SystemExit("the bot's process died at start")
            await asyncio.sleep(0.1)
        users = Users(server, mailbox, recorder)
        for n in range(args.chatters):
            user = server.user(100_000 + n, first_name="Chat")
            name = f"bench.user{n % count:05d}"
            tasks.append(asyncio.create_task(chatter(users, user, name, args.think)))
        # The ceiling under the chatters' load: the bot's own pool saturated in the bot's
        # process while they chat, before any activation (what is left of the CPU for hashing).
        await asyncio.sleep(max(3.0, 1.5 * args.think))
        os.kill(bot.pid, signal.SIGHUP)
        while not loaded_ceiling_file.exists():
            if bot.returncode is not None:
                raise SystemExit("the bot's process died")
            await asyncio.sleep(0.1)
        loaded_ceiling = float(loaded_ceiling_file.read_text(encoding="utf-8"))
        for n in range(args.hashers):
            user = server.user(200_000 + n, first_name="Hash")
            tasks.append(asyncio.create_task(hasher(users, user, accounts, n % 2 == 0)))
        await asyncio.sleep(args.warmup)
        os.kill(bot.pid, signal.SIGUSR1)
        recorder.start_at = time.perf_counter()
        own_cpu = time.process_time()
        recorder.end_at = recorder.start_at + args.duration
        end = recorder.end_at
        while time.perf_counter() < end:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            own_worst = max(own_worst, time.perf_counter() - before - 0.005)
            dead = [t for t in tasks if t.done() and t.exception() is not None]
            if dead:
                raise RuntimeError("a simulated user failed") from dead[0].exception()
        own_cpu = time.process_time() - own_cpu
        os.kill(bot.pid, signal.SIGUSR2)
        for _ in range(100):
            if stats.exists():
                break
            await asyncio.sleep(0.05)
        load_after = os.getloadavg()
    finally:
        if os.environ.get("BENCH_LOAD_DEBUG"):
            for user in server.users.values():
                if user.id >= 200_000:
                    print(user.transcript(), file=sys.stderr)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                print(f"a simulated user stopped: {task.exception()!r}"[:2000], file=sys.stderr)
        if bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
            try:  # the server keeps answering while the bot stops
                await asyncio.wait_for(bot.wait(), 30)
            except TimeoutError:
                bot.kill()
        mailbox.stop()
        await server.stop()
    # measured again once the bot is gone: the machine is shared, the mean of both is used
    hashes_after = await ceiling(params, threads, args.ceiling_seconds)
    print(f"argon2 ceiling: {hashes_per_second:.2f} hashes/s before, {hashes_after:.2f} after")
    hashes_per_second = (hashes_per_second + hashes_after) / 2
    probe = json.loads(stats.read_text(encoding="utf-8"))
    report(
        args,
        params,
        threads,
        hashes_per_second,
        recorder,
        probe,
        load,
        load_after,
        own_worst,
        own_cpu,
        loaded_ceiling,
    )


def report(
    args: argparse.Namespace,
    params: Argon2Params,
    threads: int,
    hashes_per_second: float,
    recorder: Recorder,
    probe: dict[str, Any],
    load: tuple[float, float, float],
    load_after: tuple[float, float, float],
    own_worst: float,
    own_cpu: float,
    loaded_ceiling: float,
) -> None:
    cost = "cheap" if args.cheap else "production"
    print(
        f"bench_load: {args.chatters} chatters (think {args.think:g} s), {args.hashers} hashers, "
        f"{args.duration:g} s measured; argon2id {cost} (t={params.time_cost}, "
        f"m={params.memory_cost} KiB, p={params.parallelism}), pool of {threads}; "
        f"load {load[0]:.2f} before, {load_after[0]:.2f} after"
    )
    activations = sum(recorder.activations.values())
    rate = activations / args.duration
    ops = probe["argon2"]
    ops_per_activation = ops / activations if activations else float("nan")
    needed = sum(NEEDED_OPS[path] * n for path, n in recorder.activations.items())
    needed_per = needed / activations if activations else float("nan")
    at_counted = hashes_per_second / ops_per_activation if activations else float("nan")
    at_needed = hashes_per_second / needed_per if activations else float("nan")
    print(f"argon2 ceiling (mean): {hashes_per_second:.2f} hashes/s")
    print(
        f"activations: {activations} ({dict(recorder.activations)}), {rate:.3f}/s; argon2 "
        f"operations {ops} = {ops_per_activation:.2f} an activation (needed {needed_per:.2f})"
    )
    print(
        f"ratio to the ceiling: {rate / at_counted:.2f} at the counted operations "
        f"({at_counted:.3f}/s), {rate / at_needed:.2f} at the needed ones ({at_needed:.3f}/s)"
    )
    loaded_needed = loaded_ceiling / needed_per if activations else float("nan")
    print(
        f"argon2 ceiling under the chatters' load (the bot's pool, in its process, before the "
        f"activations): {loaded_ceiling:.2f} hashes/s; ratio at the needed operations "
        f"{rate / loaded_needed:.2f} ({loaded_needed:.3f}/s)"
    )
    non_hashing: list[float] = []
    print(f"{'step':18} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind in sorted(recorder.times):
        values = recorder.times[kind]
        if kind not in HASHING_STEPS:
            non_hashing += values
        print(
            f"{kind:18} {len(values):6d} {percentile(values, 0.5) * 1000:8.0f} "
            f"{percentile(values, 0.95) * 1000:8.0f} {percentile(values, 0.99) * 1000:8.0f}"
        )
    print(
        f"{'NON-HASHING':18} {len(non_hashing):6d} {percentile(non_hashing, 0.5) * 1000:8.0f} "
        f"{percentile(non_hashing, 0.95) * 1000:8.0f} {percentile(non_hashing, 0.99) * 1000:8.0f}"
        f"  ({len(non_hashing) / args.duration:.1f} steps/s)"
    )
    print(
        f"bot's event loop: worst stall {probe['worst_stall'] * 1000:.1f} ms, p99 "
        f"{probe['stall_p99'] * 1000:.1f} ms; write lock held {probe['held_share'] * 100:.1f} % "
        f"of the time ({probe['transactions']} transactions, "
        f"{probe['transactions'] / probe['elapsed']:.1f}/s, "
        f"hold p50 {probe['hold_p50'] * 1000:.1f} ms, wait p50 {probe['wait_p50'] * 1000:.1f} ms "
        f"p95 {probe['wait_p95'] * 1000:.1f} ms)"
    )
    if probe.get("write_p50") is not None:
        print(
            f"write(): {probe['works']} works in those transactions (group commit), a write "
            f"answered in p50 {probe['write_p50'] * 1000:.1f} ms, "
            f"p95 {probe['write_p95'] * 1000:.1f} ms"
        )
    steps = sum(len(values) for values in recorder.times.values()) or 1
    print(
        f"CPU (share of one core): the bot's loop thread {probe['loop_cpu'] / probe['elapsed']:.0%}"
        f" ({probe['loop_cpu'] / steps * 1000:.1f} ms a step, all steps), the bot's process "
        f"{probe['process_cpu'] / probe['elapsed']:.0%}, the bench's process "
        f"{own_cpu / args.duration:.0%} ({own_cpu / steps * 1000:.1f} ms a step)"
    )
    if "gc_count" in probe:
        print(
            f"the bot's garbage collections on the loop: {probe['gc_count']}, worst "
            f"{probe['gc_worst'] * 1000:.1f} ms, {probe['gc_total'] * 1000:.0f} ms in all"
        )
    print(f"bench process (users, Bot API server): worst loop stall {own_worst * 1000:.1f} ms")
    if recorder.failures:
        print(f"steps without their answer within 20 s: {dict(recorder.failures)}")


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve(Path(sys.argv[sys.argv.index("--serve") + 1]))
    else:
        asyncio.run(main())
