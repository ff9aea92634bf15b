"""Team join codes and member removal (issue "Hardening", item 11).

Schools are chosen from the list; family, community, workplace and other teams are joined
with their join code, seen only by organisers and the team's manager. A team's manager and
the game's organisers can remove a member: earned points stay with the team.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app_state import state_of
from game.definition import DefinitionError, validate
from game.models import Team
from harness.game_files import COM1_JOIN_CODE, game_file
from kernel.db import utcnow
from organising.repository import game_by_slug
from scoring.rescore import rescore_game
from tests.helpers import auth
from tests.people.people_helpers import (
    PGame,
    add_taps,
    assert_ledger,
    card_holder_points,
    form,
    journey,
    number,
    register,
    team_points,
    token_for,
)

GENERATED = re.compile(r"[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}")


def _town(slug: str) -> dict[str, Any]:
    """The factory town around today, with a family team whose join code is generated."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    data = game_file(slug)
    data["game"]["starts_at"] = (now - timedelta(days=20)).isoformat()
    data["game"]["ends_at"] = (now + timedelta(days=20)).isoformat()
    data["teams"].append({"code": "FAM1", "name": "The Otters", "kind": "family"})
    return data


async def _load(client: httpx.AsyncClient, token: str, data: dict[str, Any]) -> dict[str, Any]:
    slug = data["game"]["slug"]
    response = await client.put(f"/api/v1/admin/games/{slug}", json=data, headers=auth(token))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _admin_teams(client: httpx.AsyncClient, game: PGame) -> dict[str, str | None]:
    response = await client.get(
        f"/api/v1/admin/games/{game.slug}/teams", headers=auth(game.organiser)
    )
    assert response.status_code == 200, response.text
    return {t["code"]: t["join_code"] for t in response.json()["teams"]}


@pytest.fixture
async def town(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> tuple[PGame, dict[str, Any]]:
    answer = await _load(client, organiser_token, _town(slug))
    async with state_of(app).sessionmaker() as s:
        found = await game_by_slug(s, slug)
        assert found is not None
        return PGame(found.id, slug, organiser_token), answer


def _field(response: httpx.Response) -> str:
    fields = response.json().get("fields") or [{}]
    return str(fields[0].get("field"))


# ------------------------------------------------------------------------------ join codes


async def test_loading_generates_a_join_code_for_every_team_but_schools(
    client: httpx.AsyncClient, app: FastAPI, town: tuple[PGame, dict[str, Any]]
) -> None:
    game, answer = town
    codes = await _admin_teams(client, game)
    assert codes["SCH1"] is None
    assert codes["COM1"] == COM1_JOIN_CODE  # given in the file
    family = codes["FAM1"]
    assert family is not None and GENERATED.fullmatch(family)
    assert answer["join_codes"] == {"FAM1": family}
    assert not any(family in line for line in answer["changes"])  # not in the audit log

    # Loading the same file again changes nothing and keeps the generated code.
    again = await _load(client, game.organiser, _town(game.slug))
    assert again["changes"] == [] and again["join_codes"] == {}
    assert (await _admin_teams(client, game))["FAM1"] == family


async def test_registration_in_a_non_school_team_needs_its_join_code(
    client: httpx.AsyncClient, app: FastAPI, town: tuple[PGame, dict[str, Any]]
) -> None:
    game, _ = town
    family = (await _admin_teams(client, game))["FAM1"]
    url = f"/api/v1/games/{game.slug}/registrations"
    for team in ("COM1", "FAM1"):
        missing = await client.post(url, json=form(4, team=team))
        assert missing.status_code == 422, missing.text
        assert _field(missing) == "join_code"
        assert "join code" in missing.json()["detail"]
        wrong = await client.post(url, json=form(4, team=team, join_code="WRONGCODE"))
        assert wrong.status_code == 422 and _field(wrong) == "join_code"
    # Nothing was used up by the refusals: the card still registers.
    joined = await register(client, game.slug, **form(4, team="FAM1", join_code=family))
    assert joined["team"]["code"] == "FAM1"
    # Codes are typed loosely: case, spaces and hyphens do not matter.
    loose = COM1_JOIN_CODE.lower()[:4] + " - " + COM1_JOIN_CODE.lower()[4:]
    adult = await register(
        client, game.slug, **form(team="COM1", join_code=loose, age_band="25-44")
    )
    assert adult["team"]["code"] == "COM1"
    # A school is picked from the list; a school fob is already on its school.
    assert (await register(client, game.slug, **form(5, team="SCH1")))["team"]["code"] == "SCH1"
    assert (await register(client, game.slug, **form(1)))["team"]["code"] == "SCH1"


async def test_card_issued_to_a_community_team_registers_into_it_without_a_code(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    data = _town(slug)
    data["cards"][5]["team"] = "COM1"  # card 6, handed out by the walking group
    await _load(client, organiser_token, data)
    body = await register(client, slug, **form(6))
    assert body["team"]["code"] == "COM1"


async def test_team_change_to_a_non_school_team_needs_its_join_code(
    client: httpx.AsyncClient, app: FastAPI, town: tuple[PGame, dict[str, Any]]
) -> None:
    game, _ = town
    player = await register(client, game.slug, **form(4, team="SCH1"))
    headers = auth(player["token"])
    missing = await client.put("/api/v1/me/team", json={"team": "COM1"}, headers=headers)
    assert missing.status_code == 422 and _field(missing) == "join_code"
    wrong = await client.put(
        "/api/v1/me/team", json={"team": "COM1", "join_code": "ABCDEFGH"}, headers=headers
    )
    assert wrong.status_code == 422 and _field(wrong) == "join_code"
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["team"]["code"] == "SCH1"

    moved = await client.put(
        "/api/v1/me/team", json={"team": "COM1", "join_code": COM1_JOIN_CODE}, headers=headers
    )
    assert moved.status_code == 200 and moved.json()["team"]["code"] == "COM1"
    back = await client.put("/api/v1/me/team", json={"team": "SCH1"}, headers=headers)
    assert back.status_code == 200 and back.json()["team"]["code"] == "SCH1"
    none = await client.put("/api/v1/me/team", json={"team": None}, headers=headers)
    assert none.status_code == 200 and none.json()["team"] is None


async def test_join_codes_are_never_on_public_or_player_answers(
    client: httpx.AsyncClient, app: FastAPI, town: tuple[PGame, dict[str, Any]]
) -> None:
    game, _ = town
    codes = await _admin_teams(client, game)
    secrets = [c for c in codes.values() if c]
    player = await register(
        client, game.slug, **form(4, team="COM1", join_code=COM1_JOIN_CODE, age_band="25-44")
    )
    await add_taps(app, game, number(4), journey(utcnow() - timedelta(days=1)))
    answers = [
        str(player),
        (await client.get(f"/api/v1/games/{game.slug}/teams")).text,
        (await client.get(f"/api/v1/games/{game.slug}")).text,
        (await client.get(f"/api/v1/games/{game.slug}/leaderboards/teams")).text,
        (await client.get("/api/v1/me", headers=auth(player["token"]))).text,
    ]
    for text in answers:
        for secret in secrets:
            assert secret not in text
    listed = (await client.get(f"/api/v1/games/{game.slug}/teams")).json()["teams"]
    assert {t["code"]: t["needs_join_code"] for t in listed} == {
        "SCH1": False,
        "COM1": True,
        "FAM1": True,
    }
    # The team's manager sees its code; organisers see every code; nobody else does.
    manager = await token_for(app, "team_manager", game, "FAM1")
    mine = await client.get("/api/v1/teams/me", headers=auth(manager))
    assert mine.status_code == 200 and mine.json()["join_code"] == codes["FAM1"]
    school = await token_for(app, "team_manager", game, "SCH1")
    assert (await client.get("/api/v1/teams/me", headers=auth(school))).json()["join_code"] is None
    admin = f"/api/v1/admin/games/{game.slug}/teams"
    for token in (manager, player["token"], await token_for(app, "evaluator", game)):
        assert (await client.get(admin, headers=auth(token))).status_code == 403
    assert (await client.get(admin)).status_code == 401


def _definition_errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(DefinitionError) as raised:
        validate(data)
    return raised.value.errors


def test_join_codes_in_the_game_file_are_checked() -> None:
    data = game_file("join-codes")
    data["teams"] = [
        {"code": "SCH1", "name": "School", "kind": "school", "join_code": "SCHOOL12"},
        {"code": "COM2", "name": "Runners", "kind": "community", "join_code": "RUNNERS9"},
        {"code": "WRK1", "name": "Depot", "kind": "workplace", "join_code": "runners-9"},
        {"code": "FAM1", "name": "Otters", "kind": "family", "join_code": "otter 2027"},
    ]
    errors = _definition_errors(data)
    assert errors == [
        "teams[0].join_code: a school team has no join code: it is picked from the list",
        "teams[2].join_code: already the join code of teams[1]",
    ]
    data["teams"] = data["teams"][1:2] + [
        {"code": "SCH1", "name": "School", "kind": "school"},
        {"code": "COM1", "name": "Walkers", "kind": "community", "join_code": "ab!"},
    ]
    assert _definition_errors(data) == [
        "teams[2].join_code: must be 6 to 16 letters and digits (spaces and hyphens are ignored)"
    ]
    data["teams"][2]["join_code"] = "walk-ers 1"
    assert validate(data).teams[2].join_code == "WALKERS1"


async def test_a_file_join_code_taken_by_another_team_is_refused(
    client: httpx.AsyncClient, app: FastAPI, town: tuple[PGame, dict[str, Any]]
) -> None:
    game, _ = town
    family = (await _admin_teams(client, game))["FAM1"]
    data = _town(game.slug)
    data["teams"].append(
        {"code": "WRK1", "name": "Depot", "kind": "workplace", "join_code": family}
    )
    response = await client.put(
        f"/api/v1/admin/games/{game.slug}", json=data, headers=auth(game.organiser)
    )
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["field"] == "teams[3].join_code"
    assert "FAM1" in response.json()["fields"][0]["message"]
    async with state_of(app).sessionmaker() as s:
        codes = (await s.scalars(select(Team.code).where(Team.game_id == game.id))).all()
    assert "WRK1" not in codes


# ------------------------------------------------------------------------------ removal


def _members(game: PGame, team: str, player_id: int) -> str:
    return f"/api/v1/games/{game.slug}/teams/{team}/members/{player_id}"


@pytest.mark.parametrize("remover", ["team_manager", "organiser"])
async def test_removed_member_keeps_earned_points_with_the_team(
    client: httpx.AsyncClient, app: FastAPI, town: tuple[PGame, dict[str, Any]], remover: str
) -> None:
    game, _ = town
    player = await register(
        client, game.slug, **form(4, team="COM1", join_code=COM1_JOIN_CODE, age_band="25-44")
    )
    earlier = utcnow().replace(microsecond=0) - timedelta(days=2)
    await add_taps(app, game, number(4), journey(earlier))
    assert (await team_points(app, game))["COM1"] == 20

    token = (
        await token_for(app, "team_manager", game, "COM1")
        if remover == "team_manager"
        else game.organiser
    )
    removed = await client.delete(_members(game, "COM1", player["player_id"]), headers=auth(token))
    assert removed.status_code == 200, removed.text
    assert removed.json()["team"]["code"] == "COM1"
    assert removed.json()["players"] == []
    assert (await team_points(app, game))["COM1"] == 20
    me = (await client.get("/api/v1/me", headers=auth(player["token"]))).json()
    assert me["team"] is None

    # From now on the player scores for no team; a late upload of a tap made before the
    # removal still counts for the team, and a full re-score moves nothing.
    await add_taps(app, game, number(4), journey(utcnow() + timedelta(minutes=5)))
    await add_taps(app, game, number(4), journey(earlier + timedelta(days=1)))
    assert (await team_points(app, game))["COM1"] == 40
    assert await card_holder_points(app, game, number(4)) == 60
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await rescore_game(s, game.id, actor="test", reason="removal keeps points")
        await s.commit()
    assert (await team_points(app, game))["COM1"] == 40
    await assert_ledger(app, game)

    # Rejoining a team with a join code needs the code again.
    again = await client.put(
        "/api/v1/me/team", json={"team": "COM1"}, headers=auth(player["token"])
    )
    assert again.status_code == 422


async def test_member_removal_boundaries(
    client: httpx.AsyncClient, app: FastAPI, town: tuple[PGame, dict[str, Any]]
) -> None:
    game, _ = town
    member = await register(
        client, game.slug, **form(4, team="COM1", join_code=COM1_JOIN_CODE, age_band="25-44")
    )
    pupil = await register(client, game.slug, **form(5, team="SCH1"))
    url = _members(game, "COM1", member["player_id"])
    school_manager = await token_for(app, "team_manager", game, "SCH1")
    refused = [
        (None, 401),
        (school_manager, 403),
        (member["token"], 403),
        (pupil["token"], 403),
        (await token_for(app, "evaluator", game), 403),
    ]
    for token, status in refused:
        response = await client.delete(url, headers=auth(token) if token else {})
        assert response.status_code == status, (token, response.text)
    # Someone who is not in the team: 404; an unknown team: 404.
    manager = await token_for(app, "team_manager", game, "COM1")
    outsider = await client.delete(
        _members(game, "COM1", pupil["player_id"]), headers=auth(manager)
    )
    assert outsider.status_code == 404
    unknown = await client.delete(
        _members(game, "NOPE", member["player_id"]), headers=auth(game.organiser)
    )
    assert unknown.status_code == 404
    me = (await client.get("/api/v1/me", headers=auth(member["token"]))).json()
    assert me["team"]["code"] == "COM1"
    # The manager's view lists each member's id: what a removal needs.
    view = (await client.get("/api/v1/teams/me", headers=auth(manager))).json()
    assert [p["player_id"] for p in view["players"]] == [member["player_id"]]
