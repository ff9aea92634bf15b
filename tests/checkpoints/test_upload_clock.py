"""Reader uploads and the readers' clocks: skew corrected, small drift left alone, the
future judged after correction, a clock reset to 1970; and taps counted where the reader
stood (docs/reader-protocol.md; both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from tests.checkpoints.cp_helpers import (
    NOW,
    Clock,
    Town,
    at,
    iso,
    ledger,
    reader_row,
    tap,
    upload,
)
from tests.helpers import auth

# ---------------------------------------------------------------- clock


async def test_a_skewed_reader_clock_is_corrected_keeping_raw_times(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    skew = timedelta(minutes=-37)  # the box's clock is 37 minutes slow
    r = await upload(client, town, "A", [tap(1, 1, at(0) + skew)], sent_at=NOW + skew)
    assert r.json()["accepted"] == 1
    r = await upload(client, town, "B", [tap(1, 1, at(15))], sent_at=NOW)
    stored = await ledger(app, town.slug)
    a = stored[f"{town.reader('A')}/0/1"]
    assert a[2] == at(0) + skew and a[3] == at(0)
    assert stored[f"{town.reader('B')}/0/1"][4:6] == ("leg", 10)
    assert (await reader_row(app, town.reader("A"))).clock_offset_s == pytest.approx(37 * 60)


async def test_clock_within_120_seconds_is_left_alone(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    await upload(client, town, "A", [tap(1, 1, at(0))], sent_at=NOW - timedelta(seconds=120))
    await upload(client, town, "B", [tap(1, 1, at(0))], sent_at=NOW - timedelta(seconds=121))
    stored = await ledger(app, town.slug)
    assert stored[f"{town.reader('A')}/0/1"][3] == at(0)
    assert stored[f"{town.reader('B')}/0/1"][3] == at(0) + timedelta(seconds=121)


async def test_future_is_judged_after_correction(
    app: FastAPI, client: httpx.AsyncClient, town: Town, clock: Clock
) -> None:
    ahead = timedelta(hours=3)  # a fast clock: its taps look 3 hours ahead
    r = await upload(
        client, town, "A", [tap(1, 1, NOW + ahead - timedelta(minutes=1))], sent_at=NOW + ahead
    )
    assert r.json()["accepted"] == 1
    r = await upload(client, town, "A", [tap(2, 1, NOW + timedelta(minutes=5))], sent_at=NOW)
    assert r.json()["accepted"] == 1  # exactly 5 minutes ahead is allowed
    r = await upload(
        client, town, "A", [tap(3, 1, NOW + timedelta(minutes=5, seconds=1))], sent_at=NOW
    )
    assert r.json()["rejected"] == [{"seq": 3, "reason": "future_timestamp"}]


async def test_a_reset_clock_from_1970_is_corrected(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    r = await upload(
        client,
        town,
        "A",
        [tap(1, 1, epoch + timedelta(minutes=10))],
        sent_at=epoch + timedelta(minutes=60),
    )
    assert r.json()["accepted"] == 1
    stored = await ledger(app, town.slug)
    assert stored[f"{town.reader('A')}/0/1"][3] == at(0)


# ---------------------------------------------------------------- placement


async def test_taps_count_at_the_checkpoint_where_the_reader_stood(
    app: FastAPI, client: httpx.AsyncClient, town: Town, organiser_token: str
) -> None:
    moved = await client.post(
        f"/api/v1/admin/games/{town.slug}/readers/{town.reader('A')}/move",
        json={"checkpoint": "C", "from": iso(at(30))},
        headers=auth(organiser_token),
    )
    assert moved.status_code == 200, moved.text
    await upload(client, town, "A", [tap(1, 1, at(29)), tap(2, 1, at(30))], sent_at=NOW)
    stored = await ledger(app, town.slug)
    assert stored[f"{town.reader('A')}/0/1"][1] == "A"
    assert stored[f"{town.reader('A')}/0/2"][1] == "C"
