"""CSV reading and line checks of the staff import, without a database."""

import pytest

from bot.staff.accounts_import import ImportFileError, check_line, parse_profil, read_csv
from storage.accounts import Profil

HEADER = "identifiant;mot_de_passe_provisoire;profil;prenom;nom;etablissement\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apprenti", Profil.APPRENTI),
        ("Apprentie", Profil.APPRENTI),
        ("Maître d'apprentissage", Profil.MAITRE_APPRENTISSAGE),
        ("MAITRE_APPRENTISSAGE", Profil.MAITRE_APPRENTISSAGE),
        ("Élève", Profil.ELEVE),
        (" parent ", Profil.PARENT),
        ("personnel", Profil.PERSONNEL),
        ("Autre", Profil.AUTRE),
        ("chef", None),
    ],
)
def test_profil_tolerates_case_and_accents(text: str, expected: Profil | None) -> None:
    assert parse_profil(text) is expected


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("delimiter", [";", ","])
def test_reads_both_delimiters_with_or_without_bom(bom: bytes, delimiter: str) -> None:
    text = HEADER.replace(";", delimiter) + delimiter.join(
        ["lea.martin", "Xy7kP2qa", "apprenti", "Léa", "Martin", "CFA Exemple"]
    )
    lines = list(read_csv(bom + text.encode("utf-8")))
    assert len(lines) == 1
    assert lines[0].number == 2
    assert lines[0].values["prenom"] == "Léa"
    assert check_line(lines[0]) is None


def test_headers_with_accents_and_capitals_are_accepted() -> None:
    text = (
        "Identifiant;Mot de passe provisoire;Profil;Prénom;Nom;Établissement\n"
        "a;Bv7-Kq2x;eleve;c;d;e\n"
    )
    (line,) = read_csv(text.encode())
    assert check_line(line) is None


def test_missing_column_is_a_file_error() -> None:
    with pytest.raises(ImportFileError, match="etablissement"):
        list(read_csv(b"identifiant;mot_de_passe_provisoire;profil;prenom;nom\n"))


def test_latin1_file_is_a_file_error() -> None:
    with pytest.raises(ImportFileError, match="UTF-8"):
        list(read_csv((HEADER + "a;b;eleve;Léa;x;y\n").encode("latin-1")))


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (";pw;eleve;a;b;c", "identifiant vide"),
        ("le a;pw;eleve;a;b;c", "espace"),
        ("lea;;eleve;a;b;c", "mot_de_passe_provisoire"),
        ("lea;pw;chef;a;b;c", "profil inconnu"),
        ("lea;pw;eleve;a;b;c;extra", "plus de cellules"),
    ],
)
def test_bad_lines_give_a_reason(row: str, reason: str) -> None:
    (line,) = read_csv((HEADER + row + "\n").encode())
    assert reason in (check_line(line) or "")


def test_blank_lines_are_skipped_and_numbers_are_file_lines() -> None:
    lines = list(read_csv((HEADER + "\na;b;eleve;c;d;e\n\nf;g;parent;h;i;j\n").encode()))
    assert [line.number for line in lines] == [3, 5]
