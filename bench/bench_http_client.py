"""The Bot API client's cost on the event loop: PTB's ``HTTPXRequest`` against ``AiohttpRequest``.

    python bench/bench_http_client.py [--calls 3000] [--concurrency 64] [--pool 32] [--runs 3]

The local Bot API server runs in its own process (so that its work is not counted); this
process sends ``--calls`` ``sendMessage`` calls through a ``telegram.Bot``, ``--concurrency`` at
once, with each client and a pool of ``--pool`` connections, and prints per client the CPU time
of this process a call (``time.process_time``: the loop's thread does all the work), the calls a
second and the p50 / p95 of a call, min / median / max of ``--runs`` runs, alternating clients.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

from bot.telegram_api.http import AiohttpRequest

TOKEN = "123456789:AAE2eBenchTokenForTheLocalBotApiServer"
CHAT = 424242


def serve(port: int) -> None:
    """The local Bot API server, alone in this process, until killed."""
    from bot.sandbox.bot_api_server import LocalBotApi

    async def run() -> None:
        server = LocalBotApi(bot_token=TOKEN, bot_username="bench_bot", bot_first_name="Bench")
        server.user(CHAT, first_name="Bench")
        await server.start(host="127.0.0.1", port=port)
        await asyncio.Event().wait()

    asyncio.run(run())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make(kind: str, pool: int) -> BaseRequest:
    if kind == "httpx":
        return HTTPXRequest(connection_pool_size=pool, read_timeout=10, pool_timeout=10)
    return AiohttpRequest(pool, read_timeout=10, pool_timeout=10)


async def one_run(url: str, kind: str, calls: int, concurrency: int, pool: int) -> dict[str, float]:
    bot = Bot(TOKEN, base_url=f"{url}/bot", request=make(kind, pool))
    async with bot:
        for _ in range(50):  # warm the pool
            await bot.send_message(CHAT, "warm-up")
        times: list[float] = []
        left = calls

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                began = time.perf_counter()
                await bot.send_message(CHAT, "Bonjour ! Quel est votre profil ?")
                times.append(time.perf_counter() - began)

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    times.sort()
    return {
        "cpu_ms": cpu / calls * 1000,
        "per_second": calls / wall,
        "p50_ms": times[len(times) // 2] * 1000,
        "p95_ms": times[int(len(times) * 0.95)] * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--pool", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    port = free_port()
    server = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            await asyncio.sleep(0.1)
        results: dict[str, list[dict[str, float]]] = {"httpx": [], "aiohttp": []}
        for _ in range(args.runs):
            for kind in results:
                results[kind].append(
                    await one_run(url, kind, args.calls, args.concurrency, args.pool)
                )
    finally:
        server.kill()
        await server.wait()
    print(
        f"bench_http_client: {args.calls} sendMessage, {args.concurrency} at once, pool of "
        f"{args.pool}, {args.runs} runs (min / median / max)"
    )
    for kind, runs in results.items():
        line = []
        for name in ("cpu_ms", "per_second", "p50_ms", "p95_ms"):
            values = sorted(run[name] for run in runs)
            line.append(
                f"{name} {values[0]:.2f} / {statistics.median(values):.2f} / {values[-1]:.2f}"
            )
        print(f"{kind:8} " + ", ".join(line))


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve(int(sys.argv[sys.argv.index("--serve") + 1]))
    else:
        asyncio.run(main())
