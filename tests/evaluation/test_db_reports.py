"""The evaluation report built from the database, checked against values computed here
independently (numpy, scipy, statsmodels) from the same raw data, plus disclosure control,
the game area and who may read it."""

from __future__ import annotations

import csv
import io
import math
import random
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
import statsmodels.api as sm
from fastapi import FastAPI
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar

from evaluation.reaim import add_reaim
from evaluation.report_scores import Participant, WaveAnswers, score_columns
from evaluation.reports import build_report
from game.instruments import NATURE_KEYS
from tests.evaluation.eval_helpers import (
    P,
    add_answers,
    add_areas,
    add_players,
    answer,
    codes,
    make_game,
    token,
)
from tests.evaluation.test_eval_disclosure import recoverable_vector_cells
from tests.helpers import auth

GROUPS = ("Q1", "Q2", "Q3", "Q4", "Q5", "other")
AREA = [(1, 1000), (2, 1500), (3, 1200), (4, 800), (5, 1000), (6, 1000), (7, 900), (8, 1100)]
AREA += [(9, 600), (10, 400)]
PER_QUINTILE = {1: 60, 2: 45, 3: 30, 4: 20, 5: 6}
OUTSIDE = 5
UNKNOWN = 3


@dataclass
class Person:
    player_id: int
    group: str  # Q1..Q5 or other
    in_area: bool
    waves: dict[int, dict[str, Any]]


def published_count(n: int) -> int | str:
    """The HES rule, written out independently: 0 -> 0, 1-7 -> *, else nearest 5."""
    if n == 0:
        return 0
    if n <= 7:
        return "*"
    return 5 * round(n / 5)


def small(n: int) -> bool:
    return 1 <= n <= 7


checked_pcts = {"published": 0, "suppressed": 0}


def check_pct(got: Any, numerator: int, denominator: int, whole_game: bool) -> None:
    """A percentage from unrounded counts; below whole-game level hidden when the
    denominator is under 10 or the numerator or its complement is 1-7 people."""
    hidden = denominator < 10 or (
        not whole_game and (small(numerator) or small(denominator - numerator))
    )
    if hidden:
        assert got == "*"
        checked_pcts["suppressed"] += 1
    else:
        assert got == pytest.approx(round(100 * numerator / denominator, 1))
        checked_pcts["published"] += 1


@dataclass
class World:
    slug: str
    game_id: int
    lad: str
    other_lad: str
    people: list[Person]
    residents: dict[str, int]


async def build_world(client: httpx.AsyncClient, app: FastAPI, organiser: str, slug: str) -> World:
    rng = random.Random(20270501)
    game = await make_game(client, app, organiser, slug)
    lad, other_lad = codes("E07", 2)
    area = await add_areas(app, lad, AREA)
    outside = await add_areas(app, other_lad, [(1, 3000), (6, 3000)])

    specs: list[tuple[P, str, bool]] = []
    for q, n in PER_QUINTILE.items():
        for i in range(n):
            decile = 2 * q - 1 + i % 2
            specs.append((P(lsoa=area[decile - 1], decile=decile), f"Q{q}", True))
    for i in range(OUTSIDE):
        decile = (1, 6)[i % 2]
        specs.append((P(lsoa=outside[i % 2], decile=decile), f"Q{math.ceil(decile / 2)}", False))
    for _ in range(UNKNOWN):
        specs.append((P(), "other", False))
    ids = await add_players(app, game, [s for s, _, _ in specs])

    people: list[Person] = []
    rows = []
    for (pid, _), (_spec, group, in_area) in zip(ids, specs, strict=True):
        base_days = (
            rng.choice([0, 0, 1, 1, 2, 3, 4, 5, 6, 7]) if group == "Q1" else rng.randint(0, 7)
        )
        waves: dict[int, dict[str, Any]] = {}
        if rng.random() < 0.92:
            waves[1] = {
                "activity": base_days if rng.random() > 0.05 else None,
                "belonging": rng.choice(["very", "fairly", "not_very", "not_at_all"]),
                "nature": [rng.randint(2, 7) if rng.random() > 0.1 else None for _ in NATURE_KEYS],
            }
        if rng.random() < 0.7:
            waves[2] = {
                "activity": max(0, min(7, base_days + rng.choice([-1, 0, 1, 1, 2]))),
                "belonging": rng.choice(["very", "fairly", "fairly", "not_very"]),
                "nature": [rng.randint(3, 7) for _ in NATURE_KEYS],
            }
        for wave, a in waves.items():
            rows.append(
                answer(
                    pid,
                    wave,
                    game.id,
                    activity=a["activity"],
                    belonging=a["belonging"],
                    nature=a["nature"],
                )
            )
        people.append(Person(pid, group if group != "other" else "other", in_area, waves))
    await add_answers(app, rows)
    residents: dict[str, int] = {f"Q{q}": 0 for q in range(1, 6)}
    for decile, pop in AREA:
        residents[f"Q{math.ceil(decile / 2)}"] += pop
    return World(slug, game.id, lad, other_lad, people, residents)


async def get_report(client: httpx.AsyncClient, slug: str, tok: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/admin/games/{slug}/reports/evaluation", headers=auth(tok))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _belonging_score(level: str) -> int:
    return {"not_at_all": 1, "not_very": 2, "fairly": 3, "very": 4}[level]


def _nature(items: list[int | None]) -> float | None:
    got = [v for v in items if v is not None]
    return sum(got) / len(got) if len(got) >= 4 else None


def _pairs(people: list[Person], group: str | None, score: Any) -> list[tuple[float, float]]:
    out = []
    for p in people:
        if group is not None and p.group != group:
            continue
        if 1 not in p.waves or 2 not in p.waves:
            continue
        before, after = score(p.waves[1]), score(p.waves[2])
        if before is not None and after is not None:
            out.append((before, after))
    return out


async def test_report_matches_independent_computation(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    world = await build_world(client, app, organiser_token, slug)
    report = await get_report(client, slug, organiser_token)
    checked_pcts.update(published=0, suppressed=0)
    assert report["game"]["slug"] == slug
    assert report["players"] == len(world.people)
    assert report["area"]["method"] == "automatic"
    assert [d["code"] for d in report["area"]["districts"]] == [world.lad]
    assert report["area"]["small_areas"] == len(AREA)
    section = report["nations"]["england"]

    # ---- uptake
    uptake = section["uptake"]["groups"]
    in_area = {g: sum(1 for p in world.people if p.group == g and p.in_area) for g in GROUPS[:5]}
    other = len(world.people) - sum(in_area.values())
    assert uptake["total"]["players"] == len(world.people)
    assert uptake["total"]["players_in_area"] == sum(in_area.values())
    assert uptake["total"]["residents"] == sum(world.residents.values())
    # Q5 (6 players) is suppressed; the total would give it back, so the next-smallest
    # group (other, 8 players) is suppressed with it (secondary suppression)
    assert other == 8
    assert uptake["other"]["players"] == "*"
    for g in GROUPS[:4]:
        assert uptake[g]["players"] == published_count(in_area[g])
        assert uptake[g]["residents"] == world.residents[g]
        assert uptake[g]["share_of_residents_pct"] == pytest.approx(
            round(100 * world.residents[g] / sum(world.residents.values()), 1)
        )
    # Rates and shares: Q5 (6 players) is hidden, and with it the next-smallest group (Q4,
    # 20 players), since the whole-game rate would give Q5 back.
    for metric in ("rate_per_1000", "share_of_players_pct"):
        assert [uptake[g][metric] == "*" for g in GROUPS[:5]] == [False, False, False, True, True]
    for g in GROUPS[:3]:
        assert uptake[g]["rate_per_1000"] == pytest.approx(
            round(1000 * in_area[g] / world.residents[g], 2)
        )
        assert uptake[g]["share_of_players_pct"] == pytest.approx(
            round(100 * in_area[g] / sum(in_area.values()), 1)
        )
    assert uptake["Q5"]["players"] == "*"
    assert uptake["total"]["rate_per_1000"] == pytest.approx(
        round(1000 * sum(in_area.values()) / sum(world.residents.values()), 2)
    )

    # ---- activity, paired wave 1 -> wave 2
    def days(w: dict[str, Any]) -> float | None:
        return None if w["activity"] is None else float(w["activity"])

    activity = section["activity"]["wave_2"]["groups"]
    for group in ("Q1", None):
        key = group or "total"
        pairs = _pairs(world.people, group, days)
        n = len(pairs)
        baseline = sum(
            1
            for p in world.people
            if (group is None or p.group == group) and 1 in p.waves and days(p.waves[1]) is not None
        )
        got = activity[key]
        assert got["n_paired"] == (n if group is None else published_count(n))
        assert got["n_baseline"] == (baseline if group is None else published_count(baseline))
        assert got["follow_up_pct"] == pytest.approx(round(100 * n / baseline, 1))
        whole = group is None
        inactive = [(b <= 1, a <= 1) for b, a in pairs]
        check_pct(got["inactive_before_pct"], sum(b for b, _ in inactive), n, whole)
        check_pct(got["inactive_after_pct"], sum(a for _, a in inactive), n, whole)
        check_pct(got["meets_guideline_after_pct"], sum(1 for _, a in pairs if a >= 5), n, whole)
        table = np.zeros((2, 2), dtype=int)
        for b, a in inactive:
            table[int(not b), int(not a)] += 1  # row: inactive before?, column: after
        b_count, c_count = int(table[0, 1]), int(table[1, 0])
        expected_p = mcnemar(table, exact=True).pvalue
        if whole or not (small(b_count) or small(c_count)):
            assert got["mcnemar_p"] == pytest.approx(expected_p, rel=1e-3)
        else:  # a test that would reveal a suppressed transition count is suppressed too
            assert got["mcnemar_p"] == "*"
        assert got["b_inactive_to_active"] == (b_count if whole else published_count(b_count))
        assert got["c_active_to_inactive"] == (c_count if whole else published_count(c_count))
        change = np.array([a - b for b, a in pairs])
        low, high = sps.t.interval(0.95, n - 1, loc=change.mean(), scale=sps.sem(change))
        assert got["mean_change_days"] == pytest.approx(round(change.mean(), 2))
        assert got["mean_change_days_ci_low"] == pytest.approx(round(low, 2))
        assert got["mean_change_days_ci_high"] == pytest.approx(round(high, 2))
        was_inactive = [(b, a) for b, a in pairs if b <= 1]
        check_pct(
            got["inactive_at_baseline_now_more_days_pct"],
            sum(1 for b, a in was_inactive if a > b),
            len(was_inactive),
            whole,
        )
    assert (
        checked_pcts["published"] >= 4
        and checked_pcts["suppressed"] + checked_pcts["published"] == 8
    )

    # ---- belonging and nature (whole game)
    def level(w: dict[str, Any]) -> float:
        return float(_belonging_score(w["belonging"]))

    pairs = _pairs(world.people, None, level)
    belonging = section["belonging"]["wave_2"]["groups"]["total"]
    assert belonging["n_paired"] == len(pairs)
    assert belonging["belongs_before_pct"] == pytest.approx(
        round(100 * sum(1 for b, _ in pairs if b >= 3) / len(pairs), 1)
    )
    assert belonging["mean_change_score"] == pytest.approx(
        round(float(np.mean([a - b for b, a in pairs])), 2)
    )

    pairs = _pairs(world.people, None, lambda w: _nature(w["nature"]))
    nature = section["nature"]["wave_2"]["groups"]["total"]
    assert nature["n_paired"] == len(pairs)
    assert nature["mean_before"] == pytest.approx(round(float(np.mean([b for b, _ in pairs])), 2))
    assert nature["mean_after"] == pytest.approx(round(float(np.mean([a for _, a in pairs])), 2))
    expected_t = sps.ttest_rel([a for _, a in pairs], [b for b, _ in pairs])
    assert nature["mean_change_p_value"] == pytest.approx(expected_t.pvalue, rel=1e-3)

    # ---- survey counts
    assert report["survey_responses"]["wave_1"]["responses"] == sum(
        1 for p in world.people if 1 in p.waves
    )


async def test_uptake_sii_matches_weighted_least_squares(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    # every quintile large enough to publish, so the index is published
    game = await make_game(client, app, organiser_token, slug)
    (lad,) = codes("E07", 1)
    pops = [2000, 1800, 1500, 1200, 1000]
    area = await add_areas(app, lad, [(2 * q - 1, pop) for q, pop in enumerate(pops, 1)])
    players = [50, 40, 25, 20, 15]
    await add_players(
        app,
        game,
        [P(lsoa=area[q], decile=2 * q + 1) for q, n in enumerate(players) for _ in range(n)],
    )
    report = await get_report(client, slug, organiser_token)
    sii = report["nations"]["england"]["inequality"]["uptake_rate_per_1000"]
    assert sii["status"] == "ok"
    shares = np.array(pops) / sum(pops)
    ranks = np.cumsum(shares) - shares / 2
    rates = 1000 * np.array(players) / np.array(pops)
    fit = sm.WLS(rates, sm.add_constant(ranks), weights=shares).fit()
    b0, b1 = fit.params
    assert sii["sii"] == pytest.approx(round(b1, 3), abs=1e-3)
    assert sii["rii"] == pytest.approx(round((b0 + b1) / b0, 3), abs=1e-3)
    assert sii["sii"] < 0  # more uptake in the more deprived quintiles


def _count_metric(metric: str) -> bool:
    return metric in ("players", "n_baseline", "n_paired") or metric.startswith(("b_", "c_"))


def _blocks(section: dict[str, Any]) -> list[dict[str, Any]]:
    return [section["uptake"]["groups"]] + [
        block["groups"]
        for name in ("activity", "belonging", "nature")
        for block in section[name].values()
    ]


async def test_disclosure_no_small_counts_and_nothing_recoverable(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    await build_world(client, app, organiser_token, slug)
    report = await get_report(client, slug, organiser_token)
    checked = suppressed_seen = 0
    for groups in _blocks(report["nations"]["england"]):
        for metric in groups["Q1"]:
            values = [groups[g].get(metric) for g in GROUPS]
            if _count_metric(metric):
                for value in values:
                    checked += 1
                    assert value == "*" or value == 0 or (value >= 8 and value % 5 == 0), (
                        metric,
                        values,
                    )
            hidden = {i for i, v in enumerate(values) if v == "*"}
            suppressed_seen += len(hidden)
            additive = not metric.endswith(("_ci_low", "_ci_high", "_p_value", "mcnemar_p"))
            if additive and metric not in ("residents", "share_of_residents_pct"):
                # the whole-game figure is published exactly: no hidden cell may follow from it
                assert recoverable_vector_cells(len(values), hidden, True) == set(), (
                    metric,
                    values,
                )
    assert checked > 60 and suppressed_seen > 0
    # the CSV carries the same values
    response = await client.get(
        f"/api/v1/admin/games/{slug}/reports/evaluation?format=csv",
        headers=auth(organiser_token),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["nation", "section", "comparison", "group", "metric", "value"]
    q5 = next(
        r for r in rows if (r["section"], r["group"], r["metric"]) == ("uptake", "Q5", "players")
    )
    assert q5["value"] == "*"
    for r in rows:
        if r["group"] in GROUPS and _count_metric(r["metric"]) and r["value"] not in ("*", "0"):
            assert int(r["value"]) >= 10 and int(r["value"]) % 5 == 0, r


async def test_game_area_automatic_and_set_by_the_organiser(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    world = await build_world(client, app, organiser_token, slug)
    url = f"/api/v1/admin/games/{slug}/evaluation/area"
    area = (await client.get(url, headers=auth(organiser_token))).json()
    assert area["method"] == "automatic"
    assert [d["code"] for d in area["districts"]] == [world.lad]
    assert area["players_by_district"][world.other_lad] == "*"  # 5 players: disclosure rule

    both = await client.put(
        url, json={"lad_codes": [world.lad, world.other_lad]}, headers=auth(organiser_token)
    )
    assert both.status_code == 200, both.text
    assert both.json()["method"] == "organiser"
    report = await get_report(client, slug, organiser_token)
    uptake = report["nations"]["england"]["uptake"]["groups"]
    assert uptake["total"]["residents"] == sum(world.residents.values()) + 6000
    assert uptake["total"]["players_in_area"] == len(world.people) - UNKNOWN

    unknown = await client.put(
        url, json={"lad_codes": ["E07ZZZZZZ"]}, headers=auth(organiser_token)
    )
    assert unknown.status_code == 422
    reset = await client.put(url, json={"lad_codes": []}, headers=auth(organiser_token))
    assert reset.json()["method"] == "automatic"


async def test_who_may_read_the_report(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    game = await make_game(client, app, organiser_token, slug)
    other = await make_game(client, app, organiser_token, slug + "-x")
    [(pid, _)] = await add_players(app, game, [P()])
    url = f"/api/v1/admin/games/{slug}/reports/evaluation"
    evaluator = await token(app, "evaluator", game_id=game.id)
    assert (await client.get(url, headers=auth(evaluator))).status_code == 200
    own_organiser = await token(app, "organiser", game_id=game.id)
    assert (await client.get(url, headers=auth(own_organiser))).status_code == 200
    for denied in (
        await token(app, "evaluator", game_id=other.id),
        await token(app, "organiser", game_id=other.id),
        await token(app, "player", game_id=game.id, player_id=pid),
        await token(app, "team_manager", game_id=game.id, player_id=None),
    ):
        assert (await client.get(url, headers=auth(denied))).status_code == 403
    assert (await client.get(url)).status_code == 401
    empty = (await client.get(url, headers=auth(evaluator))).json()
    assert empty["players"] == 1
    assert empty["area"]["method"] == "none"


async def test_database_report_equals_the_pure_report_of_the_same_people(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    """The columnar path (answers pivoted in SQL) gives exactly the pure builder's report."""
    world = await build_world(client, app, organiser_token, slug)
    report = await get_report(client, slug, organiser_token)
    participants = [
        Participant(
            player_id=p.player_id,
            imd_quintile=None if p.group == "other" else int(p.group[1]),
            nation=None if p.group == "other" else "england",
            waves={
                wave: WaveAnswers(
                    activity_days=a["activity"], belonging=a["belonging"], nature=tuple(a["nature"])
                )
                for wave, a in p.waves.items()
            },
            in_area=p.in_area,
        )
        for p in world.people
    ]
    residents = {"england": {int(g[1]): n for g, n in world.residents.items()}}
    pure = build_report(participants, residents)
    # the RE-AIM blocks of each nation too (no taps in this world: no active days)
    add_reaim(pure, score_columns(participants, (1, 2, 3), active_days={}), residents)
    assert report["nations"] == pure["nations"]
    assert report["players"] == pure["players"]
