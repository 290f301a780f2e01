"""Support without Telegram: quick-answer matching, the context card, the password screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.school import QuickAnswer, SchoolConfigError, load_school_config
from bot.staff.service import AccountReport, LockState
from bot.support.quick_answers import best_match, match, normalise
from bot.support.screen import has_a_secret_shape, looks_like_a_secret, password_pieces
from bot.support.service import (
    CardFacts,
    context_card,
    relayed_text,
    ticket_number_of,
)

DATA = Path(__file__).resolve().parents[1] / "data"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def answers() -> tuple[QuickAnswer, ...]:
    return load_school_config(DATA / "school.toml").quick_answers


def test_the_school_files_carry_the_default_quick_answers() -> None:
    for path in (DATA / "school.toml", DATA.parents[1] / "config" / "school.example.toml"):
        titles = [a.titre for a in load_school_config(path).quick_answers]
        assert titles == [
            "Je n'ai pas reçu l'e-mail",
            "Mon mot de passe provisoire ne marche pas",
            "J'ai perdu mon courrier",
            "Mon compte est bloqué",
            "Le lien a expiré",
        ]


def test_an_unknown_action_is_refused(tmp_path: Path) -> None:
    source = (DATA / "school.toml").read_text(encoding="utf-8")
    (tmp_path / "cgu.txt").write_text("CGU", encoding="utf-8")
    (tmp_path / "school.toml").write_text(
        source.replace('action = "renvoyer"', 'action = "exploser"', 1), encoding="utf-8"
    )
    with pytest.raises(SchoolConfigError):
        load_school_config(tmp_path / "school.toml")


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("j'ai pas recu le mail", "Je n'ai pas reçu l'e-mail"),
        ("JE NE RECOIS PAS LE MAIL", "Je n'ai pas reçu l'e-mail"),
        ("mon mot de passe provisoire marche pas", "Mon mot de passe provisoire ne marche pas"),
        ("jai perdu mon courier", "J'ai perdu mon courrier"),
        ("compte bloque", "Mon compte est bloqué"),
        ("le lien a expire", "Le lien a expiré"),
    ],
)
def test_typed_problems_find_their_answer(
    answers: tuple[QuickAnswer, ...], typed: str, title: str
) -> None:
    index = best_match(typed, answers)
    assert index is not None and answers[index].titre == title


@pytest.mark.parametrize(
    "typed", ["bonjour", "je suis perdu", "mon fils n'arrive pas à se connecter", "ok", ""]
)
def test_other_messages_match_nothing(answers: tuple[QuickAnswer, ...], typed: str) -> None:
    assert best_match(typed, answers) is None


def test_normalise_drops_accents_and_case() -> None:
    assert normalise("Le lien a EXPIRÉ !") == "le lien a expire"


def _report(**changes: object) -> AccountReport:
    values: dict[str, object] = dict(
        identifiant="lea.martin",
        prenom="Léa",
        nom="Martin",
        profil="apprenti",
        etablissement="Lycée de Test",
        status="a_activer",
        step="cgu",
        recovery="email",
        email_masked="l***@example.org",
        telegram_user_id=3001,
        imported_at=NOW,
        updated_at=NOW,
        activated_at=None,
        cgu_accepted_at=None,
        email_verified_at=None,
        procedure_updated_at=NOW,
        last_letter_at=None,
        last_reset_at=None,
        lock=LockState(
            locked=True,
            locked_at=NOW,
            consecutive_failures=5,
            failures_last_24h=5,
            retry_after=timedelta(minutes=30),
        ),
    )
    values.update(changes)
    return AccountReport(**values)  # type: ignore[arg-type]


def test_the_card_says_what_staff_need_and_no_secret() -> None:
    card = context_card(
        CardFacts(
            number=12,
            first_name="Léa <b>",
            telegram_user_id=3001,
            step_label="Conditions d'utilisation",
            step_since=NOW,
            report=_report(),
        )
    )
    assert "Demande #12" in card and "Léa &lt;b&gt;" in card
    for fragment in (
        "apprenti",
        "Lycée de Test",
        "lea.martin",
        "Conditions d'utilisation",
        "5 échec(s)",
        "bloqué jusqu'au",
        "l***@example.org",
    ):
        assert fragment in card
    assert "hash" not in card.lower()


def test_the_card_of_someone_not_yet_recognised() -> None:
    card = context_card(CardFacts(7, "Sam", 3002, None, None, None, profil="eleve"))
    assert "compte pas encore reconnu" in card and "aucune démarche en cours" in card


def test_ticket_numbers_are_read_from_the_bots_own_first_line() -> None:
    assert ticket_number_of(relayed_text(42, "Léa", "#7 au secours").split("\n")[0]) == 42
    assert ticket_number_of("aucun numéro") is None
    assert ticket_number_of("#٣") is None


def test_password_pieces_are_words_and_groups_of_words_bounded() -> None:
    pieces = password_pieces("mon code c'est Xq7-Tb4k-Wpz, il marche pas")
    assert pieces[0] == "Xq7-Tb4k-Wpz" and len(pieces) <= 8
    # A passphrase inside a sentence is one of the first pieces (issue 29.3).
    sentence = "mon mot de passe c'est Mon chat dort 2 fois et ça marche pas"
    assert "Mon chat dort 2 fois" in password_pieces(sentence)[:3]
    # However long the message, a bounded number of pieces.
    assert len(password_pieces("Un Mot 2 " * 500)) <= 8


@pytest.mark.parametrize(
    "word",
    ["Re-bonjour", "Jean-Pierre2", "lea.dupont12", "aujourd'hui", "MARTIN-Durand3", "Bonjour,"],
)
def test_words_names_and_identifiers_are_not_shaped_like_a_secret(word: str) -> None:
    assert not looks_like_a_secret(word)


def test_the_persons_own_identifier_is_never_a_secret() -> None:
    assert looks_like_a_secret("Ab3-Cd4e.Fgh")
    assert not looks_like_a_secret("Ab3-Cd4e.Fgh", own={"ab3-cd4e.fgh"})


def test_a_weak_match_is_not_taken_for_the_answer(answers: tuple[QuickAnswer, ...]) -> None:
    """Issue 22.4: « adresse » is no word of « Je n'ai pas reçu l'e-mail »."""
    found = match("je n'ai pas d'adresse mail", answers)
    assert found is not None and not found.strong
    assert best_match("je n'ai pas d'adresse mail", answers) is None


async def test_tickets_are_purged_and_forgotten_on_request(tmp_path: Path) -> None:
    from storage.db import Database
    from storage.support import SupportRepository

    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        repository = SupportRepository(database)
        old, _ = await repository.add_user_message(1, 1, None, NOW, lambda t, new: [])
        await repository.close(old.id, NOW, [])
        fresh, is_new = await repository.add_user_message(
            2, 2, None, NOW + timedelta(days=89), lambda t, new: []
        )
        assert is_new and fresh.id != old.id
        again, is_new = await repository.add_user_message(
            2, 2, None, NOW + timedelta(days=89), lambda t, new: []
        )
        assert not is_new and again.id == fresh.id
        assert await repository.purge(NOW + timedelta(days=1)) == 1
        assert await repository.get(old.id) is None
        await repository.set_mode(2, "compose", NOW + timedelta(days=89))
        await repository.forget_user(2)
        assert await repository.get(fresh.id) is None and await repository.mode(2) is None
    finally:
        await database.close()


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("mon mot de passe Xq7-Tb4k-Wpz ne marche pas", True),
        ("Velo-Rouge-Soleil-42", True),
        ("kT7mPq2xZa", True),
        ("je n'ai pas reçu le mail", False),
        ("mon identifiant est lea.martin", False),
        ("Re-bonjour, encore une question.", False),
        ("écrivez à Lea.Martin@Example.org", False),
        ("voir https://ent.example.org/Aide-2026", False),
        ("code 12345678", False),
    ],
)
def test_what_has_a_password_shape(text: str, held: bool) -> None:
    assert has_a_secret_shape(text) is held


class CountingDirectory:
    """An active account whose password is a passphrase; counts the hashes checked."""

    def __init__(self) -> None:
        self.checked = 0

    async def get(self, account_id: int) -> Any:
        return SimpleNamespace(id=account_id, identifiant="lea.martin", status="active")

    async def check_password(self, account_id: int | None, password: str) -> bool:
        self.checked += 1
        return password == "Mon chat dort 2 fois"

    async def check_provisional(self, account_id: int | None, password: str) -> bool:
        self.checked += 1
        return False


async def test_the_screen_is_capped_then_bounded_per_message_and_per_hour(tmp_path: Path) -> None:
    """Issues 29.3 and 29.4: a passphrase inside a sentence is found; the per-minute cap comes
    before any hash; a message costs 8 hashes at most, a person 120 an hour."""
    from bot.support.service import (
        MAX_HASH_CHECKS_PER_MESSAGE,
        MAX_HASH_CHECKS_PER_WINDOW,
        Screened,
        SupportService,
    )
    from storage.db import Database
    from storage.support import SupportRepository

    database = await Database.open(tmp_path / "bot.sqlite3")
    now = [NOW]
    directory = CountingDirectory()
    service = SupportService(
        SupportRepository(database),
        None,  # type: ignore[arg-type]
        directory,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        lambda: now[0],
        chat_id=-1,
        max_per_minute=5,
    )

    async def screen(text: str) -> Screened | None:
        screening = await service.admit(7)
        if screening is None:
            return None
        return await service.screen(
            telegram_user_id=7, text=text, session=None, account_ids=[1], screening=screening
        )

    try:
        sentence = "mon mot de passe c'est Mon chat dort 2 fois et ça marche pas"
        assert await screen(sentence) == Screened.SECRET
        assert directory.checked <= 2
        ordinary = "Il y a un Souci avec le lien 2 fois de suite hier et encore aujourd'hui"
        for _ in range(4):
            assert await screen(ordinary) == Screened.CLEAR
        checked = directory.checked
        assert checked <= 2 + 4 * MAX_HASH_CHECKS_PER_MESSAGE
        # Over the cap: refused before any hash.
        assert await screen(ordinary) is None and directory.checked == checked
        # Spread over the hour: never more than the person's budget.
        for _ in range(40):
            now[0] += timedelta(seconds=30)
            await screen(ordinary)
        assert directory.checked <= MAX_HASH_CHECKS_PER_WINDOW
        assert await service.repository.hash_checks_since(7, NOW) == directory.checked
    finally:
        await database.close()


async def test_screenings_outlive_forget_user_until_purged(tmp_path: Path) -> None:
    """The cap and the hashing budget are security traces: « supprimer mes données » does not
    reset them; the purge forgets them after a day."""
    from storage.db import Database
    from storage.support import SupportRepository

    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        repository = SupportRepository(database)
        since = NOW - timedelta(minutes=1)
        assert await repository.admit(5, NOW, since, 1) is not None
        await repository.forget_user(5)
        assert await repository.admit(5, NOW, since, 1) is None
        await repository.purge(NOW, screenings_before=NOW + timedelta(seconds=1))
        assert await repository.admit(5, NOW, since, 1) is not None
    finally:
        await database.close()
