"""Soak: a large town's morning peak through two server processes, with faults injected.

    .venv/bin/python bench/soak.py                          # 60,000 cards, 370 boxes, 600 s
    .venv/bin/python bench/soak.py --duration 120 --cards 5000 --boxes 60   # a quick look

1. Starts a private PostgreSQL cluster (``initdb`` in a temporary directory, run as the
   ``postgres`` user when we are root) and a private ``redis-server`` on free ports: the
   shared services on 5432/6379 are never touched. Both are removed at the end.
2. Generates the game definition: ``--cards`` cards (two thirds issued to ``--teams``
   teams; ``--players`` of them registered with public nicknames), ``--boxes`` checkpoints
   about 400 m apart with one reader each (secrets included), and loads it.
3. Starts ``--servers`` ``taptrail serve`` processes; box ``i`` talks to server ``i mod n``.
4. Replays a morning peak in real time for ``--duration`` seconds: ``--rate`` taps a second
   from walkers moving between nearby boxes (``TownSimulation.generate``; a few taps a
   thousand are from cards the game never issued). Each box keeps its taps and uploads
   every ``--upload-every`` seconds (with jitter) through ``SimulatedReader``: signed
   batches, retries with backoff, never losing a tap. ``--flaky`` of the boxes go offline
   for a few minutes now and then (sometimes restarting with a new boot) and upload late;
   a few stay offline for most of the run.
5. Injects faults at fixed fractions of the run: Redis killed and restarted empty, a server
   process SIGKILLed and restarted, PostgreSQL restarted (fast), a server SIGKILLed again,
   PostgreSQL crashed (immediate stop) and started again after a few seconds.
6. At the end every box comes online and uploads what it holds. Then it compares every
   holder's points in the database with the pure engine (``scoring.engine``) run on the taps
   the boxes recorded (leaving out those the server rejected, as the server told the box),
   runs the game's own ledger check, compares the Redis boards with a rebuild, and prints
   the mismatches (must be 0) and the error rate (requests answered 5xx or lost to a
   connection error / every request, retries included). ``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import yaml  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from harness.fault_town import (  # noqa: E402
    RecordingReader,
    board_differences,
    differences,
    expected_points,
    ledger_problems,
    recorded_taps,
    settled_tap_counts,
    stored_points,
    town_definition,
)
from harness.servers import ServerProcess  # noqa: E402
from harness.services import PrivatePostgres, PrivateRedis  # noqa: E402
from kernel.db import make_engine, make_sessionmaker, utcnow  # noqa: E402
from kernel.scope import OPERATOR  # noqa: E402
from kernel.secrets_box import SecretBox  # noqa: E402
from organising.service import load_definition  # noqa: E402
from simulator.reader_client import RetryPolicy  # noqa: E402
from simulator.town import SimTap, TownSimulation  # noqa: E402
from taptrail.migrate import upgrade  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=600.0, help="seconds of morning peak")
    p.add_argument("--cards", type=int, default=60_000)
    p.add_argument("--boxes", type=int, default=370)
    p.add_argument("--teams", type=int, default=120)
    p.add_argument(
        "--players",
        type=int,
        default=600,
        help="registered, public cards (loading registrations is slow: ~0.1 s each at 60k cards)",
    )
    p.add_argument("--servers", type=int, default=2)
    p.add_argument("--rate", type=float, default=25.0, help="taps a second")
    p.add_argument("--upload-every", type=float, default=30.0, help="seconds between uploads")
    p.add_argument("--flaky", type=float, default=0.05, help="fraction of flaky boxes")
    p.add_argument("--unknown", type=float, default=0.003, help="fraction of foreign cards")
    p.add_argument("--no-faults", action="store_true", help="an undisturbed run")
    p.add_argument("--seed", type=int, default=2027)
    p.add_argument("--json", type=Path, default=None, help="write the figures here")
    p.add_argument("--keep-logs", type=Path, default=None, help="copy server logs here")
    return p.parse_args()


@dataclass
class Run:
    args: argparse.Namespace
    pg: PrivatePostgres
    redis: PrivateRedis
    database_url: str
    servers: list[ServerProcess]
    log_dir: Path
    started: float = field(default_factory=time.monotonic)
    faults: list[str] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)

    def at(self) -> str:
        return f"t+{time.monotonic() - self.started:6.1f}s"

    def note(self, text: str) -> None:
        self.faults.append(f"{self.at()} {text}")
        print(f"  {self.at()} {text}", flush=True)


# ----------------------------------------------------------------------------- set-up


async def prepare(args: argparse.Namespace, pg: PrivatePostgres) -> tuple[str, str, dict[str, Any]]:
    key = Fernet.generate_key().decode()
    url = await pg.create_database(f"soak_{uuid.uuid4().hex[:8]}")
    slug = f"soak-{uuid.uuid4().hex[:6]}"
    definition = town_definition(
        slug,
        checkpoints=args.boxes,
        cards=args.cards,
        teams=args.teams,
        players=args.players,
        now=utcnow(),
    )
    engine = make_engine(url)
    try:
        await upgrade(engine)
        started = time.perf_counter()
        async with make_sessionmaker(engine)() as session:
            await load_definition(
                session,
                yaml.safe_dump(definition),
                box=SecretBox(key),
                actor="soak",
                scope=OPERATOR,
            )
            await session.commit()
        print(f"loaded the game in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        await engine.dispose()
    return url, key, definition


def generate_taps(args: argparse.Namespace, definition: dict[str, Any]) -> list[SimTap]:
    """The morning's taps (true times from now on), with some from foreign cards."""
    start = utcnow() + timedelta(seconds=5)
    end = start + timedelta(seconds=args.duration)
    sim = TownSimulation(definition, seed=args.seed)
    n = int(args.rate * args.duration)
    taps = sim.generate(n, start, end, diurnal=False)
    rng = random.Random(args.seed)
    foreign = [
        SimTap(t.reader_id, f"08{rng.getrandbits(48):012X}", t.tapped_at)
        for t in rng.sample(taps, int(len(taps) * args.unknown))
    ]
    return sorted(taps + foreign, key=lambda t: t.tapped_at)


# ----------------------------------------------------------------------------- the boxes


class Boxes:
    def __init__(
        self, run: Run, definition: dict[str, Any], clients: list[httpx.AsyncClient]
    ) -> None:
        args = run.args
        self.run = run
        self.rng = random.Random(args.seed + 1)
        retry = RetryPolicy(max_attempts=8, base_delay_s=0.5, max_delay_s=15, max_total_delay_s=60)
        self.readers = {
            r["id"]: RecordingReader(
                r["id"],
                r["secret"],
                clients[i % len(clients)],
                retry=retry,
                rng=random.Random(f"soak:{i}"),
            )
            for i, r in enumerate(definition["readers"])
        }
        ids = sorted(self.readers)
        n_flaky = max(1, round(len(ids) * args.flaky))
        self.flaky = set(self.rng.sample(ids, n_flaky))
        self.late = set(sorted(self.flaky)[: max(1, n_flaky // 5)])  # offline most of the run
        self.stop = asyncio.Event()
        self.offline_periods = 0
        self.restarts = 0
        self.upload_errors: Counter[str] = Counter()

    async def tapper(self, taps: list[SimTap]) -> None:
        """Each tap happens at its box when the wall clock reaches it."""
        for tap in taps:
            wait = (tap.tapped_at - utcnow()).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
            self.readers[tap.reader_id].tap(tap.card_uid, tap.tapped_at)

    async def box(self, reader: RecordingReader) -> None:
        args = self.run.args
        rng = random.Random(reader.reader_id)
        every = args.upload_every
        await asyncio.sleep(rng.uniform(0, every))
        late = reader.reader_id in self.late
        while not self.stop.is_set():
            elapsed = time.monotonic() - self.run.started
            if late:
                want_online = not (0.1 * args.duration < elapsed < 0.9 * args.duration)
                if reader.online and not want_online:
                    reader.go_offline()
                    self.offline_periods += 1
                elif not reader.online and want_online:
                    reader.come_online()
            elif reader.reader_id in self.flaky and reader.online and rng.random() < every / 240:
                reader.go_offline()
                self.offline_periods += 1
                asyncio.get_running_loop().call_later(
                    rng.uniform(60, 180), self._back, reader, rng.random() < 0.3
                )
            if reader.online and reader.queue_depth:
                result = await reader.upload()
                if result.error:
                    self.upload_errors[result.error] += 1
            await asyncio.sleep(every * rng.uniform(0.7, 1.3))

    def _back(self, reader: RecordingReader, battery_swap: bool) -> None:
        if battery_swap:
            reader.restart()
            self.restarts += 1
        reader.come_online()

    async def drain(self, timeout_s: float = 600) -> int:
        """Every box online, uploading until nothing is queued; what is left."""
        for reader in self.readers.values():
            reader.come_online()
        deadline = time.monotonic() + timeout_s
        gate = asyncio.Semaphore(32)

        async def one(reader: RecordingReader) -> None:
            async with gate:
                await reader.upload()

        while time.monotonic() < deadline:
            pending = [r for r in self.readers.values() if r.queue_depth]
            if not pending:
                return 0
            await asyncio.gather(*(one(r) for r in pending))
        return sum(r.queue_depth for r in self.readers.values())


# ----------------------------------------------------------------------------- faults


async def faults(run: Run) -> None:
    d = run.args.duration
    loop_start = time.monotonic()

    async def until(fraction: float) -> None:
        await asyncio.sleep(max(0.0, loop_start + fraction * d - time.monotonic()))

    async def kill_server(i: int) -> None:
        server = run.servers[i % len(run.servers)]
        assert server.proc is not None
        server.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(server.proc.wait, 30)
        server.proc = None
        run.note(f"server {i % len(run.servers) + 1} SIGKILLed")
        await asyncio.sleep(5)
        await asyncio.to_thread(server.start, 120)
        run.note(f"server {i % len(run.servers) + 1} restarted")

    await until(0.15)
    await asyncio.to_thread(run.redis.stop)
    run.note("Redis killed")
    await asyncio.sleep(8)
    await asyncio.to_thread(run.redis.start)
    run.note("Redis restarted (empty)")

    await until(0.3)
    await kill_server(0)

    await until(0.45)
    await asyncio.to_thread(run.pg.restart, "fast")
    run.note("PostgreSQL restarted (fast: connections terminated)")

    await until(0.6)
    await kill_server(1)

    await until(0.75)
    await asyncio.to_thread(run.pg.stop, "immediate")
    run.note("PostgreSQL crashed (immediate stop)")
    await asyncio.sleep(6)
    await asyncio.to_thread(run.pg.start)
    run.note("PostgreSQL started again")


async def watch_load(run: Run) -> None:
    while True:
        run.loads.append(os.getloadavg()[0])
        await asyncio.sleep(10)


# ----------------------------------------------------------------------------- main


async def soak(run: Run, definition: dict[str, Any], taps: list[SimTap]) -> dict[str, Any]:
    args = run.args
    slug = definition["game"]["slug"]
    latencies: list[float] = []

    async def on_request(request: httpx.Request) -> None:
        request.extensions["soak_started"] = time.perf_counter()

    async def on_response(response: httpx.Response) -> None:
        if response.status_code == 200 and response.request.url.path.endswith("/taps"):
            latencies.append(time.perf_counter() - response.request.extensions["soak_started"])

    clients = [
        httpx.AsyncClient(
            base_url=s.url,
            timeout=60,
            limits=httpx.Limits(max_connections=200),
            event_hooks={"request": [on_request], "response": [on_response]},
        )
        for s in run.servers
    ]
    boxes = Boxes(run, definition, clients)
    print(
        f"{len(boxes.readers)} boxes ({len(boxes.flaky)} flaky, {len(boxes.late)} of them "
        f"offline most of the run), {len(taps)} taps over {args.duration:.0f} s",
        flush=True,
    )
    run.started = time.monotonic()
    watcher = asyncio.create_task(watch_load(run))
    box_tasks = [asyncio.create_task(boxes.box(r)) for r in boxes.readers.values()]
    fault_task = None if args.no_faults else asyncio.create_task(faults(run))
    try:
        await boxes.tapper(taps)
        if fault_task is not None:
            await fault_task
        boxes.stop.set()
        await asyncio.gather(*box_tasks)
        run.note("the peak is over: every box comes online and uploads what it holds")
        left = await boxes.drain()
        run.note(f"drained ({left} taps still queued)")
        await asyncio.sleep(12)  # two repair-loop ticks for the boards
    finally:
        watcher.cancel()
        for client in clients:
            await client.aclose()

    db = make_engine(run.database_url, pool_size=2)
    try:
        recorded = recorded_taps(boxes.readers)
        rejected = [
            (rid, boot, seq) for rid, r in boxes.readers.items() for (boot, seq) in r.rejected_taps
        ]
        expected = expected_points(definition, recorded, rejected)
        # Uploads are answered before scoring: compare once nothing waits for the scorer.
        stored_taps, unscored = await settled_tap_counts(db, slug)
        stored = await stored_points(db, slug)
        mismatches = differences(expected, stored)
        ledger = await ledger_problems(db, slug)
        boards = await board_differences(db, run.redis.url, slug)
    finally:
        await db.dispose()

    counters = [r.counters for r in boxes.readers.values()]
    requests = sum(c.requests for c in counters)
    failed = sum(c.unavailable + c.connection_errors for c in counters)
    reasons: Counter[str] = Counter()
    for r in boxes.readers.values():
        reasons.update(r.rejected_taps.values())
    return {
        "date": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "boxes": len(boxes.readers),
        "flaky_boxes": len(boxes.flaky),
        "offline_periods": boxes.offline_periods,
        "box_restarts": boxes.restarts,
        "taps_made": len(recorded),
        "taps_sent_incl_resends": sum(c.sent for c in counters),
        "taps_accepted_stored": stored_taps,
        "taps_unscored": unscored,
        "taps_rejected": dict(reasons),
        "taps_left_queued": sum(r.queue_depth for r in boxes.readers.values()),
        "duplicates_answered": sum(c.duplicates for c in counters),
        "holders_checked": len(expected),
        "points_expected": sum(expected.values()),
        "points_stored": sum(stored.values()),
        "mismatches": len(mismatches),
        "mismatch_examples": dict(list(mismatches.items())[:5]),
        "ledger_problems": len(ledger),
        "board_differences": boards[:5],
        "requests": requests,
        "failed_requests": failed,
        "error_rate": failed / requests if requests else 0.0,
        "retries": sum(c.retries for c in counters),
        "upload_latency_s": _percentiles(latencies),
        "uploads_given_up": sum(c.gave_up for c in counters),
        "faults": run.faults,
        "load_average": {
            "min": min(run.loads, default=0),
            "mean": sum(run.loads) / len(run.loads) if run.loads else 0,
            "max": max(run.loads, default=0),
        },
        "cpus": os.cpu_count(),
        "wall_s": round(time.monotonic() - run.started, 1),
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"p50": pick(0.5), "p95": pick(0.95), "p99": pick(0.99), "max": round(ordered[-1], 3)}


async def main() -> int:
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C, so the private PostgreSQL and Redis are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"load average before: {os.getloadavg()}", flush=True)
    with PrivatePostgres() as pg, PrivateRedis() as redis:
        url, key, definition = await prepare(args, pg)
        started = time.perf_counter()
        taps = generate_taps(args, definition)
        print(f"generated {len(taps)} taps in {time.perf_counter() - started:.1f} s", flush=True)
        log_dir = Path(pg.dir) / "logs"
        log_dir.mkdir()
        env = {
            "TAPTRAIL_DATABASE_URL": url,
            "TAPTRAIL_REDIS_URL": redis.url,
            "TAPTRAIL_SECRET_KEY": key,
            "TAPTRAIL_PERIODIC_JOBS": "false",
            "TAPTRAIL_LOG_LEVEL": "WARNING",
        }
        servers = [ServerProcess(env, log_dir) for _ in range(args.servers)]
        run = Run(args, pg, redis, url, servers, log_dir)
        try:
            for server in servers:
                server.start(wait_s=120)
            # the taps start a few seconds from generation: re-time them from now
            shift = utcnow() + timedelta(seconds=2) - taps[0].tapped_at
            taps = [t._replace(tapped_at=t.tapped_at + shift) for t in taps]
            figures = await soak(run, definition, taps)
        finally:
            for server in servers:
                server.stop(wait_s=20)
            if args.keep_logs is not None:
                import shutil

                shutil.copytree(log_dir, args.keep_logs, dirs_exist_ok=True)
    print(json.dumps(figures, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(
        f"\nmismatches: {figures['mismatches']} of {figures['holders_checked']} holders; "
        f"error rate: {figures['failed_requests']}/{figures['requests']} = "
        f"{figures['error_rate']:.2%}; taps made {figures['taps_made']}, "
        f"stored {figures['taps_accepted_stored']}, rejected {figures['taps_rejected']}"
    )
    ok = (
        figures["mismatches"] == 0
        and set(figures["taps_rejected"]) <= {"unknown_card"}
        and figures["ledger_problems"] == 0
        and figures["taps_left_queued"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
