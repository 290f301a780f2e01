"""The test tree has no package files (pytest's default « prepend » import mode): two test
modules with the same file name in two folders stop the whole run at collection. Caught here,
in a second, rather than by a red CI."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_test_modules_have_unique_file_names() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
