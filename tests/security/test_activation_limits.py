"""Guessing activation codes: per-address limits that cannot lock out a card's owner,
progressive lockouts, Retry-After on every 429, and codes long enough to make guessing hopeless.
"""

from __future__ import annotations

import asyncio
import random
import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app_state import state_of
from game.models import Game
from people import activation, registration
from people.models import Card, RegistrationAttempt
from tests.helpers import auth
from tests.security.world import definition, nickname


def client_at(app: FastAPI, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def random_host() -> str:
    return f"10.{random.randint(1, 250)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def form(**fields: object) -> dict[str, object]:
    return {"nickname": nickname(), "age_band": "25-44", "gender": "female", **fields}


GROUPED = "ABCD-EFGH-JK23"


@pytest.fixture
async def town(client: httpx.AsyncClient, organiser_token: str, slug: str) -> str:
    data = definition(slug)
    data["cards"].append({"number": "0000099", "uid": "04" + "9" * 12, "activation_code": GROUPED})
    response = await client.put(
        f"/api/v1/admin/games/{slug}", json=data, headers=auth(organiser_token)
    )
    assert response.status_code == 200, response.text
    return slug


async def _try(c: httpx.AsyncClient, slug: str, number: int, code: str) -> httpx.Response:
    body = form(card_number=f"{number:07d}", activation_code=code)
    return await c.post(f"/api/v1/games/{slug}/registrations", json=body)


async def _age_failures(app: FastAPI, slug: str, by: timedelta) -> None:
    """Moves the game's recorded failures back in time, as if ``by`` had passed."""
    async with state_of(app).sessionmaker() as s:
        gid = await s.scalar(select(Game.id).where(Game.slug == slug))
        rows = (
            await s.scalars(select(RegistrationAttempt).where(RegistrationAttempt.game_id == gid))
        ).all()
        for row in rows:
            row.created_at -= by
        await s.commit()


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    return int(response.headers["Retry-After"])


async def test_an_attacker_cannot_lock_out_the_owner(app: FastAPI, town: str) -> None:
    # Three addresses each guess card 21 until they are throttled: far more failures than
    # any card-wide limit would allow.
    for _ in range(3):
        async with client_at(app, random_host()) as attacker:
            for _ in range(registration.CARD_CLIENT_FREE):
                assert (await _try(attacker, town, 21, "WRONG")).status_code == 422
            assert (await _try(attacker, town, 21, "K021")).status_code == 429
    async with client_at(app, random_host()) as owner:
        typo = await _try(owner, town, 21, "K12")
        assert typo.status_code == 422
        right = await _try(owner, town, 21, "K021")
        assert right.status_code == 201, right.text


async def test_lockouts_grow_progressively_and_say_when(app: FastAPI, town: str) -> None:
    host = random_host()
    async with client_at(app, host) as c:
        for _ in range(registration.CARD_CLIENT_FREE):
            assert (await _try(c, town, 22, "NOPE")).status_code == 422
        for minutes in (1, 2, 4):
            limited = await _try(c, town, 22, "K022")
            assert "for this card from this device" in limited.json()["detail"]
            assert minutes * 60 - 5 <= _retry_after(limited) <= minutes * 60
            await _age_failures(app, town, timedelta(minutes=minutes, seconds=1))
            assert (await _try(c, town, 22, "NOPE")).status_code == 422
        assert 8 * 60 - 5 <= _retry_after(await _try(c, town, 22, "K022")) <= 8 * 60
        # The lockout is this address's: the device may still register another card.
        assert (await _try(c, town, 23, "K023")).status_code == 201
    # A day later everything is forgotten.
    await _age_failures(app, town, timedelta(days=1))
    async with client_at(app, host) as c:
        assert (await _try(c, town, 22, "K022")).status_code == 201


async def test_the_per_device_lockout_has_retry_after(app: FastAPI, town: str) -> None:
    async with client_at(app, random_host()) as c:
        for i in range(registration.CLIENT_FREE):
            number = 30 + i % 5  # spread over cards: under each card's own allowance
            assert (await _try(c, town, number, "NO")).status_code == 422
        limited = await _try(c, town, 40, "K040")
        assert "from this device" in limited.json()["detail"]
        assert 55 <= _retry_after(limited) <= 60


async def test_cardless_registration_limit_has_retry_after(app: FastAPI, town: str) -> None:
    async with client_at(app, random_host()) as c:
        for _ in range(registration.APP_REGISTRATIONS):
            response = await c.post(f"/api/v1/games/{town}/registrations", json=form())
            assert response.status_code == 201
        limited = await c.post(f"/api/v1/games/{town}/registrations", json=form())
        assert 3600 - 5 <= _retry_after(limited) <= 3600


async def test_concurrent_guesses_from_one_address_share_its_allowance(
    app: FastAPI, town: str
) -> None:
    async with client_at(app, random_host()) as c:
        answers = await asyncio.gather(*(_try(c, town, 41, f"X{i}") for i in range(12)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [422] * registration.CARD_CLIENT_FREE + [429] * (
        12 - registration.CARD_CLIENT_FREE
    )


async def test_linking_a_card_is_limited_the_same_way(app: FastAPI, town: str) -> None:
    async with client_at(app, random_host()) as c:
        token = (await c.post(f"/api/v1/games/{town}/registrations", json=form())).json()["token"]
        body = {"card_number": "0000042", "activation_code": "WRONG"}
        for _ in range(registration.CARD_CLIENT_FREE):
            wrong = await c.post("/api/v1/me/cards", json=body, headers=auth(token))
            assert wrong.status_code == 422
        limited = await c.post("/api/v1/me/cards", json=body, headers=auth(token))
        assert 55 <= _retry_after(limited) <= 60


async def test_grouped_codes_are_typed_any_way(app: FastAPI, town: str) -> None:
    """Case, spaces and hyphens do not matter (409: the code matched, the card is taken)."""
    for typed, status in (("abcd efgh jk23", 201), ("ABCDEFGHJK23", 409), (GROUPED, 409)):
        async with client_at(app, random_host()) as c:
            response = await _try(c, town, 99, typed)
            assert response.status_code == status, (typed, response.text)


async def test_generated_codes_are_long_and_unambiguous(app: FastAPI, town: str) -> None:
    async with client_at(app, random_host()) as c:
        response = await c.post(f"/api/v1/games/{town}/registrations", json=form())
    number = response.json()["card"]["number"]
    async with state_of(app).sessionmaker() as s:
        gid = await s.scalar(select(Game.id).where(Game.slug == town))
        code = await s.scalar(
            select(Card.activation_code).where(Card.game_id == gid, Card.number == number)
        )
    assert code is not None
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", code), code
    codes = {activation.new_code() for _ in range(1000)}
    assert len(codes) == 1000


def test_guessing_over_a_whole_game_is_hopeless() -> None:
    """The README's odds follow from the limits: one address, and a million of them."""
    six_weeks = 42
    per_card = activation.most_failures_per_day(registration.CARD_CLIENT_FREE) * six_weeks
    per_address = activation.most_failures_per_day(registration.CLIENT_FREE) * six_weeks
    assert per_card <= per_address
    space = len(activation.ALPHABET) ** activation.LENGTH
    assert per_card / space < 1e-15
    assert 1_000_000 * per_card / space < 1e-9


async def test_a_card_under_attack_is_reported_not_locked(
    app: FastAPI, town: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[tuple[str, dict[str, object]]] = []

    class Recorder:
        def warning(self, event: str, **fields: object) -> None:
            warnings.append((event, fields))

    monkeypatch.setattr(registration, "log", Recorder())
    per_address = registration.CARD_CLIENT_FREE
    for _ in range(registration.CARD_ALERT // per_address):
        async with client_at(app, random_host()) as attacker:
            for _ in range(per_address):
                assert (await _try(attacker, town, 43, "GUESS")).status_code == 422
    assert warnings == [
        (
            "activation.card_guessed",
            {
                "game_id": warnings[0][1]["game_id"],
                "card": "0000043",
                "failures": registration.CARD_ALERT,
            },
        )
    ]
    async with client_at(app, random_host()) as owner:
        assert (await _try(owner, town, 43, "K043")).status_code == 201
