"""Tap-to-screen latency: from a box's upload to the message on the hall screens' sockets.

    flock /tmp/bench.lock .venv/bin/python bench/bench_tap_to_screen.py    # 2,000 taps/s, 1,000 clients
    flock /tmp/bench.lock .venv/bin/python bench/bench_tap_to_screen.py --rate 300 --clients 200

Set-up (PostgreSQL and Redis, server processes as behind a load balancer):

1. Creates a scratch PostgreSQL database (dropped at the end unless ``--keep``) and loads a
   town: ``--boxes`` checkpoints 400 m apart with one reader each, ``--cards`` cards (two
   thirds issued to ``--teams`` teams, most of them schools) and the probes (below).
2. Starts ``--servers`` ``taptrail serve`` processes on their own ports, sharing the
   database and Redis (``--redis-url``; the game's boards, under its own slug, are deleted
   at the end), so live updates between them go through Redis. Box ``i`` uploads to
   server ``i mod n`` and WebSocket client ``j`` connects to server ``j mod n``.
3. Opens ``--clients`` WebSocket clients in a separate process, subscribed like the
   hall-screen page (``api/static/board.js``): all four boards, ``--school-share`` of them
   with ``kind=school``, permessage-deflate as browsers offer it. Every client reads every
   message for the whole run.
4. Offers ``--rate`` taps a second, open loop, for ``--warmup`` + ``--seconds`` seconds:
   the schedule is fixed before the run and does not wait for the server. Taps come from
   walkers between nearby boxes (``TownSimulation.generate``) in a virtual window of at
   least 90 minutes, each walking card tapping every ``--card-minutes`` on average, so
   journeys are whole and most taps are scoring legs as at a steady peak (a real town
   cannot make 2,000 taps/s in real time; the tap times do not change the server's work).
   Each box keeps the taps made since its previous upload and uploads them every
   ``--upload-every`` seconds through a ``SimulatedReader`` (signed, retried with backoff,
   one request at a time: a box still waiting for an answer sends what piled up meanwhile
   in its next request, up to 500 taps a request). The boxes of a server share one HTTP
   connection pool, like a load balancer's keep-alive connections to a back end.

Why ~50-tap batches by default: boxes upload on a timer, and at a morning peak a busy box
sees a tap every few seconds; 2,000 taps/s from 400 boxes uploading every 10 s is 50 taps
a request. 500 is the most a request may hold: what a box sends when it catches up after
being offline, not the steady state (``--upload-every 100`` gives 500-tap batches).

Measurement: ``--probe-teams`` probe teams (school teams), each with one registered probe
card (age band 65+). A campaign multiplies legs by 100 for that age band only (no other
card is registered), so a probe leg is worth 1,000 points and the probe teams stay in the
top 20 that every team board sends. At random times (``--probe-rate`` a second) a probe
card taps at the box whose upload is due next; the tap rides in that box's ordinary batch
and is a leg from the card's previous box (its time is in the past, spaced so the leg is
never too fast and never starts a new journey), so the team's n-th probe makes
``points == n * 1000`` appear. Latency, for every (probe, client) pair: when the client
got the first ``teams-total`` message showing the team at ``>= n * 1000``, minus when the
request carrying the team's n-th probe to be sent was first sent (httpx request hook:
waiting and retries count). Probes of the warm-up are left out. Should a team's probes be
scored out of order (only under a backlog), the pairing stays on the safe side: a count of
n needs n probes scored, so it is never paired with a later send; the report says how
many probes were answered out of order. After the run the script waits until the
boards show every answered probe (scoring may lag the answers), then ``--settle`` seconds;
a client that still shows a probe missing counts as missing.

PASS needs: tap-to-screen p99 under ``--target`` seconds, the offered rate sustained
(acknowledged taps in the measured window at least 95 % of the rate), every client
connected throughout, no probe missing or miscounted, no upload errors. Exit status 1
otherwise. Everything runs on this machine: the CPU line shows what the clients and the
uploader took from the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from processes import BackendCpu, machine_cpu, process_cpu, stop_processes  # noqa: E402
from scratch_db import (  # noqa: E402
    add_database_args,
    create_database,
    drop_database,
    grid_checkpoints,
    load_town,
)

from kernel.db import utcnow  # noqa: E402
from simulator.readers import (  # noqa: E402
    MAX_BATCH,
    RetryPolicy,
    SimTap,
    SimulatedReader,
    TownSimulation,
    UploadRejected,
    format_time,
    haversine_m,
)

# What the hall-screen page subscribes to (api/static/board.js).
BOARDS = "teams-total,teams-average,teams-distance,players"
POINTS_PER_LEG = 10
PROBE_MULTIPLIER = 100
PROBE_POINTS = POINTS_PER_LEG * PROBE_MULTIPLIER
PROBE_AGE_BAND = "65+"
PROBE_UID_MARK = b'"04EE'  # probe card UIDs start 04EE; background UIDs 04000...
PROBE_SPEED_MS = 5.0  # 18 km/h between a probe card's taps: a leg, never too_fast (25 km/h)
PROBE_MIN_GAP_S = 120.0
PROBE_MAX_LEG_M = 5000.0  # at most 1,000 s apart: well inside the 60-minute journey window
TEAM_KINDS = ("school",) * 6 + ("community", "community", "workplace", "family")
GAME_DAYS_BACK = 30
TARGET_S = 1.5


class _Help(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=_Help)
    p.add_argument("--rate", type=float, default=2000.0, help="taps a second offered")
    p.add_argument("--clients", type=int, default=1000, help="WebSocket clients")
    p.add_argument("--seconds", type=float, default=60.0, help="measured duration")
    p.add_argument("--warmup", type=float, default=10.0, help="load before measuring (s)")
    p.add_argument("--servers", type=int, default=2, help="server processes")
    p.add_argument("--boxes", type=int, default=400, help="boxes (one reader each)")
    p.add_argument("--upload-every", type=float, default=10.0, help="seconds between uploads")
    p.add_argument("--cards", type=int, default=30_000)
    p.add_argument("--teams", type=int, default=100, help="teams besides the probe teams")
    p.add_argument("--probe-rate", type=float, default=2.0, help="probes a second")
    p.add_argument("--probe-teams", type=int, default=4)
    p.add_argument("--school-share", type=float, default=0.8, help="clients with kind=school")
    p.add_argument(
        "--card-minutes",
        type=float,
        default=20.0,
        help="virtual minutes per tap of a card (spreads the walkers' journeys out)",
    )
    p.add_argument("--no-deflate", action="store_true", help="clients without permessage-deflate")
    p.add_argument("--target", type=float, default=TARGET_S, help="p99 target (s)")
    p.add_argument("--settle", type=float, default=5.0, help="wait for last messages (s)")
    p.add_argument("--drain-timeout", type=float, default=120.0, help="wait for backlog (s)")
    add_database_args(p)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="shared Redis")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = p.parse_args(argv)
    if args.servers < 1 or args.clients < 1 or args.probe_teams < 1 or args.boxes < 2:
        p.error("need at least one server, client and probe team, and two boxes")
    if min(args.rate, args.probe_rate, args.seconds, args.upload_every) <= 0:
        p.error("--rate, --probe-rate, --seconds and --upload-every must be positive")
    if args.probe_teams > 16:
        p.error("at most 16 probe teams (a board message shows the top 20)")
    return args


# ======================================================================================
# The town
# ======================================================================================


def probe_uid(i: int) -> str:
    return f"04EE{i:010X}"


def town_definition(
    slug: str, *, boxes: int, cards: int, teams: int, probe_teams: int, now: datetime
) -> dict[str, Any]:
    checkpoints = grid_checkpoints(boxes)
    team_defs = [
        {"code": f"T{i:03d}", "name": f"Team {i:03d}", "kind": TEAM_KINDS[i % len(TEAM_KINDS)]}
        for i in range(teams)
    ]
    card_defs: list[dict[str, Any]] = [
        {
            "number": f"{i:07d}",
            "uid": f"04{i:012X}",
            "activation_code": f"K{i:06d}",
            **({"team": f"T{i % teams:03d}"} if teams and i % 3 else {}),
        }
        for i in range(1, cards + 1)
    ]
    starts, ends = now - timedelta(days=GAME_DAYS_BACK), now + timedelta(days=30)
    for i in range(probe_teams):
        team_defs.append({"code": f"PRB{i}", "name": f"Probe {i}", "kind": "school"})
        card_defs.append(
            {"number": f"P{i:06d}", "uid": probe_uid(i), "activation_code": f"PK{i:05d}"}
        )
    return {
        "game": {
            "slug": slug,
            "name": "Tap-to-screen bench town",
            "timezone": "Europe/London",
            "starts_at": format_time(starts),
            "ends_at": format_time(ends),
            "rules": {
                "journey_window_minutes": 60,
                "points_per_leg": POINTS_PER_LEG,
                "max_speed_kmh": 25,
            },
        },
        "checkpoints": checkpoints,
        "readers": [
            {"id": f"RB{i:04d}", "checkpoint": c["code"], "secret": f"t2s-{i:04d}-" + "s" * 32}
            for i, c in enumerate(checkpoints)
        ],
        "teams": team_defs,
        "campaigns": [
            {
                "code": "PROBES",
                "name": "Bench probes: legs of the probe cards x100",
                "multiplier": PROBE_MULTIPLIER,
                "starts_at": format_time(starts),
                "ends_at": format_time(ends),
                "age_bands": [PROBE_AGE_BAND],
            }
        ],
        "cards": card_defs,
        "players": [
            {
                "card": f"P{i:06d}",
                "nickname": f"Probe {i}",
                "age_band": PROBE_AGE_BAND,
                "team": f"PRB{i}",
                "public": True,
            }
            for i in range(probe_teams)
        ],
    }


def background_definition(definition: dict[str, Any], active_cards: int) -> dict[str, Any]:
    """The town as the walkers see it: no probe cards, only the first ``active_cards``."""
    cards = [c for c in definition["cards"] if not str(c["uid"]).startswith("04EE")]
    return {**definition, "cards": cards[:active_cards], "players": []}


# ======================================================================================
# The schedule: which box uploads what, when; where the probes ride
# ======================================================================================


@dataclass
class Probe:
    pid: int
    team: int  # probe team (and card) index
    nth: int  # the team's n-th probe: its points become nth * PROBE_POINTS
    reader: str
    server: int
    due: float  # seconds after the start of the schedule
    offset_s: float  # virtual seconds after the card's first (priming) tap
    uid: str = ""
    tapped_at: datetime | None = None
    key: tuple[str, str] = ("", "")


@dataclass
class Slot:
    t: float  # seconds after the start of the schedule
    reader: str
    taps: list[SimTap]
    probes: list[Probe] = field(default_factory=list)


@dataclass
class Plan:
    slots: list[Slot]
    probes: list[Probe]
    prime: list[tuple[str, str, datetime]]  # (reader, uid, tapped_at) of each card's anchor
    background_taps: int


def build_slots(
    taps: list[SimTap], readers: list[str], *, total_s: float, upload_every: float
) -> list[Slot]:
    """Box ``i`` uploads at ``phase_i + k * upload_every``, carrying the taps its walkers
    made since its previous upload; virtual tap times map linearly onto the run."""
    if not taps:
        return []
    v0 = taps[0].tapped_at
    span = max(1.0, (taps[-1].tapped_at - v0).total_seconds())
    per_reader: dict[str, deque[tuple[float, SimTap]]] = {r: deque() for r in readers}
    for tap in taps:
        real = (tap.tapped_at - v0).total_seconds() / span * total_s * 0.999
        per_reader[tap.reader_id].append((real, tap))
    slots: list[Slot] = []
    for i, rid in enumerate(readers):
        queue = per_reader[rid]
        t = upload_every * i / len(readers)
        while queue:
            batch: list[SimTap] = []
            while queue and queue[0][0] <= t:
                batch.append(queue.popleft()[1])
            if batch:
                slots.append(Slot(t, rid, batch))
            t += upload_every
    slots.sort(key=lambda s: (s.t, s.reader))
    return slots


def plan_probes(
    slots: list[Slot],
    definition: dict[str, Any],
    *,
    n_teams: int,
    rate: float,
    total_s: float,
    servers: int,
    rng: random.Random,
    now: datetime,
) -> tuple[list[Probe], list[tuple[str, str, datetime]]]:
    cp_of = {r["id"]: r["checkpoint"] for r in definition["readers"]}
    reader_of = {cp: rid for rid, cp in cp_of.items()}
    server_of = {rid: i % servers for i, rid in enumerate(sorted(cp_of))}
    where = {c["code"]: (float(c["lat"]), float(c["lon"])) for c in definition["checkpoints"]}

    def dist(a: str, b: str) -> float:
        return haversine_m(*where[a], *where[b])

    due_times: list[float] = []
    t = rng.expovariate(rate)
    while t < total_s:
        due_times.append(t)
        t += rng.expovariate(rate)

    last: list[str | None] = [None] * n_teams
    first: list[str | None] = [None] * n_teams
    offset = [0.0] * n_teams
    count = [0] * n_teams
    probes: list[Probe] = []
    nxt = 0  # next probe card, round robin
    pi = 0
    for slot in slots:
        cp = cp_of[slot.reader]
        used: set[int] = set()
        while pi < len(due_times) and due_times[pi] <= slot.t:
            chosen = None
            for k in range(n_teams):
                c = (nxt + k) % n_teams
                if c in used:
                    continue
                prev = last[c]
                if prev is None:  # the card's anchor: the nearest other box
                    prev = min((x for x in where if x != cp), key=lambda x: dist(cp, x))
                if prev != cp and dist(prev, cp) <= PROBE_MAX_LEG_M:
                    chosen = c
                    break
            if chosen is None:
                break  # no card can score here: the probe rides the next upload
            c = chosen
            if last[c] is None:
                first[c] = min((x for x in where if x != cp), key=lambda x: dist(cp, x))
                last[c] = first[c]
            prev_cp = last[c]
            assert prev_cp is not None
            offset[c] += max(PROBE_MIN_GAP_S, dist(prev_cp, cp) / PROBE_SPEED_MS)
            count[c] += 1
            last[c] = cp
            used.add(c)
            nxt = (c + 1) % n_teams
            probe = Probe(
                len(probes),
                c,
                count[c],
                slot.reader,
                server_of[slot.reader],
                due_times[pi],
                offset[c],
            )
            slot.probes.append(probe)
            probes.append(probe)
            pi += 1

    # Each card's taps end ten minutes before now; the game started GAME_DAYS_BACK ago.
    game_start = now - timedelta(days=GAME_DAYS_BACK)
    end = now.replace(microsecond=0) - timedelta(minutes=10)
    bases = [end - timedelta(seconds=math.ceil(o)) for o in offset]
    if min(bases, default=now) < game_start + timedelta(hours=1):
        raise SystemExit("too many probes per probe card for the game's period: more --probe-teams")
    prime: list[tuple[str, str, datetime]] = []
    for c in range(n_teams):
        cp0 = first[c]
        if cp0 is not None:
            prime.append((reader_of[cp0], probe_uid(c), bases[c]))
    for p in probes:
        p.uid = probe_uid(p.team)
        p.tapped_at = bases[p.team] + timedelta(seconds=math.ceil(p.offset_s))
        p.key = (p.uid, format_time(p.tapped_at))
    return probes, prime


# ======================================================================================
# Database, Redis, servers
# ======================================================================================


async def delete_boards(redis_url: str, slug: str) -> None:
    from leaderboard.redis_store import RedisStore

    store = RedisStore.from_url(redis_url, key_prefix="tt")
    try:
        await store.delete(slug)
    finally:
        await store.close()


async def outcome_mix(db: asyncpg.Connection) -> dict[str, int]:
    rows = await db.fetch("SELECT outcome, count(*) AS n FROM taps GROUP BY outcome")
    return {str(r["outcome"] or "not scored"): int(r["n"]) for r in rows}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    index: int
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        return process_cpu(self.proc.pid)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_server(
    index: int, url: str, key: str, redis_url: str, log_dir: Path, periodic_jobs: bool
) -> Server:
    port = free_port()
    env = {**os.environ, "TAPTRAIL_DATABASE_URL": url, "TAPTRAIL_SECRET_KEY": key}
    env["TAPTRAIL_REDIS_URL"] = redis_url
    env["TAPTRAIL_LOG_LEVEL"] = "WARNING"
    env["TAPTRAIL_PERIODIC_JOBS"] = "true" if periodic_jobs else "false"
    log_path = log_dir / f"server-{index}-{port}.log"
    command = [sys.executable, "-m", "taptrail.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Server(index, port, proc, log_path)


async def wait_ready(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base, trust_env=False) as client:
        for _ in range(600):
            if server.proc.poll() is not None:
                raise SystemExit(f"server {server.index} exited during start-up:\n{server.tail()}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"server {server.index} did not start:\n{server.tail()}")


# ======================================================================================
# WebSocket clients (a separate process)
# ======================================================================================


@dataclass
class ClientRecord:
    server: int
    kind: str | None
    url: str
    arrivals: list[list[float]]  # per probe team: when count 1, 2, ... first showed
    connected: bool = False
    connected_at: float = 0.0
    messages: int = 0
    probe_messages: int = 0
    bytes: int = 0
    disconnects: int = 0
    errors: int = 0
    last_error: str = ""
    absent: int = 0  # teams-total messages without a probe team that had scored
    anomalies: int = 0  # probe points not a multiple of PROBE_POINTS, or going down
    first: asyncio.Event = field(default_factory=asyncio.Event)


def run_fast(main: Coroutine[Any, Any, Any]) -> Any:
    """Runs ``main`` on uvloop when it is installed: the clients and the uploader stand in
    for screens and boxes with CPUs of their own, so they take as little of this one as
    they can."""
    runner: Callable[[Coroutine[Any, Any, Any]], Any] = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    return runner(main)


def clients_process(conn: Connection, config: dict[str, Any]) -> None:
    """Entry point of the clients' process."""
    run_fast(_clients_main(conn, config))


async def _clients_main(conn: Connection, config: dict[str, Any]) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    probe_index = {f"PRB{i}": i for i in range(config["probe_teams"])}
    compression = None if config["no_deflate"] else "deflate"
    records: list[ClientRecord] = []
    urls: list[str] = config["urls"]
    for j in range(config["clients"]):
        server = j % len(urls)
        school = (j // len(urls)) % 100 < round(config["school_share"] * 100)
        kind = "school" if school else None
        url = f"{urls[server]}?boards={BOARDS}" + (f"&kind={kind}" if kind else "")
        records.append(ClientRecord(server, kind, url, [[] for _ in probe_index]))

    def on_message(rec: ClientRecord, message: str | bytes, now: float) -> None:
        rec.messages += 1
        rec.bytes += len(message)
        text = message.decode() if isinstance(message, bytes) else message
        if '"teams-total"' not in text:
            return
        data = json.loads(text)
        if data.get("board") != "teams-total":
            return
        rec.probe_messages += 1
        seen = set()
        for entry in data["entries"]:
            i = probe_index.get(entry["team"])
            if i is None:
                continue
            seen.add(i)
            n, rest = divmod(int(entry["points"]), PROBE_POINTS)
            arrivals = rec.arrivals[i]
            if rest or n < len(arrivals):
                rec.anomalies += 1
            while len(arrivals) < n:
                arrivals.append(now)
        rec.absent += sum(1 for i, a in enumerate(rec.arrivals) if a and i not in seen)

    gate = asyncio.Semaphore(config["connect_concurrency"])

    async def client(rec: ClientRecord) -> None:
        first = True
        while True:
            try:
                # The first connections are opened a few at a time, like screens coming on.
                async with gate if first else contextlib.nullcontext():
                    ws = await connect(
                        rec.url,
                        compression=compression,
                        proxy=None,
                        open_timeout=60,
                        ping_interval=None,  # browsers do not ping; the server does
                        max_size=None,
                    )
            except Exception as exc:  # refused, timed out, rejected: count it and retry
                rec.errors += 1
                rec.last_error = f"{type(exc).__name__}: {exc}"[:200]
                first = False
                rec.first.set()
                await asyncio.sleep(1.0)
                continue
            if not rec.connected:
                rec.connected, rec.connected_at = True, time.monotonic()
            first = False
            rec.first.set()
            try:
                async with ws:
                    async for message in ws:
                        on_message(rec, message, time.monotonic())
            except ConnectionClosed as exc:
                rec.last_error = f"closed: {exc}"[:200]
            rec.disconnects += 1
            await asyncio.sleep(1.0)

    lags: list[float] = []

    async def lag_monitor() -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.05)
            lags.append(time.monotonic() - t - 0.05)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_command() -> None:
        while conn.poll():
            if conn.recv() == "stop":
                stop.set()

    loop.add_reader(conn.fileno(), on_command)
    started = time.monotonic()
    tasks = [asyncio.create_task(client(rec)) for rec in records]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(
            asyncio.gather(*(rec.first.wait() for rec in records)), config["connect_timeout"]
        )
    connected = sum(rec.connected for rec in records)
    conn.send(("ready", connected, time.monotonic() - started))
    monitor = asyncio.create_task(lag_monitor())
    await stop.wait()
    stopped = time.monotonic()
    for task in [*tasks, monitor]:
        task.cancel()
    await asyncio.gather(*tasks, monitor, return_exceptions=True)
    result = {
        "clients": [
            {
                "server": rec.server,
                "kind": rec.kind,
                "arrivals": rec.arrivals,
                "connected": rec.connected,
                "connected_at": rec.connected_at,
                "messages": rec.messages,
                "probe_messages": rec.probe_messages,
                "bytes": rec.bytes,
                "disconnects": rec.disconnects,
                "errors": rec.errors,
                "last_error": rec.last_error,
                "absent": rec.absent,
                "anomalies": rec.anomalies,
            }
            for rec in records
        ],
        "stopped": stopped,
        "lags": lags,
    }
    # A file, not the pipe: a large message cut short by a dying process would leave the
    # parent blocked in recv().
    path = Path(config["result_path"])
    path.with_suffix(".tmp").write_text(json.dumps(result))
    path.with_suffix(".tmp").replace(path)
    conn.send(("result", str(path)))


async def receive(conn: Connection, proc: Any, wait_s: float) -> Any:
    """The next (small) message from the clients' process, which must stay alive."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(conn.poll, 0.5):
            try:
                return conn.recv()
            except EOFError:
                break
        if not proc.is_alive():
            break
    if proc.is_alive():
        raise SystemExit("the clients' process did not answer in time")
    raise SystemExit(f"the clients' process died (exit code {proc.exitcode})")


# ======================================================================================
# The uploads
# ======================================================================================


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


# ======================================================================================
# Figures
# ======================================================================================


def pct(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return math.nan
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": pct(ordered, 50),
        "p90": pct(ordered, 90),
        "p99": pct(ordered, 99),
        "max": ordered[-1] if ordered else math.nan,
    }


def fmt(s: dict[str, float], unit: float = 1.0, suffix: str = "s") -> str:
    if not s["n"]:
        return "no samples"
    return (
        f"p50 {s['p50'] * unit:.3f} {suffix}, p90 {s['p90'] * unit:.3f} {suffix}, "
        f"p99 {s['p99'] * unit:.3f} {suffix}, max {s['max'] * unit:.3f} {suffix}"
    )


def latencies(
    probes: list[Probe], log: UploadLog, clients: list[dict[str, Any]], warmup: float
) -> dict[str, Any]:
    """Pairs each client's k-th count of a probe team with that team's k-th probe to be
    sent. Without reordering that is exactly the probe whose leg made the count; if a
    later probe is scored first, the pairing never gives a time before the sending (a
    count of k needs k probes scored) and ``out_of_order`` says how often it happened."""
    all_: list[float] = []
    same: list[float] = []
    other: list[float] = []
    worst: list[float] = []  # per probe: the slowest client
    missing = negative = out_of_order = 0
    unsent = sum(1 for p in probes if p.due >= warmup and p.pid not in log.sent)
    measured = 0
    for team in sorted({p.team for p in probes}):
        sent = sorted(
            (p for p in probes if p.team == team and p.pid in log.sent),
            key=lambda p: log.sent[p.pid],
        )
        answers = [log.answered[p.pid] for p in sent if p.pid in log.answered]
        out_of_order += sum(1 for a, b in zip(answers, answers[1:], strict=False) if b < a)
        for k, p in enumerate(sent, start=1):
            if p.due < warmup:
                continue
            measured += 1
            slowest = 0.0
            for c in clients:
                if not c["connected"]:
                    continue
                arrivals = c["arrivals"][team]
                if len(arrivals) < k:
                    missing += 1
                    continue
                lat = arrivals[k - 1] - log.sent[p.pid]
                if lat < 0:
                    negative += 1
                all_.append(lat)
                (same if c["server"] == p.server else other).append(lat)
                slowest = max(slowest, lat)
            worst.append(slowest)
    answer = [
        log.answered[p.pid] - log.sent[p.pid]
        for p in probes
        if p.due >= warmup and p.pid in log.answered
    ]
    return {
        "probes_planned": len(probes),
        "probes_measured": measured,
        "probes_unsent": unsent,
        "out_of_order": out_of_order,
        "pairs": len(all_),
        "missing": missing,
        "negative": negative,
        "all": summary(all_),
        "same_process": summary(same),
        "other_process": summary(other),
        "slowest_client_per_probe": summary(worst),
        "probe_upload_answer": summary(answer),
    }


# ======================================================================================
# Main
# ======================================================================================


async def main(args: argparse.Namespace) -> int:
    name = f"taptrail_bench_t2s_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    slug = f"t2s-{uuid.uuid4().hex[:10]}"
    url = f"{args.pg.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    key = Fernet.generate_key().decode()
    now = utcnow()
    definition = town_definition(
        slug,
        boxes=args.boxes,
        cards=args.cards,
        teams=args.teams,
        probe_teams=args.probe_teams,
        now=now,
    )
    total_s = args.warmup + args.seconds
    load_before = os.getloadavg()
    print(
        f"tap-to-screen: {args.rate:,.0f} taps/s offered for {args.seconds:g} s "
        f"(+{args.warmup:g} s warm-up), {args.clients} WebSocket clients, {args.servers} "
        f"server processes; load average {load_before[0]:.2f}",
        flush=True,
    )

    t = time.perf_counter()
    # Whole journeys (they last a quarter of an hour or so) in a window of at least 90
    # virtual minutes, each walking card tapping every --card-minutes on average.
    n_taps = round(args.rate * total_s)
    window_min = max(90.0, n_taps / args.cards * args.card_minutes)
    active = min(args.cards, max(100, round(n_taps * args.card_minutes / window_min)))
    sim = TownSimulation(background_definition(definition, active), None, seed=args.seed)
    window = timedelta(minutes=window_min)
    gen_end = now - timedelta(minutes=5)
    taps = sim.generate(n_taps, gen_end - window, gen_end, diurnal=False)
    readers = sorted(r["id"] for r in definition["readers"])
    slots = build_slots(taps, readers, total_s=total_s, upload_every=args.upload_every)
    probes, prime = plan_probes(
        slots,
        definition,
        n_teams=args.probe_teams,
        rate=args.probe_rate,
        total_s=total_s,
        servers=args.servers,
        rng=random.Random(f"probes:{args.seed}"),
        now=now,
    )
    plan = Plan(slots, probes, prime, len(taps))
    sizes = sorted(len(s.taps) + len(s.probes) for s in slots)
    print(
        f"schedule: {len(taps):,} taps by {active:,} cards over a virtual {window_min:.0f} min, "
        f"{len(slots):,} uploads from {args.boxes} boxes every {args.upload_every:g} s "
        f"(taps per upload: mean {sum(sizes) / max(1, len(sizes)):.0f}, p95 {pct(sizes, 95):.0f}, "
        f"max {sizes[-1] if sizes else 0}); {len(probes)} probes "
        f"({time.perf_counter() - t:.1f} s)",
        flush=True,
    )

    await create_database(args.pg, name)
    servers: list[Server] = []
    log_dir = Path(tempfile.mkdtemp(prefix="t2s-logs-"))
    proc: Any = None
    parent_conn: Connection | None = None
    db: asyncpg.Connection | None = None
    code = 1
    try:
        t = time.perf_counter()
        await load_town(url, key, definition)
        print(
            f"town loaded: {args.boxes} boxes, {args.cards:,} cards, {args.teams} teams + "
            f"{args.probe_teams} probe teams ({time.perf_counter() - t:.1f} s)",
            flush=True,
        )
        for i in range(args.servers):
            server = start_server(i, url, key, args.redis_url, log_dir, periodic_jobs=i == 0)
            servers.append(server)
            await wait_ready(server)
        print(f"servers: {', '.join(s.base for s in servers)} (logs in {log_dir})", flush=True)

        log = UploadLog({p.key: p.pid for p in probes})
        limits = httpx.Limits(max_connections=args.boxes, max_keepalive_connections=args.boxes)
        http = [
            httpx.AsyncClient(
                base_url=s.base,
                limits=limits,
                timeout=120,
                trust_env=False,
                event_hooks=log.hooks(),
            )
            for s in servers
        ]
        secrets = {r["id"]: r["secret"] for r in definition["readers"]}
        retry = RetryPolicy(max_attempts=6, max_total_delay_s=30)
        boxes = Boxes(
            {
                rid: SimulatedReader(
                    rid,
                    secrets[rid],
                    http[i % len(http)],
                    retry=retry,
                    history_limit=0,
                    rng=random.Random(f"reader:{args.seed}:{i}"),
                )
                for i, rid in enumerate(readers)
            }
        )
        await prime_probe_cards(plan, boxes)

        ctx = mp.get_context("spawn")
        parent_conn, child_conn = ctx.Pipe()
        config = {
            "urls": [f"ws://127.0.0.1:{s.port}/api/v1/games/{slug}/live" for s in servers],
            "clients": args.clients,
            "probe_teams": args.probe_teams,
            "school_share": args.school_share,
            "no_deflate": args.no_deflate,
            "connect_concurrency": 50,
            "connect_timeout": 120.0,
            "result_path": str(log_dir / "clients.json"),
        }
        proc = ctx.Process(target=clients_process, args=(child_conn, config), daemon=True)
        proc.start()
        _, connected, took = await receive(parent_conn, proc, 300)
        print(f"clients: {connected} of {args.clients} connected in {took:.1f} s", flush=True)

        db = await asyncpg.connect(f"{args.pg}/{name}")
        stats = await run_schedule(plan, boxes, args, servers, (os.getpid(), proc.pid), db, name)
        stats.scored_after = await wait_for_scoring(db, args.drain_timeout)
        answered = Counter(p.team for p in probes if p.pid in log.answered)
        expected = {f"PRB{i}": answered[i] * PROBE_POINTS for i in range(args.probe_teams)}
        final_points, stats.boards_after = await wait_for_boards(
            servers[0].base, slug, expected, args.drain_timeout
        )
        await asyncio.sleep(args.settle)
        parent_conn.send("stop")
        _, result_path = await receive(parent_conn, proc, 120)
        result = json.loads(await asyncio.to_thread(Path(result_path).read_text))
        await asyncio.to_thread(Path(result_path).unlink)
        for client in http:
            await client.aclose()
        mix = await outcome_mix(db)
        print(await scorer_summary(servers), flush=True)
        figures = report(args, plan, log, stats, result, (final_points, expected), mix, load_before)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str))
        code = 0 if figures["pass"] else 1
    finally:
        if db is not None:
            await db.close()
        if parent_conn is not None and proc is not None and proc.is_alive():
            with contextlib.suppress(OSError):
                parent_conn.send("stop")
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
        stop_processes(server.proc for server in servers)
        with contextlib.suppress(Exception):
            await delete_boards(args.redis_url, slug)
        if args.keep:
            print(f"kept database {name}")
        else:
            await drop_database(args.pg, name)
    return code


async def scorer_summary(servers: list[Server]) -> str:
    """The servers' scoring rounds, from their /metrics (whole run, warm-up included)."""
    from prometheus_client.parser import text_string_to_metric_families

    sums: dict[str, float] = defaultdict(float)
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        for server in servers:
            text = (await client.get(f"{server.base}/metrics")).text
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name.endswith(("_sum", "_count")) and not sample.labels:
                        sums[sample.name] += sample.value
    rounds = sums["taptrail_scoring_round_seconds_count"]
    delays = sums["taptrail_scoring_delay_seconds_count"]
    return (
        f"scorer:    {rounds:,.0f} rounds, mean {sums['taptrail_scoring_round_seconds_sum'] / max(1, rounds):.3f} s "
        f"and {sums['taptrail_scoring_round_holders_sum'] / max(1, rounds):,.0f} holders each; "
        f"upload commit to scored and published: mean "
        f"{sums['taptrail_scoring_delay_seconds_sum'] / max(1, delays):.3f} s over {delays:,.0f} uploads"
    )


def report(
    args: argparse.Namespace,
    plan: Plan,
    log: UploadLog,
    stats: RunStats,
    result: dict[str, Any],
    points: tuple[dict[str, int], dict[str, int]],
    mix: dict[str, int],
    load_before: tuple[float, float, float],
) -> dict[str, Any]:
    clients = result["clients"]
    lat = latencies(plan.probes, log, clients, args.warmup)
    span = stats.window[1] - stats.window[0]
    achieved = stats.acked_window / span if span > 0 else 0.0
    scored = stats.scored_window / span if span > 0 else 0.0
    offered = stats.offered_window / span if span > 0 else 0.0
    connected = sum(c["connected"] for c in clients)
    disconnects = sum(c["disconnects"] for c in clients)
    ws_errors = sum(c["errors"] for c in clients)
    anomalies = sum(c["anomalies"] for c in clients)
    absent = sum(c["absent"] for c in clients)
    upload_errors = sum(stats.errors.values())
    non_200 = sum(n for status, n in log.statuses.items() if status != 200)
    lags = summary(result["lags"])
    dispatch = summary(stats.dispatch_lags)
    uploads = summary(log.times)
    kinds = Counter(c["kind"] or "all" for c in clients)
    run_span = result["stopped"] - stats.t0
    msgs = sum(c["messages"] for c in clients)
    final_points, expected = points
    points_ok = final_points == expected
    legs = mix.get("leg", 0)
    total_taps = sum(mix.values())
    load_after = os.getloadavg()

    print()
    print(
        f"offered:   {offered:,.0f} taps/s in the measured {span:.0f} s (target rate "
        f"{args.rate:,.0f}); uploads dispatched late by {fmt(dispatch, 1000, 'ms')}"
    )
    print(
        f"achieved:  {achieved:,.0f} taps/s stored and acknowledged, {scored:,.0f} taps/s scored "
        f"({min(achieved, scored) / max(offered, 1e-9):.0%} of offered); when the window ended "
        f"{stats.pending_at_end:,} stored taps were waiting to be scored"
    )
    print(
        f"backlog:   {stats.backlog_at_end:,} taps not acknowledged when the schedule ended; "
        + (
            f"drained {stats.drained_after:.1f} s later"
            if stats.drained_after is not None
            else f"NOT drained in {args.drain_timeout:g} s ({stats.left_queued:,} left)"
        )
        + (
            f", every tap scored {stats.scored_after:.1f} s after that"
            if stats.scored_after is not None
            else f", taps still unscored {args.drain_timeout:g} s after that"
        )
        + (
            f", the boards showed every answered probe {stats.boards_after:.1f} s after that"
            if stats.boards_after is not None
            else ", the boards did NOT show every answered probe"
        )
    )
    print(
        f"uploads:   {sum(log.statuses.values()):,} requests (mean {sum(log.sizes) / max(1, len(log.sizes)):.0f} "
        f"taps), answered in {fmt(uploads)}; statuses {dict(log.statuses)}; "
        f"errors {dict(stats.errors) or 0}"
    )
    print(
        f"taps:      {total_taps:,} stored: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(mix.items(), key=lambda kv: -kv[1]))
        + f" ({legs / max(1, total_taps):.0%} legs; counted after scoring caught up)"
    )
    print(
        f"clients:   {connected} of {len(clients)} connected ({dict(kinds)}; boards {BOARDS}); "
        f"{msgs / max(1, len(clients)) / max(run_span, 1e-9):.2f} messages/s per client; "
        f"disconnects {disconnects}, connect errors {ws_errors}; "
        f"client loop lag {fmt(lags, 1000, 'ms')}"
    )
    print(
        f"probes:    {lat['probes_measured']} measured (of {lat['probes_planned']}, "
        f"{lat['probes_unsent']} never sent) x {connected} clients = {lat['pairs']:,} pairs; "
        f"missing {lat['missing']}, before the upload {lat['negative']}, answered out of "
        f"order {lat['out_of_order']}, "
        f"value anomalies {anomalies}, probe team off the board {absent}; final probe points "
        + ("as expected" if points_ok else f"WRONG: {final_points}, expected {expected}")
    )
    print(f"probe upload answered in {fmt(lat['probe_upload_answer'])}")
    print(f"same process as the upload:  {fmt(lat['same_process'])}")
    print(f"other process (via Redis):   {fmt(lat['other_process'])}")
    print(f"slowest client per probe:    {fmt(lat['slowest_client_per_probe'])}")
    print(
        "cpu:       "
        + ", ".join(f"{k} {v:.0%}" for k, v in stats.cpu.items())
        + " (100 % = one CPU; the machine line: share of all CPUs)"
        + f"; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    print()
    print(f"TAP-TO-SCREEN (upload sent -> client's message): {fmt(lat['all'])}")
    reasons = []
    p99 = lat["all"]["p99"]
    if not lat["pairs"] or not p99 < args.target:
        reasons.append(f"p99 {p99:.3f} s is not under {args.target:g} s")
    if min(achieved, scored, offered) < 0.95 * args.rate:
        reasons.append(f"the offered {args.rate:,.0f} taps/s were not sustained")
    if connected < len(clients) or disconnects or ws_errors:
        reasons.append("not every client stayed connected")
    if lat["missing"] or lat["probes_unsent"] or lat["negative"] or anomalies or not points_ok:
        reasons.append("probes missing or miscounted")
    if upload_errors or non_200 or stats.left_queued:
        reasons.append("upload errors or taps left queued")
    verdict = "PASS" if not reasons else "FAIL: " + "; ".join(reasons)
    print(f"target: p99 under {args.target:g} s at {args.rate:,.0f} taps/s -> {verdict}")
    return {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "offered_taps_per_s": offered,
        "achieved_taps_per_s": achieved,
        "scored_taps_per_s": scored,
        "pending_scoring_at_end": stats.pending_at_end,
        "scored_after_s": stats.scored_after,
        "boards_after_s": stats.boards_after,
        "backlog_at_end": stats.backlog_at_end,
        "drained_after_s": stats.drained_after,
        "left_queued": stats.left_queued,
        "uploads": {"answer_s": uploads, "statuses": dict(log.statuses), "errors": stats.errors},
        "taps": mix,
        "clients": {
            "connected": connected,
            "disconnects": disconnects,
            "errors": ws_errors,
            "loop_lag_s": lags,
        },
        "latency_s": lat,
        "cpu": stats.cpu,
        "load_average": [load_before[0], load_after[0]],
        "pass": not reasons,
        "verdict": verdict,
    }


if __name__ == "__main__":
    sys.exit(run_fast(main(parse_args())))
