"""French texts of the LDAP directory (issue 10): unavailability, the directory's password policy."""

from __future__ import annotations

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
