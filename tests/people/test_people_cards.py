"""Lost and replaced cards: points carry over, the old card stops, earlier taps move along."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from api.app_state import state_of
from game.models import Tap
from harness.game_files import COM1_JOIN_CODE
from kernel.audit import AuditRecord
from kernel.db import utcnow
from people.models import Card
from tests.helpers import auth
from tests.people.people_helpers import (
    PGame,
    add_taps,
    assert_ledger,
    card_holder_points,
    client_at,
    form,
    journey,
    load_game,
    number,
    register,
    team_points,
    token_for,
)


async def _card(app: FastAPI, game: PGame, n: int) -> Card:
    async with state_of(app).sessionmaker() as s:
        card = await s.scalar(select(Card).where(Card.game_id == game.id, Card.number == number(n)))
        assert card is not None
        return card


async def test_organiser_replaces_a_lost_card(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    player = await register(client, game.slug, **form(4, team="COM1", join_code=COM1_JOIN_CODE))
    await add_taps(app, game, number(4), journey(utcnow() - timedelta(days=2)))
    assert await team_points(app, game) == {"SCH1": 0, "COM1": 20}

    response = await client.post(
        f"/api/v1/admin/games/{game.slug}/cards/{number(4)}/replace",
        json={"new_card": number(5)},
        headers=auth(game.organiser),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"card": number(5), "retired": [number(4)], "moved_taps": 0}
    old, new = await _card(app, game, 4), await _card(app, game, 5)
    assert new.holder_id == old.holder_id
    assert old.valid_until is not None and new.valid_until is None
    assert await card_holder_points(app, game, number(5)) == 20  # carried over
    assert await team_points(app, game) == {"SCH1": 0, "COM1": 20}

    # From now on the old card scores nothing, the new one scores for the player.
    later = utcnow() + timedelta(minutes=5)
    await add_taps(app, game, number(4), journey(later))
    await add_taps(app, game, number(5), journey(later + timedelta(hours=2)))
    async with state_of(app).sessionmaker() as s:
        outcomes = (
            await s.scalars(
                select(Tap.outcome)
                .where(Tap.game_id == game.id, Tap.card_id == old.id)
                .where(Tap.tapped_at > later - timedelta(seconds=1))
            )
        ).all()
    assert outcomes == ["out_of_game"] * 3
    assert await card_holder_points(app, game, number(5)) == 40
    assert await team_points(app, game) == {"SCH1": 0, "COM1": 40}
    me = (await client.get("/api/v1/me", headers=auth(player["token"]))).json()
    assert me["cards"] == [
        {"number": number(4), "kind": "rfid", "active": False},
        {"number": number(5), "kind": "rfid", "active": True},
    ]
    async with state_of(app).sessionmaker() as s:
        audit = await s.scalar(
            select(AuditRecord).where(
                AuditRecord.game_id == game.id, AuditRecord.action == "card.replace"
            )
        )
        assert audit is not None and audit.detail["old"] == number(4)
    await assert_ledger(app, game)


async def test_new_cards_earlier_taps_move_with_it(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    player = await register(client, game.slug, **form(4, team="COM1", join_code=COM1_JOIN_CODE))
    await add_taps(app, game, number(4), journey(utcnow() - timedelta(days=3)))
    # Card 2, a school fob nobody registered, was used before the player picked it up.
    await add_taps(app, game, number(2), journey(utcnow() - timedelta(days=1)))
    assert await team_points(app, game) == {"SCH1": 20, "COM1": 20}
    unregistered_holder = (await _card(app, game, 2)).holder_id

    response = await client.post(
        "/api/v1/me/cards",
        json={"card_number": number(2), "activation_code": "k002"},
        headers=auth(player["token"]),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"card": number(2), "retired": [number(4)], "moved_taps": 3}
    assert await team_points(app, game) == {"SCH1": 0, "COM1": 40}
    assert await card_holder_points(app, game, number(2)) == 40
    me = (await client.get("/api/v1/me", headers=auth(player["token"]))).json()
    assert me["totals"]["points"] == 40 and me["totals"]["taps"] == 6
    async with state_of(app).sessionmaker() as s:
        left = await s.scalar(select(Tap.id).where(Tap.holder_id == unregistered_holder))
        assert left is None
    await assert_ledger(app, game)


async def test_card_change_refusals(client: httpx.AsyncClient, app: FastAPI, game: PGame) -> None:
    player = await register(client, game.slug, **form(4))
    await register(client, game.slug, **form(5))
    headers = auth(player["token"])
    mine = await client.post(
        "/api/v1/me/cards",
        json={"card_number": number(4), "activation_code": "K004"},
        headers=headers,
    )
    assert mine.status_code == 409
    someone_elses = await client.post(
        "/api/v1/me/cards",
        json={"card_number": number(5), "activation_code": "K005"},
        headers=headers,
    )
    assert someone_elses.status_code == 409
    admin = f"/api/v1/admin/games/{game.slug}/cards"
    unknown = await client.post(
        f"{admin}/{number(4)}/replace", json={"new_card": "7777777"}, headers=auth(game.organiser)
    )
    assert unknown.status_code == 404
    missing_old = await client.post(
        f"{admin}/7777777/replace", json={"new_card": number(6)}, headers=auth(game.organiser)
    )
    assert missing_old.status_code == 404
    ok = await client.post(
        f"{admin}/{number(4)}/replace", json={"new_card": number(6)}, headers=auth(game.organiser)
    )
    assert ok.status_code == 200
    again = await client.post(
        f"{admin}/{number(4)}/replace", json={"new_card": number(7)}, headers=auth(game.organiser)
    )
    assert again.status_code == 409  # card 4 was already replaced
    retired = await client.post(
        f"{admin}/{number(6)}/replace", json={"new_card": number(4)}, headers=auth(game.organiser)
    )
    assert retired.status_code == 409  # a retired card cannot come back


async def test_linking_a_card_is_rate_limited(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    player = await register(client, game.slug, **form(4))
    async with client_at(app, "192.0.2.44") as device:
        for _ in range(5):
            wrong = await device.post(
                "/api/v1/me/cards",
                json={"card_number": number(8), "activation_code": "WRONG"},
                headers=auth(player["token"]),
            )
            assert wrong.status_code == 422
        limited = await device.post(
            "/api/v1/me/cards",
            json={"card_number": number(8), "activation_code": "K008"},
            headers=auth(player["token"]),
        )
        assert limited.status_code == 429
    assert (await _card(app, game, 8)).holder_id != (await _card(app, game, 4)).holder_id


async def test_replacing_cards_is_for_this_games_organisers(
    client: httpx.AsyncClient, app: FastAPI, game: PGame, organiser_token: str
) -> None:
    player = await register(client, game.slug, **form(4))
    other = await load_game(client, app, organiser_token, game.slug + "-x")
    path = f"/api/v1/admin/games/{game.slug}/cards/{number(4)}/replace"
    body = {"new_card": number(5)}
    for token in (
        player["token"],
        await token_for(app, "team_manager", game, "SCH1"),
        await token_for(app, "evaluator", game),
        await token_for(app, "organiser", other),
    ):
        assert (await client.post(path, json=body, headers=auth(token))).status_code == 403
    assert (await client.post(path, json=body)).status_code == 401
    scoped = await token_for(app, "organiser", game)
    assert (await client.post(path, json=body, headers=auth(scoped))).status_code == 200
