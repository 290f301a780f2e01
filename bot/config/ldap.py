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
    status_to_activate: str = ""
    status_active: str = ""
    # An entry the bot binds as for unknown identifiers, so that the server does the same
    # password hashing as for a real one (none: a DN that does not exist, which costs less).
    decoy_dn: str = ""
    # Directory calls at once (each in a thread of its own).
    max_connections: int = 4

    def read_attributes(self) -> list[str]:
        """The attributes a user search asks for."""
        names = [
            self.attr_identifiant,
            self.attr_first_name,
            self.attr_last_name,
            self.attr_profile,
            self.attr_establishment,
            self.attr_status,
        ]
        return [name for name in names if name]
