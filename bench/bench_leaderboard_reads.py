"""Board read latency: the HTTP API beside bare Redis doing the same read, as a ratio.

Loads ``--teams`` teams and ``--players`` players into the Redis store under a private key
prefix (deleted afterwards), creates the game in a scratch SQLite database (its dates in
the past, so the server never rebuilds its boards), and then, for each case, times
``--requests`` sequential reads of two kinds, interleaved (one of each in turn, the order
alternating), so both see the same machine at the same moment:

* api:   ``GET /api/v1/games/{slug}/leaderboards/...`` of the real application
         (``taptrail.server.create_app``: every middleware, routing, validation, the board cache,
         the store's Lua call, JSON). ``--mode server`` (the default): one ``taptrail
         serve`` process (uvicorn) on a loopback port, read over one keep-alive
         connection by a plain asyncio-streams HTTP/1.1 client, so the load generator
         takes little CPU; ``--mode asgi``: the same app called in this process.
* redis: the store's own read through redis-py: the same Lua script
         (``leaderboard.redis_scripts.READ``, by EVALSHA) with the same keys and arguments
         the API's store call sends for that page (version, board size, the page's
         ZRANGE, ranks by ZCOUNT, the records by HMGET), on a connection of its own. It
         is the floor of an API read that misses the cache: one round trip to Redis and
         redis-py's parsing of the answer, no HTTP, no JSON decoding or encoding.

The API's cache answers identical reads within a second without Redis (so "top 20", read
every few milliseconds, is mostly served from it); random pages almost always miss.

It prints, per case and for all reads together, API p50/p99, Redis p50/p99 and the ratio
API p99 / Redis p99 with PASS or FAIL against ``--target`` (3); the pure engine's rate in
the same run (synthetic walkers scored in memory, best of three passes: this machine's
speed at the time) and the load average before and after. Exits 1 unless all reads pass.

    python bench/bench_leaderboard_reads.py --teams 10000 --players 100000 --requests 2000
    python bench/bench_leaderboard_reads.py --server-root ../other-checkout   # its code
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from cryptography.fernet import Fernet
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bench_unauth_bodies import engine_rate  # noqa: E402
from processes import stop_processes  # noqa: E402
from rescore_town import definition  # noqa: E402

from kernel.db import make_engine, make_sessionmaker  # noqa: E402
from kernel.scope import OPERATOR  # noqa: E402
from kernel.secrets_box import SecretBox  # noqa: E402
from leaderboard.models import TEAM_KINDS, BoardSnapshot, PlayerRecord, TeamRecord  # noqa: E402
from leaderboard.redis_scripts import READ  # noqa: E402
from leaderboard.redis_store import RedisStore  # noqa: E402
from organising.service import load_definition  # noqa: E402
from taptrail.migrate import upgrade  # noqa: E402

GAME = "bench-town"
Call = Callable[[int], Awaitable[None]]


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def create_game(database_url: str) -> None:
    """The game in the database (boards are only served for a game that exists), with its
    dates in the past: not in play, so a starting server does not rebuild its boards."""
    engine = make_engine(database_url)
    try:
        await upgrade(engine)
        d = definition(GAME)
        d["game"]["starts_at"] = "2020-05-01T00:00:00+01:00"
        d["game"]["ends_at"] = "2020-06-12T00:00:00+01:00"
        async with make_sessionmaker(engine)() as s:
            await load_definition(
                s,
                yaml.safe_dump(d),
                box=SecretBox(Fernet.generate_key()),
                actor="bench",
                scope=OPERATOR,
            )
            await s.commit()
    finally:
        await engine.dispose()


class HttpClient:
    """GETs over one keep-alive HTTP/1.1 connection (plain asyncio streams)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            int(v)
            for k, _, v in (ln.partition(":") for ln in lines[1:])
            if k.lower() == "content-length"
        )
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class AsgiClient:
    """GETs straight into an ASGI app in this process (no HTTP parsing at all)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def get(self, target: str) -> tuple[int, bytes]:
        path, _, query = target.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1")],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        status, body = 0, b""

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body += message.get("body", b"")

        await self.app(scope, receive, send)
        return status, body


def server_env(args: argparse.Namespace, folder: Path, prefix: str) -> dict[str, str]:
    return {
        **os.environ,
        "TAPTRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        "TAPTRAIL_REDIS_URL": args.redis_url,
        "TAPTRAIL_REDIS_PREFIX": prefix,
        "TAPTRAIL_SECRET_KEY_FILE": str(folder / "taptrail.key"),
        "TAPTRAIL_PERIODIC_JOBS": "false",
        "TAPTRAIL_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(args.server_root),
    }


def start_server(
    env: dict[str, str], root: Path, folder: Path
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log_path = folder / "server.log"
    cmd = [sys.executable, "-m", "taptrail.cli", "serve", "--host", "127.0.0.1"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port)], cwd=root, env=env, stdout=log, stderr=log
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_processes([proc])
    raise RuntimeError(f"the server did not start: {log_path.read_text()[-2000:]}")


def cases(
    args: argparse.Namespace, snap: BoardSnapshot, prefix: str, rng: random.Random
) -> dict[str, tuple[Callable[[int], str], Callable[[int], tuple[list[str], list[Any]]]]]:
    """Each case: the API target of read i, and the same read's Lua keys and arguments."""
    n_teams, n_public = args.teams, sum(p.public for p in snap.players)
    offsets = [rng.randrange(0, max(1, n_teams - 20)) for _ in range(args.requests)]
    p_offsets = [rng.randrange(0, max(1, n_public - 20)) for _ in range(args.requests)]
    codes = [f"T{rng.randrange(n_teams):05d}" for _ in range(args.requests)]
    p = f"{prefix}:{{{GAME}}}:"
    base = f"/api/v1/games/{GAME}/leaderboards"

    def lua(data: str, segments: list[str], mode: str, a: int | str, b: int) -> Any:
        return [p + "meta", p + data, *(p + s for s in segments)], [p, mode, a, b]

    teams, avg = ["teams:total:all"], ["teams:avg:all", "teams:avgx:all"]
    return {
        "teams total, top 20": (
            lambda i: f"{base}/teams",
            lambda i: lua("data:teams", teams, "page", 0, 20),
        ),
        "teams total, random page": (
            lambda i: f"{base}/teams?offset={offsets[i]}&limit=20",
            lambda i: lua("data:teams", teams, "page", offsets[i], 20),
        ),
        "teams average, random page": (
            lambda i: f"{base}/teams?by=average&offset={offsets[i] // 2}",
            lambda i: lua("data:teams", avg, "page", offsets[i] // 2, 20),
        ),
        "players, random page": (
            lambda i: f"{base}/players?offset={p_offsets[i]}",
            lambda i: lua("data:players", ["players"], "page", p_offsets[i], 20),
        ),
        "team around (n=3)": (
            lambda i: f"{base}/teams/{codes[i]}/around",
            lambda i: lua("data:teams", teams, "around", codes[i], 3),
        ),
    }


async def interleaved(n: int, api: Call, bare: Call) -> tuple[list[float], list[float]]:
    for i in range(min(50, n)):  # warm up connections and script caches
        await api(i)
        await bare(i)
    api_ms: list[float] = []
    bare_ms: list[float] = []
    for i in range(n):
        pair = ((api, api_ms), (bare, bare_ms)) if i % 2 == 0 else ((bare, bare_ms), (api, api_ms))
        for call, out in pair:
            t0 = time.perf_counter()
            await call(i)
            out.append((time.perf_counter() - t0) * 1000)
    return api_ms, bare_ms


def row(name: str, api: list[float], bare: list[float], target: float) -> dict[str, Any]:
    ratio = pct(api, 99) / pct(bare, 99)
    return {
        "case": name,
        "api_p50": pct(api, 50),
        "api_p99": pct(api, 99),
        "redis_p50": pct(bare, 50),
        "redis_p99": pct(bare, 99),
        "ratio_p99": ratio,
        "pass": ratio <= target,
    }


async def measure(
    args: argparse.Namespace, client: Any, prefix: str, snap: BoardSnapshot
) -> list[dict[str, Any]]:
    redis = Redis.from_url(args.redis_url, decode_responses=True)
    script = redis.register_script(READ)
    rows, all_api, all_bare = [], [], []
    try:
        for name, (target, lua) in cases(args, snap, prefix, random.Random(11)).items():

            async def api(i: int, target: Callable[[int], str] = target) -> None:
                status, body = await client.get(target(i))
                if status != 200:
                    raise RuntimeError(f"{target(i)} answered {status}: {body[:300]!r}")

            async def bare(i: int, lua: Any = lua) -> None:
                keys, argv = lua(i)
                res = await script(keys=keys, args=argv)
                if int(res[1]) < 0:
                    raise RuntimeError(f"the bare read of {argv} found nothing")

            api_ms, bare_ms = await interleaved(args.requests, api, bare)
            all_api += api_ms
            all_bare += bare_ms
            rows.append(row(name, api_ms, bare_ms, args.target))
            print_row(rows[-1])
        rows.append(row("all reads", all_api, all_bare, args.target))
        print_row(rows[-1])
    finally:
        await redis.aclose()
    return rows


def print_row(r: dict[str, Any]) -> None:
    verdict = "PASS" if r["pass"] else "FAIL"
    print(
        f"{r['case']:28} {r['api_p50']:8.2f} {r['api_p99']:8.2f} {r['redis_p50']:9.2f} "
        f"{r['redis_p99']:9.2f} {r['ratio_p99']:6.2f}x {verdict}",
        flush=True,
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    rate = engine_rate()
    print(f"pure engine: {rate:,.0f} taps/s (synthetic walkers, best of 3)", flush=True)
    prefix = f"ttbench-{uuid.uuid4().hex[:8]}"
    store = RedisStore.from_url(args.redis_url, key_prefix=prefix)
    proc: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="taptrail-bench-reads-") as tmp:
        folder = Path(tmp)
        env = server_env(args, folder, prefix)
        try:
            t0 = time.perf_counter()
            snap = snapshot(args.teams, args.players, random.Random(7))
            await store.replace(GAME, snap)
            await create_game(env["TAPTRAIL_DATABASE_URL"])
            print(
                f"loaded {args.teams} teams, {args.players} players "
                f"({sum(p.public for p in snap.players)} public) in {time.perf_counter() - t0:.1f}s"
            )
            print(f"mode={args.mode}, {args.requests} interleaved reads of each kind per case (ms)")
            print(
                f"{'case':28} {'api p50':>8} {'api p99':>8} {'redis p50':>9} {'redis p99':>9} "
                f"{'ratio99':>7} (target <= {args.target:g}x)"
            )
            if args.mode == "server":
                proc, port = start_server(env, args.server_root, folder)
                client: Any = HttpClient(port)
                try:
                    rows = await measure(args, client, prefix, snap)
                finally:
                    await client.close()
            else:
                from kernel.settings import Settings
                from taptrail.server import create_app

                settings = Settings(
                    database_url=env["TAPTRAIL_DATABASE_URL"],
                    redis_url=args.redis_url,
                    redis_prefix=prefix,
                    secret_key_file=env["TAPTRAIL_SECRET_KEY_FILE"],
                    periodic_jobs=False,
                    log_level="WARNING",
                )
                app = create_app(settings)
                async with app.router.lifespan_context(app):
                    rows = await measure(args, AsgiClient(app), prefix, snap)
        finally:
            if proc is not None:
                stop_processes([proc])
            await store.delete(GAME)
            await store.close()
    load_after = os.getloadavg()
    print(
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
        f"({os.cpu_count()} CPUs); pure engine {rate:,.0f} taps/s"
    )
    return {
        "mode": args.mode,
        "requests": args.requests,
        "target": args.target,
        "rows": rows,
        "engine_rate": rate,
        "load_before": load_before[0],
        "load_after": load_after[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--teams", type=int, default=10_000)
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--mode", choices=("server", "asgi"), default="server")
    parser.add_argument("--target", type=float, default=3.0, help="API p99 / Redis p99 (3)")
    parser.add_argument(
        "--server-root",
        type=Path,
        default=ROOT,
        help="serve the code of this checkout (server mode; to compare before and after)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    args.server_root = args.server_root.resolve()
    out = asyncio.run(run(args))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    sys.exit(0 if out["rows"][-1]["pass"] else 1)


if __name__ == "__main__":
    main()
