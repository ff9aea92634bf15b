"""Teams: changing team, team managers' view and its boundaries, the public team list."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI

from geo.deprivation import Deprivation
from harness.game_files import COM1_JOIN_CODE
from kernel.db import utcnow
from tests.helpers import auth
from tests.people.conftest import FakeLookup
from tests.people.people_helpers import (
    PGame,
    add_taps,
    assert_ledger,
    card_holder_points,
    form,
    journey,
    number,
    random_postcode,
    register,
    team_points,
    token_for,
)


def _days_ago(n: int) -> datetime:
    return utcnow().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=n)


async def test_team_change_keeps_earned_points_with_the_old_team(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    player = await register(client, game.slug, **form(4, team="SCH1"))
    start = utcnow().replace(microsecond=0) - timedelta(days=2)
    await add_taps(app, game, number(4), journey(start))
    assert await team_points(app, game) == {"SCH1": 20, "COM1": 0}

    moved = await client.put(
        "/api/v1/me/team",
        json={"team": "COM1", "join_code": COM1_JOIN_CODE},
        headers=auth(player["token"]),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["team"]["code"] == "COM1"
    assert await team_points(app, game) == {"SCH1": 20, "COM1": 0}

    # Taps after the change count for the new team; a late upload of a tap made before the
    # change still counts for the old one.
    await add_taps(app, game, number(4), journey(utcnow() + timedelta(minutes=5)))
    late = start + timedelta(days=1)
    await add_taps(app, game, number(4), journey(late))
    assert await team_points(app, game) == {"SCH1": 40, "COM1": 20}
    assert await card_holder_points(app, game, number(4)) == 60
    await assert_ledger(app, game)


async def test_team_change_to_unknown_team_is_422_and_to_none_is_allowed(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    player = await register(client, game.slug, **form(4, team="SCH1"))
    headers = auth(player["token"])
    bad = await client.put("/api/v1/me/team", json={"team": "NOPE"}, headers=headers)
    assert bad.status_code == 422
    none = await client.put("/api/v1/me/team", json={"team": None}, headers=headers)
    assert none.status_code == 200 and none.json()["team"] is None
    await add_taps(app, game, number(4), journey(utcnow() + timedelta(minutes=5)))
    assert await team_points(app, game) == {"SCH1": 0, "COM1": 0}
    assert await card_holder_points(app, game, number(4)) == 20


async def _school_with_players(
    client: httpx.AsyncClient, app: FastAPI, game: PGame, lookup: FakeLookup
) -> dict[str, dict[str, object]]:
    postcode = random_postcode()
    lookup.known[postcode] = Deprivation("found", "E01777777", 3, "england")
    players = {
        "ada": await register(
            client,
            game.slug,
            **form(
                1,
                nickname="Ada Otter",
                public=True,
                email="ada.parent@example.org",
                postcode=postcode,
                gender="girl",
            ),
        ),
        "bo": await register(client, game.slug, **form(2, nickname="Bo Badger", public=False)),
        "cy": await register(
            client, game.slug, **form(4, nickname="Cy Crow", team="COM1", join_code=COM1_JOIN_CODE)
        ),
    }
    await add_taps(app, game, number(1), journey(_days_ago(3)) + journey(_days_ago(2)))  # 40
    await add_taps(app, game, number(2), journey(_days_ago(2)))  # 20
    await add_taps(app, game, number(3), journey(_days_ago(2)))  # unregistered SCH1 fob: 20
    await add_taps(app, game, number(4), journey(_days_ago(1)))  # COM1: 20
    return {"postcode": {"value": postcode}, **players}


async def test_team_manager_sees_own_players_by_nickname_only(
    client: httpx.AsyncClient, app: FastAPI, game: PGame, lookup: FakeLookup
) -> None:
    people = await _school_with_players(client, app, game, lookup)
    manager = await token_for(app, "team_manager", game, "SCH1")

    mine = await client.get("/api/v1/teams/me", headers=auth(manager))
    assert mine.status_code == 200, mine.text
    same = await client.get(f"/api/v1/games/{game.slug}/teams/SCH1/players", headers=auth(manager))
    assert same.status_code == 200 and same.json() == mine.json()
    body = mine.json()
    assert body["team"]["code"] == "SCH1"
    assert body["team"]["points"] == 80
    assert (body["team"]["rank"], body["team"]["teams"]) == (1, 2)
    assert [(p["nickname"], p["points"], p["legs"], p["days_active"]) for p in body["players"]] == [
        ("Ada Otter", 40, 4, 2),
        ("Bo Badger", 20, 2, 1),
    ]
    assert body["players"][0]["last_active_on"] is not None
    assert body["other_points"] == 20  # the unregistered fob
    # No personal details of anyone: e-mail, postcode, neighbourhood, gender, card numbers.
    text = mine.text
    for secret in (
        "ada.parent@example.org",
        str(people["postcode"]["value"]),
        "E01777777",
        "female",
        "prefer_not_to_say",
        number(1),
        number(2),
        "04000000000001",
    ):
        assert secret not in text, secret
    for key in ("email", "postcode", "lsoa", "gender", "card", "age_band"):
        assert key not in text


async def test_team_manager_boundaries(
    client: httpx.AsyncClient, app: FastAPI, game: PGame, lookup: FakeLookup
) -> None:
    people = await _school_with_players(client, app, game, lookup)
    manager = await token_for(app, "team_manager", game, "SCH1")
    evaluator = await token_for(app, "evaluator", game)
    player_token = str(people["ada"]["token"])
    other_team = f"/api/v1/games/{game.slug}/teams/COM1/players"

    assert (await client.get(other_team, headers=auth(manager))).status_code == 403
    assert (await client.get(other_team, headers=auth(evaluator))).status_code == 403
    assert (await client.get(other_team, headers=auth(player_token))).status_code == 403
    assert (await client.get(other_team)).status_code == 401
    organiser = await client.get(other_team, headers=auth(game.organiser))
    assert organiser.status_code == 200
    assert [p["nickname"] for p in organiser.json()["players"]] == ["Cy Crow"]
    assert organiser.json()["team"]["rank"] == 2

    for token in (game.organiser, evaluator, player_token):
        assert (await client.get("/api/v1/teams/me", headers=auth(token))).status_code == 403
    # A manager is not a player, an organiser or an evaluator either.
    assert (await client.get("/api/v1/me", headers=auth(manager))).status_code == 403
    admin = f"/api/v1/admin/games/{game.slug}/players"
    assert (await client.get(admin, headers=auth(manager))).status_code == 403
    assert (await client.get(admin, headers=auth(evaluator))).status_code == 403
    assert (await client.get(admin, headers=auth(player_token))).status_code == 403
    missing = f"/api/v1/games/{game.slug}/teams/NOPE/players"
    assert (await client.get(missing, headers=auth(game.organiser))).status_code == 404


async def test_hidden_nickname_is_hidden_from_managers_too(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    player = await register(client, game.slug, **form(1, nickname="Grim Reaper", public=True))
    hidden = await client.patch(
        f"/api/v1/admin/games/{game.slug}/players/{player['player_id']}",
        json={"nickname_hidden": True},
        headers=auth(game.organiser),
    )
    assert hidden.status_code == 200 and hidden.json()["nickname_hidden"] is True
    manager = await token_for(app, "team_manager", game, "SCH1")
    for token in (manager, await token_for(app, "evaluator", game), player["token"]):
        refused = await client.patch(
            f"/api/v1/admin/games/{game.slug}/players/{player['player_id']}",
            json={"nickname_hidden": False},
            headers=auth(token),
        )
        assert refused.status_code == 403
    body = (await client.get("/api/v1/teams/me", headers=auth(manager))).json()
    assert [p["nickname"] for p in body["players"]] == [f"Player {player['player_id']}"]
    assert "Grim Reaper" not in str(body)
    me = (await client.get("/api/v1/me", headers=auth(player["token"]))).json()
    assert me["nickname_hidden"] is True
    assert me["shown_as"] == f"Player {player['player_id']}"
    assert any("hidden your nickname" in n for n in me["notices"])


async def test_teams_list_is_public(client: httpx.AsyncClient, game: PGame) -> None:
    response = await client.get(f"/api/v1/games/{game.slug}/teams")
    assert response.status_code == 200
    assert response.json()["teams"] == [
        {"code": "SCH1", "name": "Alpha Primary", "kind": "school", "needs_join_code": False},
        {"code": "COM1", "name": "Canal Walkers", "kind": "community", "needs_join_code": True},
    ]
    schools = await client.get(f"/api/v1/games/{game.slug}/teams", params={"kind": "school"})
    assert [t["code"] for t in schools.json()["teams"]] == ["SCH1"]
    bad = await client.get(f"/api/v1/games/{game.slug}/teams", params={"kind": "pub"})
    assert bad.status_code == 422
    assert (await client.get("/api/v1/games/nope/teams")).status_code == 404


async def test_organiser_finds_players_without_personal_details(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    ada = await register(
        client, game.slug, **form(1, nickname="Ada Otter", email="ada.find@example.org")
    )
    await register(
        client, game.slug, **form(4, nickname="Adamant Ant", team="COM1", join_code=COM1_JOIN_CODE)
    )
    await register(client, game.slug, **form(5, nickname="Bo Badger"))
    path = f"/api/v1/admin/games/{game.slug}/players"
    by_prefix = await client.get(path, params={"nickname": "ada"}, headers=auth(game.organiser))
    assert by_prefix.status_code == 200
    assert [p["nickname"] for p in by_prefix.json()["players"]] == ["Ada Otter", "Adamant Ant"]
    by_card = await client.get(path, params={"card": number(1)}, headers=auth(game.organiser))
    (found,) = by_card.json()["players"]
    assert found["id"] == ada["player_id"]
    assert (found["team"], found["cards"], found["has_email"]) == ("SCH1", [number(1)], True)
    assert "ada.find@example.org" not in by_card.text
