"""Benchmark: the evaluation report and anonymised exports on PostgreSQL.

Creates a scratch database and bulk-loads (COPY) two games of 100,000 players each, in 400
neighbourhoods of two districts, with three survey waves (sample_data: ~95% answer at
registration, ~55% at game end, ~25% at follow-up):

* ``big``: 1,000,000 rows of daily activity (10 days per player);
* ``small``: 250,000 rows (2.5 days per player): the same players, a quarter of the rows.

Then it times ``build_game_report`` on ``big`` (median of 3), and exports the daily-activity
file of each game as CSV and as Parquet, each in a fresh subprocess that reports its
tracemalloc peak and its peak RSS (ru_maxrss), so the memory of one export is measured alone:
the same figure at 250k and 1M rows shows memory independent of the row count. Optionally
(``--postcodes N``) it times ``taptrail import postcodes`` logic on a synthetic ONS lookup of
N rows (the full UK file has about 2.7 million), also in a subprocess.

    .venv/bin/python bench/bench_evaluation.py
    .venv/bin/python bench/bench_evaluation.py --players 20000 --postcodes 0
    .venv/bin/python bench/bench_evaluation.py --write-md BENCHMARKS.md

``--pg`` (or TAPTRAIL_BENCH_PG) is a server URL such as postgresql://postgres@127.0.0.1:5432;
the scratch database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.fernet import Fernet
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import add_database_args, create_database, drop_database  # noqa: E402

# Only what an export child needs is imported here; the parent imports the rest in main(),
# so each measured export process carries what a server's export does, no more.
from evaluation import exports  # noqa: E402
from game.models import Game  # noqa: E402
from kernel.db import make_engine, make_sessionmaker  # noqa: E402
from kernel.secrets_box import SecretBox  # noqa: E402

# ------------------------------------------------------------------------------ children


def _memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc (per process image, unlike
    ru_maxrss, which Linux carries over from the parent across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _child_export(url: str, slug: str, fmt: str, key: str, trace: bool) -> dict[str, Any]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    box = SecretBox(key)
    try:
        rss_start = _memory_mb("VmRSS")
        if trace:
            tracemalloc.start()
        async with sessions() as s:
            game = await s.scalar(select(Game).where(Game.slug == slug))
            assert game is not None
            planned = time.perf_counter()
            # the generalisation step: bands from histograms, class counts, the greedy plan,
            # for the players file and the daily file (two passes over the daily rows)
            ctx = await exports.export_context(s, game, "bench", box=box, daily=True)
            plan_seconds = time.perf_counter() - planned
            await s.commit()
        plan_peak = tracemalloc.get_traced_memory()[1] / 1e6 if trace else None
        if trace:
            tracemalloc.reset_peak()
        rss_before = _memory_mb("VmRSS")
        started = time.perf_counter()
        rows = 0
        size = 0
        async with sessions() as s:
            if fmt == "csv":
                async for chunk in exports.csv_chunks(s, ctx, "daily"):
                    size += len(chunk)  # what a response body would send
                    rows += chunk.count(b"\n")
                rows -= 1  # the header
            else:
                with tempfile.TemporaryDirectory() as folder:
                    path = Path(folder) / "daily.parquet"
                    rows = await exports.write_parquet(s, ctx, "daily", path)
                    size = path.stat().st_size
        seconds = time.perf_counter() - started
        out = {
            "format": fmt,
            "seconds": seconds,
            "bytes": size,
            "rows": rows,
            "rss_start_mb": rss_start,
            "rss_before_mb": rss_before,
            "rss_peak_mb": _memory_mb("VmHWM"),
            "plan_seconds": plan_seconds,
            "plan_tracemalloc_peak_mb": plan_peak,
            "daily_plan": {
                key: (ctx.daily_plan.manifest[key] if ctx.daily_plan else None)
                for key in ("records_in", "records_out", "records_suppressed")
            },
            "players_steps": len(ctx.plan.manifest["generalisations"]),
        }
        if trace:
            out["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
        return out
    finally:
        await engine.dispose()


async def _child_postcodes(url: str, path: str) -> dict[str, Any]:
    from evaluation.importing import import_postcodes

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    rss_before = _memory_mb("VmRSS")
    started = time.perf_counter()
    try:
        async with sessions() as s:

            async def commit(_rows: int) -> None:
                await s.commit()

            summary = await import_postcodes(s, path, after_batch=commit)
            await s.commit()
    finally:
        await engine.dispose()
    return {
        "rows": summary.rows,
        "batches": summary.batches,
        "seconds": time.perf_counter() - started,
        "rss_before_mb": rss_before,
        "rss_peak_mb": _memory_mb("VmHWM"),
    }


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def write_postcode_file(path: Path, rows: int) -> None:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    with path.open("w", encoding="latin-1") as out:
        out.write("pcd7,pcd8,pcds,dointr,doterm,usertype,oa21cd,lsoa21cd,msoa21cd,ladcd\n")
        for i in range(rows):
            area, unit = divmod(i, 4000)
            sector, rest = divmod(unit, 400)
            pc = f"Z{letters[area % 20]}{area // 20 % 100} {sector}{letters[rest // 20]}{letters[rest % 20]}"
            doterm = "201506" if i % 9 == 0 else ""
            out.write(
                f'"{pc}","{pc}","{pc}","198001","{doterm}","0","E00000001",'
                f'"E01B{i % 400:04d}","E02000001","E07000117"\n'
            )


# ------------------------------------------------------------------------------ main


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from evaluation_town import definition, load_areas, load_game

    from evaluation.report_service import build_game_report
    from kernel.scope import OPERATOR
    from organising.service import load_definition
    from taptrail.migrate import upgrade

    server = args.pg
    name = f"evalbench_{uuid.uuid4().hex[:8]}"
    await create_database(server, name)
    url = f"{server.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    key = Fernet.generate_key().decode()
    results: dict[str, Any] = {"players": args.players}
    engine = make_engine(url)
    try:
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        box = SecretBox(key)
        ids = {}
        for slug in ("big", "small"):
            async with sessions() as s:
                await load_definition(s, definition(slug), box=box, actor="bench", scope=OPERATOR)
                await s.commit()
                game = await s.scalar(select(Game).where(Game.slug == slug))
                assert game is not None
                ids[slug] = game.id
                await exports.create_project(s, game, "bench", box=box, actor="bench")
                await s.commit()
        started = time.perf_counter()
        conn = await asyncpg.connect(f"{server}/{name}")
        try:
            areas = await load_areas(conn, "B")
            await load_game(conn, ids["big"], areas, args.players, args.daily_big, seed=1)
            await load_game(conn, ids["small"], areas, args.players, args.daily_small, seed=2)
            results["responses"] = await conn.fetchval(
                "SELECT count(*) FROM survey_responses WHERE game_id=$1", ids["big"]
            )
            results["daily_rows"] = {
                slug: await conn.fetchval(
                    "SELECT count(*) FROM holder_days WHERE game_id=$1", ids[slug]
                )
                for slug in ids
            }
        finally:
            await conn.close()
        results["load_seconds"] = time.perf_counter() - started
        print(f"loaded in {results['load_seconds']:.1f} s: {results}", file=sys.stderr)

        times = []
        cpu = []
        for _ in range(3):
            async with sessions() as s:
                game = await s.get(Game, ids["big"])
                assert game is not None
                t0, c0 = time.perf_counter(), time.process_time()
                report = await build_game_report(s, game)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        results["report_seconds"] = times
        results["report_cpu_seconds"] = cpu
        results["load_average"] = os.getloadavg()[0]
        results["report_players"] = report["players"]
        results["report_bytes"] = len(json.dumps(report))
        print(f"report: {[f'{t:.2f}' for t in times]} s", file=sys.stderr)

        results["pure_planning"] = pure_planning_rate(args.players)
        print(f"pure planning: {results['pure_planning']}", file=sys.stderr)
        results["exports"] = []
        for slug in ("small", "big"):
            for fmt in ("csv", "parquet"):
                # the traced run first: it also warms the database cache for the timed run
                traced = run_child("export", url, slug, fmt, key, "trace")
                measured = run_child("export", url, slug, fmt, key, "plain")
                measured["tracemalloc_peak_mb"] = traced["tracemalloc_peak_mb"]
                measured["plan_tracemalloc_peak_mb"] = traced["plan_tracemalloc_peak_mb"]
                measured["game"] = slug
                measured["daily_rows"] = results["daily_rows"][slug]
                results["exports"].append(measured)
                print(f"export {slug} {fmt}: {measured}", file=sys.stderr)

        if args.postcodes:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "postcodes.csv"
                write_postcode_file(path, args.postcodes)
                results["postcode_file_mb"] = path.stat().st_size / 1e6
                results["postcodes"] = run_child("postcodes", url, str(path))
                print(f"postcodes: {results['postcodes']}", file=sys.stderr)
    finally:
        await engine.dispose()
        if not args.keep:
            await drop_database(server, name)
    return results


def pure_planning_rate(n: int, seed: int = 7) -> dict[str, float]:
    """The machine's reference: the pure generalisation step (bands from histograms, class
    counts, the greedy plan) on ``n`` synthetic player records in memory, no database."""
    from evaluation.anonymise import hierarchy_of, plan_k_anonymity
    from evaluation.bands import bands_from_histogram, histogram_value

    rng = random.Random(seed)
    measures = exports.PLAYER_MEASURES
    records: list[tuple[Any, ...]] = [
        (
            rng.choice(("5-11", "12-15", "25-44", "45-64")),
            rng.choice(("female", "male")),
            rng.randint(1, 5),
            "england",
            rng.choice(("school", "community", "none")),
            *(
                round(rng.expovariate(1 / 40), 1) if not integer else int(rng.expovariate(1 / 40))
                for _, integer in measures
            ),
        )
        for _ in range(n)
    ]
    started = time.perf_counter()
    histograms: list[dict[float, int]] = [{} for _ in measures]
    for r in records:
        for h, (_, integer), v in zip(histograms, measures, r[5:], strict=True):
            x = histogram_value(v, integer=integer)
            h[x] = h.get(x, 0) + 1
    bands = [
        bands_from_histogram(c, h, integer=i)
        for (c, i), h in zip(measures, histograms, strict=True)
    ]
    counts: dict[tuple[Any, ...], int] = {}
    for r in records:
        key = (*r[:5], *(b.index(v) for b, v in zip(bands, r[5:], strict=True)))
        counts[key] = counts.get(key, 0) + 1
    plan_k_anonymity(
        counts,
        k=10,
        quasi_identifiers=(*exports.QUASI_IDENTIFIERS, *(c for c, _ in measures)),
        hierarchies=(
            *(hierarchy_of(q) for q in exports.QUASI_IDENTIFIERS),
            *(exports.band_hierarchy(b) for b in bands),
        ),
    )
    seconds = time.perf_counter() - started
    return {"records": n, "seconds": seconds, "rate": n / seconds}


def markdown(results: dict[str, Any]) -> str:
    pg_version = results.get("pg_version", "")
    lines = [
        "## Evaluation",
        "",
        f"`bench/bench_evaluation.py` on PostgreSQL {pg_version} (asyncpg), Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs shared with other work (load "
        f"average {results['load_average']:.1f} during the report); a game of "
        f"{results['players']:,} players in 400 neighbourhoods, {results['responses']:,} survey "
        "answers over three waves.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| evaluation report (`build_game_report`: queries, statistics, disclosure control), "
        f"median of 3 (the first includes importing scipy) | "
        f"{statistics.median(results['report_seconds']):.2f} s "
        f"({', '.join(f'{t:.2f}' for t in results['report_seconds'])}); CPU in this process "
        f"{statistics.median(results['report_cpu_seconds']):.2f} s | under 5 s |",
    ]
    pure = results["pure_planning"]
    for e in results["exports"]:
        lines.append(
            f"| generalisation step before the {e['format'].upper()} export of "
            f"{e['daily_rows']:,} daily rows (bands and plans for the players and daily files: "
            f"three passes over {results['players']:,} players, two over the daily rows) | "
            f"{e['plan_seconds']:.1f} s; Python allocations peak "
            f"{e['plan_tracemalloc_peak_mb']:.1f} MB; {e['daily_plan']['records_suppressed']:,} "
            f"day records suppressed; machine: pure planning {pure['rate']:,.0f} players/s "
            f"({pure['records']:,} in {pure['seconds']:.2f} s) | bounded memory |"
        )
        lines.append(
            f"| daily-activity export, {e['format'].upper()}, {e['daily_rows']:,} rows "
            f"({e['bytes'] / 1e6:.0f} MB) | {e['seconds']:.1f} s; peak RSS "
            f"{e['rss_peak_mb']:.0f} MB (process after planning {e['rss_before_mb']:.0f} MB); "
            f"Python allocations peak {e['tracemalloc_peak_mb']:.1f} MB | under 200 MB, "
            "independent of rows |"
        )
    if "postcodes" in results:
        p = results["postcodes"]
        lines.append(
            f"| `import postcodes`, synthetic ONS lookup of {p['rows']:,} rows "
            f"({results['postcode_file_mb']:.0f} MB), batches of 5,000 | {p['seconds']:.0f} s "
            f"({p['rows'] / p['seconds']:,.0f} rows/s); peak RSS {p['rss_peak_mb']:.0f} MB | "
            "bounded memory |"
        )
    lines += [
        "",
        "Each export runs alone in a fresh process: peak RSS is its VmHWM (the whole process: "
        "interpreter, SQLAlchemy, asyncpg, the models, numpy, and pyarrow once a Parquet "
        "file is written: about 50 MB of the Parquet figure is the library itself), timed "
        "without tracemalloc; the Python allocation peak comes from a "
        "second run under tracemalloc (it does not see pyarrow's own buffers). The same memory at 250k and 1M rows "
        "shows that it does not grow with the file: CSV is written a partition (2,000 rows) "
        "at a time from a server-side cursor, Parquet a row group (32,000 rows) at a time, and "
        "k-anonymity is decided from class sizes, not from the players in memory: the "
        "generalisation step streams the players three times (histograms for the bands, class "
        "counts, the suppressed) and the daily rows twice, keeping one count per distinct "
        "value and per combination of released values. Peak RSS covers planning and writing; "
        "the pure planning rate (the same step on synthetic players in memory, no database) "
        "is this machine's reference for the planning time.",
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Evaluation\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def cli() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind = sys.argv[2]
        if kind == "export":
            _, _, _, url, slug, fmt, key, mode = sys.argv
            result = asyncio.run(_child_export(url, slug, fmt, key, mode == "trace"))
        else:
            _, _, _, url, path = sys.argv
            result = asyncio.run(_child_postcodes(url, path))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_args(parser)
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--daily-big", type=int, default=1_000_000)
    parser.add_argument("--daily-small", type=int, default=250_000)
    parser.add_argument("--postcodes", type=int, default=2_700_000, help="0 to skip")
    parser.add_argument("--write-md", type=Path, help="update the Evaluation section of this file")
    args = parser.parse_args()
    results = asyncio.run(main(args))

    async def pg_version() -> str:
        conn = await asyncpg.connect(f"{args.pg}/postgres")
        try:
            return str(await conn.fetchval("SHOW server_version")).split()[0]
        finally:
            await conn.close()

    results["pg_version"] = asyncio.run(pg_version())
    section = markdown(results)
    print(section)
    if args.write_md:
        write_section(args.write_md, section)


if __name__ == "__main__":
    cli()
