"""The RE-AIM blocks and the ONS sections of the report built from the database (both
backends): adoption from teams and taps, box uptime from heartbeats and tap days, campaigns
run, active days by quintile, maintenance of ONS4 changes, on a small known town."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, select

from api.app_state import state_of
from checkpoints.models import ReaderDay, ReaderHeartbeat
from evaluation.report_service import build_game_report, report_csv
from game.models import Game
from harness.game_files import game_file
from tests.evaluation.eval_helpers import (
    P,
    add_answers,
    add_areas,
    add_days,
    add_players,
    answer,
    codes,
    make_game,
)

NOW = datetime(2027, 5, 10, 12, 0, tzinfo=UTC)  # game days so far: 1-10 May
LIFE = {1: 4, 2: 7, 3: 6}  # low (0-4) at registration, better at game end, held at follow-up


def _campaign(code: str, start: str, end: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": code,
        "multiplier": 2,
        "starts_at": start,
        "ends_at": end,
        "checkpoint_tags": ["park"],
    }


async def _town(client: httpx.AsyncClient, app: FastAPI, organiser: str, slug: str) -> Any:
    base = game_file(slug)
    game = await make_game(
        client,
        app,
        organiser,
        slug,
        game={**base["game"], "instruments": ["activity", "ons4", "loneliness"]},
        campaigns=[
            _campaign("PARKS", "2027-05-03T00:00:00+01:00", "2027-05-06T00:00:00+01:00"),
            _campaign("LATER", "2027-05-20T00:00:00+01:00", "2027-05-22T00:00:00+01:00"),
        ],
    )
    lad = codes("E07", 1)[0]
    q1, q5 = await add_areas(app, lad, [(1, 1000), (9, 1000)])
    school = await add_players(app, game, [P(lsoa=q1, decile=1, team="SCH1")] * 12)
    community = await add_players(app, game, [P(lsoa=q5, decile=9, team="COM1")] * 10)
    for _pid, holder in school:
        await add_days(app, game.id, holder, 3)
    rows = []
    for pid, _holder in school + community:
        for wave, score in LIFE.items():
            row = answer(pid, wave, game.id, activity=2)
            row.update(life_satisfaction=score, loneliness="occasionally")
            rows.append(row)
    await add_answers(app, rows)
    readers = [f"R-{slug}-{c}" for c in "ABCP"]
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await s.execute(
            insert(ReaderDay),
            [
                {"game_id": game.id, "reader_id": readers[0], "local_date": date(2027, 5, d)}
                | {"taps": 3}
                for d in range(1, 6)
            ],
        )
        beats = [(readers[1], 2), (readers[1], 3), (readers[0], 5), (readers[1], 25)]
        await s.execute(
            insert(ReaderHeartbeat),
            [
                {
                    "game_id": game.id,
                    "reader_id": reader,
                    "received_at": datetime(2027, 5, day, 12, tzinfo=UTC),
                }
                for reader, day in beats
            ],
        )
        await s.commit()
    return game


async def _report(app: FastAPI, slug: str) -> dict[str, Any]:
    async with state_of(app).sessionmaker() as s:
        game = await s.scalar(select(Game).where(Game.slug == slug))
        assert game is not None
        return await build_game_report(s, game, now=NOW)


async def test_reaim_blocks_from_the_database(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    await _town(client, app, organiser_token, slug)
    report = await _report(app, slug)

    adoption = report["adoption"]["groups"]
    assert adoption["school"]["teams_registered"] == 1
    assert adoption["school"]["teams_taking_part"] == 1
    assert adoption["school"]["active_players"] == 10  # 12 rounded to 5
    assert adoption["community"]["teams_taking_part"] == 0  # no member tapped
    assert adoption["total"]["active_players"] == 12

    boxes = report["implementation"]["boxes"]
    assert boxes["game_days_so_far"] == 10
    assert boxes["uptime_pct_by_box"] == {
        f"R-{slug}-A": 50.0,  # taps on 1-5 May (and a heartbeat on the 5th)
        f"R-{slug}-B": 20.0,  # heartbeats on 2 and 3 May (25 May is after "now")
        f"R-{slug}-C": 0.0,
        f"R-{slug}-P": 0.0,
    }
    assert boxes["median_uptime_pct"] == 10.0
    campaigns = report["implementation"]["campaigns"]
    assert campaigns["campaigns_run"] == 1  # LATER has not started
    assert campaigns["campaign_days"] == 3

    england = report["nations"]["england"]
    active = england["active_days"]["groups"]
    assert active["Q1"]["median_active_days"] == 3.0
    assert active["Q5"]["median_active_days"] == 0.0
    assert active["total"]["players"] == 22
    assert england["reach"]["representativeness_index"]["Q1"] == round((12 / 22) / 0.5, 2)

    life = england["life_satisfaction"]["wave_2"]["groups"]["total"]
    assert life["n_paired"] == 22
    assert life["mean_change"] == 3.0
    assert (life["low_before_pct"], life["low_after_pct"]) == (100.0, 0.0)
    lonely = england["loneliness"]["wave_2"]["groups"]["total"]
    assert lonely["mean_before"] == 3.0  # occasionally = 3 on 1 (never) to 5 (often/always)
    assert lonely["lonely_often_before_pct"] == 0.0
    held = england["maintenance"]["life_satisfaction"]["groups"]
    assert held["total"]["mean_change_follow_up"] == 2.0
    assert held["total"]["held_pct"] == 100.0
    assert "belonging" not in england and "nature" not in england  # not asked in this game
    assert report["instruments"] == ["activity", "ons4", "loneliness"]

    text = report_csv(report)
    assert ",implementation,boxes,,median_uptime_pct,10.0" in text
    assert "england,reach,representativeness_index,,Q1," in text
    assert "england,life_satisfaction,wave_2,total,mean_change,3.0" in text


async def test_game_days_stop_at_the_end_of_the_game(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    await _town(client, app, organiser_token, slug)
    async with state_of(app).sessionmaker() as s:
        game = await s.scalar(select(Game).where(Game.slug == slug))
        assert game is not None
        report = await build_game_report(s, game, now=NOW + timedelta(days=365))
    assert report["implementation"]["boxes"]["game_days_so_far"] == 42  # 1 May - 11 June
    assert report["implementation"]["campaigns"]["campaigns_run"] == 2
