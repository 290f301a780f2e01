"""Helpers shared by the tests (importable as ``support``)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

DATA = Path(__file__).parent / "data"

# Cheap argon2id for tests, through the same settings object and code path as production.
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 1024, "argon2_parallelism": 1}

ACCOUNTS = [
    # identifiant, provisional password, profil, prenom, nom, etablissement
    ("lea.martin", "Xq7-Tb4k-Wpz", "apprenti", "Léa", "Martin", "Lycée de Test"),
    ("paul.durand", "Rm2-Hv8n-Zcw", "maitre_apprentissage", "Paul", "Durand", "Lycée de Test"),
    ("nora.petit", "Gd5-Js3y-Fex", "parent", "Nora", "Petit", "Lycée de Test"),
    ("sam.roux", "Nt9-Bw6q-Kyv", "eleve", "Sam", "Roux", "Lycée de Test"),
]
GOOD_PASSWORD = "Velo-Rouge-Soleil-42"


class MutableClock:
    """A clock tests move forward by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward by ``timedelta(**delta)``."""
        self.now += timedelta(**delta)


def write_accounts_csv(path: Path, rows: list[tuple[str, ...]] = ACCOUNTS) -> Path:
    """A staff CSV file with ``rows``."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            ["identifiant", "mot_de_passe_provisoire", "profil", "prenom", "nom", "etablissement"]
        )
        writer.writerows(rows)
    return path


# Two establishments of a region (issue 27): their school files over the tests' school file.
UAI_A, UAI_B = "0450001A", "0450002B"
SCHOOL_A = """
[etablissement]
uai = "0450001a"
nom = "Lycée Alpha"
ent_url = "https://ent.example.org/alpha"
cgu_ajout = "alpha-cgu.txt"

[[contacts]]
nom = "Secrétariat Alpha"
email = "secretariat@alpha.example.org"

[horaires]
fuseau = "Europe/Paris"
lundi = ["08:00-12:00"]

[equipe]
support_chat_id = -1001
forum = true
telegram_ids = [111]
emails = ["cpe@alpha.example.org"]

[rappels]
apres_jours = 5
"""
SCHOOL_B = """
[etablissement]
uai = "0450002B"
nom = "CFA Bêta"
ent_url = "https://ent.example.org/beta"
cgu = "beta-cgu.txt"

[equipe]
support_chat_id = -1002
telegram_ids = [222]
"""


def write_two_schools(folder: Path) -> Path:
    """A SCHOOLS_DIR with establishments A and B in ``folder``; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alpha.toml").write_text(SCHOOL_A, encoding="utf-8")
    (folder / "alpha-cgu.txt").write_text("Article Alpha.", encoding="utf-8")
    (folder / "beta.toml").write_text(SCHOOL_B, encoding="utf-8")
    (folder / "beta-cgu.txt").write_text("CGU du CFA Bêta.", encoding="utf-8")
    return folder
