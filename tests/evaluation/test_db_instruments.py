"""Survey instruments chosen per game (game.instruments): the questions a game asks, answers
to ONS4 and loneliness by age, refusals that name the item and keep nothing, and the report
sections they give."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from api.app_state import state_of
from evaluation.models import SurveyResponse
from harness.game_files import game_file
from tests.evaluation.eval_helpers import P, add_players, make_game, token
from tests.helpers import auth

ALL = ["activity", "belonging", "nature", "ons4", "loneliness"]
ONS = {"life_satisfaction": 7, "worthwhile": 8, "happiness": 6, "anxiety": 3}


def _with_instruments(slug: str, instruments: list[str] | None) -> dict[str, Any]:
    data = game_file(slug)
    if instruments is not None:
        data["game"]["instruments"] = instruments
    return data


async def _game(
    client: httpx.AsyncClient, app: FastAPI, token_: str, slug: str, instruments: list[str]
) -> Any:
    return await make_game(
        client, app, token_, slug, game={**game_file(slug)["game"], "instruments": instruments}
    )


async def _open(client: httpx.AsyncClient, slug: str, organiser: str, wave: int = 1) -> None:
    url = f"/api/v1/admin/games/{slug}/surveys/{wave}/open"
    assert (await client.post(url, headers=auth(organiser))).status_code == 200


async def test_questions_follow_the_games_instruments(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    await _game(client, app, organiser_token, slug, ["ons4", "activity", "loneliness"])
    body = (await client.get(f"/api/v1/games/{slug}/surveys/1/questions")).json()
    assert body["instruments"] == ["activity", "ons4", "loneliness"]  # canonical order
    items = {i["key"]: i for i in body["items"]}
    assert list(items) == [
        "activity_days",
        "life_satisfaction",
        "worthwhile",
        "happiness",
        "anxiety",
        "loneliness",
    ]
    assert items["life_satisfaction"]["text"] == (
        "Overall, how satisfied are you with your life nowadays?"
    )
    assert items["worthwhile"]["text"] == (
        "Overall, to what extent do you feel that the things you do in your life are worthwhile?"
    )
    assert items["happiness"]["text"] == "Overall, how happy did you feel yesterday?"
    assert items["anxiety"]["text"] == (
        "On a scale where 0 is 'not at all anxious' and 10 is 'completely anxious', overall, "
        "how anxious did you feel yesterday?"
    )
    assert [a["value"] for a in items["anxiety"]["answers"]] == [*range(11), "prefer_not_to_say"]
    assert items["loneliness"]["text"] == "How often do you feel lonely?"
    assert [a["value"] for a in items["loneliness"]["answers"]] == [
        "often_always",
        "some_of_the_time",
        "occasionally",
        "hardly_ever",
        "never",
        "prefer_not_to_say",
    ]
    assert items["anxiety"]["asked_of"] == "16 and over"
    assert items["loneliness"]["asked_of"] == "12 and over"
    assert items["activity_days"]["asked_of"] == "everyone"
    assert "ONS" in items["happiness"]["source"]


async def test_default_game_asks_the_three_original_instruments(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await make_game(client, app, organiser_token, slug)
    body = (await client.get(f"/api/v1/games/{slug}/surveys/1/questions")).json()
    assert body["instruments"] == ["activity", "belonging", "nature"]
    assert "life_satisfaction" not in {i["key"] for i in body["items"]}
    [(pid, _)] = await add_players(app, game, [P(age_band="25-44")])
    player = await token(app, "player", game_id=game.id, player_id=pid)
    await _open(client, slug, organiser_token)
    refused = await client.post(
        f"/api/v1/games/{slug}/surveys/1",
        json={"activity_days": 3, "life_satisfaction": 7},
        headers=auth(player),
    )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["fields"] == [
        {"field": "life_satisfaction", "message": "this game does not ask this question"}
    ]
    async with state_of(app).sessionmaker() as s:
        assert (
            list(
                await s.scalars(select(SurveyResponse.id).where(SurveyResponse.game_id == game.id))
            )
            == []
        )  # nothing of the refused set is kept


async def test_ons4_for_16_and_over_loneliness_for_12_and_over(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await _game(client, app, organiser_token, slug, ALL)
    ids = await add_players(
        app, game, [P(age_band="25-44"), P(age_band="12-15"), P(age_band="5-11"), P(age_band=None)]
    )
    adult, teen, child, unknown = [
        await token(app, "player", game_id=game.id, player_id=pid) for pid, _ in ids
    ]
    await _open(client, slug, organiser_token)
    url = f"/api/v1/games/{slug}/surveys/1"

    ok = await client.post(url, json={**ONS, "loneliness": "some_of_the_time"}, headers=auth(adult))
    assert ok.status_code == 200, ok.text
    assert ok.json()["anxiety"] == 3 and ok.json()["loneliness"] == "some_of_the_time"

    teen_ok = await client.post(url, json={"loneliness": "never"}, headers=auth(teen))
    assert teen_ok.status_code == 200, teen_ok.text
    teen_no = await client.post(url, json={"happiness": 8}, headers=auth(teen))
    assert teen_no.status_code == 422
    assert teen_no.json()["fields"][0]["field"] == "happiness"
    assert "16 and over" in teen_no.json()["fields"][0]["message"]

    child_no = await client.post(
        url,
        json={"answered_by": "parent_or_carer", "activity_days": 4, "loneliness": "never"},
        headers=auth(child),
    )
    assert child_no.status_code == 422
    assert [f["field"] for f in child_no.json()["fields"]] == ["loneliness"]
    # prefer-not-to-say to a question not asked is refused too
    unknown_no = await client.post(
        url, json={"life_satisfaction": "prefer_not_to_say"}, headers=auth(unknown)
    )
    assert unknown_no.status_code == 422

    bad = await client.post(url, json={"anxiety": 11}, headers=auth(adult))
    assert bad.status_code == 422
    async with state_of(app).sessionmaker() as s:
        rows = list(
            await s.scalars(
                select(SurveyResponse)
                .where(SurveyResponse.game_id == game.id)
                .order_by(SurveyResponse.player_id)
            )
        )
    assert [(r.player_id, r.life_satisfaction, r.loneliness) for r in rows] == [
        (ids[0][0], 7, "some_of_the_time"),
        (ids[1][0], None, "never"),
    ]  # the child's activity answer was not kept either: the whole set was refused


async def test_unknown_instrument_in_the_game_file_is_named(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    response = await client.put(
        f"/api/v1/admin/games/{slug}",
        json=_with_instruments(slug, ["activity", "wellbeing"]),
        headers=auth(organiser_token),
    )
    assert response.status_code == 422
    assert "game.instruments" in response.text
    assert "wellbeing" in response.text
