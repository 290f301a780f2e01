"""A region's establishments (issue 27): one school file each in SCHOOLS_DIR over the region's
defaults, merged field by field; errors name the file and the field, in French; staff rights
as plain functions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.region import Region, load_region, merged
from bot.school import SchoolConfigError, load_school_config
from bot.staff.rights import EstablishmentChoiceError, cli_rights, telegram_rights
from storage.accounts import Account, AccountStatus

from support import DATA, write_two_schools


def two_schools(tmp_path: Path) -> tuple[Path, Path]:
    """The tests' region file and a SCHOOLS_DIR with two establishments."""
    region = tmp_path / "region"
    region.mkdir(parents=True)
    shutil.copy(DATA / "school.toml", region / "school.toml")
    shutil.copy(DATA / "cgu.txt", region / "cgu.txt")
    return region / "school.toml", write_two_schools(tmp_path / "etablissements")


def account(uai: str | None) -> Account:
    status = AccountStatus.TO_ACTIVATE
    return Account(1, "x", "eleve", "X", "Y", "", status, None, None, None, uai=uai)


def test_single_school_is_the_region_defaults() -> None:
    region = load_region(DATA / "school.toml")
    assert region.establishments == {}
    assert region.for_account(account("0450001A")) == load_school_config(DATA / "school.toml")
    assert not region.needs_choice


def test_each_file_overrides_the_region_field_by_field(tmp_path: Path) -> None:
    region_file, schools = two_schools(tmp_path)
    region = load_region(region_file, schools, admin_telegram_ids=frozenset({999}))
    defaults = load_school_config(DATA / "school.toml")
    assert region.uais == ("0450001A", "0450002B")
    alpha = region.establishments["0450001A"]
    assert alpha.school.etablissement == "Lycée Alpha"
    assert alpha.school.ent_url == "https://ent.example.org/alpha"
    # ent_nom, questions, quick answers: the region's
    assert alpha.school.ent_nom == defaults.ent_nom
    assert alpha.school.secret_questions == defaults.secret_questions
    assert alpha.school.quick_answers == defaults.quick_answers
    # contacts: the establishment's list replaces the region's
    assert [c.nom for c in alpha.school.contacts] == ["Secrétariat Alpha"]
    # the region's CGU with the establishment's additions after them
    assert alpha.school.cgu_text == defaults.cgu_text + "\n\nArticle Alpha."
    assert alpha.school.horaires is not None
    assert alpha.team.support_chat_id == -1001 and alpha.team.forum_topics
    assert alpha.team.telegram_ids == {111}
    assert alpha.team.emails == ("cpe@alpha.example.org",)
    assert alpha.reminders.after_days == 5.0
    beta = region.by_uai("0450002b")
    assert beta is not None
    assert beta.school.cgu_text == "CGU du CFA Bêta."  # its own CGU replace the region's
    assert beta.school.cgu_version != defaults.cgu_version
    assert beta.team.telegram_ids == {222} and not beta.team.forum_topics
    # accounts
    assert region.for_account(account("0450002B")) is beta.school
    assert region.for_account(account(None)) is region.defaults
    assert region.for_account(account("0459999Z")) is region.defaults
    assert region.resolve("cfa bêta") is beta
    assert region.needs_choice


ALPHA_URL = 'ent_url = "https://ent.example.org/alpha"'
EQUIPE = "alpha.toml : dans [equipe], "
ERRORS = [
    (('uai = "0450001a"', ""), "alpha.toml : il manque « uai » dans [etablissement]"),
    (('uai = "0450001a"', 'uai = "45-1"'), "[etablissement], « uai » vaut « 45-1 »"),
    (('uai = "0450001a"', 'uai = "0450002B"'), "l'UAI 0450002B est déjà celui de"),
    (("-1001", '"groupe"'), EQUIPE + "« support_chat_id » doit être un nombre entier"),
    (("forum = true", 'forum = "oui"'), EQUIPE + "« forum » vaut true ou false"),
    (("[111]", '["Camille"]'), EQUIPE + "« telegram_ids » doit être une liste de nombres"),
    (('["cpe@alpha.example.org"]', '["cpe"]'), EQUIPE + "« emails » doit être une liste"),
    (("apres_jours = 5", "apres_jours = 0"), "[rappels], « apres_jours » doit être un nombre"),
    ((ALPHA_URL, 'ent_url = "ent.org"'), "alpha.toml : « ent_url » doit être une adresse"),
    (("alpha-cgu.txt", "absent.txt"), "absent.txt ne peut pas être lu : fichier introuvable"),
    # One list of secret questions for the region: « Mot de passe oublié » draws an unknown
    # identifier's decoy questions from it, so an establishment's own list would tell its
    # accounts apart from unknown identifiers.
    (
        ("[equipe]", '[questions_secretes]\nliste = ["Q1 ?", "Q2 ?"]\n\n[equipe]'),
        "alpha.toml : [questions_secretes] est commun à toute la région",
    ),
]


@pytest.mark.parametrize(("change", "expected"), ERRORS)
def test_an_error_names_the_file_and_the_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    region_file, schools = two_schools(tmp_path)
    path = schools / "alpha.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    with pytest.raises(SchoolConfigError) as caught:
        load_region(region_file, schools)
    assert expected in str(caught.value)


def test_schools_dir_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(SchoolConfigError, match="n'existe pas"):
        load_region(DATA / "school.toml", tmp_path / "absent")
    (tmp_path / "vide").mkdir()
    with pytest.raises(SchoolConfigError, match=r"aucun fichier \.toml"):
        load_region(DATA / "school.toml", tmp_path / "vide")


def test_merge_is_one_level_deep() -> None:
    assert merged(
        {"etablissement": {"nom": "R", "ent_url": "u"}, "contacts": [1, 2]},
        {"etablissement": {"nom": "A"}, "contacts": [3]},
    ) == {"etablissement": {"nom": "A", "ent_url": "u"}, "contacts": [3]}


def region_of_two(tmp_path: Path) -> Region:
    region_file, schools = two_schools(tmp_path)
    return load_region(region_file, schools, admin_telegram_ids=frozenset({999}))


def test_telegram_rights(tmp_path: Path) -> None:
    region = region_of_two(tmp_path)
    alpha = telegram_rights(region, 111, [111, 222, 333])
    assert alpha is not None and alpha.uais == {"0450001A"}
    assert alpha.covers("0450001a") and not alpha.covers("0450002B") and not alpha.covers(None)
    admin = telegram_rights(region, 999, [])
    assert admin is not None and admin.regional and admin.covers(None)
    # STAFF_TELEGRAM_IDS alone names no establishment in a region
    assert telegram_rights(region, 333, [333]) is None
    # a single school: its staff act on all, as before
    single = load_region(DATA / "school.toml")
    rights = telegram_rights(single, 333, [333])
    assert rights is not None and rights.regional
    assert telegram_rights(single, 444, [333]) is None


def test_cli_rights(tmp_path: Path) -> None:
    region = region_of_two(tmp_path)
    with pytest.raises(EstablishmentChoiceError) as caught:
        cli_rights(region, None, "cli:x")
    assert "0450001A, 0450002B" in str(caught.value) and "--etablissement" in str(caught.value)
    with pytest.raises(EstablishmentChoiceError, match="Aucun établissement « 0459999Z »"):
        cli_rights(region, "0459999Z", "cli:x")
    assert cli_rights(region, "0450002b", "cli:x").uais == {"0450002B"}
    assert cli_rights(region, "Lycée Alpha", "cli:x").uais == {"0450001A"}
    assert cli_rights(region, "tous", "cli:x").regional
    # one school: ignored
    assert cli_rights(load_region(DATA / "school.toml"), "whatever", "cli:x").regional
    # one establishment: optional
    region_file, schools = two_schools(tmp_path / "one")
    (schools / "beta.toml").unlink()
    one = load_region(region_file, schools)
    assert cli_rights(one, None, "cli:x").regional
    assert cli_rights(one, "0450001A", "cli:x").uais == {"0450001A"}


def test_start_up_refuses_a_wrong_establishment_file(tmp_path: Path) -> None:
    """The bot refuses to start with one French sentence naming the file and the field."""
    from bot.config.refusal import StartupRefused
    from bot.ops.startup import check_before_start
    from bot.settings import Settings

    region_file, schools = two_schools(tmp_path)
    path = schools / "beta.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("-1002", "true"), encoding="utf-8")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        school_config=region_file,
        schools_dir=schools,
        database_path=tmp_path / "bot.sqlite3",
        server_secret_file=tmp_path / "server.key",
    )
    with pytest.raises(StartupRefused) as caught:
        check_before_start(settings)
    assert "beta.toml : dans [equipe], « support_chat_id » doit être un nombre entier" in str(
        caught.value
    )
