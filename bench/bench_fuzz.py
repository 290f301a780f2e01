"""Fuzz the conversation with N inputs (default 10,000) and print what the bot did wrong.

    python bench/bench_fuzz.py [N]

The real Application polls the local Bot API server (HTTP), with a real SMTP server and a real
SQLite file; users are walked to each of the states of every procedure, then get inputs drawn
by hypothesis (texts with Unicode spaces, digits like « ① », emoji, very long texts; stickers,
photos; commands; pressed and forged buttons), one round at a time, every user at once (see
``tests/e2e/fuzz.py``). Prints the unhandled exceptions (the error handler ran) and the silent
inputs (no answer), grouped, and the time taken.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "e2e"), str(ROOT / "tests")]

from fuzz import STATES, run_fuzz  # type: ignore[import-not-found]  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="?", type=int, default=10_000)
    args = parser.parse_args()
    examples = max(1, -(-args.inputs // len(STATES)))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        rig = run_fuzz(Path(folder), examples)
    elapsed = time.perf_counter() - started
    crashes = [f for f in rig.findings if f.crashed]
    silent = [f for f in rig.findings if f.silent]
    print(f"inputs: {rig.inputs} over {len(rig.states_reached)}/{len(STATES)} states")
    print(f"unhandled exceptions: {len(rig.errors.unhandled)}")
    for line, count in collections.Counter(rig.errors.unhandled).most_common(10):
        print(f"  {count:5d}  {line}")
    print(f"inputs that got the error message: {len(crashes)}")
    print(f"silent inputs: {len(silent)}")
    for finding in silent[:10]:
        print(f"  from {finding.state}: {' → '.join(finding.history[-3:])}")
    print(f"other error logs: {len(rig.errors.other)}")
    for line, count in collections.Counter(rig.errors.other).most_common(5):
        print(f"  {count:5d}  {line[:160]}")
    print(f"time: {elapsed:.1f} s ({rig.inputs / elapsed:.0f} inputs/s, walks included)")


if __name__ == "__main__":
    main()
