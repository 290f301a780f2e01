"""French texts of the LDAP directory (issue 10): unavailability, the directory's password policy."""

from __future__ import annotations

from bot.directory.port import DirectoryRule

DIRECTORY_UNAVAILABLE = (
    "⏳ Le service est momentanément indisponible. Réessayez dans quelques minutes : "
    "vous reprendrez exactement là où vous en étiez, rien n'est perdu."
)

_DIRECTORY_RULE_TEXTS = {
    DirectoryRule.TOO_SHORT: "il est trop court pour les règles de l'ENT : choisissez-en un plus long",
    DirectoryRule.QUALITY: "il est trop simple pour les règles de l'ENT",
    DirectoryRule.IN_HISTORY: "vous l'avez déjà utilisé : l'ENT demande un mot de passe nouveau",
    DirectoryRule.TOO_YOUNG: "il a été changé il y a trop peu de temps : réessayez plus tard",
    DirectoryRule.OTHER: "il ne respecte pas les règles de l'ENT",
}


def directory_password_refused(rule: DirectoryRule) -> str:
    """The directory refused the new password: say which rule when it said so, ask another."""
    return (
        "❌ L'ENT refuse ce mot de passe : "
        + _DIRECTORY_RULE_TEXTS.get(rule, _DIRECTORY_RULE_TEXTS[DirectoryRule.OTHER])
        + ".\n\nTapez un autre mot de passe."
    )

# --- staff command line in LDAP mode -------------------------------------------------------------

IMPORT_REFUSED = (
    "L'import est refusé : le bot utilise l'annuaire LDAP (DIRECTORY=ldap), qui est la source "
    "des comptes. Créez ou modifiez les comptes dans l'annuaire."
)
PROVISIONAL_WRITE_REFUSED = (
    "Les courriers ne sont pas encore disponibles avec l'annuaire LDAP (DIRECTORY=ldap) : "
    "utilisez « accounts reset IDENTIFIANT » compte par compte, ou donnez le mot de passe "
    "provisoire et l'état « à activer » dans l'annuaire lui-même."
)


def staff_provisional_refused(rule: DirectoryRule) -> str:
    """The directory's policy refused the provisional password staff gave or drew."""
    return (
        "L'annuaire LDAP refuse ce mot de passe provisoire ("
        + _DIRECTORY_RULE_TEXTS.get(rule, _DIRECTORY_RULE_TEXTS[DirectoryRule.OTHER])
        + ") : rien n'a changé. Donnez-en un autre avec --mot-de-passe."
    )
STAFF_DIRECTORY_UNAVAILABLE = (
    "L'annuaire LDAP ne répond pas (LDAP_URL) : rien n'a été lu ni modifié. Réessayez dans "
    "quelques minutes."
)
