"""A real OpenLDAP server for the tests and the bench: Debian's ``slapd`` on a free port in a
temporary folder (python-ldap's :mod:`slapdtest`), with the ppolicy overlay hashing clear-text
passwords and a policy stricter than the bot's (12 characters at least, a history of 3)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

SUFFIX = "dc=example,dc=org"
PEOPLE = f"ou=people,{SUFFIX}"
SERVICE_DN = f"cn=ent-bot,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-secret-for-tests"
POLICY_MIN_LENGTH = 12
STATUS_ATTR = "employeeType"
STATUS_TO_ACTIVATE = "a_activer"
STATUS_ACTIVE = "actif"

# identifiant, provisional password, profil, prenom, nom, etablissement
LDAP_USERS = [
    ("lea.martin", "Xq7-Tb4k-Wpz", "apprenti", "Léa", "Martin", "Lycée de Test"),
    ("paul.durand", "Rm2-Hv8n-Zcw", "maitre_apprentissage", "Paul", "Durand", "Lycée de Test"),
    ("nora.petit", "Gd5-Js3y-Fex", "parent", "Nora", "Petit", "Lycée de Test"),
    ("élodie", "Pz4-Kc8m-Tqs", "eleve", "Élodie", "Blanc", "Lycée de Test"),
]


def missing() -> str | None:
    """Why the LDAP tests cannot run here (None if they can)."""
    try:
        import ldap  # noqa: F401
        import slapdtest  # noqa: F401
    except ImportError:
        return "python-ldap is not installed (pip install -e '.[ldap]')"
    if not (Path("/usr/sbin/slapd").exists() or shutil.which("slapd")):
        return "slapd is not installed (apt-get install slapd ldap-utils)"
    if not shutil.which("ldapwhoami"):
        return "ldap-utils is not installed (apt-get install ldap-utils)"
    return None


CONFIG = r"""dn: cn=config
objectClass: olcGlobal
cn: config
olcServerID: %(serverid)s
olcLogLevel: 0
olcAuthzRegexp: {0}"%(peercred)s" "%(rootdn)s"

dn: cn=module,cn=config
objectClass: olcModuleList
cn: module
olcModuleLoad: back_%(database)s
olcModuleLoad: ppolicy
%(extra_modules)s
"""

# Added once the schemas are in (an ACL names DNs, which the schema must parse).
DATABASE = r"""dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcPasswordHash: %(password_hash)s

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config

dn: olcDatabase={1}%(database)s,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}%(database)s
olcSuffix: %(suffix)s
olcRootDN: %(rootdn)s
olcRootPW: %(rootpw)s
olcDbDirectory: %(directory)s
olcLimits: {0}dn.exact="%(service)s" size.prtotal=unlimited
olcAccess: {0}to attrs=userPassword by dn.exact="%(service)s" write by anonymous auth by * none
olcAccess: {1}to attrs=mail,employeeType by dn.exact="%(service)s" write by self read by * none
olcAccess: {2}to dn.subtree="%(people)s" by dn.exact="%(service)s" read by self read by * none
olcAccess: {3}to * by * read

dn: olcOverlay={0}ppolicy,olcDatabase={1}%(database)s,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {0}ppolicy
olcPPolicyDefault: cn=default,ou=policies,%(suffix)s
olcPPolicyHashCleartext: TRUE
olcPPolicyUseLockout: FALSE
"""


def _make_server_class() -> Any:
    from slapdtest import SlapdObject

    class PolicySlapd(SlapdObject):  # type: ignore[misc]
        """slapd with ppolicy, inetOrgPerson and the bot's service account."""

        suffix = SUFFIX
        root_cn = "admin"
        root_pw = "root-secret-for-tests"
        slapd_loglevel = "0"
        openldap_schema_files = ("core.ldif", "cosine.ldif", "inetorgperson.ldif")

        def __init__(self, folder: Path, password_hash: str) -> None:
            self.TMPDIR = str(folder)
            self.password_hash = password_hash
            super().__init__()

        def _write_config(self) -> None:
            self.slapadd(CONFIG % self._values(), ["-n0"])
            for schema in self.openldap_schema_files:
                self.slapadd(None, ["-n0", "-l", os.path.join(self.SCHEMADIR, schema)])
            self.slapadd(DATABASE % self._values(), ["-n0"])

        def _values(self) -> dict[str, Any]:
            argon2 = self.password_hash == "{ARGON2}"
            return {
                "password_hash": self.password_hash,
                "extra_modules": "olcModuleLoad: argon2\n" if argon2 else "",
                "serverid": hex(self.server_id),
                "database": self.database,
                "directory": self._db_directory,
                "suffix": self.suffix,
                "rootdn": self.root_dn,
                "rootpw": self.root_pw,
                "peercred": f"gidnumber={os.getgid()}\\+uidnumber={os.getuid()},"
                "cn=peercred,cn=external,cn=auth",
                "service": SERVICE_DN,
                "people": PEOPLE,
            }

    return PolicySlapd


def seed_ldif(users: list[tuple[str, ...]] = LDAP_USERS) -> str:
    """The tree: people, services (the bot's account), the policy, users to activate."""
    parts = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services",
        f"dn: ou=policies,{SUFFIX}\nobjectClass: organizationalUnit\nou: policies",
        f"dn: {SERVICE_DN}\nobjectClass: person\ncn: ent-bot\nsn: bot\n"
        f"userPassword: {SERVICE_PASSWORD}",
        f"dn: cn=default,ou=policies,{SUFFIX}\nobjectClass: pwdPolicy\nobjectClass: person\n"
        f"cn: default\nsn: policy\npwdAttribute: userPassword\n"
        f"pwdMinLength: {POLICY_MIN_LENGTH}\npwdCheckQuality: 2\npwdInHistory: 3\n"
        f"pwdAllowUserChange: TRUE\npwdMustChange: FALSE\npwdLockout: FALSE",
    ]
    for identifiant, password, profil, prenom, nom, etablissement in users:
        parts.append(user_ldif(identifiant, password, profil, prenom, nom, etablissement))
    return "\n\n".join(parts) + "\n"


def user_dn(identifiant: str) -> str:
    """The DN of a seeded user (RFC 4514 escaping)."""
    from ldap.dn import escape_dn_chars

    return f"uid={escape_dn_chars(identifiant)},{PEOPLE}"


def user_ldif(
    identifiant: str, password: str, profil: str, prenom: str, nom: str, etablissement: str
) -> str:
    """One user to activate (LDIF values in base64 where not plain ASCII)."""
    import base64

    def line(name: str, value: str) -> str:
        if value.isascii() and not value.startswith((" ", ":", "<")):
            return f"{name}: {value}"
        return f"{name}:: {base64.b64encode(value.encode()).decode()}"

    return "\n".join(
        [
            line("dn", user_dn(identifiant)),
            "objectClass: inetOrgPerson",
            line("uid", identifiant),
            line("cn", f"{prenom} {nom}"),
            line("givenName", prenom),
            line("sn", nom),
            line("businessCategory", profil),
            line("o", etablissement),
            f"{STATUS_ATTR}: {STATUS_TO_ACTIVATE}",
            line("userPassword", password),
        ]
    )


class LdapServer:
    """A running slapd (start, stop, restart with the same data) and a few checks."""

    def __init__(self, folder: Path, password_hash: str = "{SSHA}") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.server = _make_server_class()(folder, password_hash)

    def start(self, users: list[tuple[str, ...]] = LDAP_USERS) -> None:
        """Start slapd and add the tree (as the root through ldapi; ppolicy hashes the
        passwords)."""
        self.server.start()
        self.server.ldapadd(seed_ldif(users))

    @property
    def url(self) -> str:
        return str(self.server.ldap_uri).rstrip("/")

    @property
    def root_dn(self) -> str:
        return str(self.server.root_dn)

    @property
    def root_pw(self) -> str:
        return str(self.server.root_pw)

    def stop_for_now(self) -> None:
        """Stop slapd, keeping its data (see :meth:`resume`)."""
        self.server.terminate()
        self.server.wait()

    def resume(self) -> None:
        """Start slapd again on the same port with the same data."""
        self.server.resume()

    def close(self) -> None:
        """Stop slapd and remove its folder."""
        self.server.stop()

    def can_bind(self, dn: str, password: str) -> bool:
        """Whether a simple bind as ``dn`` with ``password`` succeeds."""
        import ldap

        connection = ldap.initialize(self.url)
        try:
            connection.simple_bind_s(dn, password)
            return True
        except ldap.INVALID_CREDENTIALS:
            return False
        finally:
            connection.unbind_s()

    def entry(self, dn: str) -> dict[str, list[str]]:
        """The attributes of ``dn`` as the root reads them."""
        import ldap

        connection = ldap.initialize(self.url)
        try:
            connection.simple_bind_s(self.root_dn, self.root_pw)
            [(_, attributes)] = connection.search_s(dn, ldap.SCOPE_BASE, attrlist=["*", "+"])
            return {k: [v.decode() for v in vs] for k, vs in attributes.items()}
        finally:
            connection.unbind_s()
