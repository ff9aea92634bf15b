"""Rate limits: wrong activation codes, registrations without a card, app check-ins.

All are counted in the database, so they hold across server processes."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import select, update

from api.app_state import state_of
from game.models import Game
from harness.game_files import A
from kernel.db import utcnow
from kernel.settings import Settings
from people import registration
from people.attempts_repository import APP_REGISTRATION
from people.models import RegistrationAttempt
from taptrail.server import create_app
from tests.helpers import auth
from tests.security.world import definition, nickname


def client_at(app: FastAPI, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def random_host() -> str:
    return f"10.77.{random.randint(0, 255)}.{random.randint(1, 254)}"


def cardless(**fields: object) -> dict[str, object]:
    return {"nickname": nickname(), "age_band": "45-64", "gender": "male", **fields}


@pytest.fixture
async def town(client: httpx.AsyncClient, organiser_token: str, slug: str) -> str:
    response = await client.put(
        f"/api/v1/admin/games/{slug}", json=definition(slug), headers=auth(organiser_token)
    )
    assert response.status_code == 200, response.text
    return slug


async def _register(c: httpx.AsyncClient, slug: str, **body: object) -> httpx.Response:
    return await c.post(f"/api/v1/games/{slug}/registrations", json=body or cardless())


async def test_registrations_without_a_card_are_limited_per_address(
    app: FastAPI, settings: Settings, town: str
) -> None:
    host = random_host()
    async with client_at(app, host) as c:
        for _ in range(registration.APP_REGISTRATIONS):
            assert (await _register(c, town)).status_code == 201
        limited = await _register(c, town)
        assert limited.status_code == 429
        assert limited.json()["error"] == "rate_limited"
        assert "without a card" in limited.json()["detail"]
        # A card registration from the same address is another matter.
        card = await _register(c, town, **cardless(card_number="0000011", activation_code="K011"))
        assert card.status_code == 201, card.text
    async with client_at(app, random_host()) as other:
        assert (await _register(other, town)).status_code == 201

    # Another server process (its own engine and state) sees the same count.
    second = create_app(settings)
    async with LifespanManager(second), client_at(second, host) as c:
        assert (await _register(c, town)).status_code == 429

    # An hour later the address may register again.
    async with state_of(app).sessionmaker() as s:
        gid = await s.scalar(select(Game.id).where(Game.slug == town))
        await s.execute(
            update(RegistrationAttempt)
            .where(RegistrationAttempt.game_id == gid)
            .values(created_at=utcnow() - timedelta(minutes=61))
        )
        await s.commit()
    async with client_at(app, host) as c:
        assert (await _register(c, town)).status_code == 201


async def test_the_registration_limit_holds_under_concurrency(app: FastAPI, town: str) -> None:
    async with client_at(app, random_host()) as c:
        answers = await asyncio.gather(*(_register(c, town) for _ in range(15)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * registration.APP_REGISTRATIONS + [429] * 5


async def test_app_registrations_do_not_count_as_wrong_codes(app: FastAPI, town: str) -> None:
    host = random_host()
    async with client_at(app, host) as c:
        for _ in range(registration.APP_REGISTRATIONS):
            assert (await _register(c, town)).status_code == 201
        async with state_of(app).sessionmaker() as s:
            gid = await s.scalar(select(Game.id).where(Game.slug == town))
            kinds = (
                await s.scalars(
                    select(RegistrationAttempt.card_key).where(RegistrationAttempt.game_id == gid)
                )
            ).all()
        assert kinds == [APP_REGISTRATION] * registration.APP_REGISTRATIONS
        # Wrong codes still have their own, separate budget per card.
        for _ in range(registration.CARD_CLIENT_FREE):
            wrong = await _register(
                c, town, **cardless(card_number="0000012", activation_code="WRONG")
            )
            assert wrong.status_code == 422
        right = await _register(c, town, **cardless(card_number="0000012", activation_code="K012"))
        assert right.status_code == 429
        assert "activation codes" in right.json()["detail"]


async def test_wrong_activation_codes_are_limited_per_address(app: FastAPI, town: str) -> None:
    async with client_at(app, random_host()) as c:
        for i in range(registration.CLIENT_FREE):
            number = f"{13 + i % 4:07d}"  # spread over cards: under each card's own limit
            wrong = await _register(c, town, **cardless(card_number=number, activation_code="NO"))
            assert wrong.status_code == 422, wrong.text
        right = await _register(c, town, **cardless(card_number="0000020", activation_code="K020"))
        assert right.status_code == 429
        assert "from this device" in right.json()["detail"]
    async with client_at(app, random_host()) as other:
        fine = await _register(
            other, town, **cardless(card_number="0000020", activation_code="K020")
        )
        assert fine.status_code == 201


async def test_app_checkins_are_limited_per_player(app: FastAPI, town: str) -> None:
    async with client_at(app, random_host()) as c:
        token = (await _register(c, town)).json()["token"]

        def body() -> dict[str, object]:
            return {
                "client_id": str(uuid.uuid4()),
                "checkpoint": "A",
                "lat": A[0],
                "lon": A[1],
                "accuracy_m": 5,
            }

        first = await c.post("/api/v1/app/checkins", json=body(), headers=auth(token))
        assert first.status_code == 200, first.text
        second = await c.post("/api/v1/app/checkins", json=body(), headers=auth(token))
        assert second.status_code == 429
        assert 1 <= int(second.headers["retry-after"]) <= 30
