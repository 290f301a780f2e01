"""Texts of a region's establishments (issue 27): errors of the school files, staff refusals
and the ``etablissements`` listing. Each error is one French sentence naming the file and the
field to fix."""

from __future__ import annotations


def section_needed(path: str, section: str) -> str:
    return f"{path} : [{section}] doit être une section"


def integer_needed(path: str, section: str, key: str) -> str:
    return f"{path} : dans [{section}], « {key} » doit être un nombre entier"


def integers_needed(path: str, section: str, key: str) -> str:
    return f"{path} : dans [{section}], « {key} » doit être une liste de nombres entiers"


def boolean_needed(path: str, section: str, key: str) -> str:
    return f"{path} : dans [{section}], « {key} » vaut true ou false"


def positive_needed(path: str, section: str, key: str) -> str:
    return f"{path} : dans [{section}], « {key} » doit être un nombre positif"


def emails_needed(path: str, section: str, key: str) -> str:
    return f"{path} : dans [{section}], « {key} » doit être une liste d'adresses e-mail"


def schools_dir_missing(path: str) -> str:
    return f"SCHOOLS_DIR : le dossier {path} n'existe pas (un fichier .toml par établissement)"


def schools_dir_empty(path: str) -> str:
    return f"SCHOOLS_DIR : le dossier {path} ne contient aucun fichier .toml d'établissement"


def uai_missing(path: str) -> str:
    return f"{path} : il manque « uai » dans [etablissement] (le code UAI, par exemple 0451234X)"


def uai_invalid(path: str, value: str) -> str:
    return (
        f"{path} : dans [etablissement], « uai » vaut « {value} », or un code UAI a 7 chiffres "
        "et une lettre (par exemple 0451234X)"
    )


def questions_are_the_region_s(path: str) -> str:
    """An establishment's file lists its own secret questions (they are the region's)."""
    return (
        f"{path} : [questions_secretes] est commun à toute la région ; retirez-le de ce "
        "fichier et gardez la liste dans le fichier de la région (SCHOOL_CONFIG)"
    )


def uai_twice(path: str, uai: str, other: str) -> str:
    return f"{path} : l'UAI {uai} est déjà celui de {other} (un fichier par établissement)"


def establishment_required(uais: list[str]) -> str:
    """A staff command without ``--etablissement`` while several establishments exist."""
    listed = ", ".join(uais)
    return (
        "Plusieurs établissements sont configurés : précisez lequel avec --etablissement UAI "
        f"({listed}), ou --etablissement tous pour toute la région."
    )


def establishment_unknown(value: str, uais: list[str]) -> str:
    """``--etablissement`` names no configured establishment."""
    listed = ", ".join(uais)
    return (
        f"Aucun établissement « {value} » : donnez l'UAI d'un établissement configuré "
        f"({listed}), ou tous pour toute la région."
    )


def uai_unknown_in_import(value: str) -> str:
    """A CSV line whose ``uai`` is not a configured establishment."""
    return f"UAI « {value} » inconnu : aucun fichier d'établissement ne le déclare"


def uai_outside_import(value: str, uai: str) -> str:
    """A CSV line of another establishment than the one the import is for."""
    return f"UAI « {value} » : cet import est pour l'établissement {uai} seulement"


IDENTIFIER_RESERVED = (
    "identifiant déjà rattaché à un autre établissement : voyez avec l'équipe régionale"
)

ESTABLISHMENTS_HEADER = ("UAI", "Établissement", "Comptes", "Activés", "Demandes ouvertes")
REGION_ROW = "Région (sans établissement)"
TOTAL_ROW = "Total"
NO_ESTABLISHMENT = (
    "Aucun établissement configuré (SCHOOLS_DIR n'est pas défini) : le bot sert un seul "
    "établissement, celui de SCHOOL_CONFIG."
)
CLI_ESTABLISHMENTS_HELP = (
    "lister les établissements : UAI, nom, comptes, activés, demandes ouvertes"
)
CLI_ETABLISSEMENT_HELP = (
    "UAI de l'établissement (obligatoire quand plusieurs sont configurés ; tous : la région)"
)
STATS_BY_ESTABLISHMENT = "Par établissement (du moins activé au plus activé) :"
