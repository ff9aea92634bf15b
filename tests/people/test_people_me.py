"""The player's own view and own changes."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from harness.game_files import COM1_JOIN_CODE
from kernel.db import utcnow
from tests.helpers import auth
from tests.people.people_helpers import (
    PGame,
    add_taps,
    form,
    journey,
    number,
    player_row,
    register,
    token_for,
)

LONDON = ZoneInfo("Europe/London")


async def test_me_shows_points_today_team_and_journeys(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    player = await register(
        client, game.slug, **form(4, team="COM1", join_code=COM1_JOIN_CODE, public=True)
    )
    other = await register(client, game.slug, **form(5, team="SCH1"))
    now = utcnow().replace(microsecond=0)
    earlier = now - timedelta(days=2)
    recent = [("A", now - timedelta(minutes=50)), ("B", now - timedelta(minutes=35))]
    await add_taps(app, game, number(4), journey(earlier) + recent)
    await add_taps(app, game, number(5), journey(earlier))  # SCH1: 20, COM1: 30

    response = await client.get("/api/v1/me", headers=auth(player["token"]))
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["game"] == game.slug and me["player_id"] == player["player_id"]
    # A 5-11 year old: public boards show the name the game made up, /me both.
    assert me["nickname"] == player["nickname"] != me["shown_as"] == player["shown_as"]
    assert me["totals"] == {"points": 30, "distance_km": 2.4, "legs": 3, "taps": 5}
    today = now.astimezone(LONDON).date()
    todays = [at for _, at in journey(earlier) + recent if at.astimezone(LONDON).date() == today]
    assert me["today"]["date"] == today.isoformat()
    assert me["today"]["taps"] == len(todays)
    assert me["team"]["code"] == "COM1"
    assert (me["team"]["points"], me["team"]["rank"], me["team"]["teams"]) == (30, 1, 2)
    assert (me["team"]["rank_in_kind"], me["team"]["teams_in_kind"]) == (1, 1)

    newest, older = me["journeys"]
    assert [(t["checkpoint"], t["outcome"], t["points"]) for t in newest["taps"]] == [
        ("A", "journey_start", 0),
        ("B", "leg", 10),
    ]
    assert [(t["checkpoint"], t["outcome"]) for t in older["taps"]] == [
        ("A", "journey_start"),
        ("B", "leg"),
        ("C", "leg"),
    ]
    assert (older["points"], older["distance_km"]) == (20, 1.6)
    assert newest["taps"][0]["tapped_at"].endswith("Z")
    assert me["cards"] == [{"number": number(4), "kind": "rfid", "active": True}]
    # Only one's own taps.
    assert other["nickname"] not in response.text


async def test_me_is_for_players_only(client: httpx.AsyncClient, app: FastAPI, game: PGame) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    bad = await client.get("/api/v1/me", headers=auth("tt_not-a-token"))
    assert bad.status_code == 401
    for role, team in (("organiser", None), ("evaluator", None), ("team_manager", "SCH1")):
        token = await token_for(app, role, game, team)
        for method, path in (
            ("GET", "/api/v1/me"),
            ("PUT", "/api/v1/me/team"),
            ("POST", "/api/v1/me/cards"),
            ("PATCH", "/api/v1/me"),
        ):
            body = {
                "PUT": {"team": "SCH1"},
                "POST": {"card_number": number(6), "activation_code": "K006"},
                "PATCH": {"public": True},
            }.get(method)
            response = await client.request(method, path, json=body, headers=auth(token))
            assert response.status_code == 403, (role, method, path)


async def test_player_changes_nickname_public_and_email(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    taken = await register(client, game.slug, **form(5, nickname="Taken Name"))
    player = await register(
        client, game.slug, **form(4, nickname="Old Name", email="prize@example.org")
    )
    headers = auth(player["token"])
    await client.patch(
        f"/api/v1/admin/games/{game.slug}/players/{player['player_id']}",
        json={"nickname_hidden": True},
        headers=auth(game.organiser),
    )
    clash = await client.patch("/api/v1/me", json={"nickname": "taken name"}, headers=headers)
    assert clash.status_code == 409
    rude = await client.patch("/api/v1/me", json={"nickname": "Tw4t"}, headers=headers)
    assert rude.status_code == 422

    me = await client.patch(
        "/api/v1/me", json={"nickname": "New Name", "public": True}, headers=headers
    )
    assert me.status_code == 200, me.text
    body = me.json()
    assert (body["nickname"], body["public"], body["nickname_hidden"]) == ("New Name", True, False)
    # Under 16: shown publicly by the made-up name, whatever the nickname.
    assert body["shown_as"] not in (None, "New Name") and body["has_email"] is True
    assert any("e-mail" in n for n in body["notices"])

    # Leaving a field out keeps it; null e-mail removes it.
    kept = (await client.patch("/api/v1/me", json={}, headers=headers)).json()
    assert kept["has_email"] is True
    gone = (await client.patch("/api/v1/me", json={"email": None}, headers=headers)).json()
    assert gone["has_email"] is False
    assert (await player_row(app, player["player_id"])).email is None
    assert (await player_row(app, taken["player_id"])).nickname == "Taken Name"
    bad = await client.patch("/api/v1/me", json={"email": "not-an-email"}, headers=headers)
    assert bad.status_code == 422
