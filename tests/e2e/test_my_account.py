"""« Mon compte » end to end: new e-mail (code or link), new secret questions, account picking,
forged buttons, unlink and delete — through the local Bot API server, a real SMTP server and a
real SQLite file."""

from __future__ import annotations

from storage.accounts import Account

from chat import Chat
from conftest import BotHarness, last_code
from support import ACCOUNTS, GOOD_PASSWORD

PROVISIONAL = {row[0]: row[1] for row in ACCOUNTS}
NEW_PASSWORD = "Train-Bleu-Montagne-7"


async def activate(harness: BotHarness, user: int, who: str, *, questions: bool = False) -> Chat:
    """Activate ``who`` from Telegram user ``user`` (e-mail x@example.org, or questions A and B
    answered « Mon Éléphant » and « Tours »)."""
    chat = Chat(harness, user)
    if questions:
        await chat.walk_to_questions(who, PROVISIONAL[who])
        await chat.press("Question A")
        await chat.say_secret("Mon Éléphant")  # typed twice
        await chat.say_secret("Mon Éléphant")
        await chat.press("Question B")
        await chat.say_secret("Tours")  # typed twice
        await chat.say_secret("Tours")
    else:
        await chat.walk_to_password(who, PROVISIONAL[who])
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    assert "Compte activé" in (await chat.last()).text
    harness.clock.advance(seconds=61)  # later on: one address gets one code e-mail a minute
    return chat


async def account(harness: BotHarness, identifiant: str) -> Account:
    """The stored account (it exists in every test)."""
    found = await harness.services.activation.ports.directory.find(identifiant)
    assert found is not None
    return found


async def to_new_address(chat: Chat, address: str) -> None:
    """/moncompte → change e-mail → current password → new address → send."""
    harness = chat.harness
    await chat.say("/moncompte")
    asked = await chat.press("Changer d'adresse e-mail")
    assert "mot de passe ENT actuel" in asked.text
    assert "nouvelle adresse" in (await chat.say_secret(GOOD_PASSWORD)).text
    assert address in (await chat.say(address)).text
    count = len(harness.mailbox.mails)
    sent = await chat.press("Oui, envoyer")
    assert "ancienne adresse reste" in sent.text
    mail = await harness.mailbox.wait_for(count + 1)
    assert mail.recipients == (address,) and "nouvelle adresse" in mail.subject


async def test_change_email_by_code_then_recovery_uses_the_new_address(
    harness: BotHarness,
) -> None:
    chat = await activate(harness, 3001, "lea.martin")
    shown = await chat.say("/moncompte")
    assert "x*@example.org" in shown.text and "Questions secrètes : aucune" in shown.text
    await chat.press("Changer d'adresse e-mail")
    assert "pas le bon mot de passe" in (await chat.say_secret("Pas-Le-Bon-1")).text
    assert "nouvelle adresse" in (await chat.say_secret(GOOD_PASSWORD)).text
    assert "pas valide" in (await chat.say("pas une adresse")).text
    assert "déjà votre adresse" in (await chat.say("x@example.org")).text
    await chat.say("lea.new@example.org")
    await chat.press("Oui, envoyer")
    mail = await harness.mailbox.wait_for(1 + 1)
    assert "Bonjour Léa" in mail.text and "adresse de secours" in mail.html
    assert (await account(harness, "lea.martin")).email == "x@example.org", "changed too early"
    code = last_code(harness.mailbox)
    done = await chat.say_secret(code)
    assert "Adresse e-mail changée" in done.text and "l*****w@example.org" in done.text
    assert (await account(harness, "lea.martin")).email == "lea.new@example.org"
    notice = await harness.mailbox.wait_for(3)
    assert notice.recipients == ("x@example.org",) and "a été changée" in notice.subject
    assert "lea.new@example.org" not in notice.text and "l*****w@example.org" in notice.text
    chat.assert_secrets_deleted()
    # the next forgotten password (a minute later) sends its code to the new address
    harness.clock.advance(seconds=61)
    other = Chat(harness, 3002)
    await other.say("/motdepasse")
    await other.say("lea.martin")
    await other.press("adresse e-mail")
    recovery_mail = await harness.mailbox.wait_for(4)
    assert recovery_mail.recipients == ("lea.new@example.org",)
    await other.say_secret(last_code(harness.mailbox))
    await other.say_secret(NEW_PASSWORD)
    await other.say_secret(NEW_PASSWORD)
    assert "Mot de passe changé" in (await other.last()).text
    events = await harness.services.database.fetch_all(
        "SELECT event, actor, details FROM audit_events WHERE event IN "
        "('email_change_requested', 'email_verified') ORDER BY id"
    )
    mine = [(row["event"], row["details"]) for row in events if row["actor"] == "telegram:3001"]
    assert mine[-2:] == [
        ("email_change_requested", "nouvelle=l*****w@example.org"),
        ("email_verified", "moncompte; nouvelle=l*****w@example.org"),
    ]


async def test_change_email_by_deep_link(harness: BotHarness) -> None:
    chat = await activate(harness, 3011, "paul.durand")
    await to_new_address(chat, "paul.d@example.org")
    payload = harness.mailbox.mails[-1].deep_link_payload()
    assert payload
    # the link opened from another Telegram account does nothing
    assert "autre compte Telegram" in (await Chat(harness, 3012).say(f"/start {payload}")).text
    assert (await account(harness, "paul.durand")).email == "x@example.org"
    await chat.say(f"/start {payload}")
    assert "Adresse e-mail changée" in "".join(m.text for m in await chat.replies())
    assert (await account(harness, "paul.durand")).email == "paul.d@example.org"
    notice = await harness.mailbox.wait_for(3)
    assert notice.recipients == ("x@example.org",)
    assert "plus valable" in (await chat.say(f"/start {payload}")).text


async def test_wrong_codes_are_throttled_and_cancel_keeps_the_old_address(
    harness: BotHarness,
) -> None:
    chat = await activate(harness, 3021, "sam.roux")
    await to_new_address(chat, "sam.new@example.org")
    await chat.say("/aide")
    assert "code à 8 chiffres" in (await chat.last()).text
    answers = [(await chat.say_secret("00000000")).text for _ in range(6)]
    assert all("pas le bon" in text for text in answers[:4])
    assert "Attendez" in answers[5]
    services = harness.services.ports
    counters = await services.throttle.counters(
        services.identifiant_key("sam.roux"), harness.clock() - services.throttle_policy.window
    )
    assert counters.consecutive_failures == 6
    assert "arrêté" in (await chat.say("/annuler")).text
    assert (await account(harness, "sam.roux")).email == "x@example.org"
    assert len(harness.mailbox.mails) == 2, "no notice: nothing changed"
    chat.assert_secrets_deleted()


async def test_change_survives_a_restart(harness: BotHarness) -> None:
    chat = await activate(harness, 3031, "lea.martin")
    await to_new_address(chat, "lea.b@example.org")
    await harness.stop()
    await harness.start()
    assert "Adresse e-mail changée" in (await chat.say_secret(last_code(harness.mailbox))).text
    assert (await account(harness, "lea.martin")).email == "lea.b@example.org"


async def test_replace_questions_then_recover_with_the_new_answers(harness: BotHarness) -> None:
    chat = await activate(harness, 3041, "nora.petit", questions=True)
    shown = await chat.say("/moncompte")
    assert "E-mail de secours : aucun\n" in shown.text
    assert "Questions secrètes : enregistrées" in shown.text
    await chat.press("Changer mes questions secrètes")
    await chat.say("/aide")
    assert "mot de passe ENT actuel" in (await chat.last()).text
    first = await chat.say_secret(GOOD_PASSWORD)
    assert "Questions secrètes (1 sur 2)" in first.text
    await chat.press("Question C")
    await chat.say_secret("Le Chat Botté")  # typed twice
    await chat.say_secret("Le Chat Botté")
    second = await chat.last()
    assert "Question C" not in "".join(Chat.labels(second))
    await chat.press("Question A")
    await chat.say_secret("Paris")  # typed twice
    done = await chat.say_secret("Paris")
    assert "Questions secrètes changées" in done.text
    chat.assert_secrets_deleted()
    stored = await account(harness, "nora.petit")
    assert (stored.secret_question1, stored.secret_question2) == ("Question C ?", "Question A ?")
    row = await harness.services.database.fetch_one(
        "SELECT details FROM audit_events WHERE event = 'questions_set' AND actor = "
        "'telegram:3041' ORDER BY id DESC"
    )
    assert row["details"] == "moncompte"
    # the old answers no longer work, the new ones do
    other = Chat(harness, 3042)
    await other.say("/motdepasse")
    await other.say("nora.petit")
    assert "Question C" in (await other.press("questions secrètes")).text
    await other.say_secret("Mon Éléphant")
    await other.say_secret("Tours")
    assert "pas pu vérifier" in "".join(m.text for m in await other.replies())
    await other.say("/motdepasse")
    await other.say("nora.petit")
    await other.press("questions secrètes")
    await other.say_secret("le chat botte")
    await other.say_secret("PARIS")
    await other.say_secret(NEW_PASSWORD)
    await other.say_secret(NEW_PASSWORD)
    assert "Mot de passe changé" in (await other.last()).text


async def test_questions_account_adds_an_email_and_keeps_both_means(harness: BotHarness) -> None:
    chat = await activate(harness, 3051, "nora.petit", questions=True)
    await chat.say("/moncompte")
    await chat.press("Ajouter une adresse e-mail")
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say("nora@example.org")
    count = len(harness.mailbox.mails)
    await chat.press("Oui, envoyer")
    await harness.mailbox.wait_for(count + 1)
    assert "changée" in (await chat.say_secret(last_code(harness.mailbox))).text
    assert len(harness.mailbox.mails) == count + 1, "no old address: no notice"
    stored = await account(harness, "nora.petit")
    assert stored.email == "nora@example.org" and stored.secret_answer2_hash
    harness.clock.advance(seconds=61)  # a minute later: one code e-mail a minute per address
    other = Chat(harness, 3052)
    await other.say("/motdepasse")
    await other.say("nora.petit")
    await other.press("adresse e-mail")
    assert (await harness.mailbox.wait_for(count + 2)).recipients == ("nora@example.org",)


async def test_several_accounts_forged_and_stale_buttons_are_refused(harness: BotHarness) -> None:
    chat = await activate(harness, 3061, "lea.martin")
    await activate(harness, 3061, "paul.durand")
    await activate(harness, 3062, "sam.roux")
    sam = await account(harness, "sam.roux")
    paul = await account(harness, "paul.durand")
    listing = await chat.say("/moncompte")
    assert "lea.martin" in listing.text and "paul.durand" in listing.text
    assert "Changer d'adresse e-mail" not in "".join(Chat.labels(listing))
    details = await chat.press("paul.durand")
    assert "paul.durand" in details.text and "lea.martin" not in details.text
    change_paul = chat.data_of(details, "Changer d'adresse e-mail")
    unlink_paul = chat.data_of(details, "Délier")
    nonce = chat.nonce_of(details)
    # forged data naming somebody else's account, with the nonce of the menu shown: nothing
    # starts, nothing changes
    for data in (f"mc:email.{sam.id}:{nonce}", f"mc:questions.{sam.id}:{nonce}"):
        await chat.press_data(details.message_id, data)
        assert "n'est pas (ou plus) lié" in (await chat.last()).text
        assert await harness.services.activation.ports.sessions.get(3061) is None
    for data in (f"acct:show.{sam.id}:{nonce}", f"acct:unlink.{sam.id}:{nonce}"):
        await chat.press_data(details.message_id, data)
        assert "n'est pas (ou plus) lié" in (await chat.last()).text
    # without the menu's nonce (the old format, a made-up one, a number like « ① »): stale
    for data in (
        f"mc:email:{sam.id}",
        "mc:email.99999999:0000",
        f"acct:unlink:{sam.id}",
        f"acct:unlink.{paul.id}:beef",
        f"acct:show.①:{nonce}",
        f"mc:email.①:{nonce}",
    ):
        await chat.press_data(details.message_id, data)
        assert "n'est" in (await chat.last()).text and "plus valable" in (await chat.last()).text
        assert await harness.services.activation.ports.sessions.get(3061) is None
    assert (await account(harness, "sam.roux")).telegram_user_id == 3062
    # unlink paul only; its old buttons are stale now
    await chat.press_data(details.message_id, unlink_paul)
    assert "n'est plus lié" in (await chat.last()).text
    assert (await account(harness, "paul.durand")).telegram_user_id is None
    assert (await account(harness, "lea.martin")).telegram_user_id == 3061
    await chat.press_data(details.message_id, change_paul)
    assert "n'est pas (ou plus) lié" in (await chat.last()).text
    row = await harness.services.database.fetch_one(
        "SELECT actor FROM audit_events WHERE event = 'unlink' AND account_id = ?", (paul.id,)
    )
    assert row["actor"] == "telegram:3061"
    # a change in progress ends when its account is unlinked
    await chat.say("/moncompte")
    await chat.press("Changer d'adresse e-mail")
    await chat.say_secret(GOOD_PASSWORD)
    await harness.services.account.unlink_account(3061, (await account(harness, "lea.martin")).id)
    assert "pas de démarche" in (await chat.say("/annuler")).text


async def test_delete_my_data_is_audited_and_no_secret_is_stored(harness: BotHarness) -> None:
    chat = await activate(harness, 3071, "lea.martin")
    await to_new_address(chat, "lea.c@example.org")
    code = last_code(harness.mailbox)
    token = harness.mailbox.mails[-1].deep_link_payload()
    await chat.say_secret(code)
    await chat.say("/moncompte")
    await chat.press("Choisir des questions secrètes")
    await chat.say_secret(GOOD_PASSWORD)
    await chat.press("Question B")
    await chat.say_secret("Ma Réponse Secrète")  # typed twice
    await chat.say_secret("Ma Réponse Secrète")
    await chat.press("Question C")
    await chat.say_secret("Une Autre Réponse")  # typed twice
    await chat.say_secret("Une Autre Réponse")
    await chat.say("/moncompte")
    await chat.press("Supprimer mes données")
    await chat.press("Oui, supprimer")
    assert "Restent chez l'établissement" in (await chat.last()).text
    database = harness.services.database
    assert await database.fetch_one("SELECT 1 FROM accounts WHERE telegram_user_id = 3071") is None
    events = [
        row["event"]
        for row in await database.fetch_all(
            "SELECT event FROM audit_events WHERE actor = 'telegram:3071' ORDER BY id"
        )
    ]
    assert events[-2:] == ["unlink", "data_deleted"] and "questions_set" in events
    audit = " ".join(
        " ".join(str(v) for v in tuple(row))
        for row in await database.fetch_all("SELECT * FROM audit_events")
    )
    assert "lea.c@example.org" not in audit and "x@example.org" not in audit
    await harness.stop()
    path = harness.settings.database_path
    blob = b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))
    logs = "\n".join(record.getMessage() for record in harness.log_records)
    for secret in (GOOD_PASSWORD, code, token, "ma reponse secrete", "Ma Réponse Secrète"):
        assert secret and secret.encode() not in blob, "a secret is in the database file"
        assert secret not in logs, "a secret is in the logs"


async def test_expired_link_changes_nothing_and_offers_a_new_code(harness: BotHarness) -> None:
    chat = await activate(harness, 3081, "sam.roux")
    await to_new_address(chat, "sam.z@example.org")
    payload = harness.mailbox.mails[-1].deep_link_payload()
    harness.clock.advance(hours=48)
    await chat.say(f"/start {payload}")
    shown = await chat.last()
    assert "délai" in shown.text and "sam.z@example.org" in shown.text
    assert (await account(harness, "sam.roux")).email == "x@example.org"
    count = len(harness.mailbox.mails)
    await chat.press("Oui, envoyer")
    await harness.mailbox.wait_for(count + 1)
    assert "changée" in (await chat.say_secret(last_code(harness.mailbox))).text
    assert (await account(harness, "sam.roux")).email == "sam.z@example.org"
