"""A replaced card's later taps: whoever found the card is walking, not the player. They
score for nobody, never appear in the player's own view, and organisers still see them
(labelled) at the help desk."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from harness.game_files import COM1_JOIN_CODE
from kernel.db import utcnow
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
)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_a_lost_cards_later_taps_are_not_the_players(
    client: httpx.AsyncClient, app: FastAPI, game: PGame
) -> None:
    player = await register(client, game.slug, **form(4, team="COM1", join_code=COM1_JOIN_CODE))
    before = journey(utcnow() - timedelta(days=2))
    await add_taps(app, game, number(4), before)
    replaced = await client.post(
        f"/api/v1/admin/games/{game.slug}/cards/{number(4)}/replace",
        json={"new_card": number(5)},
        headers=auth(game.organiser),
    )
    assert replaced.status_code == 200, replaced.text
    # Someone found card 4 and walks with it; the player walks with card 5.
    found = journey(utcnow() + timedelta(minutes=1))
    own = journey(utcnow() + timedelta(minutes=2))
    await add_taps(app, game, number(4), found)
    await add_taps(app, game, number(5), own)

    # The finder's taps score nothing for anybody.
    assert await card_holder_points(app, game, number(5)) == 40
    assert await team_points(app, game) == {"SCH1": 0, "COM1": 40}
    me = (await client.get("/api/v1/me", headers=auth(player["token"]))).json()
    assert (me["totals"]["points"], me["totals"]["legs"]) == (40, 4)
    # ... and the player's view shows none of them: not in journeys, not in the counts.
    shown = sorted(_at(t["tapped_at"]) for j in me["journeys"] for t in j["taps"])
    assert shown == sorted(at for _, at in before + own)
    assert all(t["outcome"] != "out_of_game" for j in me["journeys"] for t in j["taps"])
    assert me["totals"]["taps"] == 6
    today = datetime.fromisoformat(me["today"]["date"]).date()
    london = ZoneInfo("Europe/London")
    mine_today = [at for _, at in before + own if at.astimezone(london).date() == today]
    assert me["today"]["taps"] == len(mine_today)

    # Organisers still see them at the help desk, from either card, labelled.
    for card in (number(4), number(5)):
        desk = await client.get(
            f"/api/v1/admin/games/{game.slug}/cards/{card}", headers=auth(game.organiser)
        )
        assert desk.status_code == 200, desk.text
        taps = desk.json()["taps"]
        lost = [t for t in taps if t["after_replacement"]]
        assert sorted(_at(t["tapped_at"]) for t in lost) == sorted(at for _, at in found)
        assert all(t["card"] == number(4) and t["points"] == 0 for t in lost)
        assert all("replaced" in t["explanation"] for t in lost)
        assert all("counts for nobody" in t["explanation"] for t in lost)
        assert sum(not t["after_replacement"] for t in taps) == 6
    await assert_ledger(app, game)
