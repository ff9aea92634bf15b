"""Box health: statuses, daytime silence, sorting, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from accounts.tokens import create_token
from api.app_state import state_of
from checkpoints import health
from checkpoints.models import Reader
from game.models import Game
from tests.checkpoints.cp_helpers import NOW, Clock, Town, iso, post_signed, tap, upload
from tests.helpers import auth

LONDON = ZoneInfo("Europe/London")


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (local(2027, 5, 3, 20, 30), local(2027, 5, 4, 7, 30), 1.0),  # 20:30-21:00, 07:00-07:30
        (local(2027, 5, 3, 20, 30), local(2027, 5, 4, 8, 30), 2.0),
        (local(2027, 5, 3, 22, 0), local(2027, 5, 4, 6, 59), 0.0),  # all night
        (local(2027, 5, 3, 9, 0), local(2027, 5, 3, 10, 15), 1.25),
        (local(2027, 5, 3, 10, 0), local(2027, 5, 3, 9, 0), 0.0),
    ],
)
def test_daytime_between_counts_only_daytime_hours(
    start: datetime, end: datetime, hours: float
) -> None:
    got = health.daytime_between(start, end, LONDON, 7, 21, enough=timedelta(days=9))
    assert got == timedelta(hours=hours)


def test_daytime_across_a_clock_change_and_odd_windows() -> None:
    # The night the clocks go forward (28 March 2027): 07:00-21:00 is still 14 hours.
    day = health.daytime_between(
        local(2027, 3, 28, 0, 0), local(2027, 3, 29, 0, 0), LONDON, 7, 21, enough=timedelta(days=2)
    )
    assert day == timedelta(hours=14)
    night = health.daytime_between(
        local(2027, 5, 3, 12, 0), local(2027, 5, 4, 12, 0), LONDON, 22, 6, enough=timedelta(days=2)
    )
    assert night == timedelta(hours=8)
    whole = health.daytime_between(
        local(2027, 5, 3, 12, 0), local(2027, 5, 4, 12, 0), LONDON, 0, 0, enough=timedelta(days=2)
    )
    assert whole == timedelta(hours=24)


def _game() -> Game:
    return Game(
        slug="g",
        timezone="Europe/London",
        starts_at=datetime(2027, 5, 1, tzinfo=UTC),
        ends_at=datetime(2027, 6, 1, tzinfo=UTC),
        daytime_start_hour=7,
        daytime_end_hour=21,
    )


def _reader(**values: object) -> Reader:
    base: dict[str, object] = {
        "id": "R1",
        "created_at": datetime(2027, 4, 1, tzinfo=UTC),
        "last_upload_at": NOW,
        "disabled": False,
        "conflicts": 0,
    }
    return Reader(**(base | values))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, ["ok"]),
        ({"battery_pct": 14}, ["low_battery"]),
        ({"battery_pct": 15}, ["ok"]),
        ({"clock_offset_s": -120.0}, ["ok"]),
        ({"clock_offset_s": -120.5}, ["clock_skewed"]),
        ({"conflicts": 1}, ["counter_conflicts"]),
        ({"disabled": True}, ["disabled"]),
        ({"last_upload_at": NOW - timedelta(hours=2)}, ["silent"]),
        ({"last_upload_at": NOW - timedelta(hours=1, minutes=59)}, ["ok"]),
        ({"last_upload_at": None}, ["silent"]),
        (
            {"last_upload_at": None, "last_heartbeat_at": NOW, "battery_pct": 3, "conflicts": 2},
            ["low_battery", "counter_conflicts"],
        ),
    ],
)
def test_statuses(values: dict[str, object], expected: list[str]) -> None:
    assert health.statuses(_reader(**values), _game(), NOW) == expected


async def _heartbeat(
    client: httpx.AsyncClient, town: Town, reader_id: str, secret: str, **values: object
) -> None:
    raw = json.dumps({"sent_at": iso(NOW), **values}).encode()
    r = await post_signed(client, f"/api/v1/readers/{reader_id}/heartbeat", raw, secret)
    assert r.status_code == 200, r.text


async def _create(client: httpx.AsyncClient, town: Town, reader_id: str, code: str) -> str:
    r = await client.post(
        f"/api/v1/admin/games/{town.slug}/readers",
        json={"id": reader_id, "checkpoint": code},
        headers=auth(town.token),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["secret"])


async def test_the_boxes_list_puts_boxes_needing_a_visit_first(
    app: FastAPI, client: httpx.AsyncClient, town: Town, clock: Clock
) -> None:
    yesterday = NOW - timedelta(hours=12)  # 22:00 local on Sunday
    taps = [tap(1, 1, NOW - timedelta(minutes=30)), tap(2, 2, NOW - timedelta(minutes=20))]
    await upload(client, town, "A", [*taps, tap(3, 3, yesterday)], sent_at=NOW)
    await _heartbeat(client, town, town.reader("B"), town.secret("B"), battery_pct=10)
    raw = json.dumps({"sent_at": iso(NOW - timedelta(minutes=10)), "battery_pct": 90}).encode()
    await post_signed(
        client, f"/api/v1/readers/{town.reader('P')}/heartbeat", raw, town.secret("P")
    )
    x_id, y_id = f"X-{town.slug}", f"Y-{town.slug}"
    await _create(client, town, x_id, "A")
    r = await client.post(
        f"/api/v1/admin/games/{town.slug}/readers/{x_id}/disable", headers=auth(town.token)
    )
    assert r.status_code == 200
    y_secret = await _create(client, town, y_id, "B")
    path = f"/api/v1/readers/{y_id}/taps"
    for card in (1, 2):
        raw = json.dumps({"sent_at": iso(NOW), "taps": [tap(1, card, NOW)]}).encode()
        assert (await post_signed(client, path, raw, y_secret)).status_code == 200

    r = await client.get(f"/api/v1/admin/games/{town.slug}/boxes", headers=auth(town.token))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["local_date"] == "2027-05-03"
    boxes = answer["boxes"]
    assert [(b["reader_id"], b["statuses"], b["needs_visit"]) for b in boxes] == [
        (town.reader("C"), ["silent"], True),
        (town.reader("B"), ["low_battery"], True),
        (y_id, ["counter_conflicts"], True),
        (town.reader("P"), ["clock_skewed"], True),
        (town.reader("A"), ["ok"], False),
        (x_id, ["silent", "disabled"], False),
    ]
    a = boxes[4]
    assert a["taps_today"] == 2  # the tap of 22:00 yesterday (local) is not today's
    assert a["last_tap_at"] == "2027-05-03T08:40:00Z"
    assert a["last_upload_at"] == a["last_contact_at"] == "2027-05-03T09:00:00Z"
    assert a["checkpoint"] == "A" and a["checkpoint_name"] == "Alpha"
    assert boxes[1]["battery_pct"] == 10 and boxes[1]["last_heartbeat_at"] is not None
    assert boxes[3]["clock_offset_s"] == pytest.approx(600)
    assert boxes[2]["conflicts"] == 1

    # Two daytime hours later without contact, A is silent too.
    clock.advance(hours=2)
    r = await client.get(f"/api/v1/admin/games/{town.slug}/boxes", headers=auth(town.token))
    statuses = {b["reader_id"]: b["statuses"] for b in r.json()["boxes"]}
    assert statuses[town.reader("A")] == ["silent"]


async def test_boxes_as_csv(app: FastAPI, client: httpx.AsyncClient, town: Town) -> None:
    await _heartbeat(client, town, town.reader("B"), town.secret("B"), battery_pct=9)
    url = f"/api/v1/admin/games/{town.slug}/boxes"
    by_query = await client.get(url + "?format=csv", headers=auth(town.token))
    by_accept = await client.get(url, headers={**auth(town.token), "accept": "text/csv"})
    for r in (by_query, by_accept):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
    assert by_query.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_query.text)))
    assert list(rows[0]) == list(health.CSV_COLUMNS)
    assert len(rows) == 4
    low = next(r for r in rows if r["reader_id"] == town.reader("B"))
    assert low["statuses"] == "low_battery" and low["battery_pct"] == "9"
    assert low["needs_visit"] == "yes"
    json_answer = await client.get(url, headers=auth(town.token))
    assert json_answer.headers["content-type"].startswith("application/json")


async def test_boxes_need_an_organiser_of_the_game(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    url = f"/api/v1/admin/games/{town.slug}/boxes"
    assert (await client.get(url)).status_code == 401
    async with state_of(app).sessionmaker() as s:
        evaluator = await create_token(s, role="evaluator")
        await s.commit()
    assert (await client.get(url, headers=auth(evaluator))).status_code == 403
    assert (
        await client.get("/api/v1/admin/games/no-such-game/boxes", headers=auth(town.token))
    ).status_code == 404
