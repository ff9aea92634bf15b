"""Reader-upload throughput over HTTP against raw COPY, on PostgreSQL.

    .venv/bin/python bench/bench_ingestion.py                 # 200,000 taps, 200 readers
    .venv/bin/python bench/bench_ingestion.py --taps 20000    # a quick check

1. Creates a scratch PostgreSQL database (dropped at the end unless ``--keep``), migrates
   it and loads a town: ``--readers`` boxes on a grid of checkpoints 400 m apart and
   ``--cards`` cards.
2. Generates ``--taps`` realistic taps with the reader simulator over the last week.
3. Starts the API in ``--workers`` uvicorn processes, each on its own port (each box sends
   to one of them, as behind a load balancer), and uploads the taps
   through 200 ``SimulatedReader``s in signed 500-tap batches, ``--concurrency`` requests
   at a time: every tap is checked and stored before its answer (the acknowledged rate),
   and scored by the game engine right after it; the script also waits until no tap is
   left unscored and prints that rate too, and checks the totals against the ledger.
4. Copies the very same rows with asyncpg ``copy_records_to_table`` into ``taps`` itself and
   into a scratch copy of it without the queue trigger, three times each (emptied in
   between), and prints the acknowledged and the all-scored rates as ratios to the median
   COPY (``copy_baseline``, which the tap-to-screen benchmark uses too).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_unauth_bodies import engine_rate  # noqa: E402
from processes import BackendCpu, machine_cpu, process_cpu, stop_processes  # noqa: E402
from scratch_db import (  # noqa: E402
    add_database_args,
    create_database,
    drop_database,
    grid_checkpoints,
    load_town,
)

from harness.servers import free_port, wait_ready  # noqa: E402
from kernel.db import utcnow  # noqa: E402
from simulator.reader_client import RetryPolicy, format_time  # noqa: E402
from simulator.town import TownSimulation  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--taps", type=int, default=200_000)
    p.add_argument("--readers", type=int, default=200)
    p.add_argument("--cards", type=int, default=20_000)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        help="server processes, each on its own port; readers are spread evenly over them",
    )
    add_database_args(p)
    p.add_argument("--redis-url", default=None, help="e.g. redis://127.0.0.1:6379/0")
    p.add_argument("--port", type=int, default=0, help="default: a free port")
    return p.parse_args()


def town_definition(slug: str, readers: int, cards: int) -> dict[str, Any]:
    now = utcnow()
    checkpoints = grid_checkpoints(readers)
    return {
        "game": {
            "slug": slug,
            "name": "Bench town",
            "timezone": "Europe/London",
            "starts_at": format_time(now - timedelta(days=8)),
            "ends_at": format_time(now + timedelta(days=30)),
            "rules": {"journey_window_minutes": 60, "points_per_leg": 10, "max_speed_kmh": 25},
        },
        "checkpoints": checkpoints,
        "readers": [
            {
                "id": f"RB{i:04d}",
                "checkpoint": c["code"],
                "secret": f"bench-secret-{i:04d}-" + "s" * 32,
            }
            for i, c in enumerate(checkpoints)
        ],
        "teams": [{"code": f"T{i}", "name": f"Team {i}", "kind": "school"} for i in range(20)],
        "campaigns": [],
        "cards": [
            {
                "number": f"{i:07d}",
                "uid": f"04{i:012X}",
                "activation_code": f"K{i:05d}",
                **({"team": f"T{i % 20}"} if i % 3 else {}),
            }
            for i in range(1, cards + 1)
        ],
        "players": [],
    }


def start_server(url: str, key: str, port: int, workers: int, redis_url: str | None) -> Any:
    env = {**os.environ, "TAPTRAIL_DATABASE_URL": url, "TAPTRAIL_SECRET_KEY": key}
    env["TAPTRAIL_LOG_LEVEL"] = "WARNING"
    env["TAPTRAIL_DB_POOL_SIZE"] = "10"
    env.pop("TAPTRAIL_REDIS_URL", None)
    if redis_url:
        env["TAPTRAIL_REDIS_URL"] = redis_url
    command = [
        sys.executable, "-m", "uvicorn", "taptrail.server:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    if workers == 1:
        command.remove("--workers")
        command.remove("1")
    return subprocess.Popen(command, cwd=ROOT, env=env)


async def upload(sim: TownSimulation, batch: int, concurrency: int) -> float:
    """Every reader uploads its queue; a reader sends one request at a time, so at most
    ``concurrency`` requests are in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def one(reader: Any) -> None:
        async with gate:
            result = await reader.upload(max_batch=batch)
        if not result.complete:
            raise SystemExit(f"{reader.reader_id}: {result.error}")

    started = time.perf_counter()
    await asyncio.gather(*(one(r) for r in sim.readers.values()))
    return time.perf_counter() - started


def latency_hooks(latencies: list[float]) -> dict[str, list[Any]]:
    async def on_request(request: httpx.Request) -> None:
        request.extensions["started"] = time.perf_counter()

    async def on_response(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/taps"):
            latencies.append(time.perf_counter() - response.request.extensions["started"])

    return {"request": [on_request], "response": [on_response]}


class CpuUsage:
    """Who used the machine while the taps were uploaded: the servers, PostgreSQL and this
    process (the load generator), as CPUs busy on average."""

    def __init__(self, database: str, server_pids: list[int]) -> None:
        self.postgres = BackendCpu(database)
        self.server_pids = server_pids
        self.shares: dict[str, float] = {}

    async def during(self, work: Any) -> float:
        servers = sum(process_cpu(pid) for pid in self.server_pids)
        own = time.process_time()
        busy, total = machine_cpu()
        started = time.perf_counter()
        sampler = asyncio.create_task(self.postgres.run(until=time.monotonic() + 86_400))
        try:
            elapsed = float(await work)
        finally:
            sampler.cancel()
        self.postgres.sample()
        wall = time.perf_counter() - started
        busy2, total2 = machine_cpu()
        self.shares = {
            "servers": (sum(process_cpu(pid) for pid in self.server_pids) - servers) / wall,
            "PostgreSQL": self.postgres.totals()["postgres"] / wall,
            "load generator": (time.process_time() - own) / wall,
            "machine busy": (busy2 - busy) / max(total2 - total, 1e-9),
        }
        return elapsed

    def describe(self) -> str:
        parts = [f"{k} {v:.2f}" for k, v in self.shares.items() if k != "machine busy"]
        return (
            f"{', '.join(parts)} CPUs (of {os.cpu_count()}; machine "
            f"{self.shares['machine busy']:.0%} busy)"
        )


async def copy_baseline(pg: str, name: str, repeat: int = 3) -> dict[str, list[float]]:
    """Seconds of each of ``repeat`` COPYs of the stored rows (one COPY varies by a third
    from run to run on a shared machine), into two tables, alternating:

    - ``taps``: the same table, as the issue asks: emptied (with its queue) before each
      COPY; its indexes and its queue trigger (migration 0010) run as they do for uploads;
    - ``bench_taps_copy``: a copy of it with the same indexes but no trigger (the
      baseline of the earlier runs in BENCHMARKS.md).

    Runs after the uploads' results were checked: it replaces the stored taps.
    """
    conn = await asyncpg.connect(f"{pg}/{name}")
    try:
        await conn.execute(
            "CREATE TABLE bench_taps_copy (LIKE taps INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING INDEXES)"
        )
        columns = [
            r["column_name"]
            for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'taps' ORDER BY ordinal_position"
            )
        ]
        # As uploaded: not yet scored (the queue trigger enqueues only taps without one).
        unscored = {"outcome": None, "points": 0, "distance_m": 0.0, "multiplier": None,
                    "campaign_id": None, "team_id": None, "local_date": None}  # fmt: skip
        listed = ", ".join(
            c if c not in unscored else "NULL" if unscored[c] is None else repr(unscored[c])
            for c in columns
        )
        rows = [tuple(r) for r in await conn.fetch(f"SELECT {listed} FROM taps")]
        seconds: dict[str, list[float]] = {"taps": [], "bench_taps_copy": []}
        for _ in range(repeat):
            for table in seconds:
                if table == "taps":
                    await conn.execute("TRUNCATE taps, pending_taps, checkins")
                else:
                    await conn.execute(f"TRUNCATE {table}")
                started = time.perf_counter()
                await conn.copy_records_to_table(table, records=rows, columns=columns)
                seconds[table].append(time.perf_counter() - started)
        queued = await conn.fetchval("SELECT count(*) FROM pending_taps")
        if queued != len(rows):
            raise SystemExit(f"COPY into taps queued {queued} of {len(rows)} rows")
        return {table: [len(rows) / s for s in runs] for table, runs in seconds.items()}
    finally:
        await conn.close()


async def wait_scored(pg: str, name: str, timeout_s: float = 600) -> None:
    conn = await asyncpg.connect(f"{pg}/{name}")
    try:
        deadline = time.perf_counter() + timeout_s
        # The scorer's queue is small; the final check below reads taps themselves.
        while await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pending_taps)"):
            if time.perf_counter() > deadline:
                raise SystemExit("taps were still unscored after the timeout")
            await asyncio.sleep(0.05)
        unscored = await conn.fetchval("SELECT count(*) FROM taps WHERE outcome IS NULL")
        if unscored:
            raise SystemExit(f"the queue is empty but {unscored} taps have no outcome")
        ledger = await conn.fetchval("SELECT coalesce(sum(points), 0) FROM taps")
        totals = await conn.fetchval("SELECT coalesce(sum(points), 0) FROM holder_totals")
        if ledger != totals:
            raise SystemExit(f"totals {totals} != ledger {ledger}")
    finally:
        await conn.close()


async def stored_counts(pg: str, name: str) -> tuple[int, int, int]:
    conn = await asyncpg.connect(f"{pg}/{name}")
    try:
        taps = await conn.fetchval("SELECT count(*) FROM taps")
        unscored = await conn.fetchval("SELECT count(*) FROM taps WHERE outcome IS NULL")
        rejected = await conn.fetchval("SELECT count(*) FROM tap_rejections")
        return int(taps), int(unscored), int(rejected)
    finally:
        await conn.close()


async def main() -> None:
    args = parse_args()
    name = f"taptrail_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = f"{args.pg.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    key = Fernet.generate_key().decode()
    definition = town_definition("bench", args.readers, args.cards)
    await create_database(args.pg, name)
    procs: list[Any] = []
    try:
        t = time.perf_counter()
        await load_town(url, key, definition)
        print(
            f"town loaded: {args.readers} readers, {args.cards} cards ({time.perf_counter() - t:.1f} s)"
        )
        t = time.perf_counter()
        sim = TownSimulation(definition, None, seed=1)
        now = utcnow()
        taps = sim.generate(args.taps, now - timedelta(days=7), now - timedelta(minutes=1))
        print(f"{len(taps)} taps generated ({time.perf_counter() - t:.1f} s)")

        # Separate processes, each box bound to one of them (a load balancer's job). Not
        # uvicorn --workers: its workers share one listening socket, and the kernel handed
        # one of two workers about 80 % of the keep-alive connections (measured).
        bases = []
        for i in range(args.workers):
            port = (args.port + i) if args.port else free_port()
            bases.append(f"http://127.0.0.1:{port}")
            procs.append(start_server(url, key, port, 1, args.redis_url))
        for base, proc in zip(bases, procs, strict=True):
            await wait_ready(base, proc, attempts=300)
        limits = httpx.Limits(max_connections=args.concurrency * 2)
        latencies: list[float] = []
        clients = [
            httpx.AsyncClient(
                base_url=base, limits=limits, timeout=120, event_hooks=latency_hooks(latencies)
            )
            for base in bases
        ]
        try:
            sim = TownSimulation(
                definition,
                clients[0],
                seed=1,
                retry=RetryPolicy(max_attempts=20, max_total_delay_s=600),
            )
            for i, reader in enumerate(sim.readers.values()):
                reader.client = clients[i % len(clients)]
            for rid, uid, when in taps:
                sim.readers[rid].tap(uid, when)
            usage = CpuUsage(name, [p.pid for p in procs])
            started = time.perf_counter()
            elapsed = await usage.during(upload(sim, args.batch, args.concurrency))
        finally:
            for client in clients:
                await client.aclose()
        await wait_scored(args.pg, name)
        scored_elapsed = time.perf_counter() - started
        stored, unscored, rejected = await stored_counts(args.pg, name)
        if stored + rejected != len(taps) or unscored:
            raise SystemExit(
                f"stored {stored} + rejected {rejected} != {len(taps)}; unscored {unscored}"
            )
        http_rate = len(taps) / elapsed
        stop_processes(procs)  # idle now; the COPY into taps needs the table to itself
        copy_rates = await copy_baseline(args.pg, name)
        copy_rate = statistics.median(copy_rates["taps"])
        plain_rate = statistics.median(copy_rates["bench_taps_copy"])
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(
            f"HTTP ingestion: {len(taps)} taps in {len(latencies)} batches in {elapsed:.2f} s "
            f"= {http_rate:,.0f} taps/s (batch latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms; {args.workers} server process(es), "
            f"{args.concurrency} in flight)"
        )
        print(f"CPU during the upload: {usage.describe()}")
        print(
            f"all scored:     {scored_elapsed:.2f} s after the first upload = "
            f"{len(taps) / scored_elapsed:,.0f} taps/s (totals equal the ledger)"
        )
        for label, table, rate in (
            ("asyncpg COPY into taps (the same table, queue trigger and all)", "taps", copy_rate),
            ("asyncpg COPY into a copy of taps without the trigger", "bench_taps_copy", plain_rate),
        ):
            runs = ", ".join(f"{r:,.0f}" for r in copy_rates[table])
            print(f"{label}: {rate:,.0f} rows/s (median of {runs})")
        print(
            f"ratio HTTP/COPY: {http_rate / copy_rate:.3f} (target >= 0.2); against the copy "
            f"without the trigger {http_rate / plain_rate:.3f}"
        )
        scored_rate = len(taps) / scored_elapsed
        # The machine's speed at this moment, for BENCHMARKS.md (hosts differ by 2x).
        print(f"pure engine: {engine_rate():,.0f} taps/s (best of 3)")
        print(
            f"ratio all scored/COPY: {scored_rate / copy_rate:.3f} (target >= 0.3); against the "
            f"copy without the trigger {scored_rate / plain_rate:.3f}"
        )
    finally:
        stop_processes(procs)
        if args.keep:
            print(f"kept database {name}")
        else:
            await drop_database(args.pg, name)


if __name__ == "__main__":
    # The load generator stands in for 200 boxes with CPUs of their own: keep its share of
    # this machine small (uvloop, and taps rendered as JSON when they are recorded).
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
