#!/usr/bin/env sh
# Write requirements.lock: the runtime dependencies of pyproject.toml, pinned with their hashes,
# for every platform and Python 3.11+ (uv, from PyPI). Pins that still fit are kept; pass
# --upgrade to take the newest releases. Run it after any change to the dependencies.
set -eu
cd "$(dirname "$0")/.."
.venv/bin/python -m pip install -q uv
exec .venv/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
  --generate-hashes --custom-compile-command "sh scripts/lock-dependencies.sh" \
  --quiet -o requirements.lock "$@"
