"""The machine's floor for the event loop's worst stall while argon2 hashes.

    python bench/bench_stall_floor.py [--seconds 20] [--runs 3]

No bot, no I/O: an event loop whose only work is a 5 ms ticker (``asyncio.sleep(0.005)``,
how late it wakes is the stall, as ``bench_load.py`` measures it in the bot), first alone, then
while the bot's argon2 pool (``SecretHasher``: the settings' production parameters, pool size
and ``ARGON2_NICE``) is kept saturated. What the ticker shows in the second case is what the
kernel (and a VM's steal time) costs a loop at normal priority beside niced hashing: no code on
the loop can stall less than that. Prints worst and p99 per case, min / median / max of
``--runs`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.security import SecretHasher
from bot.settings import Settings


async def one_run(seconds: float, hashing: bool) -> tuple[float, float, float]:
    """(worst stall, p99 stall, hashes a second) of one run."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    hasher = SecretHasher(
        settings.argon2, threads=settings.argon2_threads, nice=settings.argon2_nice
    )
    end = time.perf_counter() + seconds
    stalls: list[float] = []
    done = 0

    async def ticker() -> None:
        while time.perf_counter() < end:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append(time.perf_counter() - before - 0.005)

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < end:
            await hasher.hash("Velo-Rouge-Soleil-42")
            done += 1

    workers = [worker() for _ in range(2 * hasher.threads)] if hashing else []
    await asyncio.gather(ticker(), *workers)
    stalls.sort()
    return stalls[-1], stalls[int(len(stalls) * 0.99)], done / seconds


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    threads = settings.argon2_threads or SecretHasher(settings.argon2).threads
    print(
        f"bench_stall_floor: 5 ms ticker, {args.seconds:g} s a run, {args.runs} runs; argon2id "
        f"t={settings.argon2.time_cost} m={settings.argon2.memory_cost} KiB "
        f"p={settings.argon2.parallelism}, pool of {threads}, nice +{settings.argon2_nice}"
    )
    for hashing in (False, True):
        runs = [await one_run(args.seconds, hashing) for _ in range(args.runs)]
        figures = []
        for index, name in enumerate(("worst stall ms", "p99 stall ms")):
            values = sorted(run[index] * 1000 for run in runs)
            figures.append(
                f"{name} {values[0]:.1f} / {statistics.median(values):.1f} / {values[-1]:.1f}"
            )
        rate = statistics.median(run[2] for run in runs)
        label = "pool saturated" if hashing else "alone"
        print(f"{label:15} " + ", ".join(figures) + (f", {rate:.2f} hashes/s" if hashing else ""))


if __name__ == "__main__":
    asyncio.run(main())
