"""French texts of the LDAP directory (issue 10): unavailability, the directory's password policy."""

from __future__ import annotations

from typing import Any

DIRECTORY_UNAVAILABLE = (
    "⏳ Le service est momentanément indisponible. Réessayez dans quelques minutes : "
    "vous reprendrez exactement là où vous en étiez, rien n'est perdu."
)

_DIRECTORY_RULE_TEXTS = {
    "too_short": "il est trop court pour les règles de l'ENT : choisissez-en un plus long",
    "quality": "il est trop simple pour les règles de l'ENT",
    "in_history": "vous l'avez déjà utilisé : l'ENT demande un mot de passe nouveau",
    "too_young": "il a été changé il y a trop peu de temps : réessayez plus tard",
    "other": "il ne respecte pas les règles de l'ENT",
}


def directory_password_refused(rule: str) -> str:
    """The directory refused the new password: say which rule when it said so, ask another."""
    return (
        "❌ L'ENT refuse ce mot de passe : "
        + _DIRECTORY_RULE_TEXTS.get(rule, _DIRECTORY_RULE_TEXTS["other"])
        + ".\n\nTapez un autre mot de passe."
    )


# --- staff command line in LDAP mode -------------------------------------------------------------

IMPORT_REFUSED = (
    "L'import est refusé : le bot utilise l'annuaire LDAP (DIRECTORY=ldap), qui est la source "
    "des comptes. Créez ou modifiez les comptes dans l'annuaire."
)


def staff_provisional_refused(rule: str) -> str:
    """The directory's policy refused the provisional password staff gave or drew."""
    return (
        "L'annuaire LDAP refuse ce mot de passe provisoire ("
        + _DIRECTORY_RULE_TEXTS.get(rule, _DIRECTORY_RULE_TEXTS["other"])
        + ") : rien n'a changé. Donnez-en un autre avec --mot-de-passe."
    )


STAFF_DIRECTORY_UNAVAILABLE = (
    "L'annuaire LDAP ne répond pas (LDAP_URL) : rien n'a été lu ni modifié. Réessayez dans "
    "quelques minutes."
)


def cleartext_refused(url: str) -> str:
    """``ldap://`` to another machine without StartTLS: passwords would cross the network in
    clear."""
    return (
        f"LDAP_URL={url} enverrait les mots de passe en clair sur le réseau : utilisez "
        "ldaps://…, ou LDAP_STARTTLS=true, ou ldapi:// sur le serveur lui-même."
    )


LIBRARY_MISSING = (
    "DIRECTORY=ldap a besoin de python-ldap : .venv/bin/pip install -e '.[ldap]' (paquets "
    "Debian gcc, libldap2-dev et libsasl2-dev)."
)
NO_DECOY_WARNING = (
    "LDAP_DECOY_DN n'est pas défini : un identifiant inconnu répond plus vite qu'un vrai, ce "
    "qui peut trahir qu'il n'existe pas. Créez une entrée leurre (voir le README)."
)


# --- accounts import with LDAP_PROVISIONAL_SOURCE=local (issue 25) -------------------------------

IMPORT_REFUSED_DIRECTORY_SOURCE = (
    IMPORT_REFUSED
    + " Si l'annuaire ne détient pas les mots de passe provisoires ({SCRIPT}LOCK), réglez "
    "LDAP_PROVISIONAL_SOURCE=local : l'import lit alors le fichier des courriers (identifiant, "
    "mot de passe provisoire)."
)
LOCAL_IMPORT_NOT_UTF8 = "le fichier n'est pas en UTF-8"
LOCAL_IMPORT_EMPTY = "le fichier est vide"
LOCAL_IMPORT_NO_IDENTIFIANT = "identifiant vide"
LOCAL_IMPORT_NO_PASSWORD = "mot_de_passe_provisoire vide"
LOCAL_IMPORT_UNKNOWN = "identifiant absent de l'annuaire (ou compte bloqué ou supprimé)"
LOCAL_IMPORT_ACTIVE = "compte déjà activé dans l'annuaire : mot de passe provisoire non gardé"


def local_import_missing(columns: list[str]) -> str:
    """The letters' file lacks the identifier or password column."""
    return "colonne(s) manquante(s) : " + ", ".join(columns)


def local_import_duplicate(line: int) -> str:
    """The same identifier twice in the file."""
    return f"identifiant déjà présent ligne {line}"


def local_import_no_file(path: str) -> str:
    """No such file."""
    return f"Fichier introuvable : {path}"


def local_import_cannot_read(path: str, error: str) -> str:
    """The file cannot be read at all."""
    return f"Import impossible de {path} : {error}"


def local_import_summary(path: str, report: Any) -> str:
    """What the import of provisional passwords did (or would do, ``--dry-run``)."""
    lines = [
        f"{report.total} ligne(s) lue(s) dans {path}"
        + (" (essai à blanc : rien n'est écrit)" if report.dry_run else ""),
        "Annuaire LDAP : seuls l'identifiant et le mot de passe provisoire sont lus ; le mot "
        "de passe est gardé haché par le bot, jamais en clair.",
        f"  mots de passe provisoires enregistrés : {report.set}",
        f"  inchangés : {report.unchanged}",
        f"  rejetés :   {len(report.rejected)}",
    ]
    lines += [f"    ligne {number} : {reason}" for number, reason in report.rejected]
    if report.ignored_columns:
        lines.append(
            "Colonnes ignorées (l'annuaire fait foi pour les noms, profils et établissements) : "
            + ", ".join(report.ignored_columns)
        )
    return "\n".join(lines)


def stats_states(counts: dict[str, int]) -> str:
    """Entries the directory says are blocked or deleted (left out of the funnel)."""
    return (
        f"Annuaire LDAP : {counts.get('bloque', 0)} compte(s) bloqué(s), "
        f"{counts.get('supprime', 0)} supprimé(s), {counts.get('educonnect', 0)} EduConnect "
        "(hors décompte ci-dessus)."
    )
