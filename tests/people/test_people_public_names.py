"""Every way a nickname enters is checked, and children appear on public boards by a
made-up name unless a parent chooses otherwise (both backends)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from api.app_state import state_of
from harness.game_files import game_file
from names.public_names import looks_generated
from people.models import Player
from tests.helpers import auth
from tests.people.people_helpers import PGame, form, random_word, register, token_for

REFUSED = {
    "fu\u0441k": "not allowed",  # Cyrillic с
    "fvck": "not allowed",
    "phuck": "not allowed",
    "Swift\u3164Fox": "invisible",  # Hangul filler
    "Fox\u200b Cub": "invisible",
    "Ring 07700 900 123": "long numbers",
    "Fox 0770.090.0123": "long numbers",
    "P1ayer 12": "reserved",
    "\u0420layer 12": "reserved",  # Cyrillic Р
    "PLAY ER 12": "reserved",
    "fox.com": "address",
    "Brave Otter 42": "made up",
}


async def _players_board(client: httpx.AsyncClient, slug: str) -> list[str]:
    response = await client.get(f"/api/v1/games/{slug}/leaderboards/players?limit=100")
    assert response.status_code == 200, response.text
    return [entry["nickname"] for entry in response.json()["entries"]]


def _refusal(response: httpx.Response, why: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["fields"][0]["field"] == "nickname"
    message = body["fields"][0]["message"]
    assert why in message.replace("kept for the names the game makes up", "made up"), message


@pytest.mark.parametrize("nickname", list(REFUSED))
async def test_registration_refuses_evasions(
    client: httpx.AsyncClient, game: PGame, nickname: str
) -> None:
    response = await client.post(
        f"/api/v1/games/{game.slug}/registrations",
        json=form(nickname=nickname, age_band="25-44"),
    )
    _refusal(response, REFUSED[nickname])


async def test_nickname_change_is_checked_too(client: httpx.AsyncClient, game: PGame) -> None:
    player = await register(client, game.slug, **form(age_band="25-44"))
    for nickname, why in (("fu\u0441k off", "not allowed"), ("P1ayer 7", "reserved")):
        response = await client.patch(
            "/api/v1/me", json={"nickname": nickname}, headers=auth(player["token"])
        )
        _refusal(response, why)


async def test_look_alike_of_an_existing_nickname_is_taken(
    client: httpx.AsyncClient, game: PGame
) -> None:
    name = f"Swift {random_word(6).capitalize()}"
    await register(client, game.slug, **form(nickname=name, age_band="25-44"))
    look_alikes = [
        name.upper().replace(" ", "-"),
        name.replace(" ", ""),
        name.replace("i", "\u0456"),  # Cyrillic і
    ]
    for nickname in look_alikes:
        response = await client.post(
            f"/api/v1/games/{game.slug}/registrations",
            json=form(nickname=nickname, age_band="25-44"),
        )
        assert response.status_code == 409, (nickname, response.text)
        assert "taken" in response.json()["detail"]


async def _load(
    client: httpx.AsyncClient, token: str, slug: str, players: list[dict[str, Any]]
) -> httpx.Response:
    data = game_file(slug)
    data["players"] = players
    return await client.put(
        f"/api/v1/admin/games/{slug}",
        content=yaml.safe_dump(data),
        headers={**auth(token), "content-type": "application/yaml"},
    )


async def test_game_files_are_checked(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    players = [
        {"card": "0000001", "nickname": "phuck", "age_band": "25-44"},
        {"card": "0000002", "nickname": "Olivia Jones", "age_band": "5-11"},
        {"card": "0000003", "nickname": "Quick Otter", "age_band": "25-44"},
        {"card": "0000004", "nickname": "quick-\u043etter", "age_band": "25-44"},  # Cyrillic о
        {"card": "0000005", "nickname": "Swift\u3164Fox"},
    ]
    response = await _load(client, organiser_token, slug, players)
    assert response.status_code == 422, response.text
    fields = {f["field"]: f["message"] for f in response.json()["fields"]}
    assert "not allowed" in fields["players[0].nickname"]
    assert "real first name and surname" in fields["players[1].nickname"]
    assert "players[2]" in fields["players[3].nickname"]
    assert "invisible" in fields["players[4].nickname"]
    assert not any(key.startswith("players[2]") for key in fields)


async def test_game_file_may_not_take_an_app_players_nickname(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    first = await _load(client, organiser_token, slug, [])
    assert first.status_code == 200, first.text
    await register(client, slug, **form(nickname="Lone Heron", age_band="25-44"))
    players = [{"card": "0000001", "nickname": "LONE-HER0N", "age_band": "25-44"}]
    response = await _load(client, organiser_token, slug, players)
    assert response.status_code == 422, response.text
    assert "players[0].nickname" in response.json()["fields"][0]["field"]


async def test_real_full_name_refused_for_under_16s_only(
    client: httpx.AsyncClient, game: PGame
) -> None:
    for nickname in ("Olivia Jones", "olivia jones", "OLIVIA-MAY SMITH", "Xanthe Taylor"):
        for flag in (False, True):
            response = await client.post(
                f"/api/v1/games/{game.slug}/registrations",
                json=form(6, nickname=nickname, age_band="5-11", show_nickname_publicly=flag),
            )
            _refusal(response, "real first name and surname")
    child = await register(client, game.slug, **form(age_band="12-15", age_13_or_over=True))
    response = await client.patch(
        "/api/v1/me", json={"nickname": "Harry Smith"}, headers=auth(child["token"])
    )
    _refusal(response, "real first name and surname")

    adult = await register(
        client, game.slug, **form(nickname="Olivia Jones", age_band="25-44", public=True)
    )
    assert adult["shown_as"] == "Olivia Jones"
    assert "Olivia Jones" in await _players_board(client, game.slug)


async def test_child_appears_by_a_made_up_name(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    nickname = f"Kestrel {random_word(5)}"
    child = await register(
        client, game.slug, **form(1, nickname=nickname, age_band="5-11", public=True)
    )
    made_up = child["shown_as"]
    assert made_up and made_up != nickname and looks_generated(made_up)
    board = await _players_board(client, game.slug)
    assert made_up in board and nickname not in board

    headers = auth(child["token"])
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert (me["nickname"], me["shown_as"], me["show_nickname_publicly"]) == (
        nickname,
        made_up,
        False,
    )
    manager = await _manager_token(app, game)
    team = await client.get("/api/v1/teams/me", headers=auth(manager))
    assert nickname in [p["nickname"] for p in team.json()["players"]]

    # A parent's deliberate choice shows the nickname; taking it back restores the same name.
    shown = await client.patch("/api/v1/me", json={"show_nickname_publicly": True}, headers=headers)
    assert shown.json()["shown_as"] == nickname
    assert nickname in await _players_board(client, game.slug)
    back = await client.patch("/api/v1/me", json={"show_nickname_publicly": False}, headers=headers)
    assert back.json()["shown_as"] == made_up
    board = await _players_board(client, game.slug)
    assert made_up in board and nickname not in board


async def test_an_older_real_name_is_checked_before_it_is_shown(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    child = await register(client, game.slug, **form(6, age_band="5-11", public=True))
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        player = await s.get(Player, child["player_id"])
        assert player is not None
        player.nickname = "Olivia Jones"  # registered before the real-name rule
        await s.commit()
    headers = auth(child["token"])
    response = await client.patch(
        "/api/v1/me", json={"show_nickname_publicly": True}, headers=headers
    )
    _refusal(response, "real first name and surname")
    assert "Olivia Jones" not in await _players_board(client, game.slug)
    renamed = await client.patch(
        "/api/v1/me",
        json={"nickname": "Olive Owl", "show_nickname_publicly": True},
        headers=headers,
    )
    assert renamed.json()["shown_as"] == "Olive Owl"


async def test_file_players_of_unknown_age_appear_by_made_up_names(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    players = [
        {"card": "0000001", "nickname": "Hidden Heron", "public": True},
        {"card": "0000002", "nickname": "Shown Swan", "age_band": "5-11", "public": True},
        {"card": "0000003", "nickname": "Grown Grebe", "age_band": "45-64", "public": True},
    ]
    players[1]["show_nickname_publicly"] = True
    response = await _load(client, organiser_token, slug, players)
    assert response.status_code == 200, response.text
    board = await _players_board(client, slug)
    assert "Hidden Heron" not in board
    assert {"Shown Swan", "Grown Grebe"} <= set(board)
    made_up = [name for name in board if looks_generated(name)]
    assert len(made_up) == 1
    # Loading the file again keeps the made-up name.
    again = await _load(client, organiser_token, slug, players)
    assert again.status_code == 200, again.text
    assert made_up[0] in await _players_board(client, slug)


async def _manager_token(app: FastAPI, game: PGame) -> str:
    return await token_for(app, "team_manager", game, "SCH1")
