"""Capacity of the tap-to-screen path as a ratio: the highest offered rate that passes,
against the same run's COPY of the same kind of rows into ``taps``.

``find_capacity`` runs whole trials of the benchmark (each with its own scratch database,
servers and clients) at stepped rates: doubling from ``--start-rate`` until a trial fails
(halving instead when the first one fails), then ``--bisect`` trials between the highest
rate that passed and the lowest that failed. A trial passes with p99 tap-to-screen under
the target, the offered rate stored and scored, every tap scored in the end, every client
connected throughout and no probe missing (``bench_tap_to_screen.report``). Each trial
ends by copying its own stored taps into ``taps`` (``bench_ingestion.copy_baseline``, the
servers stopped); the ratio uses the median of every trial's COPY rate.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Awaitable, Callable
from typing import Any

Trial = Callable[[argparse.Namespace], Awaitable[dict[str, Any]]]
TARGET_RATIO = 0.12
LOWEST_RATE = 25.0


def add_capacity_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--find-capacity",
        action="store_true",
        help="step the offered rate to the highest that passes; print it as a ratio to COPY",
    )
    p.add_argument("--start-rate", type=float, default=500.0, help="first rate of the search")
    p.add_argument("--max-rate", type=float, default=32_000.0, help="search no higher")
    p.add_argument("--bisect", type=int, default=3, help="trials between pass and fail")
    p.add_argument(
        "--quick",
        action="store_true",
        help="short trials for a quick look (15 s + 5 s warm-up, 200 clients, 1 bisection)",
    )


def apply_quick(args: argparse.Namespace) -> None:
    if args.quick:
        args.seconds, args.warmup, args.clients, args.bisect = 15.0, 5.0, 200, 1
        args.drain_timeout = 60.0


async def find_capacity(args: argparse.Namespace, trial: Trial) -> bool:
    """Runs the search; prints every trial and the result. True when the ratio target
    (TARGET_RATIO of COPY) is met."""
    results: list[tuple[float, dict[str, Any]]] = []

    async def run(rate: float) -> bool:
        print(f"\n=== trial at {rate:,.0f} taps/s ===", flush=True)
        figures = await trial(argparse.Namespace(**{**vars(args), "rate": rate}))
        results.append((rate, figures))
        return bool(figures["pass"])

    best: float | None = None
    worst: float | None = None
    rate = args.start_rate
    first = await run(rate)
    if first:
        best = rate
        while rate * 2 <= args.max_rate:
            rate *= 2
            if not await run(rate):
                worst = rate
                break
            best = rate
    else:
        worst = rate
        while rate / 2 >= LOWEST_RATE:
            rate /= 2
            if await run(rate):
                best = rate
                break
            worst = rate
    for _ in range(args.bisect):
        if best is None or worst is None or worst - best <= max(10.0, 0.05 * best):
            break
        mid = round((best + worst) / 2 / 10) * 10
        if await run(mid):
            best = mid
        else:
            worst = mid

    copies = [f["copy_rows_per_s"] for _, f in results if f.get("copy_rows_per_s")]
    copy = statistics.median(copies) if copies else 0.0
    print("\ncapacity search (each trial: its own database, servers and clients)")
    print("  offered   stored/scored   p99 s   COPY rows/s   engine taps/s   verdict")
    for rate, f in results:
        p99 = f["latency_s"]["all"].get("p99", float("nan"))
        print(
            f"  {rate:7,.0f}   {f['achieved_taps_per_s']:6,.0f}/{f['scored_taps_per_s']:<6,.0f}"
            f"   {p99:5.2f}   {f.get('copy_rows_per_s', 0):11,.0f}"
            f"   {f.get('engine_rate', 0):13,.0f}   {f['verdict']}"
        )
    if best is None or not copy:
        print(f"capacity: no rate passed (lowest tried {rate:,.0f} taps/s)")
        return False
    # The rate a passing trial's window actually offered (a short window holds a little
    # less than the nominal rate): the capacity claimed is never more than what was offered.
    sustained = min(
        min(rate, f["offered_taps_per_s"]) for rate, f in results if rate == best and f["pass"]
    )
    ratio = sustained / copy
    print(
        f"capacity: {sustained:,.0f} taps/s offered (nominal {best:,.0f}) sustained with p99 under {args.target:g} s and "
        f"{args.clients:,} clients (lowest failing rate "
        + (f"{worst:,.0f}" if worst is not None else "none found")
        + f"); COPY into taps {copy:,.0f} rows/s (median of {len(copies)} trials' medians); "
        f"ratio {ratio:.3f} (target >= {TARGET_RATIO})"
    )
    return ratio >= TARGET_RATIO
