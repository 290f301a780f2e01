"""``requirements.lock`` (``sh scripts/lock-dependencies.sh``) stays in step with pyproject.toml:
every runtime dependency is pinned there, at a version pyproject allows, with its hashes."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from bot.settings import PROJECT_ROOT

LOCK = PROJECT_ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def runtime_dependencies() -> list[Requirement]:
    """``[project] dependencies`` of pyproject.toml."""
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as handle:
        return [Requirement(line) for line in tomllib.load(handle)["project"]["dependencies"]]


def lock_entries(text: str) -> list[str]:
    """The lock's requirement entries, continuation lines joined, comments left out."""
    joined = text.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if PIN.match(line.strip())]


def pins(text: str) -> dict[str, list[Version]]:
    """Pinned versions by canonical name (a universal lock may pin one per Python version)."""
    found: dict[str, list[Version]] = {}
    for entry in lock_entries(text):
        match = PIN.match(entry)
        assert match is not None
        found.setdefault(canonicalize_name(match[1]), []).append(Version(match[2]))
    return found


def drift(dependencies: list[Requirement], text: str) -> list[str]:
    """What the lock lacks: dependencies not pinned, or pinned at a version pyproject refuses."""
    locked = pins(text)
    problems = []
    for requirement in dependencies:
        versions = locked.get(canonicalize_name(requirement.name))
        if not versions:
            problems.append(f"{requirement.name}: not in requirements.lock")
        elif not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
            problems.append(f"{requirement}: locked at {', '.join(map(str, versions))}")
    return problems


def test_the_lock_pins_every_runtime_dependency() -> None:
    problems = drift(runtime_dependencies(), LOCK.read_text(encoding="utf-8"))
    assert not problems, "run: sh scripts/lock-dependencies.sh\n" + "\n".join(problems)


def test_every_locked_package_has_a_hash() -> None:
    entries = lock_entries(LOCK.read_text(encoding="utf-8"))
    assert len(entries) >= len(runtime_dependencies())
    assert all("--hash=sha256:" in entry for entry in entries)


def test_a_drift_is_caught() -> None:
    lock = (
        "aiosqlite==0.21.0 \\\n    --hash=sha256:00\n    # via x\n"
        "segno==1.5.0 ; python_version >= '3.11' \\\n  --hash=sha256:11\n"
    )
    dependencies = [Requirement("aiosqlite>=0.20"), Requirement("Segno>=1.6"), Requirement("tqdm")]
    assert drift(dependencies, lock) == [
        "Segno>=1.6: locked at 1.5.0",
        "tqdm: not in requirements.lock",
    ]
