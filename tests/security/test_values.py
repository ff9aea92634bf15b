"""Values at the edges answer 4xx, never 500 (both backends): times near year 1 or 9999
with an offset (they overflow when converted to UTC), times outside the platform's window
(2000-2100), ids beyond the database column's range, and parallel opens of one survey wave.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select

from api.app_state import state_of
from api.deps import MAX_ROW_ID, server_now
from evaluation.models import SurveyWave
from game.models import Game
from harness.game_files import game_file
from kernel.times import ClockTime, Moment
from tests.checkpoints.checkins.ci_helpers import NOW as CHECKIN_NOW
from tests.checkpoints.checkins.ci_helpers import Clock as CheckinClock
from tests.checkpoints.checkins.ci_helpers import checkin_body, load_game, register
from tests.checkpoints.cp_helpers import (
    NOW,
    Clock,
    Town,
    iso,
    load_town,
    post_signed,
    stored_rejections,
    stored_taps,
    tap,
)
from tests.helpers import auth, server_clock

# Both overflow when converted to UTC: year 0 and year 10000 do not exist.
YEAR_1 = "0001-01-01T00:00:00+01:00"
YEAR_9999 = "9999-12-31T23:59:59-01:00"
# Valid times the platform has no use for: outside 2000-01-01 .. 2100-01-01 (UTC).
TOO_EARLY = "1999-12-31T23:59:59Z"
TOO_LATE = "2100-01-01T00:00:00Z"
EDGES = (YEAR_1, YEAR_9999, TOO_EARLY, TOO_LATE)
HUGE_ID = 34603546457689


def assert_422(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    fields = [f["field"] for f in body.get("fields") or []]
    assert field in fields or field in body["detail"], body


@pytest.fixture
def clock(app: FastAPI) -> Any:
    with server_clock(app, NOW) as clock:
        yield clock


@pytest.fixture
async def town(client: httpx.AsyncClient, organiser_token: str, slug: str, clock: Clock) -> Town:
    return await load_town(client, organiser_token, slug)


# ------------------------------------------------------------------ organisers' times


async def test_campaign_times_out_of_range_are_422(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    await load_town(client, organiser_token, slug)
    url = f"/api/v1/admin/games/{slug}/campaigns"
    good = {"code": "WK", "name": "Week", "multiplier": 2}
    good |= {"starts_at": "2027-05-10T00:00:00+01:00", "ends_at": "2027-05-17T00:00:00+01:00"}
    for edge in EDGES:
        for name in ("starts_at", "ends_at"):
            r = await client.post(url, json={**good, name: edge}, headers=auth(organiser_token))
            assert_422(r, name)
            assert "2000-01-01" in r.json()["detail"], r.text
    created = await client.post(url, json=good, headers=auth(organiser_token))
    assert created.status_code == 201, created.text
    for edge in EDGES:
        r = await client.patch(f"{url}/WK", json={"ends_at": edge}, headers=auth(organiser_token))
        assert_422(r, "ends_at")


async def test_game_file_times_out_of_range_are_422_naming_the_entry(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    for edge in EDGES:
        data = game_file(slug)
        data["game"]["starts_at"] = edge
        data["checkpoints"][1]["active_to"] = edge
        data["campaigns"] = [
            {"code": "X", "name": "X", "multiplier": 2, "starts_at": edge}
            | {"ends_at": "2027-05-17T00:00:00+01:00"}
        ]
        r = await client.put(
            f"/api/v1/admin/games/{slug}", json=data, headers=auth(organiser_token)
        )
        assert r.status_code == 422, r.text
        text = json.dumps(r.json())
        for where in ("game.starts_at", "checkpoints[1].active_to", "campaigns[0].starts_at"):
            assert where in text, (edge, text)
        assert "2000-01-01" in text


async def test_reader_move_times_out_of_range_are_422(
    client: httpx.AsyncClient, town: Town, organiser_token: str
) -> None:
    url = f"/api/v1/admin/games/{town.slug}/readers/{town.reader('A')}/move"
    for edge in EDGES:
        r = await client.post(
            url, json={"checkpoint": "C", "from": edge}, headers=auth(organiser_token)
        )
        assert_422(r, "from")


# ------------------------------------------------------------------ phones and boxes


async def test_checkin_times_out_of_range_are_422(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    app.dependency_overrides[server_now] = CheckinClock(CHECKIN_NOW)
    try:
        await load_game(client, organiser_token, slug)
        player = await register(client, slug)
        for edge in EDGES:
            r = await client.post(
                "/api/v1/app/checkins", json=checkin_body("A", at=edge), headers=player.headers
            )
            assert_422(r, "at")
    finally:
        app.dependency_overrides.pop(server_now, None)


async def test_heartbeat_times_that_overflow_are_422(client: httpx.AsyncClient, town: Town) -> None:
    for edge in (YEAR_1, YEAR_9999):
        raw = json.dumps({"sent_at": edge, "battery_pct": 50}).encode()
        r = await post_signed(
            client, f"/api/v1/readers/{town.reader('A')}/heartbeat", raw, town.secret("A")
        )
        assert_422(r, "sent_at")


async def test_a_batch_sent_at_that_overflows_is_422_with_nothing_stored(
    app: FastAPI, client: httpx.AsyncClient, session: Any, town: Town
) -> None:
    for edge in (YEAR_1, YEAR_9999):
        taps = [tap(1, 1, NOW - timedelta(minutes=5))]
        raw = json.dumps({"sent_at": edge, "taps": taps}).encode()
        r = await post_signed(
            client, f"/api/v1/readers/{town.reader('A')}/taps", raw, town.secret("A")
        )
        assert_422(r, "sent_at")
    assert await stored_taps(session, town.slug) == []


async def test_a_tap_with_an_impossible_time_is_rejected_alone(
    app: FastAPI, client: httpx.AsyncClient, session: Any, town: Town
) -> None:
    """A good tap is never lost because of a bad sibling: the bad ones are rejected per tap
    (and kept for diagnosis), the batch is answered, and sending it again changes nothing."""
    good = NOW - timedelta(minutes=5)
    taps = [
        tap(1, 1, good),
        {"seq": 2, "card_uid": "04000000000001", "tapped_at": YEAR_1},
        {"seq": 3, "card_uid": "04000000000001", "tapped_at": YEAR_9999},
        {"seq": 4, "card_uid": "04000000000001", "tapped_at": TOO_EARLY},
        {"seq": 5, "card_uid": "04000000000002", "tapped_at": iso(good + timedelta(seconds=1))},
    ]
    raw = json.dumps({"sent_at": iso(NOW), "boot": 0, "taps": taps}).encode()
    path = f"/api/v1/readers/{town.reader('A')}/taps"
    first = await post_signed(client, path, raw, town.secret("A"))
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["accepted"] == 2
    assert answer["rejected"] == [
        {"seq": 2, "reason": "bad_timestamp"},
        {"seq": 3, "reason": "future_timestamp"},
        {"seq": 4, "reason": "bad_timestamp"},
    ]
    assert answer["ack_seq"] == 5
    stored = await stored_taps(session, town.slug)
    assert sorted(t.seq for t in stored) == [1, 5]
    assert len(await stored_rejections(session, town.slug)) == 3

    again = await post_signed(client, path, raw, town.secret("A"))
    assert again.status_code == 200, again.text
    assert again.json()["accepted"] == 0 and again.json()["duplicates"] == 5
    session.expire_all()
    assert len(await stored_taps(session, town.slug)) == 2
    assert len(await stored_rejections(session, town.slug)) == 3


async def test_a_correction_that_overflows_rejects_the_tap_not_the_batch(
    client: httpx.AsyncClient, session: Any, town: Town
) -> None:
    """sent_at in year 1: the shift (about 2,000 years) pushes a year-9000 tap past 9999."""
    taps = [
        {"seq": 1, "card_uid": "04000000000001", "tapped_at": "0001-01-01T00:10:00Z"},
        {"seq": 2, "card_uid": "04000000000001", "tapped_at": "9000-01-01T00:00:00Z"},
    ]
    raw = json.dumps({"sent_at": "0001-01-01T01:00:00Z", "taps": taps}).encode()
    path = f"/api/v1/readers/{town.reader('A')}/taps"
    r = await post_signed(client, path, raw, town.secret("A"))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    assert r.json()["rejected"] == [{"seq": 2, "reason": "future_timestamp"}]


# ------------------------------------------------------------------ ids and dates in paths


async def test_ids_beyond_the_column_range_are_4xx(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    await load_town(client, organiser_token, slug)
    admin = f"/api/v1/admin/games/{slug}"
    headers = auth(organiser_token)
    for value in (HUGE_ID, 2**31, 2**63, 0, -1):
        calls = [
            client.get(f"{admin}/draws/{value}", headers=headers),
            client.patch(
                f"{admin}/players/{value}", json={"nickname_hidden": True}, headers=headers
            ),
            client.delete(f"{admin}/players/{value}", headers=headers),
        ]
        for r in await asyncio.gather(*calls):
            assert r.status_code in (404, 422), (value, r.request.url, r.text)
            assert r.json()["error"] in ("not_found", "validation_error")
    r = await client.get(f"{admin}/draws/{2**31 - 1}", headers=headers)
    assert r.status_code == 404, r.text


def test_every_integer_path_parameter_is_bounded_by_the_column(app: FastAPI) -> None:
    """So a new route with an id in its path cannot bring the 500 back."""

    found = 0
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for p in operation.get("parameters", []):
                if p["in"] == "path" and p["schema"].get("type") == "integer":
                    found += 1
                    assert p["schema"].get("minimum", -1) >= 1, (method, path, p)
                    assert p["schema"].get("maximum", 2**63) <= MAX_ROW_ID, (method, path, p)
    assert found >= 3


async def test_leaderboard_offsets_beyond_range_are_4xx(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    await load_town(client, organiser_token, slug)
    for board in ("teams", "players"):
        for offset in (HUGE_ID, 2**63, 10**30):
            r = await client.get(
                f"/api/v1/games/{slug}/leaderboards/{board}", params={"offset": offset}
            )
            assert r.status_code in (200, 422), (board, offset, r.text)


async def test_draw_dates_at_the_ends_of_the_calendar_are_4xx(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    await load_town(client, organiser_token, slug)
    admin = f"/api/v1/admin/games/{slug}"
    headers = auth(organiser_token)
    for day in ("0001-01-01", "9999-12-31"):
        r = await client.post(f"{admin}/draws/run", params={"date": day}, headers=headers)
        assert 400 <= r.status_code < 500, (day, r.text)
        for name in ("from_date", "to_date"):
            r = await client.post(
                f"{admin}/draws", json={"winners_per_day": 1, name: day}, headers=headers
            )
            assert 400 <= r.status_code < 500, (day, name, r.text)


# ------------------------------------------------------------------ races


async def test_parallel_opens_of_one_wave_are_idempotent(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    await load_town(client, organiser_token, slug)
    url = f"/api/v1/admin/games/{slug}/surveys/2/open"
    answers = await asyncio.gather(
        *(client.post(url, headers=auth(organiser_token)) for _ in range(10))
    )
    assert [r.status_code for r in answers] == [200] * 10, [r.text for r in answers]
    assert all(r.json()["open"] for r in answers)
    async with state_of(app).sessionmaker() as s:
        game_id = await s.scalar(select(Game.id).where(Game.slug == slug))
        rows = await s.scalar(
            select(func.count()).select_from(SurveyWave).where(SurveyWave.game_id == game_id)
        )
    assert rows == 1
    closes = await asyncio.gather(
        *(
            client.post(url.replace("/open", "/close"), headers=auth(organiser_token))
            for _ in range(5)
        )
    )
    assert [r.status_code for r in closes] == [200] * 5


def test_the_window_and_clock_types_at_their_boundaries() -> None:

    moment, clock = TypeAdapter(Moment), TypeAdapter(ClockTime)
    for good in ("2000-01-01T00:00:00Z", "2000-01-01T01:00:00+01:00", "2099-12-31T23:59:59Z"):
        assert moment.validate_python(good).astimezone(UTC) >= datetime(2000, 1, 1, tzinfo=UTC)
    for bad in (*EDGES, "2000-01-01T00:59:59+01:00", "2099-12-31T23:00:00-01:00"):
        with pytest.raises(ValidationError, match="2000-01-01T00:00:00Z"):
            moment.validate_python(bad)
    for good in ("1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", TOO_LATE):
        clock.validate_python(good)
    for bad in (YEAR_1, YEAR_9999):
        with pytest.raises(ValidationError, match="UTC"):
            clock.validate_python(bad)
