"""TownSimulation: generated taps of the demo town, delivered through flaky readers to a
tiny fake server (``fake_server.py``), live with a fake clock. Nothing may ever be lost.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from kernel.geodesy import haversine_m
from simulator.reader_client import (
    RetryPolicy,
    SimulatedReader,
    parse_time,
)
from simulator.town import SimTap, TownSimulation
from taptrail.demo import load_demo_definition
from tests.simulator.fake_server import (
    T0,
    FakeServer,
    Sleeps,
    assert_all_stored,
    make_client,
)


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return load_demo_definition()


def classify(sim: TownSimulation, taps: list[SimTap]) -> Counter[str]:
    """A rough docs/scoring-rules.md walk of each card's taps (no campaigns, no period)."""
    code_of = {rid: code for code, rid in sim.reader_for.items()}
    by_card: dict[str, list[SimTap]] = defaultdict(list)
    for t in taps:
        by_card[t.card_uid].append(t)
    outcomes: Counter[str] = Counter()
    for card_taps in by_card.values():
        anchor: SimTap | None = None
        for t in card_taps:
            if anchor is None or t.tapped_at - anchor.tapped_at > timedelta(minutes=60):
                outcomes["journey_start"] += 1
            elif t.reader_id == anchor.reader_id:
                outcomes["repeat"] += 1
            else:
                a = sim.checkpoints[code_of[anchor.reader_id]]
                b = sim.checkpoints[code_of[t.reader_id]]
                hours = max((t.tapped_at - anchor.tapped_at).total_seconds(), 1e-9) / 3600
                kmh = haversine_m(a.lat, a.lon, b.lat, b.lon) / 1000 / hours
                outcomes["too_fast" if kmh > 25 else "leg"] += 1
            anchor = t
    return outcomes


def test_generate_is_deterministic_and_realistic(demo: dict[str, Any]) -> None:
    sim = TownSimulation(demo, seed=5)
    start, end = T0, T0 + timedelta(days=3)
    taps = sim.generate(5000, start, end, seed=11)
    assert len(taps) == 5000
    assert taps == TownSimulation(demo, seed=99).generate(5000, start, end, seed=11)
    assert taps != sim.generate(5000, start, end, seed=12)
    assert taps == sorted(taps, key=lambda t: (t.tapped_at, t.reader_id, t.card_uid))
    readers = {r["id"] for r in demo["readers"]}
    uids = {c["uid"] for c in demo["cards"]}
    for t in taps:
        assert t.reader_id in readers and t.card_uid in uids
        assert start <= t.tapped_at < end and t.tapped_at.tzinfo is not None
    outcomes = classify(sim, taps)
    for outcome in ("journey_start", "leg", "repeat", "too_fast"):
        assert outcomes[outcome] > 0, outcomes
    assert outcomes["leg"] > 2 * (outcomes["too_fast"] + outcomes["repeat"])
    assert len({t.card_uid for t in taps}) > 100
    night = sum(t.tapped_at.hour < 6 for t in taps)  # London is on UTC in November
    assert night < 0.03 * len(taps)
    assert sim.activity(T0.replace(hour=8)) > sim.activity(T0.replace(hour=3))
    anytime = sim.generate(5000, start, end, seed=11, diurnal=False)
    assert sum(t.tapped_at.hour < 6 for t in anytime) > 0.15 * len(anytime)
    assert sim.generate(0, start, end) == []


def test_generate_respects_mobile_boxes(demo: dict[str, Any]) -> None:
    sim = TownSimulation(demo)
    friday = sim.generate(3000, T0, T0 + timedelta(hours=12), seed=1)
    assert all(t.reader_id != "R-BB040" for t in friday)
    fun_day = sim.checkpoints["BB040"]
    assert fun_day.active_from is not None and fun_day.active_to is not None
    saturday = sim.generate(
        4000, fun_day.active_from - timedelta(hours=2), fun_day.active_to + timedelta(hours=2)
    )
    at_box = [t for t in saturday if t.reader_id == "R-BB040"]
    assert at_box
    assert all(fun_day.active_at(t.tapped_at) for t in at_box)


async def test_deliver_through_flaky_readers_loses_nothing(demo: dict[str, Any]) -> None:
    secrets = {r["id"]: r["secret"] for r in demo["readers"]}
    server = FakeServer(secrets, fail_rate=0.1, seed=3)
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=4, max_total_delay_s=60.0)
    async with make_client(server, refuse=0.05, lose=0.1) as client:
        sim = TownSimulation(
            demo,
            client,
            seed=2,
            flaky_fraction=0.2,
            skewed_fraction=0.1,
            retry=policy,
            sleep_fn=sleeps,
        )
        assert len(sim.flaky_readers) == 8 and len(sim.clock_skews) == 4
        taps = sim.generate(3000, T0 - timedelta(hours=6), T0, seed=4)
        stats = await sim.deliver(taps, max_batch=200, upload_every=400)
        assert stats.taps == 3000 and stats.restarts > 0
        for _ in range(20):  # uploads that gave up are simply tried again later
            if not sim.pending():
                break
            await sim.upload_all(max_batch=200)
    assert not sim.pending()
    assert_all_stored(server, sim.readers.values())
    assert len(server.taps) == 3000
    flaky_boots = {boot for (rid, boot, _seq) in server.taps if rid in sim.flaky_readers}
    assert flaky_boots == {0, 1}
    # The server's clock correction recovers the true times of skewed readers' taps.
    truth = Counter((t.reader_id, t.card_uid, t.tapped_at) for t in taps)
    recovered = Counter(
        (rid, s.card_uid, s.corrected.replace(microsecond=0))
        for (rid, _b, _s), s in server.taps.items()
    )
    mismatched = truth - recovered
    for rid, _uid, _when in mismatched:  # only a second of rounding on skewed boxes
        assert rid in sim.clock_skews
    assert sum(mismatched.values()) <= sum(truth.values()) * 0.05


async def test_run_live_with_fake_clock(demo: dict[str, Any]) -> None:
    secrets = {r["id"]: r["secret"] for r in demo["readers"]}
    server = FakeServer(secrets, fail_rate=0.05, seed=8)
    clock = [T0]

    def now() -> datetime:
        return clock[0]

    async def sleep(seconds: float) -> None:
        clock[0] += timedelta(seconds=seconds)

    async with make_client(server) as client:
        sim = TownSimulation(demo, client, seed=3, flaky_fraction=0.25, now_fn=now, sleep_fn=sleep)
        stats = await sim.run(3600, 0.5, tick_s=2.0, upload_every_s=10.0)
        # 1800 ticks of 2 s, plus the readers' retry back-offs (same injected sleep).
        assert T0 + timedelta(hours=1) <= clock[0] < T0 + timedelta(hours=1, minutes=10)
        assert 1200 <= stats.taps <= 1800  # about 0.5 taps a second
        assert stats.offline_periods > 0 and stats.restarts > 0
        assert stats.pending == 0 and not sim.pending()
        again = await sim.run(60, 1.0, tick_s=1.0)  # a second run carries on
        assert again.taps > 0
    assert_all_stored(server, sim.readers.values())
    assert sum(len(r.history) for r in sim.readers.values()) == stats.taps + again.taps

    # Taps are live ("now") and a card's next tap waits for it to walk there. (No reader
    # clock is skewed here, and the fake server's own clock is real: use the raw times.)
    code_of = {rid: code for code, rid in sim.reader_for.items()}
    taps = sorted(
        (
            SimTap(rid, s.card_uid, parse_time(s.tapped_at))
            for (rid, _b, _s), s in server.taps.items()
        ),
        key=lambda t: t.tapped_at,
    )
    assert all(T0 <= t.tapped_at <= clock[0] for t in taps)
    for t in taps:
        assert sim.checkpoints[code_of[t.reader_id]].active_at(t.tapped_at)
    outcomes = classify(sim, taps)
    assert outcomes["leg"] > 0 and outcomes["journey_start"] > 0
    assert outcomes["leg"] > 3 * outcomes["too_fast"]


async def test_town_needs_a_client_and_secrets(demo: dict[str, Any]) -> None:
    sim = TownSimulation(demo)
    with pytest.raises(RuntimeError):
        await sim.deliver([])
    stripped = dict(
        demo, readers=[{k: v for k, v in r.items() if k != "secret"} for r in demo["readers"]]
    )
    async with httpx.AsyncClient(base_url="http://unused") as client:
        with pytest.raises(ValueError):
            TownSimulation(stripped, client)
        secrets = {r["id"]: "x" for r in demo["readers"]}
        assert len(TownSimulation(stripped, client, secrets=secrets).readers) == 40


def test_string_timestamps_work_like_yaml_datetimes(demo: dict[str, Any]) -> None:
    """A JSON definition (or a shifted copy) carries times as RFC 3339 strings."""

    def stringify(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: stringify(v) for k, v in node.items()}
        if isinstance(node, list):
            return [stringify(v) for v in node]
        return node.isoformat() if isinstance(node, datetime) else node

    as_json = json.loads(json.dumps(stringify(demo)))
    window = (T0 + timedelta(days=1), T0 + timedelta(days=1, hours=8))
    assert TownSimulation(as_json).generate(500, *window) == TownSimulation(demo).generate(
        500, *window
    )


async def test_history_can_be_bounded(
    server_and_client: tuple[FakeServer, httpx.AsyncClient],
) -> None:
    _server, client = server_and_client
    reader = SimulatedReader("R-1", "secret-one", client, history_limit=5)
    for i in range(12):
        reader.tap("04A1B2C3D4E5F6", T0 + timedelta(seconds=i))
    assert [t.seq for t in reader.history] == [8, 9, 10, 11, 12]
    assert reader.queue_depth == 12  # the queue itself is never trimmed
