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
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench_ingestion import copy_baseline  # noqa: E402
from bench_unauth_bodies import engine_rate  # noqa: E402
from processes import stop_processes  # noqa: E402
from scratch_db import (  # noqa: E402
    add_database_args,
    create_database,
    delete_boards,
    drop_database,
    load_town,
)
from tap_to_screen_capacity import add_capacity_args, apply_quick, find_capacity  # noqa: E402
from tap_to_screen_clients import clients_process, receive, run_fast  # noqa: E402
from tap_to_screen_figures import fmt, latencies, pct, summary  # noqa: E402
from tap_to_screen_servers import Server, outcome_mix, start_server  # noqa: E402
from tap_to_screen_town import (  # noqa: E402
    BOARDS,
    PROBE_POINTS,
    TARGET_S,
    Plan,
    background_definition,
    build_slots,
    plan_probes,
    town_definition,
)
from tap_to_screen_uploads import (  # noqa: E402
    Boxes,
    RunStats,
    UploadLog,
    prime_probe_cards,
    run_schedule,
    wait_for_boards,
    wait_for_scoring,
)

from harness.servers import wait_ready  # noqa: E402
from kernel.db import utcnow  # noqa: E402
from simulator.reader_client import RetryPolicy, SimulatedReader  # noqa: E402
from simulator.town import TownSimulation  # noqa: E402


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
    p.add_argument("--no-copy", action="store_true", help="skip the COPY baseline at the end")
    add_capacity_args(p)
    args = p.parse_args(argv)
    apply_quick(args)
    if args.servers < 1 or args.clients < 1 or args.probe_teams < 1 or args.boxes < 2:
        p.error("need at least one server, client and probe team, and two boxes")
    if min(args.rate, args.probe_rate, args.seconds, args.upload_every) <= 0:
        p.error("--rate, --probe-rate, --seconds and --upload-every must be positive")
    if args.probe_teams > 16:
        p.error("at most 16 probe teams (a board message shows the top 20)")
    return args


async def main(args: argparse.Namespace) -> int:
    if args.find_capacity:
        return 0 if await find_capacity(args, trial) else 1
    figures = await trial(args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0 if figures["pass"] else 1


async def trial(args: argparse.Namespace) -> dict[str, Any]:
    """One run at ``args.rate``; returns its figures (``report``), with the COPY rate of
    the run's own stored taps into ``taps`` (unless ``--no-copy``)."""
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
    figures: dict[str, Any] = {}
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
            await wait_ready(
                server.base, server.proc, name=f"server {server.index}", log_tail=server.tail
            )
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
        if not args.no_copy:
            # The same kind of rows into the same table, the servers stopped (as the
            # ingestion benchmark does): the run's own taps, three times.
            stop_processes(server.proc for server in servers)
            await db.close()
            db = None
            copies = (await copy_baseline(args.pg, name))["taps"]
            copy = statistics.median(copies)
            figures["copy_rows_per_s"] = copy
            # The machine's speed at this moment, for BENCHMARKS.md (hosts differ by 2x).
            figures["engine_rate"] = engine_rate()
            print(f"pure engine: {figures['engine_rate']:,.0f} taps/s (best of 3)", flush=True)
            print(
                f"COPY of the run's {sum(mix.values()):,} taps into taps: {copy:,.0f} "
                f"rows/s (median of {', '.join(f'{c:,.0f}' for c in copies)}); scored rate / "
                f"COPY {figures['scored_taps_per_s'] / copy:.3f}, offered rate / COPY "
                f"{args.rate / copy:.3f}",
                flush=True,
            )
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
    return figures


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
    # Boxes upload every few seconds, so a short window holds a little more or less than
    # the nominal rate: what the servers must keep up with is what was offered in it.
    if offered < 0.85 * args.rate:
        reasons.append(f"the load generator offered only {offered:,.0f} of {args.rate:,.0f} taps/s")
    if min(achieved, scored) < 0.95 * offered:
        reasons.append(f"the offered {offered:,.0f} taps/s were not sustained")
    if connected < len(clients) or disconnects or ws_errors:
        reasons.append("not every client stayed connected")
    if lat["missing"] or lat["probes_unsent"] or lat["negative"] or anomalies or not points_ok:
        reasons.append("probes missing or miscounted")
    if upload_errors or non_200 or stats.left_queued:
        reasons.append("upload errors or taps left queued")
    if stats.scored_after is None:
        reasons.append("taps left unscored")
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
