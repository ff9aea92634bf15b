"""Burst of board reads: a hall full of phones opening the same board at the same moment.

Creates a scratch PostgreSQL database, loads a town (40 teams, ``--holders`` holders with
``--taps`` taps, scored once, as ``bench_rescore.py`` builds it), starts one real
``taptrail serve`` (uvicorn) on a loopback port with that database and Redis, reads the
board once (the hall screen has it open), then sends ``--requests`` (2,000)
``GET /api/v1/games/{slug}/leaderboards/teams?by=average`` at the same moment, each on its
own connection, and waits for every answer (at most ``--timeout`` seconds; then it stops).
It prints how many were answered and with 2xx, the latency p50/p99/max (from the moment the
burst was released to each answer), the server's log lines with tracebacks or failed reads,
bare Redis ``ZRANGE`` p99 of the same board in the same run (sequential: one round trip, the
floor), and the pure engine's rate on this machine (its speed at the time of the run).

    .venv/bin/python bench/bench_board_burst.py                     # 2,000 reads at once
    .venv/bin/python bench/bench_board_burst.py --requests 400 --pool 5

Only loopback: the server listens on 127.0.0.1. The game's Redis keys are deleted and the
scratch database dropped at the end (unless ``--keep``). Exits 1 unless every read is 2xx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import yaml
from cryptography.fernet import Fernet
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_rescore import pure_engine_rate, timed_rescore  # noqa: E402
from processes import process_cpu, stop_processes  # noqa: E402
from rescore_town import bulk_load, definition, vacuum  # noqa: E402
from scratch_db import add_database_args, create_database, delete_boards, drop_database  # noqa: E402

from harness.servers import free_port, wait_ready  # noqa: E402
from kernel.db import make_engine, make_sessionmaker  # noqa: E402
from kernel.scope import OPERATOR  # noqa: E402
from kernel.secrets_box import SecretBox  # noqa: E402
from organising.service import load_definition  # noqa: E402
from taptrail.migrate import upgrade  # noqa: E402

MAX_REQUESTS = 10_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_args(parser)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--requests", type=int, default=2000, help="reads sent at once")
    parser.add_argument("--holders", type=int, default=2000)
    parser.add_argument("--taps", type=int, default=20_000)
    parser.add_argument(
        "--pool", type=int, default=None, help="TAPTRAIL_REDIS_MAX_CONNECTIONS of the server"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="give up after (s)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be 1..{MAX_REQUESTS}")
    return args


def pct(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def load_town(sa_url: str, url: str, slug: str, key: str, args: argparse.Namespace) -> int:
    eng = make_engine(sa_url)
    try:
        await upgrade(eng)
        async with make_sessionmaker(eng)() as s:
            loaded = await load_definition(
                s,
                yaml.safe_dump(definition(slug)),
                box=SecretBox(key),
                actor="bench",
                scope=OPERATOR,
            )
            await s.commit()
    finally:
        await eng.dispose()
    conn = await asyncpg.connect(url)
    try:
        await bulk_load(conn, loaded.game_id, args.holders, args.taps)
    finally:
        await conn.close()
    await timed_rescore(sa_url, loaded.game_id, "initial scoring", None)
    await vacuum(url)
    return int(loaded.game_id)


def start_server(
    sa_url: str, key: str, args: argparse.Namespace, log_path: Path
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "TAPTRAIL_DATABASE_URL": sa_url, "TAPTRAIL_SECRET_KEY": key}
    env["TAPTRAIL_REDIS_URL"] = args.redis_url
    env["TAPTRAIL_LOG_LEVEL"] = "WARNING"
    env["TAPTRAIL_PERIODIC_JOBS"] = "false"
    if args.pool is not None:
        env["TAPTRAIL_REDIS_MAX_CONNECTIONS"] = str(args.pool)
    command = [sys.executable, "-m", "taptrail.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, port


def tail(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-3000:]


async def get_once(port: int, path: str) -> int:
    """One GET on its own connection (HTTP/1.1, closed after the answer): the status.

    Plain asyncio streams rather than httpx: httpx's connection pool spends CPU per request
    that grows with its number of connections, and at 2,000 connections the load generator
    on the same two CPUs, not the server, would set the figures."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        writer.write(request.encode())
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # the rest, until the server closes
        return int(status_line.split()[1])
    finally:
        writer.close()


async def burst(port: int, path: str, n: int, timeout_s: float) -> dict[str, Any]:
    """n GETs released together, each on its own connection; latency from the release."""
    release = asyncio.Event()
    t0 = 0.0

    async def one() -> tuple[int | str, float]:
        await release.wait()
        try:
            status = await asyncio.wait_for(get_once(port, path), timeout_s)
            return status, time.perf_counter() - t0
        except (OSError, TimeoutError, ValueError, IndexError) as exc:
            return type(exc).__name__, time.perf_counter() - t0

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.sleep(0.2)  # every task is waiting on the release
    cpu = time.process_time()
    t0 = time.perf_counter()
    release.set()
    done, pending = await asyncio.wait(tasks, timeout=timeout_s + 5)
    for task in pending:
        task.cancel()
    wall = time.perf_counter() - t0
    results = [t.result() for t in done]
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    answered = sorted(s for status, s in results if isinstance(status, int))
    ok = sorted(s for status, s in results if isinstance(status, int) and 200 <= status < 300)
    return {
        "sent": n,
        "answered": len(answered),
        "ok": len(ok),
        "statuses": statuses,
        "unfinished": len(pending),
        "wall_s": wall,
        "client_cpu_s": time.process_time() - cpu,
        "p50_ms": pct(ok, 50) * 1000,
        "p99_ms": pct(ok, 99) * 1000,
        "max_ms": (ok[-1] if ok else float("nan")) * 1000,
    }


async def bare_redis(redis_url: str, slug: str, n: int) -> dict[str, float]:
    redis = Redis.from_url(redis_url, decode_responses=True)
    key = f"tt:{{{slug}}}:teams:avg:all"
    try:
        for _ in range(50):
            await redis.zrange(key, 0, 19, withscores=True)
        out = []
        for _ in range(n):
            t = time.perf_counter()
            await redis.zrange(key, 0, 19, withscores=True)
            out.append((time.perf_counter() - t) * 1000)
    finally:
        await redis.aclose()
    out.sort()
    return {"p50_ms": pct(out, 50), "p99_ms": pct(out, 99)}


def log_findings(log_path: Path) -> dict[str, int]:
    text = log_path.read_text(errors="replace")
    return {
        "tracebacks": text.count("Traceback"),
        "read_failed_events": text.count("leaderboard.read_failed"),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    server = args.pg.rstrip("/")
    name = f"burst_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    slug = f"burst-{uuid.uuid4().hex[:8]}"
    key = Fernet.generate_key().decode()
    url = f"{server}/{name}"
    sa_url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    log_path = Path(f"/tmp/{name}-server.log")
    out: dict[str, Any] = {"requests": args.requests, "load_before": os.getloadavg()[0]}
    await create_database(server, name)
    proc: subprocess.Popen[bytes] | None = None
    try:
        started = time.perf_counter()
        game_id = await load_town(sa_url, url, slug, key, args)
        print(f"town loaded and scored in {time.perf_counter() - started:.1f} s", flush=True)
        proc, port = start_server(sa_url, key, args, log_path)
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base, proc, log_tail=lambda: tail(log_path))
        path = f"/api/v1/games/{slug}/leaderboards/teams?by=average"
        async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
            first = await client.get(path)  # the hall screen has the board open
            assert first.status_code == 200, first.text
            out["teams_on_board"] = first.json()["total"]
        cpu_before = process_cpu(proc.pid)
        out["burst"] = await burst(port, path, args.requests, args.timeout)
        out["server_cpu_s"] = process_cpu(proc.pid) - cpu_before
        out["bare_redis"] = await bare_redis(args.redis_url, slug, args.requests)
        out["load_after"] = os.getloadavg()[0]
        rate, taps, _ = await pure_engine_rate(sa_url, game_id)
        out["engine_rate"], out["engine_taps"] = rate, taps
    finally:
        if proc is not None:
            stop_processes([proc])
            out["log"] = log_findings(log_path)
        await delete_boards(args.redis_url, slug)
        if not args.keep:
            await drop_database(server, name)
        else:
            print(f"kept database {name}")
    return out


def report(r: dict[str, Any]) -> str:
    b = r["burst"]
    return "\n".join(
        [
            f"board: teams by average, {r['teams_on_board']} teams",
            f"burst: {b['sent']:,} GETs at once: answered {b['answered']:,}, 2xx {b['ok']:,}, "
            f"unfinished {b['unfinished']}, statuses {b['statuses']}",
            f"latency from release (2xx): p50 {b['p50_ms']:.0f} ms, p99 {b['p99_ms']:.0f} ms, "
            f"max {b['max_ms']:.0f} ms; all answered in {b['wall_s']:.2f} s; "
            f"CPU: server {r['server_cpu_s']:.2f} s, load generator {b['client_cpu_s']:.2f} s",
            f"server log: {r['log']['tracebacks']} tracebacks, "
            f"{r['log']['read_failed_events']} leaderboard.read_failed events",
            f"bare Redis ZRANGE (sequential, same board): p50 {r['bare_redis']['p50_ms']:.2f} ms, "
            f"p99 {r['bare_redis']['p99_ms']:.2f} ms",
            f"pure engine: {r['engine_rate']:,.0f} taps/s ({r['engine_taps']:,} taps, best of 3)",
            f"load average {r['load_before']:.1f} before, {r['load_after']:.1f} after; "
            f"{os.cpu_count()} CPUs",
        ]
    )


def main() -> None:
    args = parse_args()
    result = asyncio.run(run(args))
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    burst_ = result["burst"]
    sys.exit(0 if burst_["ok"] == burst_["sent"] else 1)


if __name__ == "__main__":
    main()
