"""A real OpenLDAP server for the tests and the bench: Debian's ``slapd`` on a free port in a
temporary folder (python-ldap's :mod:`slapdtest`), with the ppolicy overlay hashing clear-text
passwords and a policy stricter than the bot's (12 characters at least, a history of 3).

Beside the plain inetOrgPerson people, an ENT tree shaped like NetO'Centre's (GIP RECIA's
« ESCO » schema: SDET attributes plus ESCO's own, issue 25) under ``ou=esco``: the schema below
is OUR OWN minimal one, written for these tests — the attribute names, syntaxes and matching
rules of those the bot reads and writes, as the public ESCO schema declares them, under the
example OID arc of RFC 5612 (1.3.6.1.4.1.32473); no file of GIP RECIA's is copied here. The
entries are made up, in the shape of ESCO's public sample data."""

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

# --- the ESCO-like tree (issue 25) ---------------------------------------------------------------
ESCO_PEOPLE = f"ou=esco,{SUFFIX}"
ESCO_STRUCTURES = f"ou=structures,{SUFFIX}"
ESCO_FILTER = "(|(ENTPersonLogin={identifiant})(ENTPersonAlias={identifiant}))"
# A locked password, as ESCO's accounts not activated yet hold it (no scheme slapd knows).
SCRIPT_LOCK = "{SCRIPT}LOCK"
# UAI → establishment name (ENTStructureNomCourant)
ESCO_STRUCTURES_NAMES = {
    "0450001A": "LYCEE DES ESSAIS-ac-ORLEANS-TOURS",
    "0370002B": "CFA DES TESTS",
}
# login, alias, state, profiles, UAIs (main first), password (SCRIPT_LOCK: none), names
ESCO_USERS: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...], str, str, str]] = [
    (
        "F0450001",
        "jean.dupont",
        "INVALIDE",
        ("National_ELV", "National_1"),
        ("0450001A",),
        SCRIPT_LOCK,
        "Jean",
        "Dupont",
    ),
    (
        "F0450002",
        "marie.curie",
        "invalide",
        ("National_TUT",),
        ("0450001A", "0370002B"),
        SCRIPT_LOCK,
        "Marie",
        "Curie",
    ),
    (
        "F0450003",
        "prof.martin",
        "NOUVEAU",
        ("National_TUT", "National_ENS"),
        ("0450001A",),
        SCRIPT_LOCK,
        "Alain",
        "Martin",
    ),
    (
        "F0450004",
        "bloque.user",
        "BLOQUE",
        ("National_ELV",),
        ("0450001A",),
        "Bq4-Lm8p-Qrs-9",
        "Bruno",
        "Bloque",
    ),
    (
        "F0450005",
        "supprime.user",
        "Delete",
        ("National_ELV",),
        ("0450001A",),
        "Sp4-Lm8p-Qrs-9",
        "Sophie",
        "Supprime",
    ),
    (
        "F0450006",
        "paul.valide",
        "VALIDE",
        ("National_ELV",),
        ("0450001A",),
        "Va4-Lm8p-Qrs-9",
        "Paul",
        "Valide",
    ),
    (
        "F0450007",
        "direct.user",
        "INVALIDE",
        ("Tuteur_stage",),
        ("0370002B",),
        "Di4-Lm8p-Qrs-9",
        "Dina",
        "Direct",
    ),
]
# What the letters' CSV gives the school for the locked accounts (LDAP_PROVISIONAL_SOURCE=local).
ESCO_LETTERS = {"F0450001": "Lt4-Kc8m-Tqs", "F0450002": "Lt5-Kc8m-Tqs", "F0450003": "Lt6-Kc8m-Tqs"}

_DS = "1.3.6.1.4.1.1466.115.121.1.15"  # Directory String
_GT = "1.3.6.1.4.1.1466.115.121.1.24"  # Generalized Time
_ARC = "1.3.6.1.4.1.32473.25"  # RFC 5612's example enterprise number, then ours


def _string(number: int, name: str, *, single: bool) -> str:
    return (
        f"olcAttributeTypes: ( {_ARC}.1.{number} NAME '{name}' EQUALITY caseIgnoreMatch "
        f"SUBSTR caseIgnoreSubstringsMatch SYNTAX {_DS}{' SINGLE-VALUE' if single else ''} )"
    )


ESCO_SCHEMA = (
    "\n".join(
        [
            "dn: cn=esco-test,cn=schema,cn=config",
            "objectClass: olcSchemaConfig",
            "cn: esco-test",
            _string(1, "ENTPersonLogin", single=True),
            _string(2, "ENTPersonAlias", single=True),
            _string(3, "ENTPersonProfils", single=False),
            _string(4, "ESCOUAI", single=False),
            _string(5, "ESCOUAIRattachement", single=True),
            f"olcAttributeTypes: ( {_ARC}.1.6 NAME 'ESCOPersonEtatCompte' EQUALITY caseIgnoreMatch "
            f"SYNTAX {_DS} SINGLE-VALUE )",
            f"olcAttributeTypes: ( {_ARC}.1.7 NAME 'ESCOPersonValidationCharte' "
            f"EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch SYNTAX {_GT} "
            "SINGLE-VALUE )",
            _string(8, "ESCOPersonValidationCharteService", single=False),
            _string(9, "ENTStructureUAI", single=True),
            _string(10, "ENTStructureNomCourant", single=True),
            f"olcObjectClasses: ( {_ARC}.2.1 NAME 'ENTPerson' SUP inetOrgPerson STRUCTURAL "
            "MUST ENTPersonLogin MAY ( ENTPersonAlias $ ENTPersonProfils ) )",
            f"olcObjectClasses: ( {_ARC}.2.2 NAME 'ESCOAddons' SUP top AUXILIARY MAY ( ESCOUAI $ "
            "ESCOUAIRattachement $ ESCOPersonEtatCompte $ ESCOPersonValidationCharte $ "
            "ESCOPersonValidationCharteService ) )",
            f"olcObjectClasses: ( {_ARC}.2.3 NAME 'ENTStructure' SUP organizationalUnit "
            "STRUCTURAL MUST ENTStructureNomCourant MAY ENTStructureUAI )",
        ]
    )
    + "\n"
)
ESCO_WRITTEN = "ESCOPersonEtatCompte,ESCOPersonValidationCharte,ESCOPersonValidationCharteService"
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
olcAccess: {1}to attrs=mail,employeeType,%(esco_written)s
  by dn.exact="%(service)s" write by self read by * none
olcAccess: {2}to dn.subtree="%(people)s" by dn.exact="%(service)s" read by self read by * none
olcAccess: {3}to dn.subtree="%(esco)s" by dn.exact="%(service)s" read by self read by * none
olcAccess: {4}to * by * read

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
            self.slapadd(ESCO_SCHEMA, ["-n0"])
            self.slapadd(DATABASE % self._values(), ["-n0"])
            # Loaded offline (slapadd: no overlay runs), so that ppolicy does not hash the
            # ``{SCRIPT}LOCK`` values as clear-text passwords: stored as they are, as in ESCO.
            self.slapadd(base_ldif() + "\n\n" + "\n\n".join(esco_ldif()) + "\n", ["-n1"])

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
                "esco": ESCO_PEOPLE,
                "esco_written": ESCO_WRITTEN,
            }

    return PolicySlapd


def seed_ldif(users: list[tuple[str, ...]] = LDAP_USERS) -> str:
    """The tree: people, services (the bot's account), the policy, users to activate."""
    parts = [
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


def base_ldif() -> str:
    """The suffix entry (added offline, with the ESCO-like tree)."""
    return (
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example"
    )


def esco_dn(login: str) -> str:
    """The DN of an ESCO-like user (``uid`` is its login, as in ESCO's sample data)."""
    return f"uid={login},{ESCO_PEOPLE}"


def esco_ldif() -> list[str]:
    """The ESCO-like tree: establishments (structure entries) and people."""
    parts = [
        f"dn: {ESCO_PEOPLE}\nobjectClass: organizationalUnit\nou: esco",
        f"dn: {ESCO_STRUCTURES}\nobjectClass: organizationalUnit\nou: structures",
    ]
    for uai, name in ESCO_STRUCTURES_NAMES.items():
        parts.append(
            f"dn: ENTStructureUAI={uai},{ESCO_STRUCTURES}\nobjectClass: ENTStructure\n"
            f"ou: {name}\nENTStructureUAI: {uai}\nENTStructureNomCourant: {name}"
        )
    for login, alias, state, profiles, uais, password, prenom, nom in ESCO_USERS:
        lines = [
            f"dn: {esco_dn(login)}",
            "objectClass: ENTPerson",
            "objectClass: ESCOAddons",
            f"uid: {login}",
            f"ENTPersonLogin: {login}",
            f"ENTPersonAlias: {alias}",
            f"cn: {prenom} {nom}",
            f"givenName: {prenom}",
            f"sn: {nom}",
            f"ESCOPersonEtatCompte: {state}",
            f"ESCOUAIRattachement: {uais[0]}",
            *(f"ENTPersonProfils: {profile}" for profile in profiles),
            *(f"ESCOUAI: {uai}" for uai in uais),
            f"userPassword: {password}",
        ]
        parts.append("\n".join(lines))
    return parts


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

    def modify(self, dn: str, name: str, values: list[str]) -> None:
        """Replace an attribute of ``dn`` as the root."""
        import ldap

        connection = ldap.initialize(self.url)
        try:
            connection.simple_bind_s(self.root_dn, self.root_pw)
            connection.modify_s(dn, [(ldap.MOD_REPLACE, name, [v.encode() for v in values])])
        finally:
            connection.unbind_s()
