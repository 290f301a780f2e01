"""What the LDAP directory needs to know (from :class:`bot.settings.Settings`); no import of the
LDAP library here, so that the settings load without it."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class LdapSetupError(Exception):
    """``DIRECTORY=ldap`` cannot work as configured; the message says what to do (French)."""


def sends_passwords_in_clear(url: str, starttls: bool) -> bool:
    """Whether passwords would cross a network unencrypted: ``ldap://`` to another machine
    without StartTLS (``ldaps://``, ``ldapi://`` and the loopback are fine)."""
    address = url.strip()
    if starttls or address.lower().startswith(("ldaps://", "ldapi://")):
        return False
    return (urlsplit(address).hostname or "") not in LOCAL_HOSTS


@dataclass(frozen=True)
class LdapConfig:
    """Connection, service account, where the users are and which attributes say what."""

    url: str
    bind_dn: str
    bind_password: str = field(repr=False)
    user_base: str
    user_filter: str = "(uid={identifiant})"
    starttls: bool = False
    ca_file: str | None = None
    timeout_seconds: float = 5.0
    attr_identifiant: str = "uid"
    attr_first_name: str = "givenName"
    attr_last_name: str = "sn"
    attr_mail: str = "mail"
    attr_profile: str = ""
    attr_establishment: str = ""
    attr_status: str = ""
    # « To activate » values (comma-separated; the first is the one the bot writes back on a
    # reset), the « active » value, and values meaning blocked or deleted (refused like an
    # unknown identifier). Compared without case (ESCOPersonEtatCompte is caseIgnoreMatch).
    status_to_activate: str = ""
    status_active: str = ""
    status_blocked: str = ""
    status_deleted: str = ""
    # Where the provisional password is checked: ``directory`` (a bind as the user) or
    # ``local`` (the bot's argon2id hash, set by accounts import/reset/letters: for
    # directories whose accounts to activate hold ``{SCRIPT}LOCK``).
    provisional_source: str = "directory"
    # Profile attribute values → the bot's profiles (``Value=profil`` pairs, comma-separated),
    # over the SDET defaults (:data:`bot.config.ldap_profiles.SDET_PROFILES`).
    profile_map: str = ""
    # Establishment names: the structure entry of each UAI, under this base (empty: the
    # establishment attribute's values are shown as they are).
    structure_base: str = ""
    structure_attr_uai: str = "ENTStructureUAI"
    structure_attr_name: str = "ENTStructureNomCourant"
    # Where CGU acceptance is written (empty: only in the bot's database), in which form:
    # ``time`` (a generalized time, ESCOPersonValidationCharte) or ``service``
    # (« service;version;date » values, one per service, ESCOPersonValidationCharteService).
    # The bot's profiles whose accounts log in through EduConnect (Éducation nationale pupils
    # and parents), comma-separated: refused like unknown identifiers, every refusal says
    # where EduConnect is.
    educonnect_profiles: str = ""
    attr_charter: str = ""
    charter_format: str = "time"
    charter_service: str = "ENT"
    # An entry the bot binds as for unknown identifiers, so that the server does the same
    # password hashing as for a real one (none: a DN that does not exist, which costs less).
    decoy_dn: str = ""
    # Directory calls at once (each in a thread of its own).
    max_connections: int = 4

    @property
    def provisional_local(self) -> bool:
        """Whether the bot keeps the provisional passwords' hashes (``local``)."""
        return self.provisional_source.strip().lower() == "local"

    def status_values(self, which: str) -> tuple[str, ...]:
        """The casefolded values of one state (``to_activate``, ``active``, ``blocked``,
        ``deleted``) from its comma-separated setting."""
        return split_values(getattr(self, f"status_{which}"))

    @property
    def status_to_write_back(self) -> str:
        """The « to activate » value a reset writes (the first one, as typed)."""
        return next((v.strip() for v in self.status_to_activate.split(",") if v.strip()), "")

    def establishment_attributes(self) -> list[str]:
        """The attributes holding the establishments, main one first (comma-separated)."""
        return [name.strip() for name in self.attr_establishment.split(",") if name.strip()]

    def read_attributes(self) -> list[str]:
        """The attributes a user search asks for."""
        names = [
            self.attr_identifiant,
            self.attr_first_name,
            self.attr_last_name,
            self.attr_profile,
            *self.establishment_attributes(),
            self.attr_status,
        ]
        return [name for name in names if name]


def split_values(text: str) -> tuple[str, ...]:
    """The casefolded, stripped, non-empty values of a comma-separated setting."""
    return tuple(value.strip().casefold() for value in text.split(",") if value.strip())
