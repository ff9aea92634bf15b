"""Board read latency: the HTTP API on the Redis store beside a bare Redis ZRANGE.

Loads N teams and M players into the Redis store (a private key prefix, deleted afterwards),
then times sequential reads:

* api:   GET /api/v1/games/{slug}/leaderboards/... through httpx, against uvicorn in a
         subprocess (``--mode server``, the default) or in-process via ASGITransport
         (``--mode asgi``). Includes HTTP, FastAPI, validation, one Lua call and JSON.
* redis: ZRANGE ... WITHSCORES of the same board slice with redis-py (the floor: one
         round trip, no ranks, no records).

    python bench/bench_leaderboard_reads.py --teams 10000 --players 100000 --requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api import leaderboard as leaderboard_api  # noqa: E402
from harness.servers import free_port  # noqa: E402
from kernel.vocabulary import TEAM_KINDS  # noqa: E402
from leaderboard.models import BoardSnapshot, PlayerRecord, TeamRecord  # noqa: E402
from leaderboard.redis_store import RedisStore  # noqa: E402
from leaderboard.runtime import LeaderboardRuntime  # noqa: E402

GAME = "bench-town"


def create_app(redis_url: str | None = None, key_prefix: str | None = None) -> FastAPI:
    """The API under test; uvicorn calls it without arguments (settings from the env)."""
    runtime = LeaderboardRuntime(
        redis_url or os.environ["BENCH_REDIS_URL"],
        key_prefix=key_prefix or os.environ["BENCH_KEY_PREFIX"],
    )

    async def lifespan(app: FastAPI) -> Any:
        await runtime.start()
        yield
        await runtime.stop()

    app = FastAPI(lifespan=lifespan)  # type: ignore[arg-type]
    app.state.leaderboard = runtime

    async def game_exists(slug: str) -> bool:
        return slug == GAME

    app.state.game_exists = game_exists
    api = APIRouter(prefix="/api/v1")
    api.include_router(leaderboard_api.router)
    app.include_router(api)
    return app


def snapshot(n_teams: int, n_players: int, rng: random.Random) -> BoardSnapshot:
    teams = [
        TeamRecord(
            f"T{i:05d}",
            f"Team {rng.randrange(n_teams // 3 + 1)}",
            rng.choice(TEAM_KINDS),
            rng.randrange(0, 5000, 10),
            rng.randrange(0, 400_000),
            rng.randrange(0, 40),
        )
        for i in range(n_teams)
    ]
    players = [
        PlayerRecord(
            str(i),
            f"Fox {rng.randrange(n_players // 4 + 1)}",
            rng.randrange(0, 800, 10),
            rng.randrange(0, 60_000),
            rng.random() < 0.8,
            f"T{rng.randrange(n_teams):05d}",
        )
        for i in range(n_players)
    ]
    return BoardSnapshot.of(teams, players)


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def timed(n: int, call: Callable[[int], Awaitable[Any]]) -> list[float]:
    for i in range(min(50, n)):  # warm up connections and script caches
        await call(i)
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        await call(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def run(args: argparse.Namespace) -> None:
    prefix = f"ttbench-{uuid.uuid4().hex[:8]}"
    store = RedisStore.from_url(args.redis_url, key_prefix=prefix)
    rng = random.Random(7)
    t0 = time.perf_counter()
    snap = snapshot(args.teams, args.players, rng)
    await store.replace(GAME, snap)
    print(
        f"loaded {args.teams} teams, {args.players} players "
        f"({sum(p.public for p in snap.players)} public) in {time.perf_counter() - t0:.1f}s"
    )
    try:
        await measure(args, prefix, store, snap, rng)
    finally:
        await store.delete(GAME)
        await store.close()


async def measure(
    args: argparse.Namespace,
    prefix: str,
    store: RedisStore,
    snap: BoardSnapshot,
    rng: random.Random,
) -> None:
    team_board_key = f"{prefix}:{{{GAME}}}:teams:total:all"
    avg_board_key = f"{prefix}:{{{GAME}}}:teams:avg:all"
    player_board_key = f"{prefix}:{{{GAME}}}:players"
    n_teams, n_public = args.teams, sum(p.public for p in snap.players)
    offsets = [rng.randrange(0, max(1, n_teams - 20)) for _ in range(args.requests)]
    p_offsets = [rng.randrange(0, max(1, n_public - 20)) for _ in range(args.requests)]
    codes = [f"T{rng.randrange(n_teams):05d}" for _ in range(args.requests)]
    proc = None
    client: httpx.AsyncClient
    if args.mode == "server":
        port = free_port()
        env = {**os.environ, "BENCH_REDIS_URL": args.redis_url, "BENCH_KEY_PREFIX": prefix}
        cmd = [sys.executable, "-m", "uvicorn", "bench.bench_leaderboard_reads:create_app"]
        cmd += ["--factory", "--port", str(port), "--log-level", "warning", "--no-access-log"]
        proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, env=env)
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
        for _ in range(100):
            try:
                await client.get("/docs")
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    else:
        app = create_app(args.redis_url, prefix)
        await app.state.leaderboard.start()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    redis = Redis.from_url(args.redis_url, decode_responses=True)
    base = f"/api/v1/games/{GAME}/leaderboards"
    cases: dict[str, tuple[Callable[[int], Awaitable[Any]], Callable[[int], Awaitable[Any]]]] = {
        "teams total, top 20": (
            lambda i: client.get(f"{base}/teams"),
            lambda i: redis.zrange(team_board_key, 0, 19, withscores=True),
        ),
        "teams total, random page": (
            lambda i: client.get(f"{base}/teams", params={"offset": offsets[i], "limit": 20}),
            lambda i: redis.zrange(team_board_key, offsets[i], offsets[i] + 19, withscores=True),
        ),
        "teams average, random page": (
            lambda i: client.get(
                f"{base}/teams", params={"by": "average", "offset": offsets[i] // 2}
            ),
            lambda i: redis.zrange(
                avg_board_key, offsets[i] // 2, offsets[i] // 2 + 19, withscores=True
            ),
        ),
        "players, random page": (
            lambda i: client.get(f"{base}/players", params={"offset": p_offsets[i]}),
            lambda i: redis.zrange(
                player_board_key, p_offsets[i], p_offsets[i] + 19, withscores=True
            ),
        ),
        "team around (n=3)": (
            lambda i: client.get(f"{base}/teams/{codes[i]}/around"),
            lambda i: redis.zrange(team_board_key, offsets[i], offsets[i] + 6, withscores=True),
        ),
    }
    try:
        print(f"mode={args.mode}, {args.requests} sequential requests per case (ms)")
        print(
            f"{'case':28} {'api p50':>8} {'api p99':>8} {'redis p50':>9} {'redis p99':>9} ratio99"
        )
        all_api: list[float] = []
        for name, (api_call, redis_call) in cases.items():
            r = await api_call(0)
            assert r.status_code == 200, r.text
            api = await timed(args.requests, api_call)
            bare = await timed(args.requests, redis_call)
            all_api += api
            print(
                f"{name:28} {pct(api, 50):8.2f} {pct(api, 99):8.2f} {pct(bare, 50):9.2f} "
                f"{pct(bare, 99):9.2f} {pct(api, 99) / pct(bare, 99):6.1f}x"
            )
        print(
            f"{'all API reads':28} {pct(all_api, 50):8.2f} {pct(all_api, 99):8.2f}"
            f"   (mean {statistics.fmean(all_api):.2f})"
        )
    finally:
        await client.aclose()
        if proc is not None:
            proc.terminate()
            await proc.wait()
        else:
            await app.state.leaderboard.stop()
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--teams", type=int, default=10_000)
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--mode", choices=("server", "asgi"), default="server")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
