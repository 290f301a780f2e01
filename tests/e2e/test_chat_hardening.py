"""Points of the security review about the conversation (issue 12: 2, 8, 11), end to end:
the real Application against the local Bot API server, real SMTP, a real SQLite file."""

from __future__ import annotations

from storage.accounts import Account, ActivationRecord, SqliteAccountDirectory
from storage.db import Database
from storage.sessions import SessionRepository

from chat import Chat
from conftest import BotHarness
from support import DATA, GOOD_PASSWORD

STALE = "plus valable"
PROVISIONAL = {"lea.martin": "Xq7-Tb4k-Wpz", "sam.roux": "Nt9-Bw6q-Kyv"}


async def activate(harness: BotHarness, user: int, who: str) -> Chat:
    """Activate ``who`` from Telegram user ``user`` (recovery e-mail x@example.org)."""
    chat = Chat(harness, user)
    await chat.walk_to_password(who, PROVISIONAL[who])
    await chat.say_secret(GOOD_PASSWORD)
    assert "Compte activé" in (await chat.say_secret(GOOD_PASSWORD)).text
    return chat


async def account(harness: BotHarness, identifiant: str) -> Account:
    """The stored account."""
    found = await harness.services.activation.ports.directory.find(identifiant)
    assert found is not None
    return found


async def test_delete_my_data_keeps_the_identifier_cap_and_its_button_cannot_be_forged(
    harness: BotHarness,
) -> None:
    chat = await activate(harness, 3101, "lea.martin")  # one identifier tried
    for n in range(4):  # four more: the cap of five is reached
        await chat.restart("/activer")
        await chat.say(f"inconnu.{n}")
        await chat.say_secret("Mauvais-Mot-1")
    await chat.restart("/activer")
    await chat.say("inconnu.9")
    assert "trop d'identifiants" in (await chat.say_secret("Mauvais-Mot-1")).text
    # a forged confirmation (no nonce, an empty or a made-up one) deletes nothing
    shown = await chat.last()
    for data in ("acct:delete_yes", "acct:delete_yes:", "acct:delete_yes:abcdef12", "acct:"):
        await chat.press_data(shown.message_id, data)
        assert STALE in (await chat.last()).text
        assert (await account(harness, "lea.martin")).telegram_user_id == 3101
    # the menu's own buttons: the listing's go stale once the confirmation is shown
    listing = await chat.say("/moncompte")
    unlink = chat.data_of(listing, "Délier")
    confirm = await chat.press("Supprimer mes données")
    assert "Oui, supprimer" in "".join(Chat.labels(confirm))
    await chat.press_data(listing.message_id, unlink)
    assert STALE in (await chat.last()).text
    assert (await account(harness, "lea.martin")).telegram_user_id == 3101
    yes = chat.data_of(confirm, "Oui, supprimer")
    deleted = await chat.press("Oui, supprimer")
    assert "24 heures" in deleted.text and "Restent chez l'établissement" in deleted.text
    assert (await account(harness, "lea.martin")).telegram_user_id is None
    # the throttle's records stay: still five identifiers tried today, the sixth is refused
    rows = await harness.services.database.fetch_all(
        "SELECT key FROM identifiant_attempts WHERE telegram_user_id = 3101"
    )
    assert len(rows) == 5
    await chat.walk_to_provisional("inconnu.9")
    assert "trop d'identifiants" in (await chat.say_secret("Mauvais-Mot-1")).text
    # and the confirmation, once used, is stale
    await chat.press_data(confirm.message_id, yes)
    assert STALE in (await chat.last()).text


async def _change_cgu(harness: BotHarness, extra: str) -> None:
    """Restart the bot with a new CGU text (its version changes)."""
    base = (DATA / "cgu.txt").read_text(encoding="utf-8")
    await harness.stop()
    (harness.tmp_path / "cgu.txt").write_text(base + extra, encoding="utf-8")
    school = (DATA / "school.toml").read_text(encoding="utf-8")
    (harness.tmp_path / "school.toml").write_text(school, encoding="utf-8")
    harness.settings = harness.settings.model_copy(
        update={"school_config": harness.tmp_path / "school.toml"}
    )
    await harness.start()


async def test_changed_cgu_accepts_only_the_exact_version_shown(harness: BotHarness) -> None:
    await activate(harness, 3111, "sam.roux")
    first = (await account(harness, "sam.roux")).cgu_version
    await _change_cgu(harness, "\n\nArticle 99. Une règle nouvelle.")
    chat = Chat(harness, 3111)
    await chat.say("/moncompte")
    question = await chat.last()
    version = harness.services.school.cgu_version
    # an empty version prefix, the old prefix format, a made-up nonce: nothing is accepted
    for data in ("cgunew:ok:", "cgunew:", f"cgunew:ok:{version[:12]}", "cgunew:ok:abcdef12"):
        await chat.press_data(question.message_id, data)
        replies = await chat.replies()
        assert STALE in replies[0].text and "Article 99" in "".join(m.text for m in replies)
        assert (await account(harness, "sam.roux")).cgu_version == first
    # the text changes again while its question is open: its « J'accepte » accepts nothing
    question = await chat.last()
    accept = chat.data_of(question, "J'accepte")
    await _change_cgu(harness, "\n\nArticle 99. Une règle nouvelle.\n\nArticle 100. Une autre.")
    await chat.press_data(question.message_id, accept)
    replies = await chat.replies()
    assert "encore changé" in replies[0].text and "Article 100" in "".join(m.text for m in replies)
    assert (await account(harness, "sam.roux")).cgu_version == first
    accepted = await chat.press("J'accepte")
    assert "acceptées" in accepted.text
    assert (await account(harness, "sam.roux")).cgu_version == harness.services.school.cgu_version


async def test_own_activation_committed_before_a_crash_is_told_as_done(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 3121)
    await chat.walk_to_password("paul.durand", "Rm2-Hv8n-Zcw")
    await chat.say_secret(GOOD_PASSWORD)
    # The bot dies right after the activation's commit, before the session is removed and the
    # answer sent: that is the state the database is left in.
    await harness.stop()
    database = await Database.open(harness.settings.database_path)
    try:
        session = await SessionRepository(database).get(3121)
        assert session is not None and session.new_password_hash and session.account_id
        assert session.cgu_version and session.cgu_accepted_at
        record = ActivationRecord(
            email=session.email,
            email_verified_at=session.email_verified_at,
            secret_question1=None,
            secret_answer1_hash=None,
            secret_question2=None,
            secret_answer2_hash=None,
            telegram_user_id=3121,
            cgu_version=session.cgu_version,
            cgu_accepted_at=session.cgu_accepted_at,
            activated_at=harness.clock(),
        )
        assert await SqliteAccountDirectory(database).complete_activation(
            session.account_id, record, session.new_password_hash
        )
    finally:
        await database.close()
    await harness.start()
    reply = await chat.say_secret(GOOD_PASSWORD)
    assert "Compte activé" in reply.text and "paul.durand" in reply.text
    assert "autre conversation" not in reply.text
    assert await harness.services.activation.ports.sessions.get(3121) is None
    chat.assert_secrets_deleted()


def _unhandled(harness: BotHarness) -> list[str]:
    return [
        record.getMessage()
        for record in harness.log_records
        if record.name == "bot.app" and record.getMessage().startswith("error while handling")
    ]


async def test_inputs_that_crashed_the_bot_get_an_ordinary_answer(harness: BotHarness) -> None:
    """The review's fuzzing crashes (issue 12, point 7), each replayed once."""
    someone = Chat(harness, 3131)
    for text in ("\u3000", " \u2003\u00a0", "\u2028"):
        assert "Tapez /start" in (await someone.say(text)).text
    shown = await someone.last()
    for data in ("cgunew:", "cgunew:ok", "cgunew:ok:", "acct:", ":"):
        await someone.press_data(shown.message_id, data)
        assert STALE in (await someone.last()).text or "Tapez /start" in (await someone.last()).text
    # « ① » is a digit for str.isdigit, not for int: a question button with it is refused
    chat = Chat(harness, 3132)
    await chat.walk_to_questions("lea.martin", PROVISIONAL["lea.martin"])
    questions = await chat.last()
    nonce = chat.nonce_of(questions)
    for data in (f"q:①:{nonce}", f"q:٣:{nonce}", f"q:99999999999999999999:{nonce}"):
        await chat.press_data(questions.message_id, data)
        assert "Question A" in "".join(Chat.labels(await chat.last()))
    assert (await harness.services.activation.ports.sessions.get(3132)).step == "question1"
    mine = await activate(harness, 3133, "sam.roux")
    await mine.say("/moncompte")
    await mine.press("Choisir des questions secrètes")
    await mine.say_secret(GOOD_PASSWORD)
    asked = await mine.last()
    await mine.press_data(asked.message_id, f"mcq:①:{mine.nonce_of(asked)}")
    assert "Question A" in "".join(Chat.labels(await mine.last()))
    assert _unhandled(harness) == []
    texts_sent = [m.text for c in (someone, chat, mine) for m in c.user.messages if m.from_bot]
    assert not any("problème technique" in text for text in texts_sent)
