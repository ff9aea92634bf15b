"""Phone app check-ins: position checks, idempotency, rate limit, scoring and boards."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from accounts.tokens import create_token
from api.app_state import state_of
from checkpoints.models import Checkin
from game.models import Tap
from organising.repository import game_by_slug
from people.models import Card, Player
from scoring.ledger import ledger_mismatches
from tests.checkpoints.checkins.ci_helpers import (
    NOW,
    Clock,
    check_in,
    checkin_body,
    load_game,
    register,
)
from tests.helpers import auth


async def _taps(app: FastAPI, player_id: int) -> list[Tap]:
    async with state_of(app).sessionmaker() as s:
        holder = await s.scalar(select(Player.holder_id).where(Player.id == player_id))
        return list(
            await s.scalars(select(Tap).where(Tap.holder_id == holder).order_by(Tap.tapped_at))
        )


async def _ledger_ok(app: FastAPI, slug: str) -> None:
    async with state_of(app).sessionmaker() as s:
        game = await game_by_slug(s, slug)
        assert game is not None
        assert await ledger_mismatches(s, game.id) == []


async def test_journey_by_app_scores_and_moves_the_board(
    client: httpx.AsyncClient, app: FastAPI, game: str, clock: Clock
) -> None:
    player = await register(client, game)

    first = await check_in(client, player, "A")
    assert first.status_code == 200, first.text
    assert first.json() | {"client_id": None} == {
        "client_id": None,
        "game": game,
        "checkpoint": "A",
        "checkpoint_name": "Alpha",
        "at": "2027-05-03T08:00:00Z",
        "outcome": "journey_start",
        "points": 0,
        "distance_m": 0.0,
        "multiplier": 1.0,
        "total_points": 0,
    }
    clock.advance(minutes=15)
    second = await check_in(client, player, "B")
    assert second.status_code == 200, second.text
    assert (second.json()["outcome"], second.json()["points"]) == ("leg", 10)
    assert second.json()["total_points"] == 10
    assert abs(second.json()["distance_m"] - 800) < 1

    taps = await _taps(app, player.id)
    assert [t.source for t in taps] == ["app", "app"]
    assert taps[1].source_key == f"app/{player.id}/{second.json()['client_id']}"
    assert taps[1].received_at == NOW + timedelta(minutes=15)
    await _ledger_ok(app, game)

    board = await client.get(f"/api/v1/games/{game}/leaderboards/teams")
    points = {e["team"]: e["points"] for e in board.json()["entries"]}
    assert points["COM1"] == 10
    me = await client.get("/api/v1/me", headers=player.headers)
    assert me.json()["totals"]["points"] == 10


async def test_offline_checkins_keep_their_time_and_slot_into_place(
    client: httpx.AsyncClient, app: FastAPI, game: str, clock: Clock
) -> None:
    player = await register(client, game)
    earlier = NOW - timedelta(hours=2)
    # Made offline two hours ago and sent now, out of order: B (15 minutes after A) first.
    b = await check_in(client, player, "B", at=earlier + timedelta(minutes=15))
    assert b.json()["outcome"] == "journey_start"
    clock.advance(seconds=30)
    a = await check_in(client, player, "A", at="2027-05-03T07:00:00+01:00")  # = earlier
    assert a.status_code == 200, a.text
    assert a.json()["outcome"] == "journey_start"
    assert a.json()["total_points"] == 10  # B became a leg from A
    assert [t.outcome for t in await _taps(app, player.id)] == ["journey_start", "leg"]
    await _ledger_ok(app, game)


async def test_a_card_player_gets_a_virtual_card_for_the_app(
    client: httpx.AsyncClient, app: FastAPI, game: str
) -> None:
    player = await register(client, game, card=4)
    async with state_of(app).sessionmaker() as s:
        holder = await s.scalar(select(Player.holder_id).where(Player.id == player.id))
        assert (await s.scalars(select(Card.kind).where(Card.holder_id == holder))).all() == [
            "rfid"
        ]

    assert (await check_in(client, player, "A")).status_code == 200

    async with state_of(app).sessionmaker() as s:
        cards = (await s.scalars(select(Card).where(Card.holder_id == holder))).all()
    virtual = [c for c in cards if c.kind == "virtual"]
    assert len(cards) == 2 and len(virtual) == 1
    assert re.fullmatch(r"[0-9A-F]{20}", virtual[0].uid)
    assert re.fullmatch(r"V\d+", virtual[0].number)
    taps = await _taps(app, player.id)
    assert [t.card_id for t in taps] == [virtual[0].id]
    me = await client.get("/api/v1/me", headers=player.headers)
    assert {c["kind"] for c in me.json()["cards"]} == {"rfid", "virtual"}


async def test_a_virtual_player_keeps_their_card(
    client: httpx.AsyncClient, app: FastAPI, game: str, clock: Clock
) -> None:
    player = await register(client, game)
    await check_in(client, player, "A")
    clock.advance(minutes=1)
    await check_in(client, player, "A")
    async with state_of(app).sessionmaker() as s:
        holder = await s.scalar(select(Player.holder_id).where(Player.id == player.id))
        cards = (await s.scalars(select(Card.number).where(Card.holder_id == holder))).all()
    assert cards == [player.card]
    assert [t.outcome for t in await _taps(app, player.id)] == ["journey_start", "repeat"]


async def test_same_client_id_is_the_same_checkin(
    client: httpx.AsyncClient, app: FastAPI, game: str, clock: Clock
) -> None:
    player = await register(client, game)
    body = checkin_body("A")
    first = await client.post("/api/v1/app/checkins", json=body, headers=player.headers)
    clock.advance(seconds=5)  # a retry inside the rate limit is still answered
    again = await client.post("/api/v1/app/checkins", json=body, headers=player.headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert len(await _taps(app, player.id)) == 1

    other = {**body, "checkpoint": "B"}
    clash = await client.post("/api/v1/app/checkins", json=other, headers=player.headers)
    assert clash.status_code == 409
    assert body["client_id"] in clash.json()["detail"]
    with_time = {**body, "at": NOW.isoformat()}
    clash = await client.post("/api/v1/app/checkins", json=with_time, headers=player.headers)
    assert clash.status_code == 409
    assert len(await _taps(app, player.id)) == 1


async def test_client_ids_belong_to_their_player(
    client: httpx.AsyncClient, app: FastAPI, game: str
) -> None:
    one, two = await register(client, game), await register(client, game)
    body = checkin_body("A")
    for player in (one, two):
        answer = await client.post("/api/v1/app/checkins", json=body, headers=player.headers)
        assert answer.status_code == 200
        assert answer.json()["outcome"] == "journey_start"
    assert len(await _taps(app, one.id)) == len(await _taps(app, two.id)) == 1


async def test_concurrent_retries_make_one_tap(
    client: httpx.AsyncClient, app: FastAPI, game: str
) -> None:
    player = await register(client, game)
    body = checkin_body("A")
    answers = await asyncio.gather(
        *(client.post("/api/v1/app/checkins", json=body, headers=player.headers) for _ in range(6))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert len(await _taps(app, player.id)) == 1


async def test_one_checkin_per_30_seconds(
    client: httpx.AsyncClient, app: FastAPI, game: str, clock: Clock
) -> None:
    player = await register(client, game)
    assert (await check_in(client, player, "A")).status_code == 200
    clock.advance(seconds=18)
    limited = await check_in(client, player, "A")
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert limited.headers["Retry-After"] == "12"
    assert "12 s" in limited.json()["detail"]
    clock.advance(seconds=12)
    assert (await check_in(client, player, "A")).status_code == 200
    assert len(await _taps(app, player.id)) == 2

    # Concurrent different check-ins: exactly one gets through.
    clock.advance(seconds=60)
    answers = await asyncio.gather(*(check_in(client, player, "A") for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [200, 429, 429, 429, 429]
    assert len(await _taps(app, player.id)) == 3


async def test_rejected_checkins_say_why_and_store_nothing(
    client: httpx.AsyncClient, app: FastAPI, game: str
) -> None:
    player = await register(client, game)

    far = await check_in(client, player, "A", north_m=150)
    assert far.status_code == 422
    assert far.json()["error"] == "too_far"
    assert "150 m from checkpoint A" in far.json()["detail"]
    assert "within 40 m" in far.json()["detail"]

    vague = await check_in(client, player, "A", accuracy_m=51)
    assert vague.status_code == 422
    assert vague.json()["error"] == "poor_accuracy"
    assert "51 m" in vague.json()["detail"]

    unknown = await client.post(
        "/api/v1/app/checkins",
        json=checkin_body("A") | {"checkpoint": "NOPE"},
        headers=player.headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "unknown_checkpoint"
    assert "NOPE" in unknown.json()["detail"]
    assert unknown.json()["fields"][0]["field"] == "checkpoint"

    future = await check_in(client, player, "A", at=NOW + timedelta(minutes=5, seconds=1))
    assert future.status_code == 422
    assert future.json()["error"] == "future_timestamp"

    stale = await check_in(client, player, "A", at=NOW - timedelta(hours=24, seconds=1))
    assert stale.status_code == 422
    assert stale.json()["error"] == "stale_timestamp"
    assert stale.json()["fields"][0]["field"] == "at"

    for bad in (
        {"at": "2027-05-03T08:00:00"},  # no offset
        {"at": 1809331200},
        {"lat": 91.0},
        {"accuracy_m": -1},
        {"client_id": "not-a-uuid"},
        {"extra": 1},
    ):
        body = checkin_body("A") | bad
        answer = await client.post("/api/v1/app/checkins", json=body, headers=player.headers)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["error"] == "validation_error"
    nan = await client.post(
        "/api/v1/app/checkins",
        content=b'{"client_id": "%s", "checkpoint": "A", "lat": NaN, "lon": 0, "accuracy_m": 5}'
        % str(uuid.uuid4()).encode(),
        headers=player.headers | {"content-type": "application/json"},
    )
    assert nan.status_code == 422
    assert await _taps(app, player.id) == []


async def test_limits_are_inclusive(
    client: httpx.AsyncClient, app: FastAPI, game: str, clock: Clock
) -> None:
    player = await register(client, game)
    edge = await check_in(client, player, "A", north_m=39.5, accuracy_m=50)
    assert edge.status_code == 200, edge.text
    clock.advance(seconds=30)
    ahead = await check_in(client, player, "B", at=NOW + timedelta(seconds=30, minutes=5))
    assert ahead.status_code == 200, ahead.text


async def test_radius_comes_from_the_game(
    client: httpx.AsyncClient, organiser_token: str, slug: str, clock: Clock
) -> None:
    await load_game(client, organiser_token, slug, rules={"checkin_radius_m": 100})
    player = await register(client, slug)
    assert (await check_in(client, player, "A", east_m=90)).status_code == 200
    clock.advance(seconds=30)
    far = await check_in(client, player, "A", east_m=110)
    assert far.status_code == 422
    assert "within 100 m" in far.json()["detail"]


async def test_inactive_checkpoint_scores_out_of_game(
    client: httpx.AsyncClient, organiser_token: str, slug: str, clock: Clock
) -> None:
    data = await load_game(client, organiser_token, slug)
    data["checkpoints"][0]["active_to"] = "2027-05-02T00:00:00Z"
    response = await client.put(
        f"/api/v1/admin/games/{slug}", json=data, headers=auth(organiser_token)
    )
    assert response.status_code == 200, response.text
    player = await register(client, slug)
    answer = await check_in(client, player, "A")
    assert answer.status_code == 200
    assert (answer.json()["outcome"], answer.json()["points"]) == ("out_of_game", 0)


async def test_only_active_players_check_in(
    client: httpx.AsyncClient, app: FastAPI, game: str, organiser_token: str
) -> None:
    body = checkin_body("A")
    assert (await client.post("/api/v1/app/checkins", json=body)).status_code == 401
    bad = await client.post("/api/v1/app/checkins", json=body, headers=auth("tt_nope"))
    assert bad.status_code == 401
    organiser = await client.post("/api/v1/app/checkins", json=body, headers=auth(organiser_token))
    assert organiser.status_code == 403
    async with state_of(app).sessionmaker() as s:
        manager = await create_token(s, role="team_manager")
        await s.commit()
    assert (
        await client.post("/api/v1/app/checkins", json=body, headers=auth(manager))
    ).status_code == 403

    player = await register(client, game)
    erased = await client.delete(
        f"/api/v1/admin/games/{game}/players/{player.id}", headers=auth(organiser_token)
    )
    assert erased.status_code == 200, erased.text
    after = await client.post("/api/v1/app/checkins", json=body, headers=player.headers)
    assert after.status_code == 401
    async with state_of(app).sessionmaker() as s:
        mine = await s.scalar(
            select(func.count()).select_from(Checkin).where(Checkin.player_id == player.id)
        )
    assert mine == 0
    assert await _taps(app, player.id) == []


async def test_no_coordinates_are_kept(client: httpx.AsyncClient, app: FastAPI, game: str) -> None:
    player = await register(client, game)
    body = checkin_body("A", north_m=12.345, accuracy_m=7.5)
    assert (
        await client.post("/api/v1/app/checkins", json=body, headers=player.headers)
    ).status_code == 200
    async with state_of(app).sessionmaker() as s:
        row = await s.scalar(select(Checkin).where(Checkin.player_id == player.id))
    assert row is not None
    assert (row.distance_m, row.accuracy_m, row.at_from_client) == (12.3, 7.5, False)
    assert {c.name for c in Checkin.__table__.columns}.isdisjoint({"lat", "lon"})
