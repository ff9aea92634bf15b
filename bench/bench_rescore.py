"""Benchmark: re-scoring a whole game on PostgreSQL after a rule change.

Creates a scratch database, sets up a town (120 boxes, 40 teams, two campaigns, a daily cap),
bulk-loads holders, cards, players and taps with COPY, scores everything once, then changes
``points_per_leg`` 10 -> 12 and times ``rescore_game`` (read, score, write, rebuild totals,
audit, commit). It also times the pure engine on the same taps, already in memory.

    .venv/bin/python bench/bench_rescore.py                      # 1,000,000 taps, 50,000 holders
    .venv/bin/python bench/bench_rescore.py --taps 100000 --holders 5000
    .venv/bin/python bench/bench_rescore.py --write-md BENCHMARKS.md

``--pg`` (or TAPTRAIL_BENCH_PG) is a server URL such as postgresql://postgres@127.0.0.1:5432;
the scratch database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import platform
import re
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg
import yaml
from cryptography.fernet import Fernet
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rescore_town import bulk_load, definition, vacuum  # noqa: E402
from scratch_db import add_database_args, create_database, drop_database  # noqa: E402

from game.models import (
    Game,  # noqa: E402
    Tap,  # noqa: E402
)
from kernel.db import make_engine, make_sessionmaker  # noqa: E402
from kernel.scope import OPERATOR  # noqa: E402
from kernel.secrets_box import SecretBox  # noqa: E402
from organising.service import load_definition  # noqa: E402
from scoring import context, engine, inputs, ledger, rescore
from taptrail.migrate import upgrade  # noqa: E402

EngineInputs = tuple[list[tuple[list[engine.Tap], engine.Holder]], Any]


async def engine_inputs(sa_url: str, game_id: int) -> EngineInputs:
    """The game's taps in memory, by holder, and the game's scoring context (its rules now)."""
    eng = make_engine(sa_url)
    try:
        async with make_sessionmaker(eng)() as s:
            game = await s.get(Game, game_id)
            assert game is not None
            ctx = await context.scoring_context(s, game)
            ages, periods = await inputs.holder_inputs(s, game_id, None)
            raw = await s.execute(select(*inputs.TAP_TUPLE).where(Tap.game_id == game_id))
            by_holder: dict[int, list[engine.Tap]] = defaultdict(list)
            codes = ctx.checkpoint_codes
            for r in raw:
                by_holder[r[1]].append(engine.Tap(r[2], codes[r[3]], r[5]))
    finally:
        await eng.dispose()
    holders = [
        (
            taps,
            engine.Holder(
                ages.get(h), tuple(engine.TeamPeriod(vf, t) for vf, t in periods.get(h, []))
            ),
        )
        for h, taps in by_holder.items()
    ]
    return holders, ctx.game


def engine_pass(inputs: EngineInputs) -> tuple[float, int]:
    """Seconds for the pure engine to score every tap once, and the points it gives. The
    cyclic garbage collector is paused, as it is during a re-score."""
    holders, game = inputs
    with rescore.no_cyclic_gc():
        started = time.perf_counter()
        points = 0
        for taps, holder in holders:
            for out in engine.score_holder(taps, holder, game):
                points += out.points
        return time.perf_counter() - started, points


async def pure_engine_rate(sa_url: str, game_id: int) -> tuple[float, int, int]:
    """Taps per second of the pure engine over the game's taps (best of three passes)."""
    inputs = await engine_inputs(sa_url, game_id)
    n = sum(len(t) for t, _ in inputs[0])
    passes = [engine_pass(inputs) for _ in range(3)]
    return n / min(seconds for seconds, _ in passes), n, passes[-1][1]


def backend_cpu(pid: int | None) -> float:
    """CPU seconds used so far by a PostgreSQL backend (NaN unless on this host)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return math.nan


async def timed_rescore(sa_url: str, game_id: int, reason: str, ppl: int | None) -> dict[str, Any]:
    eng = make_engine(sa_url)
    try:
        async with make_sessionmaker(eng)() as s:
            if ppl is not None:
                game = await s.get(Game, game_id)
                assert game is not None
                game.points_per_leg = ppl
                await s.flush()
            backend = await s.scalar(text("SELECT pg_backend_pid()"))
            server_cpu = backend_cpu(backend)
            python_cpu = time.process_time()
            started = time.perf_counter()
            report = await rescore.rescore_game(s, game_id, actor="bench", reason=reason)
            scored = time.perf_counter()
            await s.commit()
            done = time.perf_counter()
            return {
                "seconds": done - started,
                "commit_s": done - scored,
                "python_cpu_s": time.process_time() - python_cpu,
                "server_cpu_s": backend_cpu(backend) - server_cpu,
                "taps": report.taps,
                "changed": report.changed,
                "points_before": report.points_before,
                "points_after": report.points_after,
            }
    finally:
        await eng.dispose()


async def check(sa_url: str, game_id: int) -> list[str]:
    eng = make_engine(sa_url)
    try:
        async with make_sessionmaker(eng)() as s:
            return await ledger.ledger_mismatches(s, game_id)
    finally:
        await eng.dispose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    server = args.pg.rstrip("/")
    name = f"scoring_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await create_database(server, name)
    url = f"{server}/{name}"
    sa_url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    results: dict[str, Any] = {
        "taps": args.taps,
        "holders": args.holders,
        "load_before": os.getloadavg()[0],
    }
    try:
        eng = make_engine(sa_url)
        await upgrade(eng)
        slug = "bench-town"
        async with make_sessionmaker(eng)() as s:
            loaded = await load_definition(
                s,
                yaml.safe_dump(definition(slug)),
                box=SecretBox(Fernet.generate_key()),
                actor="bench",
                scope=OPERATOR,
            )
            await s.commit()
        await eng.dispose()
        game_id = loaded.game_id
        started = time.perf_counter()
        conn = await asyncpg.connect(url)
        try:
            settings = ("shared_buffers", "work_mem", "max_wal_size")
            shown = [f"{name} {await conn.fetchval(f'SHOW {name}')}" for name in settings]
            results["server"] = ", ".join(shown)
            if args.fillfactor:
                await conn.execute(f"ALTER TABLE taps SET (fillfactor = {int(args.fillfactor)})")
            await bulk_load(conn, game_id, args.holders, args.taps)
        finally:
            await conn.close()
        await vacuum(url)
        print(
            f"loaded {args.taps:,} taps / {args.holders:,} holders in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )

        initial = await timed_rescore(sa_url, game_id, "initial scoring", None)
        await vacuum(url)
        print(f"initial scoring (every outcome new): {initial['seconds']:.2f} s", flush=True)
        again = await timed_rescore(sa_url, game_id, "same rules", None)
        await vacuum(url)
        print(f"re-score, nothing changes: {again['seconds']:.2f} s", flush=True)
        # The machine's speed drifts from minute to minute: each re-score is also paired with
        # the pure engine timed just before it (best of two passes over the same taps). The
        # engine's inputs are then dropped: a re-score does not run beside a million taps
        # held by someone else (in this process they cost it 0.5-1 CPU-second).
        changes = []
        for i in range(args.repeat):
            ppl = 12 if i % 2 == 0 else 10
            if i:
                await vacuum(url)
            inputs = await engine_inputs(sa_url, game_id)
            n_taps = sum(len(t) for t, _ in inputs[0])
            engine_s = min(engine_pass(inputs)[0] for _ in range(2))
            del inputs
            gc.collect()
            run_ = await timed_rescore(sa_url, game_id, f"points_per_leg -> {ppl}", ppl)
            run_["engine_rate"] = n_taps / engine_s
            run_["paired_ratio"] = run_["taps"] / run_["seconds"] / run_["engine_rate"]
            changes.append(run_)
            print(
                f"re-score after points_per_leg {22 - ppl} -> {ppl}: {run_['seconds']:.2f} s, "
                f"{run_['changed']:,} outcomes changed; engine just before "
                f"{run_['engine_rate']:,.0f} taps/s, ratio {run_['paired_ratio']:.2f}",
                flush=True,
            )
        change = min(changes, key=lambda c: c["seconds"])
        change["median_s"] = statistics.median(c["seconds"] for c in changes)
        change["runs"] = len(changes)
        change["points_after"] = changes[-1]["points_after"]
        rate, n, engine_points = await pure_engine_rate(sa_url, game_id)
        problems = await check(sa_url, game_id)
        results.update(
            engine_rate=rate,
            initial=initial,
            unchanged=again,
            rule_change=change,
            full_rate=change["taps"] / change["seconds"],
            ledger_ok=not problems,
            engine_points=engine_points,
        )
        results["ratio"] = results["full_rate"] / rate
        results["paired_ratios"] = [c["paired_ratio"] for c in changes]
        results["load_after"] = os.getloadavg()[0]
        if engine_points != change["points_after"]:
            problems.append(f"engine {engine_points} != stored {change['points_after']} points")
        if problems:
            print("MISMATCH:", *problems[:10], sep="\n  ")
            results["ledger_ok"] = False
    finally:
        if not args.keep:
            await drop_database(server, name)
        else:
            print(f"kept database {name}")
    return results


def report(r: dict[str, Any]) -> str:
    c = r["rule_change"]
    lines = [
        f"taps {r['taps']:,}, holders {r['holders']:,}",
        f"pure engine:            {r['engine_rate']:>12,.0f} taps/s",
        f"full re-score:          {r['full_rate']:>12,.0f} taps/s  (best of {c['runs']}: "
        f"{c['seconds']:.2f} s, median {c['median_s']:.2f} s; {c['changed']:,} outcomes "
        f"changed)",
        f"ratio full / engine:    {r['ratio']:>12.2f}   (target >= 0.25)",
        "paired with the engine just before each re-score: ratios "
        + ", ".join(f"{x:.2f}" for x in r["paired_ratios"])
        + f" (median {statistics.median(r['paired_ratios']):.2f})",
        f"CPU in that re-score:   Python {c['python_cpu_s']:.1f} s, PostgreSQL backend "
        f"{c['server_cpu_s']:.1f} s",
        f"initial scoring:        {r['initial']['seconds']:>12.2f} s",
        f"re-score, no change:    {r['unchanged']['seconds']:>12.2f} s",
        f"totals match ledger:    {r['ledger_ok']}",
        f"PostgreSQL settings:    {r['server']}",
        f"load average before/after: {r['load_before']:.1f} / {r['load_after']:.1f}"
        f" on {os.cpu_count()} CPUs",
    ]
    return "\n".join(lines)


def markdown(r: dict[str, Any]) -> str:
    c = r["rule_change"]
    u = r["unchanged"]
    return f"""## Re-scoring

`bench/bench_rescore.py`: a whole game re-scored on PostgreSQL after a rule change
(`points_per_leg` 10 -> 12 and back), {r["taps"]:,} taps over {r["holders"]:,} holders
(120 boxes, 40 teams, two campaigns, a daily cap of 150; taps bulk-loaded with COPY). "Full"
is `rescore_game` end to end: read every tap, score, write the changed outcomes, bring every
total in line with the ledger, audit, commit. The pure engine scores the same taps already
in memory (best of three).

| measure | value |
|---|---|
| pure engine | {r["engine_rate"]:,.0f} taps/s |
| full re-score | {r["full_rate"]:,.0f} taps/s: {c["seconds"]:.1f} s (best of {c["runs"]}; median {c["median_s"]:.1f} s), {c["changed"]:,} outcomes changed |
| ratio full / engine | {r["ratio"]:.2f} (target >= 0.25: {"met" if r["ratio"] >= 0.25 else "not met, see below"}) |
| each re-score against the engine timed just before it | {", ".join(f"{x:.2f}" for x in r["paired_ratios"])} (median {statistics.median(r["paired_ratios"]):.2f}) |
| CPU used by that re-score | Python {c["python_cpu_s"]:.1f} s, PostgreSQL backend {c["server_cpu_s"]:.1f} s |
| initial scoring (every outcome new) | {r["initial"]["seconds"]:.1f} s |
| re-score with nothing to change | {u["seconds"]:.1f} s ({r["taps"] / u["seconds"]:,.0f} taps/s) |
| stored totals equal the ledger afterwards | {"yes" if r["ledger_ok"] else "NO"} |

Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other work (load average
{r["load_before"]:.1f} before, {r["load_after"]:.1f} after), Python {platform.python_version()},
PostgreSQL on the same host ({r["server"]}). Reproduce with
`.venv/bin/python bench/bench_rescore.py` (`--taps/--holders` for a quicker run, `--repeat`).

How it works (`rescore_game` on PostgreSQL, one asyncpg connection in the caller's
transaction): the server reads the game's taps in one pass, sorted by holder and then in the
engine's order (a cursor: a holder's taps are spread over the whole table, which is stored in
arrival order, so one sequential scan and a sort beat an index range scan per batch of
holders). Every conversion is done in SQL (checkpoint code, card validity, campaign and
multiplier packed into one integer, local date as an ordinal, the row's ctid), so asyncpg's
records become the engine's input rows with no per-row Python code (a named tuple made with
`tuple.__new__`). Python scores about 100,000 taps (whole holders) at a time while the
server writes the previous batch and fetches the next; the cyclic garbage collector is
paused meanwhile. Only changed outcomes are written: COPY into a temporary table, then one
`UPDATE … FROM` that finds each row by its ctid in page order (a TID scan, no index lookups;
a row moved since it was read is written again by id). The holder, day and holder-team
totals that each batch's outcomes add up to are compared with the stored ones in Python and
only differences are written (joined on the primary key in a nested loop); team totals are
merged by SQL at the end. Migration 0006 gives `taps` a fillfactor of 50 (holder totals 80,
team totals 50) so that these updates are HOT: no index entries.

Where the time goes: both sides are CPU-bound and the PostgreSQL backend is the busier one.
About half of its time is the update of the changed taps (heap updates, WAL with a full-page
image of every page first touched after a checkpoint, and reading and writing back pages of
a table larger than the 128 MB of shared buffers), a quarter the single sorted read; the
sort (a few seconds for a million taps) is the one stretch where Python waits. Python spends
roughly twice as long decoding rows, comparing outcomes and summing totals as the engine
spends scoring. Earlier versions for comparison (same data): row-by-row ORM updates with
delete-and-insert totals 67 s; COPY + `UPDATE … FROM` with totals rebuilt by SQL 50 s;
holder ranges, only changed totals written, HOT updates and the read/write pipeline
16.6-25.2 s (ratio 0.10-0.13; 55-73 s, ratio 0.15, on the day of this run with the load
average at 4-6); one sorted read, rows built without Python code, TID updates
{c["seconds"]:.0f}-{c["median_s"]:.0f} s.
"""


def write_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Re-scoring\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taps", type=int, default=1_000_000)
    parser.add_argument("--holders", type=int, default=50_000)
    add_database_args(parser)
    parser.add_argument(
        "--fillfactor", type=int, help="set the taps table's fillfactor before loading"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rule-change re-scores to time (best is kept)"
    )
    parser.add_argument("--write-md", type=Path, help="write the figures into this Markdown file")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    print(report(results))
    if args.write_md:
        write_section(args.write_md, markdown(results))
        print(f"wrote the Re-scoring section of {args.write_md}")
    if not results["ledger_ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
