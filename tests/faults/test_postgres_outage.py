"""PostgreSQL restarts and is cut off while boxes upload: the boxes get 503s (or lose the
connection), keep their taps, retry with backoff, and in the end every holder's points
are what the pure engine makes of the same taps, as if nothing had happened."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx

from harness.fault_town import (
    RecordingReader,
    differences,
    expected_points,
    ledger_problems,
    record,
    recorded_taps,
    settled_tap_counts,
    stored_points,
    town_definition,
    upload_all,
)
from harness.servers import ServerProcess
from kernel.db import utcnow
from simulator.reader_client import RetryPolicy
from simulator.town import TownSimulation
from tests.faults.conftest import FaultEnv
from tests.integration.live_town import load

# Short, but long enough in total to ride out a cut of a few seconds.
RETRY = RetryPolicy(max_attempts=12, base_delay_s=0.2, max_delay_s=2.0, max_total_delay_s=30)


async def test_readers_ride_out_a_postgres_restart_and_cut(
    fault_env: FaultEnv, servers: Callable[[int], list[ServerProcess]]
) -> None:
    slug = f"pg-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    data = town_definition(slug, checkpoints=16, cards=80, teams=8, players=16, now=now)
    taps = TownSimulation(data, seed=22).generate(
        2400, now - timedelta(hours=4), now - timedelta(minutes=5), diurnal=False
    )
    one, two = servers(2)
    pg = fault_env.pg
    async with (
        httpx.AsyncClient(base_url=one.url, timeout=60) as c1,
        httpx.AsyncClient(base_url=two.url, timeout=60) as c2,
    ):
        await load(c1, fault_env.token, data)
        readers = {
            r["id"]: RecordingReader(r["id"], r["secret"], (c1, c2)[i % 2], retry=RETRY)
            for i, r in enumerate(data["readers"])
        }
        rounds = 16
        stop = asyncio.Event()

        async def boxes() -> None:
            """Taps keep happening and every box uploads in rounds, whatever the database
            does; an upload that runs out of retries keeps its taps for the next round."""
            for n in range(rounds):
                record(readers, taps[n::rounds])
                await asyncio.gather(*(r.upload() for r in readers.values() if r.queue_depth))
                await asyncio.sleep(0.4)  # the rounds outlast the faults
            stop.set()

        uploading = asyncio.create_task(boxes())
        try:
            await asyncio.sleep(1.0)
            # Every connection is terminated; transactions in flight roll back.
            await asyncio.to_thread(pg.restart, "fast")
            await asyncio.sleep(1.5)
            await asyncio.to_thread(pg.stop, "immediate")  # a crash, then a few seconds gone
            await asyncio.sleep(3.0)
            await asyncio.to_thread(pg.start)
            await asyncio.wait_for(stop.wait(), 120)
        finally:
            pg.start()
            await uploading
        await upload_all(readers)  # whatever was still queued

    counters = [r.counters for r in readers.values()]
    refused = sum(c.unavailable + c.connection_errors for c in counters)
    assert refused > 0, "the faults never reached an upload"
    assert sum(c.retries for c in counters) >= refused - sum(c.gave_up for c in counters)
    recorded = recorded_taps(readers)
    assert len(recorded) == len(taps)
    assert all(not r.rejected_taps for r in readers.values())
    # Stored once each, every one scored; each holder as the engine scores the same taps.
    assert await settled_tap_counts(fault_env.db, slug) == (len(taps), 0)
    assert sum(c.accepted for c in counters) <= len(taps)
    expected = expected_points(data, recorded)
    assert sum(expected.values()) > 1000
    assert differences(expected, await stored_points(fault_env.db, slug)) == {}
    assert await ledger_problems(fault_env.db, slug) == []
