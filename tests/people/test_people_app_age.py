"""App players' age (issue "Hardening", item 14).

An account without a card (a virtual card in the phone app) is for players aged 13 and
over; younger children play with a card registered through a parent or carer. The age
bands are fixed (docs/running-a-game/game-file.md): 0-4 and 5-11 are under 13, 12-15 straddles 13 (so a
card-less registration in it must confirm the player is 13 or over), 16-24 and up are over.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from api.app_state import state_of
from harness.game_files import A
from people.models import Card, Holder, Player
from tests.helpers import auth
from tests.people.people_helpers import PGame, client_at, form, register


async def _counts(app: FastAPI, game: PGame) -> tuple[int, int, int]:
    async with state_of(app).sessionmaker() as s:
        counts = []
        for model in (Holder, Card, Player):
            query = select(func.count()).select_from(model).where(model.game_id == game.id)
            counts.append(int(await s.scalar(query) or 0))
        return counts[0], counts[1], counts[2]


@pytest.mark.parametrize("band", ["0-4", "5-11"])
async def test_cardless_registration_under_13_is_refused(
    client: httpx.AsyncClient, app: FastAPI, game: PGame, band: str
) -> None:
    before = await _counts(app, game)
    response = await client.post(
        f"/api/v1/games/{game.slug}/registrations", json=form(age_band=band)
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["fields"][0]["field"] == "age_band"
    assert "13" in body["detail"] and "card" in body["detail"] and "parent" in body["detail"]
    assert await _counts(app, game) == before  # no holder, virtual card or player made


async def test_cardless_registration_at_12_to_15_must_confirm_13_or_over(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    url = f"/api/v1/games/{game.slug}/registrations"
    before = await _counts(app, game)
    for confirmed in ({}, {"age_13_or_over": False}):
        refused = await client.post(url, json=form(age_band="12-15", **confirmed))
        assert refused.status_code == 422, refused.text
        assert refused.json()["fields"][0]["field"] == "age_13_or_over"
        assert "card" in refused.json()["detail"]
    assert await _counts(app, game) == before
    body = await register(client, game.slug, **form(age_band="12-15", age_13_or_over=True))
    assert body["card"]["kind"] == "virtual"


async def test_cardless_registration_from_16_and_card_registrations_of_any_age(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    adult = await register(client, game.slug, **form(age_band="16-24"))
    assert adult["card"]["kind"] == "virtual"
    for card, band in ((4, "0-4"), (5, "5-11"), (6, "12-15")):
        child = await register(client, game.slug, **form(card, age_band=band))
        assert child["card"] == {"number": f"{card:07d}", "kind": "rfid", "active": True}


async def test_refused_registrations_do_not_use_up_the_address_limit(
    app: FastAPI, game: PGame
) -> None:
    url = f"/api/v1/games/{game.slug}/registrations"
    async with client_at(app, "192.0.2.44") as device:
        for _ in range(12):
            assert (await device.post(url, json=form(age_band="5-11"))).status_code == 422
        assert (await device.post(url, json=form(age_band="45-64"))).status_code == 201


def _checkin() -> dict[str, object]:
    return {
        "client_id": str(uuid.uuid4()),
        "checkpoint": "A",
        "lat": A[0],
        "lon": A[1],
        "accuracy_m": 8,
    }


async def _virtual_cards(app: FastAPI, game: PGame) -> int:
    async with state_of(app).sessionmaker() as s:
        query = select(func.count()).where(Card.game_id == game.id, Card.kind == "virtual")
        return int(await s.scalar(query) or 0)


@pytest.mark.parametrize("band", ["0-4", "5-11", "12-15"])
async def test_card_player_under_16_cannot_open_an_app_account_by_checking_in(
    client: httpx.AsyncClient, app: FastAPI, game: PGame, band: str
) -> None:
    child = await register(client, game.slug, **form(4, age_band=band))
    response = await client.post(
        "/api/v1/app/checkins", json=_checkin(), headers=auth(child["token"])
    )
    assert response.status_code == 403, response.text
    assert "13" in response.json()["detail"] and "card" in response.json()["detail"]
    assert await _virtual_cards(app, game) == 0


async def test_older_players_check_in_by_phone(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    carded = await register(client, game.slug, **form(4, age_band="25-44"))
    teen = await register(client, game.slug, **form(age_band="12-15", age_13_or_over=True))
    for player in (carded, teen):
        response = await client.post(
            "/api/v1/app/checkins", json=_checkin(), headers=auth(player["token"])
        )
        assert response.status_code == 200, response.text
    assert await _virtual_cards(app, game) == 2
