"""Surveys over the API: waves opened and closed by organisers, answered with player tokens,
one answer set per player per wave, "prefer not to say", erasure."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from api.app_state import state_of
from evaluation.erasure import SURVEY_ANSWERS
from evaluation.models import SurveyResponse
from evaluation.surveys import erase_player_answers
from kernel.db import utcnow
from people.privacy import NO_OTHER_DATA, erase_player
from scoring.holders import HOLDER_SCORING
from tests.evaluation.eval_helpers import P, add_players, make_game, token
from tests.helpers import auth

FULL = {
    "answered_by": "self",
    "activity_days": 3,
    "belonging": "fairly",
    "nature_beauty": 6,
    "nature_respect": 7,
    "nature_happy": 5,
    "nature_important": 4,
    "nature_amazing": 6,
    "nature_part": 5,
}


async def _responses(app: FastAPI, game_id: int) -> list[SurveyResponse]:
    async with state_of(app).sessionmaker() as s:
        return list(
            await s.scalars(
                select(SurveyResponse)
                .where(SurveyResponse.game_id == game_id)
                .order_by(SurveyResponse.id)
            )
        )


async def test_questions_have_the_exact_wording(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    await make_game(client, app, organiser_token, slug)
    response = await client.get(f"/api/v1/games/{slug}/surveys/2/questions")
    assert response.status_code == 200
    body = response.json()
    assert (body["wave"], body["name"]) == (2, "game_end")
    items = {i["key"]: i for i in body["items"]}
    assert items["activity_days"]["text"] == (
        "In the past week, on how many days have you done a total of 30 minutes or more of "
        "physical activity, which was enough to raise your breathing rate?"
    )
    assert [a["value"] for a in items["activity_days"]["answers"]] == [
        *range(8),
        "prefer_not_to_say",
    ]
    assert items["belonging"]["text"] == (
        "How strongly do you feel you belong to your immediate neighbourhood?"
    )
    assert [a["label"] for a in items["belonging"]["answers"]] == [
        "Very strongly",
        "Fairly strongly",
        "Not very strongly",
        "Not at all strongly",
        "Prefer not to say",
    ]
    assert [items[k]["text"] for k in list(items)[2:]] == [
        "I always find beauty in nature",
        "I always treat nature with respect",
        "Being in nature makes me very happy",
        "Spending time in nature is very important to me",
        "I find being in nature really amazing",
        "I feel part of nature",
    ]
    assert all(i["answers"][-1]["value"] == "prefer_not_to_say" for i in body["items"])
    assert (await client.get(f"/api/v1/games/{slug}/surveys/4/questions")).status_code == 422
    assert (await client.get("/api/v1/games/no-such-game/surveys/1/questions")).status_code == 404


async def test_waves_open_answer_replace_close(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await make_game(client, app, organiser_token, slug)
    [(pid, _)] = await add_players(app, game, [P()])
    player = await token(app, "player", game_id=game.id, player_id=pid)
    url = f"/api/v1/games/{slug}/surveys/1"

    listed = (await client.get(f"/api/v1/games/{slug}/surveys")).json()
    assert [(w["wave"], w["open"]) for w in listed["waves"]] == [(1, False), (2, False), (3, False)]

    closed = await client.post(url, json=FULL, headers=auth(player))
    assert closed.status_code == 409
    assert closed.json()["error"] == "conflict"

    # only organisers open waves
    assert (
        await client.post(f"/api/v1/admin/games/{slug}/surveys/1/open", headers=auth(player))
    ).status_code == 403
    opened = await client.post(
        f"/api/v1/admin/games/{slug}/surveys/1/open", headers=auth(organiser_token)
    )
    assert opened.status_code == 200 and opened.json()["open"] is True
    listed = (await client.get(f"/api/v1/games/{slug}/surveys")).json()
    assert [w["open"] for w in listed["waves"]] == [True, False, False]

    first = await client.post(url, json=FULL, headers=auth(player))
    assert first.status_code == 200, first.text
    assert first.json()["replaced"] is False
    assert first.json()["activity_days"] == 3

    second = await client.post(
        url,
        json={
            "answered_by": "parent_or_carer",
            "activity_days": "prefer_not_to_say",
            "belonging": "very",
            "nature_part": 2,
        },
        headers=auth(player),
    )
    assert second.status_code == 200
    assert second.json()["replaced"] is True
    rows = await _responses(app, game.id)
    assert len(rows) == 1  # one answer set per player per wave
    row = rows[0]
    assert (row.answered_by, row.activity_days, row.belonging) == ("parent_or_carer", None, "very")
    assert row.declined == ["activity_days"]
    assert (row.nature_beauty, row.nature_part) == (None, 2)  # replaced, not merged

    mine = await client.get(f"{url}/answers", headers=auth(player))
    assert mine.status_code == 200
    assert mine.json()["activity_days"] == "prefer_not_to_say"
    assert mine.json()["nature_beauty"] is None

    await client.post(f"/api/v1/admin/games/{slug}/surveys/1/close", headers=auth(organiser_token))
    late = await client.post(url, json=FULL, headers=auth(player))
    assert late.status_code == 409
    assert "closed" in late.json()["detail"]
    assert (
        await client.get(f"/api/v1/games/{slug}/surveys/2/answers", headers=auth(player))
    ).status_code == 404


async def test_answers_are_validated_and_free_text_refused(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await make_game(client, app, organiser_token, slug)
    [(pid, _)] = await add_players(app, game, [P()])
    player = await token(app, "player", game_id=game.id, player_id=pid)
    await client.post(f"/api/v1/admin/games/{slug}/surveys/2/open", headers=auth(organiser_token))
    url = f"/api/v1/games/{slug}/surveys/2"
    for bad in (
        {"activity_days": 8},
        {"activity_days": -1},
        {"belonging": "somewhat"},
        {"nature_happy": 0},
        {"nature_happy": 8},
        {"answered_by": "teacher"},
        {"comments": "free text is never collected"},
    ):
        response = await client.post(url, json=bad, headers=auth(player))
        assert response.status_code == 422, bad
        assert response.json()["fields"]
    empty = await client.post(url, json={}, headers=auth(player))
    assert empty.status_code == 200  # every item is optional
    assert await _responses(app, game.id) != []


async def test_only_the_games_players_answer(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await make_game(client, app, organiser_token, slug)
    other = await make_game(client, app, organiser_token, slug + "-b")
    [(outsider, _)] = await add_players(app, other, [P()])
    await client.post(f"/api/v1/admin/games/{slug}/surveys/1/open", headers=auth(organiser_token))
    url = f"/api/v1/games/{slug}/surveys/1"
    assert (await client.post(url, json=FULL)).status_code == 401
    assert (await client.post(url, json=FULL, headers=auth(organiser_token))).status_code == 403
    foreign = await token(app, "player", game_id=other.id, player_id=outsider)
    assert (await client.post(url, json=FULL, headers=auth(foreign))).status_code == 403
    assert await _responses(app, game.id) == []


async def test_erasure_removes_every_answer(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await make_game(client, app, organiser_token, slug)
    (keep, _), (gone, _) = await add_players(app, game, [P(), P()])
    for wave in (1, 2, 3):
        await client.post(
            f"/api/v1/admin/games/{slug}/surveys/{wave}/open", headers=auth(organiser_token)
        )
    for pid in (keep, gone):
        player = await token(app, "player", game_id=game.id, player_id=pid)
        for wave in (1, 2):
            response = await client.post(
                f"/api/v1/games/{slug}/surveys/{wave}", json=FULL, headers=auth(player)
            )
            assert response.status_code == 200

    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        erasure = await erase_player(
            s,
            game.id,
            gone,
            actor="test",
            now=utcnow(),
            scoring=HOLDER_SCORING,
            elsewhere=SURVEY_ANSWERS,
        )
        await s.commit()
    assert "evaluation.erasure: 2 record(s)" in erasure.removed
    rows = await _responses(app, game.id)
    assert {r.player_id for r in rows} == {keep}
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        assert await erase_player_answers(s, keep) == 2
        await s.commit()
        left = await s.scalar(
            select(func.count())
            .select_from(SurveyResponse)
            .where(SurveyResponse.game_id == game.id)
        )
    assert left == 0


async def test_an_erasure_over_the_api_removes_the_answers_and_no_other_data_keeps_them(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await make_game(client, app, organiser_token, slug)
    (by_api, _), (kept, _) = await add_players(app, game, [P(), P()])
    await client.post(f"/api/v1/admin/games/{slug}/surveys/1/open", headers=auth(organiser_token))
    for pid in (by_api, kept):
        player = await token(app, "player", game_id=game.id, player_id=pid)
        answered = await client.post(
            f"/api/v1/games/{slug}/surveys/1", json=FULL, headers=auth(player)
        )
        assert answered.status_code == 200

    # The application passes the evaluation domain's eraser to the people domain.
    response = await client.delete(
        f"/api/v1/admin/games/{slug}/players/{by_api}", headers=auth(organiser_token)
    )
    assert response.status_code == 200, response.text
    assert "evaluation.erasure: 1 record(s)" in response.json()["removed"]
    assert {r.player_id for r in await _responses(app, game.id)} == {kept}

    # Without it (a people domain on its own) the player's own data goes and nothing else.
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        erasure = await erase_player(
            s,
            game.id,
            kept,
            actor="test",
            now=utcnow(),
            scoring=HOLDER_SCORING,
            elsewhere=NO_OTHER_DATA,
        )
        await s.commit()
    assert not any("record(s)" in line for line in erasure.removed)
    assert {r.player_id for r in await _responses(app, game.id)} == {kept}
