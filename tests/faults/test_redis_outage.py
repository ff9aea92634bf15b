"""Redis dies during ingestion: uploads are still acknowledged and scored; when Redis comes
back (empty), the boards catch up and equal a rebuild from the database.

Two ``taptrail serve`` processes share a private PostgreSQL and a private Redis; boxes
upload through both. Redis is SIGKILLed and later started empty while uploads go on, so
each process's repair loop rebuilds the boards while the other process keeps publishing
score changes. This test found two bugs: a failed publish logged a traceback that took
~2 s to render and stalled every upload while Redis was down, and a rebuild racing with
uploads lost or double-counted their changes (see test_board_journal.py).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx

from harness.fault_town import (
    RecordingReader,
    board_differences,
    differences,
    expected_points,
    ledger_problems,
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

RETRY = RetryPolicy(max_attempts=8, base_delay_s=0.1, max_delay_s=1.0, max_total_delay_s=20)


async def wait_for_boards(env: FaultEnv, slug: str, timeout_s: float) -> list[str]:
    """Polls until the live boards equal a rebuild; the last differences otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        problems = await board_differences(env.db, env.redis.url, slug)
        if not problems or time.monotonic() > deadline:
            return problems
        await asyncio.sleep(0.5)


async def test_uploads_are_scored_while_redis_is_down_and_boards_catch_up(
    fault_env: FaultEnv, servers: Callable[[int], list[ServerProcess]]
) -> None:
    slug = f"redis-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    data = town_definition(slug, checkpoints=16, cards=80, teams=8, players=24, now=now)
    taps = TownSimulation(data, seed=11).generate(
        2400, now - timedelta(hours=4), now - timedelta(minutes=5), diurnal=False
    )
    before, during, after = taps[:600], taps[600:1500], taps[1500:]
    one, two = servers(2)
    async with (
        httpx.AsyncClient(base_url=one.url, timeout=60) as c1,
        httpx.AsyncClient(base_url=two.url, timeout=60) as c2,
    ):
        await load(c1, fault_env.token, data)
        readers = {
            r["id"]: RecordingReader(r["id"], r["secret"], (c1, c2)[i % 2], retry=RETRY)
            for i, r in enumerate(data["readers"])
        }

        normal = await upload_all(readers, before)
        assert await wait_for_boards(fault_env, slug, 15) == []

        fault_env.redis.stop()
        outage = await upload_all(readers, during)
        # Acknowledged without a single 503, and about as fast as with Redis (a failed
        # publish must not stall the server: it once cost ~2 s of rendering a traceback).
        assert sum(r.counters.unavailable for r in readers.values()) == 0
        assert outage < 3 * normal + 5, (outage, normal)
        assert await settled_tap_counts(fault_env.db, slug) == (len(before) + len(during), 0)
        expected_so_far = expected_points(data, recorded_taps(readers))
        assert differences(expected_so_far, await stored_points(fault_env.db, slug)) == {}
        assert (await c2.get("/healthz")).status_code == 503  # Redis really is gone

        fault_env.redis.start()  # empty: no persistence
        # Uploads keep coming while the repair loops (every 5 s) rebuild the boards.
        for part in range(6):
            await upload_all(readers, after[part::6])
            await asyncio.sleep(1.5)

        assert await wait_for_boards(fault_env, slug, 30) == []
    recorded = recorded_taps(readers)
    assert len(recorded) == len(taps)
    assert all(not r.rejected_taps for r in readers.values())
    assert await settled_tap_counts(fault_env.db, slug) == (len(taps), 0)
    expected = expected_points(data, recorded)
    assert sum(expected.values()) > 1000
    assert differences(expected, await stored_points(fault_env.db, slug)) == {}
    assert await ledger_problems(fault_env.db, slug) == []
