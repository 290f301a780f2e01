"""Control characters in an imported CSV (issue 29.2) and the one rule of provisional
passwords (issue 22.14): a line break in a name or an establishment becomes a space, one in an
identifier or a password refuses the line; a provisional password follows ``accounts reset``."""

from __future__ import annotations

import pytest

from bot.staff.accounts_import import check_line, provisional_password_ok, read_csv
from bot.staff.service import PasswordRefused, StaffService
from bot.texts import staff as staff_texts

HEADER = "identifiant;mot_de_passe_provisoire;profil;prenom;nom;etablissement;email_contact\n"


def test_line_breaks_and_controls_in_text_cells_become_one_space() -> None:
    data = HEADER + 'lea;Xq7-Tb4k-Wpz;eleve;"Léa\r\n";"Mar\ttin";"Lycée\r\n de\u2028Test\x00";\n'
    (line,) = read_csv(data.encode())
    assert check_line(line) is None
    values = line.values
    assert (values["prenom"], values["nom"], values["etablissement"]) == (
        "Léa",
        "Mar tin",
        "Lycée de Test",
    )


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ('"le\x07a";Xq7-Tb4k-Wpz', staff_texts.IMPORT_CONTROL_IN_IDENTIFIANT),
        ('lea;"Xq7-Tb4k\x00Wpz"', staff_texts.IMPORT_PROVISIONAL_REFUSED),
        ('lea;"Xq7-Tb4k\nWpz"', staff_texts.IMPORT_PROVISIONAL_REFUSED),
        ("lea;x", staff_texts.IMPORT_PROVISIONAL_REFUSED),  # 1 character: refused as by reset
        ("lea;" + "x" * 129, staff_texts.IMPORT_PROVISIONAL_REFUSED),
    ],
)
def test_typed_cells_with_controls_or_a_bad_password_refuse_the_line(
    cells: str, reason: str
) -> None:
    (line,) = read_csv((HEADER + cells + ";eleve;Léa;Martin;Lycée;\n").encode())
    assert check_line(line) == reason


@pytest.mark.parametrize(
    "password", ["x", "1234567", "Xq7 Tb4k Wpz", "Xq7-Tb4k\nWpz", "Xq7-Tb4k\x00", "y" * 129]
)
def test_import_and_reset_refuse_the_same_passwords(password: str) -> None:
    assert not provisional_password_ok(password)
    with pytest.raises(PasswordRefused):
        StaffService.check_given_password(password)


@pytest.mark.parametrize("password", ["12345678", "Xq7-Tb4k-Wpz", "z" * 128])
def test_import_and_reset_accept_the_same_passwords(password: str) -> None:
    assert provisional_password_ok(password)
    assert StaffService.check_given_password(password) == password
