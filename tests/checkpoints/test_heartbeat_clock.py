"""Heartbeats from a box whose clock runs ahead: health is recorded, the box is flagged
clock skewed, and the bad clock reading never makes later honest heartbeats look replayed."""

from __future__ import annotations

import json
import pathlib
import uuid
from datetime import datetime, timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from kernel.db import make_engine
from taptrail.migrate import upgrade
from tests.checkpoints.cp_helpers import NOW, Clock, Town, iso, post_signed, reader_row
from tests.helpers import auth


async def _beat(client: httpx.AsyncClient, town: Town, sent_at: datetime, battery: int) -> None:
    raw = json.dumps({"sent_at": iso(sent_at), "battery_pct": battery}).encode()
    path = f"/api/v1/readers/{town.reader('B')}/heartbeat"
    r = await post_signed(client, path, raw, town.secret("B"))
    assert r.status_code == 200, r.text


async def _statuses(client: httpx.AsyncClient, town: Town) -> list[str]:
    r = await client.get(f"/api/v1/admin/games/{town.slug}/boxes", headers=auth(town.token))
    assert r.status_code == 200, r.text
    box = next(b for b in r.json()["boxes"] if b["reader_id"] == town.reader("B"))
    return list(box["statuses"])


@pytest.mark.parametrize("ahead", [timedelta(hours=6), timedelta(days=365 * 7000)])
async def test_a_heartbeat_from_the_future_does_not_poison_later_ones(
    app: FastAPI, client: httpx.AsyncClient, town: Town, clock: Clock, ahead: timedelta
) -> None:
    await _beat(client, town, NOW, 90)
    # The box's clock jumps far ahead: its readings count, and it is flagged.
    clock.advance(minutes=5)
    await _beat(client, town, clock.now + ahead, 80)
    row = await reader_row(app, town.reader("B"))
    assert (row.battery_pct, row.last_heartbeat_at) == (80, clock.now)
    assert row.clock_offset_s == pytest.approx(-ahead.total_seconds())
    assert await _statuses(client, town) == ["clock_skewed"]

    # It sets its clock from the answer's server_time: its next heartbeats count again.
    clock.advance(minutes=5)
    await _beat(client, town, clock.now, 12)
    row = await reader_row(app, town.reader("B"))
    assert (row.battery_pct, row.last_heartbeat_at) == (12, clock.now)
    assert row.clock_offset_s == pytest.approx(0)
    assert await _statuses(client, town) == ["low_battery"]
    clock.advance(minutes=5)
    await _beat(client, town, clock.now - timedelta(seconds=3), 11)
    row = await reader_row(app, town.reader("B"))
    assert (row.battery_pct, row.last_heartbeat_at) == (11, clock.now)


async def test_a_replayed_heartbeat_from_the_future_still_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, town: Town, clock: Clock
) -> None:
    await _beat(client, town, NOW, 90)
    clock.advance(minutes=1)
    future = NOW + timedelta(hours=3)
    await _beat(client, town, future, 70)
    clock.advance(minutes=1)
    await _beat(client, town, clock.now, 9)
    before = await reader_row(app, town.reader("B"))
    assert before.battery_pct == 9

    # Captured and sent again: while its time is far ahead, nearly now, and past.
    for minutes in (1, 176, 30):
        clock.advance(minutes=minutes)
        await _beat(client, town, future, 70)
        after = await reader_row(app, town.reader("B"))
        assert (after.battery_pct, after.last_heartbeat_at) == (9, before.last_heartbeat_at)
    # An old honest one replayed changes nothing either.
    await _beat(client, town, NOW, 90)
    assert (await reader_row(app, town.reader("B"))).battery_pct == 9


async def test_the_migration_flags_heartbeats_already_ahead(
    backend: str, tmp_path: pathlib.Path
) -> None:
    """A box poisoned before the fix is heard again once migration 0016 has run."""

    t0 = datetime(2027, 5, 3, 9, 0)
    rows = [  # (id, received_at, sent_at): honest, 119 s ahead, 121 s ahead, years ahead
        (1, t0, t0 - timedelta(seconds=30)),
        (2, t0, t0 + timedelta(seconds=119)),
        (3, t0, t0 + timedelta(seconds=121)),
        (4, t0, t0.replace(year=9000)),
    ]
    insert = (
        "INSERT INTO reader_heartbeats (id, game_id, reader_id, received_at, sent_at) "
        "VALUES ({}, 1, 'R1', {}, {})"
    )
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    else:
        pg_name = f"taptrail_mig_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
        await admin.execute(f'CREATE DATABASE "{pg_name}"')
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{pg_name}"
    engine = make_engine(url)
    try:
        await upgrade(engine, "0011")
        async with engine.begin() as conn:
            if backend == "sqlite":
                await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                stamp = "'{:%Y-%m-%d %H:%M:%S.%f}'"
            else:
                await conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                stamp = "TIMESTAMPTZ '{:%Y-%m-%d %H:%M:%S.%f}+00'"
            for i, received, sent in rows:
                await conn.exec_driver_sql(
                    insert.format(i, stamp.format(received), stamp.format(sent))
                )
        await upgrade(engine, "0012")
        async with engine.connect() as conn:
            flags = await conn.exec_driver_sql(
                "SELECT id, clock_ahead FROM reader_heartbeats ORDER BY id"
            )
            assert [(i, bool(f)) for i, f in flags] == [
                (1, False),
                (2, False),
                (3, True),
                (4, True),
            ]
    finally:
        await engine.dispose()
        if pg_name is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await admin.close()
