"""The container and the systemd unit (issue 16), checked without Docker nor systemd: the
Dockerfile runs a real ``run_bot.py`` command as a non-root user with /data as its volume and a
health check on /healthz; the unit runs the same command, sandboxed, writing only its data."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def instructions(path: Path) -> list[tuple[str, str]]:
    """A Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    result: list[tuple[str, str]] = []
    buffer = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        keyword, _, arguments = buffer.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
        buffer = ""
    return result


def env_of(steps: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for keyword, arguments in steps:
        if keyword == "ENV":
            for part in shlex.split(arguments):
                key, _, value = part.partition("=")
                values[key] = value
    return values


def exec_form(arguments: str) -> list[str]:
    words = json.loads(arguments)
    assert isinstance(words, list) and all(isinstance(w, str) for w in words)
    return words


def test_the_image_runs_a_real_command_as_a_non_root_user_with_data_in_a_volume() -> None:
    steps = instructions(ROOT / "Dockerfile")
    keywords = [keyword for keyword, _ in steps]
    base = dict(steps)["FROM"]
    assert base.startswith(("python:3.11-slim", "python:3.12-slim"))
    users = [arguments for keyword, arguments in steps if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("CMD")
    volumes = [arguments for keyword, arguments in steps if keyword == "VOLUME"]
    assert any("/data" in exec_form(v) for v in volumes)
    env = env_of(steps)
    assert env["ENT_BOT_HOME"] == "/data"
    assert env["OPS_HOST"] == "0.0.0.0" and env["OPS_PORT"].isdigit()

    # Installed from the lock, with its hashes, as the README says.
    runs = " ".join(arguments for keyword, arguments in steps if keyword == "RUN")
    assert "--require-hashes -r requirements.lock" in runs
    copied = " ".join(arguments for keyword, arguments in steps if keyword == "COPY")
    for needed in ("requirements.lock", "run_bot.py", "bot", "conversations", "storage", "config"):
        assert needed in copied.split(), needed

    # The command is one run_bot.py knows, and the one that never starts the sandbox.
    command = exec_form(dict(steps)["CMD"])
    assert command[:2] == ["python", "run_bot.py"]
    assert build_parser().parse_args(command[2:]).command == "run"


def healthcheck_code() -> str:
    """The Python one-liner of the Dockerfile's HEALTHCHECK."""
    steps = instructions(ROOT / "Dockerfile")
    (check,) = [arguments for keyword, arguments in steps if keyword == "HEALTHCHECK"]
    _, _, command = check.partition("CMD ")
    words = exec_form(command)
    assert words[:2] == ["python", "-c"]
    return words[2]


def test_the_health_check_asks_healthz_without_curl() -> None:
    code = healthcheck_code()
    compile(code, "HEALTHCHECK", "exec")
    assert "/healthz" in code and "OPS_PORT" in code and "curl" not in code


def test_dockerignore_keeps_secrets_and_local_data_out_of_the_image() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".venv", "data", ".git", "config/school.toml"} <= ignored


def unit_settings(path: Path) -> dict[str, list[str]]:
    """A systemd unit's settings (a key may appear several times)."""
    values: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_the_systemd_unit_runs_the_bot_sandboxed_writing_only_its_data() -> None:
    unit = unit_settings(ROOT / "deploy" / "ent-activation-bot.service")
    assert unit["User"][0] not in ("root", "0")
    assert unit["Restart"] == ["on-failure"]
    assert unit["EnvironmentFile"] and unit["WorkingDirectory"]
    start = shlex.split(unit["ExecStart"][0])
    assert start[1] == "run_bot.py"
    assert build_parser().parse_args(start[2:]).command == "run"
    assert unit["RestartPreventExitStatus"] == ["2"]  # a start-up refusal is not retried

    home = dict(e.split("=", 1) for e in unit["Environment"])["ENT_BOT_HOME"]
    assert unit["ProtectSystem"] == ["strict"] and home in unit["ReadWritePaths"]
    for option in (
        "NoNewPrivileges",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
    ):
        assert unit[option] == ["yes"], option
    assert unit["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert unit["CapabilityBoundingSet"] == [""]
    assert "@system-service" in unit["SystemCallFilter"]
