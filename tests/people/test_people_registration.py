"""Registration: cards and virtual cards, postcodes, nicknames, teams, rate limits."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import JSON, String, Text, select

from api.app_state import state_of
from geo.deprivation import Deprivation
from harness.game_files import COM1_JOIN_CODE
from kernel.db import Base, utcnow
from people.models import Card, Player, RegistrationAttempt
from people.players import client_key
from taptrail.models import Base as _AllTables  # noqa: F401  (every table registered)
from tests.helpers import auth
from tests.people.conftest import FakeLookup
from tests.people.people_helpers import (
    PGame,
    add_taps,
    assert_ledger,
    card_holder_points,
    client_at,
    form,
    journey,
    number,
    player_row,
    random_postcode,
    register,
    team_points,
)


async def _db_text_containing(app: FastAPI, game: PGame, needles: list[str]) -> list[str]:
    """Every text value in the database (this game's rows, and tables without a game) that
    contains one of the needles, as "table.column"."""
    found = []
    async with state_of(app).sessionmaker() as s:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            query = select(*columns)
            if "game_id" in table.columns:
                query = query.where(table.c.game_id == game.id)
            for row in await s.execute(query):
                for column, value in zip(columns, row, strict=True):
                    text = str(value).upper()
                    if any(n.upper() in text for n in needles):
                        found.append(f"{table.name}.{column.name}")
    return found


async def test_register_card_keeps_decile_not_postcode(
    client: httpx.AsyncClient,
    app: FastAPI,
    game: PGame,
    lookup: FakeLookup,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    postcode = random_postcode()
    typed = " " + postcode.lower().replace(" ", "") + " "
    lookup.known[postcode] = Deprivation("found", "E01999999", 2, "england")

    body = await register(
        client, game.slug, **form(1, postcode=typed, email="kitchen.table@example.org")
    )

    assert lookup.asked == [postcode]  # normalised before the lookup
    assert body["postcode_status"] == "found"
    assert body["card"] == {"number": number(1), "kind": "rfid", "active": True}
    assert body["team"]["code"] == "SCH1"  # card 1 was issued to SCH1
    player = await player_row(app, body["player_id"])
    assert (player.lsoa_code, player.imd_decile, player.imd_nation) == ("E01999999", 2, "england")
    assert player.deprivation_status == "found"
    assert player.email == "kitchen.table@example.org"
    assert player.age_band == "5-11" and player.gender == "prefer_not_to_say"
    forms = [postcode, postcode.replace(" ", ""), typed.strip()]
    assert await _db_text_containing(app, game, forms) == []
    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    assert not any(f.upper() in logged.upper() for f in forms)

    me = await client.get("/api/v1/me", headers=auth(body["token"]))
    assert me.status_code == 200
    assert me.json()["nickname"] == body["nickname"]


async def test_unknown_postcode_is_accepted_as_not_found(
    client: httpx.AsyncClient, app: FastAPI, game: PGame, lookup: FakeLookup
) -> None:
    body = await register(client, game.slug, **form(4, postcode=random_postcode()))
    assert body["postcode_status"] == "not_found"
    player = await player_row(app, body["player_id"])
    assert player.deprivation_status == "not_found"
    assert player.lsoa_code is None and player.imd_decile is None

    body = await register(client, game.slug, **form(5))
    assert body["postcode_status"] == "not_given"
    assert (await player_row(app, body["player_id"])).deprivation_status == "not_given"


@pytest.mark.parametrize("typed", ["NOT A POSTCODE", "12345", "QQ9", "Q Q 1 1 3 D F X"])
async def test_implausible_postcode_is_422_and_registers_nothing(
    client: httpx.AsyncClient, app: FastAPI, game: PGame, lookup: FakeLookup, typed: str
) -> None:
    response = await client.post(
        f"/api/v1/games/{game.slug}/registrations", json=form(6, postcode=typed)
    )
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "postcode"
    assert typed not in response.text  # never echoed
    assert lookup.asked == []
    # The card was not used up.
    body = await register(client, game.slug, **form(6))
    assert body["card"]["number"] == number(6)


async def test_virtual_card_for_the_app(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    body = await register(
        client,
        game.slug,
        **form(team="COM1", join_code=COM1_JOIN_CODE, public=True, age_band="25-44"),
    )
    assert body["card"]["kind"] == "virtual"
    assert re.fullmatch(r"V\d{9}", body["card"]["number"])
    assert body["team"]["code"] == "COM1"
    async with state_of(app).sessionmaker() as s:
        card = await s.scalar(
            select(Card).where(Card.game_id == game.id, Card.number == body["card"]["number"])
        )
        assert card is not None and card.kind == "virtual"
        assert re.fullmatch(r"[0-9A-F]{20}", card.uid)
        player = await s.get(Player, body["player_id"])
        assert player is not None and player.holder_id == card.holder_id
    me = (await client.get("/api/v1/me", headers=auth(body["token"]))).json()
    assert me["cards"] == [{"number": body["card"]["number"], "kind": "virtual", "active": True}]


async def test_card_already_registered_is_409(client: httpx.AsyncClient, game: PGame) -> None:
    await register(client, game.slug, **form(4))
    again = await client.post(f"/api/v1/games/{game.slug}/registrations", json=form(4))
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"


async def test_card_number_needs_its_code(client: httpx.AsyncClient, game: PGame) -> None:
    body = form(4)
    del body["activation_code"]
    response = await client.post(f"/api/v1/games/{game.slug}/registrations", json=body)
    assert response.status_code == 422


async def test_unknown_game_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/games/no-such-game/registrations", json=form(1))
    assert response.status_code == 404


async def test_wrong_codes_are_limited_per_card(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    async with client_at(app, "198.51.100.7") as one, client_at(app, "198.51.100.8") as two:
        url = f"/api/v1/games/{game.slug}/registrations"
        for _ in range(5):
            wrong = await one.post(url, json=form(5, activation_code="WRONG"))
            assert wrong.status_code == 422
            assert wrong.json()["fields"][0]["field"] == "activation_code"
        # Now even the right code is refused for this card from this device (for a while)...
        limited = await one.post(url, json=form(5))
        assert limited.status_code == 429
        assert "this card" in limited.json()["detail"]
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # ...while other cards still register from the same device, and the card's owner,
        # on another device, is not locked out by someone else's guesses.
        assert (await one.post(url, json=form(6))).status_code == 201
        assert (await two.post(url, json=form(5))).status_code == 201


async def test_wrong_codes_are_limited_per_device(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    url = f"/api/v1/games/{game.slug}/registrations"
    async with client_at(app, "203.0.113.9") as device, client_at(app, "203.0.113.10") as other:
        # Unknown numbers and wrong codes answer alike: numbers cannot be probed.
        unknown = await device.post(
            url, json=form(None) | {"card_number": "9000000", "activation_code": "K007"}
        )
        wrong = await device.post(url, json=form(7, activation_code="NOPE"))
        assert unknown.status_code == wrong.status_code == 422
        assert unknown.json() == wrong.json()
        for i in range(1, 19):
            body = form(None) | {"card_number": f"9{i:06d}", "activation_code": "K007"}
            response = await device.post(url, json=body)
            assert response.json() == wrong.json(), response.text
        limited = await device.post(url, json=form(8))
        assert limited.status_code == 429
        assert "device" in limited.json()["detail"]
        assert (await other.post(url, json=form(8))).status_code == 201


async def test_attempts_older_than_the_window_no_longer_count(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    old = utcnow() - timedelta(minutes=16)
    async with state_of(app).sessionmaker() as s:
        for _ in range(5):
            s.add(
                RegistrationAttempt(
                    game_id=game.id,
                    card_key=number(9),
                    client_key=client_key("127.0.0.1"),
                    created_at=old,
                )
            )
        await s.commit()
    response = await client.post(f"/api/v1/games/{game.slug}/registrations", json=form(9))
    assert response.status_code == 201


async def test_nicknames_unique_per_game_ignoring_case(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, game: PGame
) -> None:
    await register(client, game.slug, **form(1, nickname="Swift Fox"))
    for taken in ("swift fox", "SWIFT  FOX", " Swift Fox "):
        response = await client.post(
            f"/api/v1/games/{game.slug}/registrations", json=form(2, nickname=taken)
        )
        assert response.status_code == 409, taken
        assert "nickname" in response.json()["detail"]


@pytest.mark.parametrize(
    "nickname",
    ["Sh1t Head", "f u c k", "B!tch Queen", "x", "Player 12", "Sam 07700900123", "<b>Bold</b>"],
)
async def test_nickname_rules(client: httpx.AsyncClient, game: PGame, nickname: str) -> None:
    response = await client.post(
        f"/api/v1/games/{game.slug}/registrations", json=form(3, nickname=nickname)
    )
    assert response.status_code == 422, nickname
    assert response.json()["fields"][0]["field"] == "nickname"


async def test_unknown_team_is_422(client: httpx.AsyncClient, game: PGame) -> None:
    response = await client.post(
        f"/api/v1/games/{game.slug}/registrations", json=form(4, team="NOPE")
    )
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "team"


async def test_gender_words_and_prefer_not_to_say(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    girl = await register(client, game.slug, **form(4, gender="Girl"))
    assert (await player_row(app, girl["player_id"])).gender == "female"
    unsaid = await register(client, game.slug, **form(5, gender="Prefer not to say"))
    assert (await player_row(app, unsaid["player_id"])).gender == "prefer_not_to_say"
    bad = await client.post(
        f"/api/v1/games/{game.slug}/registrations", json=form(6, gender="dragon")
    )
    assert bad.status_code == 422


async def test_registration_moves_earlier_points_to_the_players_team(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    day = utcnow().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=3)
    await add_taps(app, game, number(2), journey(day))  # school fob, issued to SCH1
    await add_taps(app, game, number(3), journey(day + timedelta(days=1)))  # also SCH1
    assert await team_points(app, game) == {"SCH1": 40, "COM1": 0}

    await register(client, game.slug, **form(2, team="COM1", join_code=COM1_JOIN_CODE))
    assert await team_points(app, game) == {"SCH1": 20, "COM1": 20}
    assert await card_holder_points(app, game, number(2)) == 20
    # Registered without a team code: a school card stays with its school.
    await register(client, game.slug, **form(3))
    assert await team_points(app, game) == {"SCH1": 20, "COM1": 20}
    await assert_ledger(app, game)
