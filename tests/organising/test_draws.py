"""Lucky-tap draws: scheduling, running a day, reproducing a draw from its record."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from accounts.tokens import create_token
from api.app_state import state_of
from game.schemas import DrawScheduleIn
from organising.draws import candidates_sha256, day_end, draw_winners, run_due_draws, schedule_draws
from organising.repository import game_by_slug
from people.models import Player
from tests.checkpoints.cp_helpers import Clock
from tests.helpers import auth, server_clock
from tests.scoring.taps import T, insert_taps, local, make_game

DAY = date(2027, 5, 3)
AFTER_THE_GAME = local(20, 12, 0, month=6)


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:
    """The test games are in 2027: the API's clock reads a day after they end."""
    with server_clock(app, AFTER_THE_GAME) as clock:
        yield clock


PLAYERS = [
    {"card": f"{i:07d}", "nickname": f"Walker {i}", "age_band": "25-44", "public": True}
    for i in range(4, 10)
]


async def _setup(app: FastAPI, slug: str) -> object:
    game = await make_game(app, slug, players=PLAYERS)
    taps = []
    for card in ("0000004", "0000005", "0000006", "0000007"):
        taps += [T(card, "A", local(3, 8, 0)), T(card, "B", local(3, 8, 20))]
    taps.append(T("0000001", "A", local(3, 9, 0)))  # counted but unregistered: no candidate
    taps.append(T("0000008", "A", local(1, 0, 0) - timedelta(hours=2)))  # before the game
    taps.append(T("0000009", "C", local(4, 10, 0)))  # another day
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(s, game, taps)
        # An erased player never wins.
        await s.execute(
            update(Player)
            .where(Player.holder_id == game.holder("0000007"))
            .values(erased_at=local(5, 0, 0), nickname=None)
        )
        await s.commit()
    return game


async def _player_ids(app: FastAPI, game: object, cards: list[str]) -> list[int]:
    async with state_of(app).sessionmaker() as s:
        rows = await s.execute(
            select(Player.id).where(Player.holder_id.in_([game.holder(c) for c in cards]))  # type: ignore[attr-defined]
        )
        return sorted(r[0] for r in rows)


async def test_schedule_run_and_reproduce(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str, clock: Clock
) -> None:
    game = await _setup(app, slug)
    base = f"/api/v1/admin/games/{slug}/draws"
    headers = auth(organiser_token)
    made = await client.post(
        base, json={"winners_per_day": 2, "from_date": "2027-05-02"}, headers=headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["winners_per_day"] == 2

    run = await client.post(f"{base}/run", params={"date": DAY.isoformat()}, headers=headers)
    assert run.status_code == 200, run.text
    body = run.json()
    assert body["already_drawn"] == [] and len(body["draws"]) == 1
    draw = body["draws"][0]
    candidates = await _player_ids(app, game, ["0000004", "0000005", "0000006"])
    assert draw["candidate_count"] == 3
    assert (
        draw["candidates_sha256"]
        == hashlib.sha256(",".join(map(str, candidates)).encode()).hexdigest()
    )
    winners = [w["player_id"] for w in draw["winners"]]
    assert winners == random.Random(draw["seed"]).sample(candidates, 2)
    assert all(w["nickname"].startswith("Walker ") for w in draw["winners"])

    again = await client.post(f"{base}/run", params={"date": DAY.isoformat()}, headers=headers)
    assert again.json()["draws"] == []
    assert [d["id"] for d in again.json()["already_drawn"]] == [draw["id"]]

    listed = (await client.get(base, headers=headers)).json()
    assert [d["id"] for d in listed["draws"]] == [draw["id"]]
    assert listed["draws"][0]["winners"] == draw["winners"]
    assert listed["schedules"][0]["from_date"] == "2027-05-02"

    detail = (await client.get(f"{base}/{draw['id']}", headers=headers)).json()
    assert detail["candidate_ids"] == candidates
    assert detail["recorded_hash_ok"] and detail["winners_reproduced"]
    assert detail["candidates_now_sha256"] == draw["candidates_sha256"]
    assert str(draw["seed"]) in detail["reproduce"]


async def test_draw_with_fewer_candidates_than_winners(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str, clock: Clock
) -> None:
    game = await _setup(app, slug)
    headers = auth(organiser_token)
    base = f"/api/v1/admin/games/{slug}/draws"
    await client.post(base, json={"winners_per_day": 5}, headers=headers)
    run = await client.post(f"{base}/run", params={"date": "2027-05-04"}, headers=headers)
    draw = run.json()["draws"][0]
    assert draw["candidate_count"] == 1
    assert [w["player_id"] for w in draw["winners"]] == await _player_ids(app, game, ["0000009"])
    empty = await client.post(f"{base}/run", params={"date": "2027-05-05"}, headers=headers)
    assert empty.json()["draws"][0]["winners"] == []


async def test_run_refusals(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str, clock: Clock
) -> None:
    await make_game(app, slug)
    headers = auth(organiser_token)
    base = f"/api/v1/admin/games/{slug}/draws"
    unscheduled = await client.post(f"{base}/run", params={"date": "2027-05-03"}, headers=headers)
    assert unscheduled.status_code == 409
    assert unscheduled.json()["error"] == "conflict"
    await client.post(base, json={"winners_per_day": 1, "to_date": "2027-05-10"}, headers=headers)
    outside = await client.post(f"{base}/run", params={"date": "2027-05-11"}, headers=headers)
    assert outside.status_code == 409
    future = await client.post(f"{base}/run", params={"date": "2099-05-03"}, headers=headers)
    assert future.status_code == 422
    bad = await client.post(base, json={"winners_per_day": 0}, headers=headers)
    assert bad.status_code == 422
    backwards = await client.post(
        base,
        json={"winners_per_day": 1, "from_date": "2027-05-10", "to_date": "2027-05-02"},
        headers=headers,
    )
    assert backwards.status_code == 422
    outside_game = await client.post(
        base, json={"winners_per_day": 1, "from_date": "2027-08-01"}, headers=headers
    )
    assert outside_game.status_code == 422


async def test_only_organisers(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str, clock: Clock
) -> None:
    await make_game(app, slug)
    async with state_of(app).sessionmaker() as s:
        game = await game_by_slug(s, slug)
        assert game is not None
        evaluator = await create_token(s, role="evaluator", game_id=game.id)
        await s.commit()
    base = f"/api/v1/admin/games/{slug}/draws"
    assert (await client.get(base)).status_code == 401
    assert (await client.get(base, headers=auth(evaluator))).status_code == 403
    forbidden = await client.post(base, json={"winners_per_day": 1}, headers=auth(evaluator))
    assert forbidden.status_code == 403


async def test_a_day_is_drawn_only_after_it_has_ended(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str, clock: Clock
) -> None:
    game = await make_game(app, slug, players=PLAYERS)
    taps = [T("0000004", "A", local(3, 8, 0)), T("0000004", "B", local(3, 8, 10))]
    taps += [T("0000005", "A", local(3, 23, 30)), T("0000005", "B", local(3, 23, 45))]
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(s, game, taps)
        await s.commit()
    headers = auth(organiser_token)
    base = f"/api/v1/admin/games/{slug}/draws"
    made = await client.post(base, json={"winners_per_day": 5}, headers=headers)
    assert made.status_code == 201, made.text

    for now in (local(3, 8, 11), local(3, 23, 59, 59)):
        clock.now = now
        early = await client.post(f"{base}/run", params={"date": DAY.isoformat()}, headers=headers)
        assert early.status_code == 422, early.text
        assert early.json()["detail"] == (
            "the day 2027-05-03 ends at 2027-05-04 00:00 Europe/London; draw after that"
        )
        assert early.json()["fields"][0]["field"] == "date"
        # ... and the scheduled job does not draw it either.
        async with state_of(app).writing(), state_of(app).sessionmaker() as s:
            due = await run_due_draws(s, now, game_id=game.game_id)
            assert DAY not in [d.local_date for d in due]
            await s.rollback()
    listed = (await client.get(base, headers=headers)).json()
    assert listed["draws"] == []

    clock.now = local(4, 0, 0)
    run = await client.post(f"{base}/run", params={"date": DAY.isoformat()}, headers=headers)
    assert run.status_code == 200, run.text
    draw = run.json()["draws"][0]
    # The late tapper had the same chance as the early one.
    assert draw["candidate_count"] == 2
    assert sorted(w["player_id"] for w in draw["winners"]) == await _player_ids(
        app, game, ["0000004", "0000005"]
    )


async def test_run_due_draws_draws_each_finished_day_once(app: FastAPI, slug: str) -> None:
    await _setup(app, slug)
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        g = await game_by_slug(s, slug)
        assert g is not None
        await schedule_draws(
            s,
            g,
            DrawScheduleIn(winners_per_day=1, from_date=date(2027, 5, 2), to_date=None),
            actor="test",
        )
        await s.commit()
        # Just before day 3 is due (it ends at midnight, drawn an hour later): days 2 only.
        early = await run_due_draws(s, day_end(g, DAY) + timedelta(minutes=59), game_id=g.id)
        assert [d.local_date for d in early] == [date(2027, 5, 2)]
        due = await run_due_draws(s, day_end(g, DAY) + timedelta(hours=1), game_id=g.id)
        assert [d.local_date for d in due] == [DAY]
        assert due[0].candidate_count == 3
        await s.commit()
        assert await run_due_draws(s, day_end(g, DAY) + timedelta(hours=2), game_id=g.id) == []
        everything = await run_due_draws(s, local(1, 0, 0, month=7), game_id=g.id)
        assert len(everything) == 28 + 11  # 2027-05-04 .. 2027-06-11
        await s.commit()


def test_draw_is_a_pure_function_of_its_record() -> None:
    ids = [17, 3, 99, 42, 8]
    assert draw_winners(12345, ids, 3) == random.Random(12345).sample(sorted(ids), 3)
    assert draw_winners(12345, ids, 3) == draw_winners(12345, list(reversed(ids)), 3)
    assert draw_winners(1, ids, 10) == random.Random(1).sample(sorted(ids), 5)
    assert draw_winners(1, [], 2) == []
    assert candidates_sha256(ids) == hashlib.sha256(b"3,8,17,42,99").hexdigest()
