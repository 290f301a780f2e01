"""argon2id cost on this machine, and how late the event loop gets while users hash passwords.

    python bench/bench_hashing.py [--hashes 8]

Prints the mean time of one hash with the default (RFC 9106 low-memory) parameters, and the
worst delay of a 10 ms ticker while that many hashes run concurrently.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.security import Argon2Params, SecretHasher


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hashes", type=int, default=8)
    args = parser.parse_args()
    params = Argon2Params()
    hasher = SecretHasher(params)
    await hasher.hash("warm-up")
    start = time.perf_counter()
    for _ in range(5):
        await hasher.hash("Velo-Rouge-Soleil-42")
    one = (time.perf_counter() - start) / 5
    print(f"one argon2id hash ({params}): {one * 1000:.0f} ms")

    worst = 0.0
    stop = False

    async def ticker() -> None:
        nonlocal worst
        while not stop:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            worst = max(worst, time.perf_counter() - before - 0.01)

    tick = asyncio.create_task(ticker())
    start = time.perf_counter()
    await asyncio.gather(*(hasher.hash(f"pw{n}") for n in range(args.hashes)))
    total = time.perf_counter() - start
    stop = True
    await tick
    print(
        f"{args.hashes} concurrent hashes: {total:.2f} s in all; "
        f"worst event-loop delay meanwhile: {worst * 1000:.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
