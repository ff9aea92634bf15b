"""Scoring throughput of one game with 1, 2 and 4 scorer processes, against COPY.

    .venv/bin/python bench/bench_scorer_processes.py                  # 20,000 cards
    .venv/bin/python bench/bench_scorer_processes.py --cards 4000 --repeat 1   # quick

1. Creates a scratch PostgreSQL database (dropped at the end unless ``--keep``) and loads
   the ingestion benchmark's town (``--readers`` boxes 400 m apart, ``--cards`` cards in
   20 teams).
2. History: ``--history`` steps in which every card taps once, each step six minutes after
   the last at a neighbouring box, scored as they come (so every holder has a running
   state, as in a game under way). Untimed.
3. Trials, alternating 1, 2, 4 scorer processes (``--scorers``), ``--repeat`` times: the
   next ``--steps`` steps of taps (in order, as usual) are COPYed into ``taps`` (the queue
   trigger queues them; that COPY is timed: the baseline), then the scorer processes, started
   and connected beforehand, are released at once, each running ``scoring.scorer.Scorer``
   with ``partitions`` = the number of processes, until the queue is empty. Rate = taps /
   seconds from the release to the empty queue.
4. Checks that every tap is scored and every stored total equals the ledger
   (``scoring.ledger``), and prints the pure engine's rate on this machine.

The scorer processes share this machine's CPUs with PostgreSQL: the CPU line says how busy
the machine was during the trials.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench_ingestion import town_definition  # noqa: E402
from bench_unauth_bodies import engine_rate  # noqa: E402
from processes import machine_cpu  # noqa: E402
from scratch_db import add_database_args, create_database, drop_database, load_town  # noqa: E402

from kernel.db import utcnow  # noqa: E402

COLUMNS = (
    "game_id", "source", "source_key", "reader_id", "card_id", "holder_id", "checkpoint_id",
    "card_uid", "tapped_at_raw", "tapped_at", "received_at", "points", "distance_m",
)  # fmt: skip


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--readers", type=int, default=200)
    p.add_argument("--cards", type=int, default=20_000)
    p.add_argument("--history", type=int, default=4, help="steps scored before the trials")
    p.add_argument("--steps", type=int, default=3, help="taps per card in each trial")
    p.add_argument("--scorers", default="1,2,4", help="scorer processes per trial")
    p.add_argument("--repeat", type=int, default=2, help="rounds of the alternating trials")
    add_database_args(p)
    return p.parse_args()


class Town:
    """The scratch town's ids and the next taps of its cards."""

    def __init__(self, game_id: int, cards: list[tuple[int, int, str]], boxes: list[int]):
        self.game_id = game_id
        self.cards = cards
        self.boxes = boxes
        self.step = 0
        self.start = utcnow() - timedelta(days=2)

    def next_rows(self, steps: int) -> list[tuple[Any, ...]]:
        """Every card's next ``steps`` taps, six minutes apart, at neighbouring boxes."""
        rows = []
        now = utcnow()
        for _ in range(steps):
            for i, (card_id, holder_id, uid) in enumerate(self.cards):
                at = self.start + timedelta(minutes=6 * self.step, seconds=i % 300)
                box = self.boxes[(i + self.step % 2) % len(self.boxes)]
                key = f"bench/{self.step}/{card_id}"
                rows.append(
                    (
                        self.game_id,
                        "reader",
                        key,
                        None,
                        card_id,
                        holder_id,
                        box,
                        uid,
                        at,
                        at,
                        now,
                        0,
                        0.0,
                    )  # fmt: skip
                )
            self.step += 1
        return rows


def scorer_process(url: str, game_id: int, partitions: int, first: int, go: Any, done: Any) -> None:
    """One scorer process: connects, waits for ``go``, scores until the queue is empty."""
    asyncio.run(_score(url, game_id, partitions, first, go, done))


async def _score(url: str, game_id: int, partitions: int, first: int, go: Any, done: Any) -> None:
    from kernel.db import make_engine, make_sessionmaker
    from kernel.metrics import Metrics
    from scoring.pending import pending_games
    from scoring.scorer import Scorer

    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)

    class Host:
        """What a scorer needs of its server process (PostgreSQL: no writing lock)."""

        metrics = Metrics()
        stale_games: set[int] = set()

        def writing(self) -> Any:
            return contextlib.AsyncExitStack()

        def session(self) -> Any:
            return sessions()

    async def publish(game_id: int, delta: Any) -> None:
        return None  # no boards here: scoring alone is measured

    scorer = Scorer(Host(), publish, partitions=partitions)
    scorer._first_partition = first
    async with sessions() as s:  # connected before the release
        await pending_games(s)
    done.put(("ready", 0))
    await asyncio.to_thread(go.wait)
    while True:
        await scorer.settle([game_id], timeout_s=600)
        async with sessions() as s:
            if game_id not in await pending_games(s):
                break
    done.put(("done", scorer.rounds))
    await engine.dispose()


async def trial(
    pg: str, name: str, url: str, town: Town, scorers: int, steps: int
) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    go, done = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=scorer_process, args=(url, town.game_id, scorers, i, go, done))
        for i in range(scorers)
    ]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            await asyncio.to_thread(done.get, True, 120)
        rows = town.next_rows(steps)
        conn = await asyncpg.connect(f"{pg}/{name}")
        try:
            started = time.perf_counter()
            await conn.copy_records_to_table("taps", records=rows, columns=COLUMNS)
            copy_s = time.perf_counter() - started
            await conn.execute("ANALYZE pending_taps")
        finally:
            await conn.close()
        busy, total = machine_cpu()
        started = time.perf_counter()
        go.set()
        rounds = 0
        for _ in procs:
            _, n = await asyncio.to_thread(done.get, True, 900)
            rounds += n
        seconds = time.perf_counter() - started
        busy2, total2 = machine_cpu()
    finally:
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.terminate()
    return {
        "taps": len(rows),
        "rate": len(rows) / seconds,
        "copy": len(rows) / copy_s,
        "rounds": rounds,
        "busy": (busy2 - busy) / max(total2 - total, 1e-9),
    }


async def check(url: str, game_id: int) -> None:
    from sqlalchemy import text

    from kernel.db import make_engine, make_sessionmaker
    from scoring.ledger import ledger_mismatches

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            mismatches = await ledger_mismatches(s, game_id)
            if mismatches:
                raise SystemExit(f"totals differ from the ledger: {mismatches[:5]}")
            unscored = await s.scalar(
                text("SELECT count(*) FROM taps WHERE game_id = :g AND outcome IS NULL"),
                {"g": game_id},
            )
            if unscored:
                raise SystemExit(f"{unscored} taps were left unscored")
    finally:
        await engine.dispose()


async def main() -> None:
    args = parse_args()
    name = f"taptrail_bench_sp_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = f"{args.pg.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    counts = [int(n) for n in args.scorers.split(",")]
    await create_database(args.pg, name)
    try:
        print(f"load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs", flush=True)
        await load_town(
            url, Fernet.generate_key().decode(), town_definition("bench", args.readers, args.cards)
        )
        conn = await asyncpg.connect(f"{args.pg}/{name}")
        try:
            game_id = await conn.fetchval("SELECT id FROM games")
            cards = [
                tuple(r)
                for r in await conn.fetch("SELECT id, holder_id, uid FROM cards ORDER BY id")
            ]
            boxes = [r[0] for r in await conn.fetch("SELECT id FROM checkpoints ORDER BY id")]
        finally:
            await conn.close()
        town = Town(game_id, cards, boxes)
        t = time.perf_counter()
        for _ in range(args.history):
            await trial(args.pg, name, url, town, 1, 1)
        print(
            f"history: {args.history} taps per card scored ({time.perf_counter() - t:.1f} s)",
            flush=True,
        )
        results: dict[int, list[dict[str, float]]] = {n: [] for n in counts}
        for r in range(args.repeat):
            for n in counts if r % 2 == 0 else reversed(counts):
                res = await trial(args.pg, name, url, town, n, args.steps)
                results[n].append(res)
                print(
                    f"  {n} scorer process(es): {res['taps']:,} taps scored at {res['rate']:,.0f} "
                    f"taps/s in {res['rounds']:.0f} rounds (COPY just before: {res['copy']:,.0f} "
                    f"rows/s); machine {res['busy']:.0%} busy",
                    flush=True,
                )
        await check(url, game_id)
        engine = engine_rate()
        copy = statistics.median(x["copy"] for v in results.values() for x in v)
        base = statistics.median(x["rate"] for x in results[counts[0]])
        print()
        print(f"pure engine: {engine:,.0f} taps/s; COPY into taps (median): {copy:,.0f} rows/s")
        for n in counts:
            rate = statistics.median(x["rate"] for x in results[n])
            print(
                f"{n} scorer process(es): {rate:,.0f} taps/s (median) = {rate / copy:.3f} of COPY, "
                f"{rate / engine:.3f} of the engine, x{rate / base:.2f} of {counts[0]}"
            )
        print("every tap scored; stored totals equal the ledger")
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            await drop_database(args.pg, name)


if __name__ == "__main__":
    asyncio.run(main())
