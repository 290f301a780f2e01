"""Fuzzing the conversation: the real Application polling the local Bot API server, users
walked by script to every state of every procedure, then random inputs (texts with Unicode
spaces, digits like « ① », emoji, very long texts; stickers, photos; commands; pressed and
forged buttons). For each input: did the bot answer, and did the error handler run?

Used by ``tests/e2e/test_fuzz.py`` (about 1,000 inputs) and ``bench/bench_fuzz.py`` (10,000).
Inputs are drawn by hypothesis (:data:`INPUTS`); one hypothesis example is one round: one input
to each parked user at once (chats are handled concurrently, as in production).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot import texts
from bot.cli import quiet_noisy_loggers
from bot.procedures.activation import Step
from bot.procedures.my_account import MyAccountStep
from bot.procedures.recovery import RecoveryStep
from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox
from bot.security import normalise_answer
from storage.accounts import ActivationRecord

from chat import Chat
from conftest import BOT_TOKEN, BOT_USERNAME, CODE, BotHarness, harness_settings
from support import ACCOUNTS, GOOD_PASSWORD, MutableClock

NEW_PASSWORD = "Train-Bleu-Montagne-7"
ANSWERS = ("Mon Éléphant", "Tours")

# --- inputs -----------------------------------------------------------------------------------

UNICODE_SPACES = " \t\u00a0\u1680\u2000\u2001\u2002\u2003\u2007\u200a\u2028\u2029\u202f\u205f\u3000"
ODD_DIGITS = "0123456789①②⑨٣٤۷߃९৪𝟎𝟠𝟡¹²³"
EMOJI = "😀👍🏽🇫🇷👨‍👩‍👧‍👦❤️🔥✅🗑️\u200d\ufe0f"
COMMANDS = (
    "/start",
    "/activer",
    "/motdepasse",
    "/moncompte",
    "/aide",
    "/annuler",
    "/stats",
    "/inconnue",
    "/",
)
COMMAND_TAILS = ("", " ", " activer", " abc", " ①", "@" + BOT_USERNAME, " " + "x" * 80, "\u3000")
LIKELY_TEXTS = (
    GOOD_PASSWORD,
    NEW_PASSWORD,
    "x@example.org",
    "pas une adresse",
    "lea.martin",
    "12345678",
    "①②③④⑤⑥⑦⑧",
    "Tours",
    "oui",
    "\u2800",
)
PREFIXES = (
    "p",
    "cgu",
    "rec",
    "em",
    "q",
    "mc",
    "mce",
    "mcq",
    "mdp",
    "acct",
    "cgunew",
    "resume",
    "restart",
    "",
)
ARGS = (
    "ok",
    "no",
    "again",
    "go",
    "email",
    "questions",
    "send",
    "resend",
    "change",
    "forgot",
    "apprenti",
    "personnel_en",
    "0",
    "1",
    "2",
    "9",
    "①",
    "-1",
    "delete",
    "delete_yes",
    "keep",
    "show.1",
    "unlink.1",
    "email.1",
    "show.①",
    "",
)
RAW_DATA = ("", ":", "::", "cgunew:", "cgunew:ok", "cgunew:ok:", "acct:", "acct:delete_yes", "mc:")
# live: the nonce of the newest keyboard; own: its prefix and nonce with the drawn argument
NONCE_MODES = ("live", "own", "own", "none", "empty", "random", "extra")


@dataclass(frozen=True)
class Input:
    """One thing a user does: ``kind`` is text, sticker, photo, press (a button the bot shows,
    by index) or data (callback data built from prefix, arg and a nonce mode, or ``text``)."""

    kind: str
    text: str = ""
    index: int = 0
    nonce_mode: str = ""

    def describe(self) -> str:
        """For reports (long texts shortened)."""
        shown = self.text if len(self.text) <= 40 else f"{self.text[:20]!r}…({len(self.text)})"
        return f"{self.kind}:{shown!r}" + (f":{self.nonce_mode}" if self.nonce_mode else "")


def _long_text(parts: tuple[str, int]) -> str:
    char, length = parts
    return (char * length)[:4096]


TEXTS = st.one_of(
    st.text(min_size=1, max_size=24),
    st.text(alphabet=UNICODE_SPACES, min_size=1, max_size=12),
    st.text(alphabet=ODD_DIGITS, min_size=1, max_size=10),
    st.text(alphabet=EMOJI, min_size=1, max_size=8),
    st.text(alphabet=string.printable + "éèàçœ", min_size=1, max_size=24),
    st.tuples(st.sampled_from(["a", "é", "😀", " ", "①", "\u3000"]), st.integers(200, 4096)).map(
        _long_text
    ),
    st.sampled_from(LIKELY_TEXTS),
)
_DATA = st.one_of(
    st.builds(
        lambda prefix, arg, mode, index: Input("data", f"{prefix}:{arg}", index, mode),
        st.sampled_from(PREFIXES),
        st.one_of(
            st.sampled_from(ARGS),
            st.text(max_size=6),
            st.text(alphabet=ODD_DIGITS, min_size=1, max_size=3),
        ),
        st.sampled_from(NONCE_MODES),
        st.integers(0, 9),
    ),
    st.text(max_size=30).map(lambda raw: Input("data", raw, nonce_mode="raw")),
    st.sampled_from(RAW_DATA).map(lambda raw: Input("data", raw, nonce_mode="raw")),
)
INPUTS: st.SearchStrategy[Input] = st.one_of(
    TEXTS.map(lambda text: Input("text", text)),
    st.builds(
        lambda c, tail: Input("text", c + tail),
        st.sampled_from(COMMANDS),
        st.sampled_from(COMMAND_TAILS),
    ),
    st.sampled_from([Input("sticker"), Input("photo")]),
    st.integers(0, 9).map(lambda index: Input("press", index=index)),
    st.integers(0, 9).map(lambda index: Input("press", index=index)),
    _DATA,
    _DATA,
)


# --- the rig ----------------------------------------------------------------------------------


class ErrorCounter(logging.Handler):
    """Counts the error handler's reports (``bot.app._on_error``) and any other error log."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.unhandled: list[str] = []
        self.other: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        where = ""
        if record.exc_info and record.exc_info[2] is not None:
            tb = record.exc_info[2]
            while tb.tb_next is not None:
                tb = tb.tb_next
            where = f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"
        line = f"{record.getMessage()}{where}"
        if record.name == "bot.app" and record.getMessage().startswith("error while handling"):
            self.unhandled.append(line)
        else:
            self.other.append(f"{record.name}: {line}")


@dataclass
class Park:
    """A user walked to ``state`` (a key of :data:`STATES`); ``n`` numbers their addresses."""

    chat: Chat
    state: str
    n: int


@dataclass
class Finding:
    """An input that crashed the bot (the error handler ran) or got no answer."""

    state: str
    history: list[str]
    crashed: bool
    silent: bool


@dataclass
class FuzzRig:
    """The local Bot API server, a mailbox, the bot; accounts to walk users with."""

    tmp_path: Path
    fresh_accounts: int = 300
    harness: BotHarness = field(init=False)
    errors: ErrorCounter = field(default_factory=ErrorCounter)
    inputs: int = 0
    findings: list[Finding] = field(default_factory=list)
    states_reached: set[str] = field(default_factory=set)
    _users: itertools.count[int] = field(default_factory=lambda: itertools.count(500_000))
    _accounts: itertools.count[int] = field(default_factory=itertools.count)
    _history: dict[int, list[str]] = field(default_factory=dict)

    async def start(self) -> None:
        """Start the server, the mailbox and the bot, with ``fresh_accounts`` to activate."""
        server = LocalBotApi(bot_token=BOT_TOKEN, bot_username=BOT_USERNAME, bot_first_name="ENT")
        await server.start(host="127.0.0.1", port=0)
        mailbox = Mailbox()
        mailbox.start("127.0.0.1")
        settings = harness_settings(self.tmp_path, server, mailbox.port).model_copy(
            update={"log_level": "WARNING"}
        )
        self.harness = BotHarness(server, settings, MutableClock(), mailbox, self.tmp_path)
        root = logging.getLogger()
        root.addHandler(self.errors)
        quiet_noisy_loggers()
        rows = [
            (f"fuzz.{i:05d}", f"Fz{i:05d}-Kq4m-Tw", "apprenti", "Fuzz", f"N{i}", "Lycée de Test")
            for i in range(self.fresh_accounts)
        ]
        await self.harness.import_accounts([*ACCOUNTS, *rows])
        await self.harness.start()

    async def stop(self) -> None:
        """Stop the bot, the mailbox and the server."""
        await self.harness.stop()
        self.harness.mailbox.stop()
        await self.harness.server.stop()
        logging.getLogger().removeHandler(self.errors)

    # --- accounts and users -------------------------------------------------------------------

    def _fresh(self) -> tuple[str, str]:
        i = next(self._accounts)
        if i >= self.fresh_accounts:
            raise RuntimeError("no account left to activate: raise fresh_accounts")
        return f"fuzz.{i:05d}", f"Fz{i:05d}-Kq4m-Tw"

    async def _active(self, user_id: int, n: int, *, cgu: str | None = None) -> str:
        """A fresh account made active as an activation leaves it (e-mail and questions),
        linked to ``user_id``; its identifier."""
        identifiant, _ = self._fresh()
        services = self.harness.services
        svc = services.activation
        account = await svc.ports.directory.find(identifiant)
        assert account is not None
        now = datetime.now(UTC)
        questions = svc.ports.school.secret_questions
        record = ActivationRecord(
            email=f"fuzz{n}@example.org",
            email_verified_at=now,
            secret_question1=questions[0],
            secret_answer1_hash=await svc.ports.hasher.hash(normalise_answer(ANSWERS[0])),
            secret_question2=questions[1],
            secret_answer2_hash=await svc.ports.hasher.hash(normalise_answer(ANSWERS[1])),
            telegram_user_id=user_id,
            cgu_version=cgu or svc.ports.school.cgu_version,
            cgu_accepted_at=now,
            activated_at=now,
        )
        assert await svc.ports.directory.activate(account.id, GOOD_PASSWORD, record)
        return identifiant

    async def code_for(self, address: str) -> str:
        """The code of the newest e-mail to ``address`` (waiting for it)."""
        async with asyncio.timeout(20):
            while True:
                for mail in reversed(self.harness.mailbox.mails):
                    if address in mail.recipients:
                        match = CODE.search(mail.text)
                        assert match
                        return match.group(1)
                await asyncio.sleep(0.02)

    # --- walks --------------------------------------------------------------------------------

    async def park(self, state: str) -> Park:
        """A new user walked to ``state`` (see :data:`STATES`)."""
        user_id = next(self._users)
        park = Park(Chat(self.harness, user_id), state, user_id)
        await STATES[state][1](self, park)
        return park

    async def park_all(self) -> list[Park]:
        """One new user in each state, walked at the same time."""
        parks = await asyncio.gather(*(self.park(state) for state in STATES))
        for park in parks:
            await self._check_reached(park)
            self._history[park.chat.user_id] = []
        return list(parks)

    async def _check_reached(self, park: Park) -> None:
        session = await self.harness.services.activation.ports.sessions.get(park.chat.user_id)
        step = session.step if session else None
        expected = STATES[park.state][0]
        if step != expected:
            raise AssertionError(
                f"the walk to {park.state} ended at {step}:\n{park.chat.user.transcript()}"
            )
        self.states_reached.add(park.state)

    # --- inputs -------------------------------------------------------------------------------

    async def fire(self, park: Park, action: Input) -> None:
        """Do ``action`` in the park's chat without waiting for the answer."""
        user = park.chat.user
        if action.kind == "text":
            await user.send_text(action.text)
        elif action.kind == "sticker":
            await user.send_sticker()
        elif action.kind == "photo":
            await user.send_photo()
        else:
            target, data = self._button(park, action)
            await user.press_data(target, data)

    def _button(self, park: Park, action: Input) -> tuple[int, str]:
        """The message and callback data of a pressed or forged button."""
        messages = park.chat.user.visible_messages()
        with_buttons = [
            m
            for m in messages
            if m.from_bot and any("callback_data" in b for r in m.buttons for b in r)
        ]
        newest = with_buttons[-1] if with_buttons else None
        target = (newest or messages[-1]).message_id
        live = (
            [b["callback_data"] for r in newest.buttons for b in r if "callback_data" in b]
            if newest
            else []
        )
        if action.kind == "press":
            if live:
                return target, live[action.index % len(live)]
            return target, "p:apprenti:000000"
        nonce = live[0].rsplit(":", 1)[-1] if live else "000000"
        own = live[action.index % len(live)].split(":", 1)[0] if live else "p"
        arg = action.text.split(":", 1)[-1]
        data = {
            "own": f"{own}:{arg}:{nonce}",
            "live": f"{action.text}:{nonce}",
            "none": action.text,
            "empty": f"{action.text}:",
            "random": f"{action.text}:{action.text[::-1][:6]}beef",
            "extra": f"{action.text}:{nonce}:x",
            "raw": action.text,
        }[action.nonce_mode]
        while len(data.encode()) > 64:
            data = data[:-1]
        return target, data

    async def round(self, parks: list[Park], actions: list[Input]) -> None:
        """One input to each park at once; record crashes and silences."""
        before = {p.chat.user_id: self._bot_messages(p) for p in parks}
        for park, action in zip(parks, actions, strict=False):
            self._history[park.chat.user_id].append(action.describe())
        await asyncio.gather(*(self.fire(p, a) for p, a in zip(parks, actions, strict=False)))
        await self.harness.settle(timeout=60)
        for park in parks[: len(actions)]:
            self.inputs += 1
            fresh = [m for m in park.chat.user.messages if m.from_bot][before[park.chat.user_id] :]
            crashed = any(m.text == _plain(texts.TECHNICAL_ERROR) for m in fresh)
            if crashed or not fresh:
                history = list(self._history[park.chat.user_id])
                self.findings.append(Finding(park.state, history, crashed, not fresh))

    def report(self, limit: int = 20) -> str:
        """The first findings, each with the last inputs of its chat."""
        return "\n".join(
            f"{'crash' if f.crashed else 'silent'} from {f.state}: {' → '.join(f.history[-3:])}"
            for f in self.findings[:limit]
        )

    @staticmethod
    def _bot_messages(park: Park) -> int:
        return sum(1 for m in park.chat.user.messages if m.from_bot)


def _plain(html: str) -> str:
    return html.replace("<b>", "").replace("</b>", "")


# --- the walks to each state --------------------------------------------------------------------

Walk = Callable[[FuzzRig, Park], Awaitable[None]]


async def _provisional_unknown(rig: FuzzRig, park: Park) -> None:
    await park.chat.say("/activer")
    await park.chat.say(f"inconnu.{park.n}")  # fuzzed passwords throttle nobody's account


async def _cgu(rig: FuzzRig, park: Park) -> None:
    identifiant, password = rig._fresh()
    await park.chat.walk_to_cgu(identifiant, password)


async def _choice(rig: FuzzRig, park: Park) -> None:
    await _cgu(rig, park)
    await park.chat.press("J'accepte")


async def _email(rig: FuzzRig, park: Park) -> None:
    await _choice(rig, park)
    await park.chat.press("Par e-mail")


async def _email_confirm(rig: FuzzRig, park: Park) -> None:
    await _email(rig, park)
    await park.chat.say(f"fuzz{park.n}@gmial.com")  # looks like a typo: shown back


async def _code(rig: FuzzRig, park: Park) -> None:
    await _email(rig, park)
    await park.chat.say(f"fuzz{park.n}@example.org")  # sent at once
    await rig.code_for(f"fuzz{park.n}@example.org")


async def _question1(rig: FuzzRig, park: Park) -> None:
    await _choice(rig, park)
    await park.chat.press("Par 2 questions secrètes")


async def _answer1(rig: FuzzRig, park: Park) -> None:
    await _question1(rig, park)
    await park.chat.press("Question A")


async def _answer1_confirm(rig: FuzzRig, park: Park) -> None:
    await _answer1(rig, park)
    await park.chat.say_secret(ANSWERS[0])


async def _question2(rig: FuzzRig, park: Park) -> None:
    await _answer1_confirm(rig, park)
    await park.chat.say_secret(ANSWERS[0])


async def _answer2(rig: FuzzRig, park: Park) -> None:
    await _question2(rig, park)
    await park.chat.press("Question B")


async def _password(rig: FuzzRig, park: Park) -> None:
    await _code(rig, park)
    await park.chat.say_secret(await rig.code_for(f"fuzz{park.n}@example.org"))


async def _answer2_confirm(rig: FuzzRig, park: Park) -> None:
    await _answer2(rig, park)
    await park.chat.say_secret(ANSWERS[1])


async def _password_confirm(rig: FuzzRig, park: Park) -> None:
    await _answer2_confirm(rig, park)
    await park.chat.say_secret(ANSWERS[1])
    await park.chat.say_secret(GOOD_PASSWORD)


async def _outside(rig: FuzzRig, park: Park) -> None:
    await park.chat.say("bonjour")


async def _linked(rig: FuzzRig, park: Park) -> None:
    await rig._active(park.chat.user_id, park.n)
    await park.chat.say("/moncompte")


async def _changed_cgu(rig: FuzzRig, park: Park) -> None:
    await rig._active(park.chat.user_id, park.n, cgu="une-version-plus-ancienne")
    await park.chat.say("/moncompte")


async def _rec_identifiant(rig: FuzzRig, park: Park) -> None:
    await park.chat.say("/motdepasse")


async def _rec_method(rig: FuzzRig, park: Park) -> None:
    identifiant = await rig._active(park.chat.user_id, park.n)
    await park.chat.say("/motdepasse")
    await park.chat.say(identifiant)


async def _rec_code(rig: FuzzRig, park: Park) -> None:
    await _rec_method(rig, park)
    await park.chat.press("J'avais donné une adresse e-mail")
    await rig.code_for(f"fuzz{park.n}@example.org")


async def _rec_answer1(rig: FuzzRig, park: Park) -> None:
    await _rec_method(rig, park)
    await park.chat.press("J'avais choisi des questions secrètes")


async def _rec_answer2(rig: FuzzRig, park: Park) -> None:
    await _rec_answer1(rig, park)
    await park.chat.say_secret(ANSWERS[0])


async def _rec_password(rig: FuzzRig, park: Park) -> None:
    await _rec_code(rig, park)
    await park.chat.say_secret(await rig.code_for(f"fuzz{park.n}@example.org"))


async def _rec_password_confirm(rig: FuzzRig, park: Park) -> None:
    await _rec_answer2(rig, park)
    await park.chat.say_secret(ANSWERS[1])
    await park.chat.say_secret(NEW_PASSWORD)


async def _my_password(rig: FuzzRig, park: Park) -> None:
    await _linked(rig, park)
    await park.chat.press("Changer d'adresse e-mail")


async def _my_email(rig: FuzzRig, park: Park) -> None:
    await _my_password(rig, park)
    await park.chat.say_secret(GOOD_PASSWORD)


async def _my_email_confirm(rig: FuzzRig, park: Park) -> None:
    await _my_email(rig, park)
    await park.chat.say(f"nouvelle{park.n}@example.org")


async def _my_code(rig: FuzzRig, park: Park) -> None:
    await _my_email_confirm(rig, park)
    await park.chat.press("Oui, envoyer")
    await rig.code_for(f"nouvelle{park.n}@example.org")


async def _my_question1(rig: FuzzRig, park: Park) -> None:
    await _linked(rig, park)
    await park.chat.press("Changer mes questions secrètes")
    await park.chat.say_secret(GOOD_PASSWORD)


async def _my_answer1(rig: FuzzRig, park: Park) -> None:
    await _my_question1(rig, park)
    await park.chat.press("Question A")


async def _my_answer1_confirm(rig: FuzzRig, park: Park) -> None:
    await _my_answer1(rig, park)
    await park.chat.say_secret("Une Réponse")


async def _my_question2(rig: FuzzRig, park: Park) -> None:
    await _my_answer1_confirm(rig, park)
    await park.chat.say_secret("Une Réponse")


async def _my_answer2(rig: FuzzRig, park: Park) -> None:
    await _my_question2(rig, park)
    await park.chat.press("Question B")


async def _my_answer2_confirm(rig: FuzzRig, park: Park) -> None:
    await _my_answer2(rig, park)
    await park.chat.say_secret("Une Autre Réponse")


async def _say(rig: FuzzRig, park: Park, *lines: str) -> None:
    for line in lines:
        await park.chat.say(line)


# state → (the step its session must be at after the walk, the walk); None: no procedure open
STATES: dict[str, tuple[str | None, Walk]] = {
    Step.PROFILE: (Step.PROFILE, lambda rig, park: _say(rig, park, "/start")),
    Step.IDENTIFIANT: (Step.IDENTIFIANT, lambda rig, park: _say(rig, park, "/activer")),
    Step.PROVISIONAL: (Step.PROVISIONAL, _provisional_unknown),
    Step.CGU: (Step.CGU, _cgu),
    Step.RECOVERY: (Step.RECOVERY, _choice),
    Step.EMAIL: (Step.EMAIL, _email),
    Step.EMAIL_CONFIRM: (Step.EMAIL_CONFIRM, _email_confirm),
    Step.CODE: (Step.CODE, _code),
    Step.QUESTION1: (Step.QUESTION1, _question1),
    Step.ANSWER1: (Step.ANSWER1, _answer1),
    Step.ANSWER1_CONFIRM: (Step.ANSWER1_CONFIRM, _answer1_confirm),
    Step.QUESTION2: (Step.QUESTION2, _question2),
    Step.ANSWER2: (Step.ANSWER2, _answer2),
    Step.ANSWER2_CONFIRM: (Step.ANSWER2_CONFIRM, _answer2_confirm),
    Step.PASSWORD: (Step.PASSWORD, _password),
    Step.PASSWORD_CONFIRM: (Step.PASSWORD_CONFIRM, _password_confirm),
    RecoveryStep.IDENTIFIANT: (RecoveryStep.IDENTIFIANT, _rec_identifiant),
    RecoveryStep.METHOD: (RecoveryStep.METHOD, _rec_method),
    RecoveryStep.CODE: (RecoveryStep.CODE, _rec_code),
    RecoveryStep.ANSWER1: (RecoveryStep.ANSWER1, _rec_answer1),
    RecoveryStep.ANSWER2: (RecoveryStep.ANSWER2, _rec_answer2),
    RecoveryStep.PASSWORD: (RecoveryStep.PASSWORD, _rec_password),
    RecoveryStep.PASSWORD_CONFIRM: (RecoveryStep.PASSWORD_CONFIRM, _rec_password_confirm),
    MyAccountStep.PASSWORD: (MyAccountStep.PASSWORD, _my_password),
    MyAccountStep.EMAIL: (MyAccountStep.EMAIL, _my_email),
    MyAccountStep.EMAIL_CONFIRM: (MyAccountStep.EMAIL_CONFIRM, _my_email_confirm),
    MyAccountStep.CODE: (MyAccountStep.CODE, _my_code),
    MyAccountStep.QUESTION1: (MyAccountStep.QUESTION1, _my_question1),
    MyAccountStep.ANSWER1: (MyAccountStep.ANSWER1, _my_answer1),
    MyAccountStep.ANSWER1_CONFIRM: (MyAccountStep.ANSWER1_CONFIRM, _my_answer1_confirm),
    MyAccountStep.QUESTION2: (MyAccountStep.QUESTION2, _my_question2),
    MyAccountStep.ANSWER2: (MyAccountStep.ANSWER2, _my_answer2),
    MyAccountStep.ANSWER2_CONFIRM: (MyAccountStep.ANSWER2_CONFIRM, _my_answer2_confirm),
    "hors_demarche": (None, _outside),
    "compte_lie": (None, _linked),
    "cgu_changees": (None, _changed_cgu),
}


# --- a campaign -------------------------------------------------------------------------------

REWALK_EVERY = 6  # rounds before every user is walked to its state again


def run_fuzz(tmp_path: Path, examples: int) -> FuzzRig:
    """``examples`` hypothesis examples, each one round of drawn inputs (one to each parked
    user); users are walked to their states again every :data:`REWALK_EVERY` rounds."""
    walks = -(-examples // REWALK_EVERY)
    rig = FuzzRig(tmp_path, fresh_accounts=30 * walks + 10)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(rig.start())
    parks: list[Park] = []
    rounds = 0

    @settings(
        max_examples=examples,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(st.lists(INPUTS, min_size=len(STATES), max_size=len(STATES)))
    def one_round(actions: list[Input]) -> None:
        nonlocal parks, rounds
        if rounds % REWALK_EVERY == 0:
            parks = loop.run_until_complete(rig.park_all())
        rounds += 1
        loop.run_until_complete(rig.round(parks, actions))

    try:
        one_round()
    finally:
        loop.run_until_complete(rig.stop())
        loop.close()
    return rig
