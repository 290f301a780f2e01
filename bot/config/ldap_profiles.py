"""The bot's profiles from a directory's profile values (SDET ``ENTPersonProfils``, issue 25).

No import of the LDAP library here: the settings and the staff tools read it too.
"""

from __future__ import annotations

from storage.accounts import Profil

# SDET national profiles (« Schéma Directeur des Espaces numériques de Travail », annex on the
# directory): pupils, their legal guardians, and the staff of schools and academies. A CFA's
# apprentices and company tutors have no national value of their own: the categories GIP
# RECIA's « Mon Compte ENT » reads (``Tuteur_stage``, ``Responsable_Entreprise``) and the bot's
# own profile names are understood; a CFA whose apprentices carry ``National_ELV`` says so with
# ``LDAP_PROFILE_MAP=National_ELV=apprenti``.
SDET_PROFILES: dict[str, Profil] = {
    "national_elv": Profil.ELEVE,
    "national_tut": Profil.PARENT,
    "national_ens": Profil.PERSONNEL,
    "national_dir": Profil.PERSONNEL,
    "national_evs": Profil.PERSONNEL,
    "national_eta": Profil.PERSONNEL,
    "national_aca": Profil.PERSONNEL,
    "national_doc": Profil.PERSONNEL,
    "national_col": Profil.PERSONNEL,
    "tuteur_stage": Profil.MAITRE_APPRENTISSAGE,
    "responsable_entreprise": Profil.MAITRE_APPRENTISSAGE,
    **{profil.value: profil for profil in Profil},
}

# An entry with several profiles gets the first of these it has (a teacher who is also a
# parent activates as staff; an apprentice's entry may also say « pupil »).
PRIORITY = (
    Profil.APPRENTI,
    Profil.MAITRE_APPRENTISSAGE,
    Profil.PERSONNEL,
    Profil.ELEVE,
    Profil.PARENT,
)


class ProfileMapError(ValueError):
    """``LDAP_PROFILE_MAP`` holds something that is not ``Value=profil`` pairs."""


def profile_map(setting: str) -> dict[str, Profil]:
    """The SDET defaults overridden by ``LDAP_PROFILE_MAP`` (``Value=profil, …``; values
    compared without case)."""
    mapping = dict(SDET_PROFILES)
    for pair in setting.split(","):
        if not pair.strip():
            continue
        value, sep, profil = pair.partition("=")
        try:
            mapping[value.strip().casefold()] = Profil(profil.strip().lower())
        except ValueError:
            raise ProfileMapError(pair.strip()) from None
        if not sep or not value.strip():
            raise ProfileMapError(pair.strip())
    return mapping


def profile_of(values: list[str], mapping: dict[str, Profil]) -> Profil:
    """The profile of an entry from all the values of its profile attribute."""
    found = {mapping[v.strip().casefold()] for v in values if v.strip().casefold() in mapping}
    return next((profil for profil in PRIORITY if profil in found), Profil.AUTRE)
