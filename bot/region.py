"""One bot for a whole region (issue 27): the establishments, each with its own school file in
``SCHOOLS_DIR``, over the region's defaults (``SCHOOL_CONFIG``).

An establishment's file is today's school file plus ``[etablissement] uai``, and optionally
``[equipe]`` (its staff group and members) and ``[rappels]`` (its reminder settings). It is
merged with the region's file field by field: a table's keys override the region's one by one,
any other value (a list of contacts, of quick answers…) replaces the region's. ``cgu`` replaces
the region's CGU; ``cgu_ajout`` adds the establishment's text after them. Without
``SCHOOLS_DIR`` the region is the one school of ``SCHOOL_CONFIG``, as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.school import SchoolConfig, SchoolConfigError, read_school_file, school_from_data
from bot.settings import Settings
from bot.texts import region as region_texts

# A UAI (« unité administrative immatriculée »): seven digits and a letter, e.g. 0451234X.
UAI = re.compile(r"[0-9]{7}[A-Z]")
# What ``--etablissement`` takes for every establishment (regional staff on the command line).
WHOLE_REGION = ("tous", "region", "région")


def normalise_uai(value: str) -> str:
    """A UAI as stored: no surrounding spaces, upper case."""
    return value.strip().upper()


@dataclass(frozen=True)
class StaffTeam:
    """An establishment's staff: its Telegram group (``support_chat_id``, a forum or not) and
    its members (Telegram ids, e-mail addresses)."""

    support_chat_id: int | None = None
    forum_topics: bool = False
    telegram_ids: frozenset[int] = frozenset()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReminderSettings:
    """An establishment's automatic reminders (None: the settings' value)."""

    link_expiring: bool | None = None
    link_expiring_hours: float | None = None
    unfinished: bool | None = None
    after_days: float | None = None


@dataclass(frozen=True)
class Establishment:
    """One establishment of the region: its UAI, its file, its content, team and reminders."""

    uai: str
    path: Path
    school: SchoolConfig
    team: StaffTeam
    reminders: ReminderSettings

    @property
    def name(self) -> str:
        return self.school.etablissement


class HasUai(Protocol):
    """An account (any of the bot's account views) and the UAI it belongs to."""

    @property
    def uai(self) -> str | None: ...


@dataclass(frozen=True)
class Region:
    """The establishments by UAI and the region's defaults (content, team, reminders). With
    no establishment it is a single-school deployment: everything is the defaults."""

    defaults: SchoolConfig
    team: StaffTeam = field(default_factory=StaffTeam)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    establishments: Mapping[str, Establishment] = field(default_factory=dict)
    admin_telegram_ids: frozenset[int] = frozenset()

    @property
    def uais(self) -> tuple[str, ...]:
        """The establishments' UAIs, sorted."""
        return tuple(sorted(self.establishments))

    @property
    def needs_choice(self) -> bool:
        """Whether staff commands must name an establishment (several exist)."""
        return len(self.establishments) > 1

    def by_uai(self, uai: str | None) -> Establishment | None:
        """The establishment of this UAI (without case), if known."""
        return self.establishments.get(normalise_uai(uai)) if uai else None

    def resolve(self, value: str) -> Establishment | None:
        """The establishment a staff member names: its UAI, or its name (without case)."""
        found = self.by_uai(value)
        if found is not None:
            return found
        wanted = value.strip().casefold()
        named = [e for e in self.establishments.values() if e.name.strip().casefold() == wanted]
        return named[0] if len(named) == 1 else None

    def establishment_of(self, account: HasUai | None) -> Establishment | None:
        """The establishment an account belongs to (None: the region's defaults)."""
        return self.by_uai(account.uai) if account is not None else None

    def for_account(self, account: HasUai | None) -> SchoolConfig:
        """The content an account's owner sees: their establishment's, else the region's
        (an account without UAI, or before the account is known)."""
        found = self.establishment_of(account)
        return found.school if found is not None else self.defaults

    def team_of(self, account: HasUai | None) -> StaffTeam:
        """The team an account's tickets go to: their establishment's, else the region's."""
        found = self.establishment_of(account)
        return found.team if found is not None else self.team


def merged(region: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """The region's file with an establishment's on top, field by field: tables merged key by
    key (one level: ``[etablissement]``, ``[horaires]``…), any other value replaced."""
    result = dict(region)
    for key, value in own.items():
        base = result.get(key)
        if isinstance(value, dict) and isinstance(base, dict):
            result[key] = {**base, **value}
        else:
            result[key] = value
    return result


def _absolute_paths(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``data`` with its CGU paths made absolute from ``folder`` (each file's paths start from
    its own folder, before the merge mixes them)."""
    etab = data.get("etablissement")
    if not isinstance(etab, dict):
        return data
    fixed = dict(etab)
    for key in ("cgu", "cgu_ajout"):
        if isinstance(fixed.get(key), str) and fixed[key]:
            fixed[key] = str((folder / fixed[key]).resolve())
    return {**data, "etablissement": fixed}


def _team(path: Path, data: Mapping[str, Any], fallback: StaffTeam) -> StaffTeam:
    """``[equipe]``, checked (a wrong value: one French sentence naming the file and field)."""
    section = data.get("equipe", {})
    if not isinstance(section, dict):
        raise SchoolConfigError(region_texts.section_needed(str(path), "equipe"))
    chat = section.get("support_chat_id", fallback.support_chat_id)
    if chat is not None and (not isinstance(chat, int) or isinstance(chat, bool)):
        raise SchoolConfigError(region_texts.integer_needed(str(path), "equipe", "support_chat_id"))
    forum = section.get("forum", fallback.forum_topics)
    if not isinstance(forum, bool):
        raise SchoolConfigError(region_texts.boolean_needed(str(path), "equipe", "forum"))
    ids = section.get("telegram_ids", sorted(fallback.telegram_ids))
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise SchoolConfigError(region_texts.integers_needed(str(path), "equipe", "telegram_ids"))
    emails = section.get("emails", list(fallback.emails))
    if not isinstance(emails, list) or not all(isinstance(e, str) and "@" in e for e in emails):
        raise SchoolConfigError(region_texts.emails_needed(str(path), "equipe", "emails"))
    return StaffTeam(chat, forum, frozenset(ids), tuple(emails))


def _reminders(path: Path, data: Mapping[str, Any]) -> ReminderSettings:
    """``[rappels]``, checked."""
    section = data.get("rappels", {})
    if not isinstance(section, dict):
        raise SchoolConfigError(region_texts.section_needed(str(path), "rappels"))
    values: dict[str, Any] = {}
    for key, name in (("lien_expire", "link_expiring"), ("inacheve", "unfinished")):
        if key in section:
            if not isinstance(section[key], bool):
                raise SchoolConfigError(region_texts.boolean_needed(str(path), "rappels", key))
            values[name] = section[key]
    for key, name in (("lien_expire_heures", "link_expiring_hours"), ("apres_jours", "after_days")):
        if key in section:
            value = section[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise SchoolConfigError(region_texts.positive_needed(str(path), "rappels", key))
            values[name] = float(value)
    return ReminderSettings(**values)


def load_region(
    school_config: Path,
    schools_dir: Path | None = None,
    *,
    team: StaffTeam | None = None,
    admin_telegram_ids: frozenset[int] = frozenset(),
) -> Region:
    """The region: ``school_config`` is its defaults (the one school without ``schools_dir``);
    each ``*.toml`` of ``schools_dir`` one establishment. ``team``: the region's own team
    from the settings (SUPPORT_CHAT_ID…), which the region file's ``[equipe]`` may override.
    Errors: :class:`SchoolConfigError`, one French sentence naming the file and the field."""
    region_data = _absolute_paths(read_school_file(school_config), school_config.parent)
    defaults = school_from_data(school_config, region_data)
    region_team = _team(school_config, region_data, team or StaffTeam())
    region_reminders = _reminders(school_config, region_data)
    if schools_dir is None:
        return Region(defaults, region_team, region_reminders, {}, admin_telegram_ids)
    if not schools_dir.is_dir():
        raise SchoolConfigError(region_texts.schools_dir_missing(str(schools_dir)))
    files = sorted(schools_dir.glob("*.toml"))
    if not files:
        raise SchoolConfigError(region_texts.schools_dir_empty(str(schools_dir)))
    establishments: dict[str, Establishment] = {}
    for path in files:
        own = _absolute_paths(read_school_file(path), path.parent)
        etab = own.get("etablissement")
        raw_uai = etab.get("uai") if isinstance(etab, dict) else None
        if not isinstance(raw_uai, str) or not raw_uai.strip():
            raise SchoolConfigError(region_texts.uai_missing(str(path)))
        uai = normalise_uai(raw_uai)
        if not UAI.fullmatch(uai):
            raise SchoolConfigError(region_texts.uai_invalid(str(path), raw_uai))
        if "questions_secretes" in own:
            # One list for the region: « Mot de passe oublié » shows an unknown identifier
            # questions of that list, so an establishment's own list would tell its accounts
            # apart from unknown identifiers.
            raise SchoolConfigError(region_texts.questions_are_the_region_s(str(path)))
        if uai in establishments:
            other = establishments[uai].path
            raise SchoolConfigError(region_texts.uai_twice(str(path), uai, str(other)))
        # The team and reminders are the establishment's own: the region's group is for
        # people not identified yet, never another school's members.
        data = merged({k: v for k, v in region_data.items() if k != "equipe"}, own)
        establishments[uai] = Establishment(
            uai=uai,
            path=path,
            school=school_from_data(path, data),
            team=_team(path, own, StaffTeam()),
            reminders=_reminders(path, data),
        )
    return Region(defaults, region_team, region_reminders, establishments, admin_telegram_ids)


def region_of(settings: Settings) -> Region:
    """The region the settings describe (``SCHOOL_CONFIG``, ``SCHOOLS_DIR``, the region's
    team from ``SUPPORT_CHAT_ID``, ``SUPPORT_FORUM_TOPICS``, ``STAFF_TELEGRAM_IDS``)."""
    team = StaffTeam(
        support_chat_id=settings.support_chat_id,
        forum_topics=settings.support_forum_topics,
        telegram_ids=frozenset(settings.staff_telegram_ids),
    )
    return load_region(
        settings.school_config_path(),
        settings.schools_dir,
        team=team,
        admin_telegram_ids=frozenset(settings.region_admin_telegram_ids),
    )
