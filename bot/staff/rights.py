"""Staff rights in a region (issue 27), as plain typed functions (no Telegram, no command
line): a staff member acts only on the accounts of their establishments; regional
administrators act on every account. The rights become a :data:`storage.staff.Scope`, which
every staff query filters on in SQL (an account of another establishment is « unknown »)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.region import WHOLE_REGION, Region
from bot.texts import region as region_texts
from storage.staff import Scope


@dataclass(frozen=True)
class StaffRights:
    """Who acts, and on which establishments. ``uais`` None: every account (a regional
    administrator, or a single-school deployment's staff)."""

    actor: str
    uais: frozenset[str] | None

    @property
    def scope(self) -> Scope:
        """What staff queries are filtered on."""
        return self.uais

    @property
    def regional(self) -> bool:
        return self.uais is None

    def covers(self, uai: str | None) -> bool:
        """Whether an account of this establishment (None: the region's) is theirs."""
        if self.uais is None:
            return True
        return uai is not None and uai.strip().upper() in self.uais

    def audit_details(self, uai: str | None, details: str = "") -> str:
        """``details`` with the establishment an action was on (audit trail)."""
        if uai is None:
            return details
        return f"{details},uai={uai}" if details else f"uai={uai}"


def staff_telegram_ids(region: Region | None, staff_ids: Collection[int]) -> frozenset[int]:
    """Every Telegram id with some staff rights (the staff commands' filter): the region's
    team, its administrators and each establishment's team."""
    ids = set(staff_ids)
    if region is not None:
        ids |= region.admin_telegram_ids
        for establishment in region.establishments.values():
            ids |= establishment.team.telegram_ids
    return frozenset(ids)


def everything(actor: str) -> StaffRights:
    """Rights on every account (the command line of a single school, a regional admin)."""
    return StaffRights(actor, None)


def telegram_rights(
    region: Region, telegram_user_id: int, staff_telegram_ids: Collection[int]
) -> StaffRights | None:
    """A Telegram user's staff rights, or None (not staff). A regional administrator
    (``REGION_ADMIN_TELEGRAM_IDS``) acts on all; with establishments, a member listed in their
    ``[equipe] telegram_ids`` on theirs only (``STAFF_TELEGRAM_IDS`` alone gives none: they
    name the region's own team); a single school's staff on all, as before."""
    actor = f"telegram:{telegram_user_id}"
    if telegram_user_id in region.admin_telegram_ids:
        return everything(actor)
    if not region.establishments:
        return everything(actor) if telegram_user_id in staff_telegram_ids else None
    uais = frozenset(
        uai
        for uai, establishment in region.establishments.items()
        if telegram_user_id in establishment.team.telegram_ids
    )
    return StaffRights(actor, uais) if uais else None


class EstablishmentChoiceError(ValueError):
    """The command line named no establishment (several exist) or an unknown one; the
    message is French, listing the UAIs."""


def cli_rights(region: Region, etablissement: str | None, actor: str) -> StaffRights:
    """The operator's rights on the command line: ``--etablissement UAI`` (or the
    establishment's name) restricts every command to it; ``tous`` is the whole region. It is
    required when several establishments exist, optional with one, ignored with none."""
    if not region.establishments:
        return everything(actor)
    if etablissement is None or not etablissement.strip():
        if region.needs_choice:
            raise EstablishmentChoiceError(region_texts.establishment_required(list(region.uais)))
        return everything(actor)
    if etablissement.strip().casefold() in WHOLE_REGION:
        return everything(actor)
    found = region.resolve(etablissement)
    if found is None:
        raise EstablishmentChoiceError(
            region_texts.establishment_unknown(etablissement, list(region.uais))
        )
    return StaffRights(actor, frozenset({found.uai}))
