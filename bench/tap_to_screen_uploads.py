"""The tap-to-screen benchmark's uploads: the boxes sending their taps on the schedule, open
loop, through ``SimulatedReader``; and waiting for scoring and for the boards to show every
answered probe.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from processes import BackendCpu, machine_cpu, process_cpu
from tap_to_screen_servers import Server
from tap_to_screen_town import PROBE_UID_MARK, Plan

from simulator.reader_client import MAX_BATCH, SimulatedReader, UploadRejected


@dataclass
class UploadLog:
    """What the request hooks saw."""

    probe_keys: dict[tuple[str, str], int]
    sent: dict[int, float] = field(default_factory=dict)  # probe -> first request sent
    answered: dict[int, float] = field(default_factory=dict)  # probe -> first 200 answer
    times: list[float] = field(default_factory=list)  # every upload request's answer time
    statuses: Counter[int] = field(default_factory=Counter)
    sizes: list[int] = field(default_factory=list)

    def hooks(self) -> dict[str, list[Any]]:
        async def on_request(request: httpx.Request) -> None:
            now = time.monotonic()
            request.extensions["t2s_started"] = now
            body = request.content
            if not request.url.path.endswith("/taps"):
                return
            if PROBE_UID_MARK in body:
                found = []
                for tap in json.loads(body)["taps"]:
                    pid = self.probe_keys.get((tap["card_uid"], tap["tapped_at"]))
                    if pid is not None:
                        found.append(pid)
                        self.sent.setdefault(pid, now)
                request.extensions["t2s_probes"] = found
            self.sizes.append(body.count(b'"seq"'))

        async def on_response(response: httpx.Response) -> None:
            request = response.request
            if not request.url.path.endswith("/taps"):
                return
            now = time.monotonic()
            self.times.append(now - request.extensions["t2s_started"])
            self.statuses[response.status_code] += 1
            if response.status_code == 200:
                for pid in request.extensions.get("t2s_probes", ()):
                    self.answered.setdefault(pid, now)

        return {"request": [on_request], "response": [on_response]}


@dataclass
class RunStats:
    t0: float = 0.0
    dispatched: int = 0
    dispatch_lags: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    window: tuple[float, float] = (0.0, 0.0)
    acked_window: int = 0
    scored_window: int = 0
    pending_at_end: int = 0  # stored but not scored when the measured window ended
    scored_after: float | None = None  # after the drain, until every tap was scored
    offered_window: int = 0
    schedule_end: float = 0.0
    backlog_at_end: int = 0
    drained_after: float | None = None
    boards_after: float | None = None  # after the drain, until the boards showed every probe
    left_queued: int = 0
    cpu: dict[str, float] = field(default_factory=dict)


class Boxes:
    """The readers, and one upload loop per box at a time."""

    def __init__(self, readers: dict[str, SimulatedReader]) -> None:
        self.readers = readers
        self.busy: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.errors: Counter[str] = Counter()

    def acked(self) -> int:
        return sum(r.counters.acked for r in self.readers.values())

    def queued(self) -> int:
        return sum(r.queue_depth for r in self.readers.values())

    def kick(self, rid: str) -> None:
        if rid in self.busy:
            return  # the running upload sends what piled up once its request is answered
        self.busy.add(rid)
        task = asyncio.create_task(self._upload(rid))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _upload(self, rid: str) -> None:
        reader = self.readers[rid]
        try:
            while reader.queue_depth:
                try:
                    result = await reader.upload(max_batch=MAX_BATCH)
                except UploadRejected as exc:
                    self.errors[f"HTTP {exc.status_code}"] += 1
                    return
                if result.error is not None:
                    self.errors[result.error] += 1
                    return
        finally:
            self.busy.discard(rid)


@dataclass
class Mark:
    at: float
    acked: int
    dispatched: int
    scored: int
    pending: int
    machine: tuple[float, float]
    cpus: list[float]


async def run_schedule(
    plan: Plan,
    boxes: Boxes,
    args: argparse.Namespace,
    servers: list[Server],
    own_pids: tuple[int, int],
    db: asyncpg.Connection,
    database: str,
) -> RunStats:
    """Dispatches the uploads on time, then lets the boxes drain. ``own_pids``: the
    uploader's and the clients' processes; ``db``: the scratch database."""
    stats = RunStats()
    acked0 = boxes.acked()
    marks: dict[str, Mark] = {}

    async def mark(name: str, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        cpus = [s.cpu_seconds() for s in servers] + [process_cpu(pid) for pid in own_pids]
        now, acked, dispatched = time.monotonic(), boxes.acked() - acked0, stats.dispatched
        machine = machine_cpu()
        scored, pending = await scoring_counts(db)
        marks[name] = Mark(now, acked, dispatched, scored, pending, machine, cpus)

    stats.t0 = t0 = time.monotonic() + 0.5
    warm_end, end = t0 + args.warmup, t0 + args.warmup + args.seconds
    backends = BackendCpu(database)

    async def sample_backends() -> None:
        await asyncio.sleep(max(0.0, warm_end - time.monotonic()))
        await backends.run(end)

    marking = [
        asyncio.create_task(mark("start", warm_end)),
        asyncio.create_task(mark("end", end)),
        asyncio.create_task(sample_backends()),
    ]
    for slot in plan.slots:
        target = t0 + slot.t
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        stats.dispatch_lags.append(max(0.0, time.monotonic() - target))
        reader = boxes.readers[slot.reader]
        for tap in slot.taps:
            reader.tap(tap.card_uid, tap.tapped_at)
        for probe in slot.probes:
            reader.tap(probe.uid, probe.tapped_at)
        stats.dispatched += len(slot.taps) + len(slot.probes)
        boxes.kick(slot.reader)
    await asyncio.gather(*marking)
    stats.schedule_end = time.monotonic()
    stats.backlog_at_end = stats.dispatched - (boxes.acked() - acked0)

    # Drain: let every box send what it still holds (kicking boxes whose upload gave up).
    deadline = time.monotonic() + args.drain_timeout
    while time.monotonic() < deadline:
        if not boxes.tasks and not boxes.queued():
            stats.drained_after = time.monotonic() - stats.schedule_end
            break
        for rid, reader in boxes.readers.items():
            if reader.queue_depth:
                boxes.kick(rid)
        await asyncio.sleep(0.2)
    stats.left_queued = boxes.queued()
    stats.errors = boxes.errors

    a, b = marks["start"], marks["end"]
    span = b.at - a.at
    stats.window = (a.at, b.at)
    stats.acked_window = b.acked - a.acked
    stats.offered_window = b.dispatched - a.dispatched
    stats.scored_window = b.scored - a.scored
    stats.pending_at_end = b.pending
    if b.machine[1] > a.machine[1]:
        busy = (b.machine[0] - a.machine[0]) / (b.machine[1] - a.machine[1])
        stats.cpu["machine busy (of all CPUs)"] = busy
    names = [f"server {s.index}" for s in servers] + ["bench uploader", "bench clients"]
    for i, label in enumerate(names):
        stats.cpu[label] = (b.cpus[i] - a.cpus[i]) / span
    other = backends.totals()
    stats.cpu["postgres (this database)"] = other["postgres"] / span
    stats.cpu["redis"] = other["redis-server"] / span
    return stats


async def scoring_counts(db: asyncpg.Connection) -> tuple[int, int]:
    """(scored, waiting to be scored) taps in the database."""
    row = await db.fetchrow(
        "SELECT count(*) FILTER (WHERE outcome IS NOT NULL) AS scored, "
        "count(*) FILTER (WHERE outcome IS NULL) AS pending FROM taps"
    )
    assert row is not None
    return int(row["scored"]), int(row["pending"])


async def wait_for_scoring(db: asyncpg.Connection, wait_s: float) -> float | None:
    """Seconds until no stored tap waits for scoring (None: not within ``wait_s``)."""
    started = time.monotonic()
    while True:
        if not await db.fetchval("SELECT EXISTS (SELECT 1 FROM pending_taps)"):
            return time.monotonic() - started
        if time.monotonic() - started > wait_s:
            return None
        await asyncio.sleep(0.2)


async def prime_probe_cards(plan: Plan, boxes: Boxes) -> None:
    """Each probe card's first tap (a journey start, 0 points), before the run."""
    for rid, uid, when in plan.prime:
        boxes.readers[rid].tap(uid, when)
    for rid in {rid for rid, _, _ in plan.prime}:
        result = await boxes.readers[rid].upload()
        if not result.complete:
            raise SystemExit(f"priming the probe cards failed: {result.error}")


async def probe_points(base: str, slug: str) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as client:
        r = await client.get(
            f"/api/v1/games/{slug}/leaderboards/teams", params={"kind": "school", "limit": 100}
        )
        r.raise_for_status()
        return {
            e["team"]: int(e["points"]) for e in r.json()["entries"] if e["team"].startswith("PRB")
        }


async def wait_for_boards(
    base: str, slug: str, expected: dict[str, int], wait_s: float
) -> tuple[dict[str, int], float | None]:
    """Poll the board until every answered probe shows (scoring may lag the answers).
    Returns the probe teams' points and how long that took (None: not in time)."""
    started = time.monotonic()
    while True:
        points = await probe_points(base, slug)
        if all(points.get(team, 0) >= n for team, n in expected.items()):
            return points, time.monotonic() - started
        if time.monotonic() - started > wait_s:
            return points, None
        await asyncio.sleep(0.2)
