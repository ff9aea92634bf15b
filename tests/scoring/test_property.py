"""Property: incremental scoring in any arrival order equals scoring the whole set at once.

Each example makes a new game (random rules, campaigns, registrations), inserts a random tap
stream in a random order and random batches (lock_holders + insert + score_holders, one
transaction per batch), then compares every stored outcome with the pure engine scoring all
taps at once, and every stored total (holder, day, holder-team, team with active members)
with the ledger and with the engine's sums. A final full re-score must change nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import yaml
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api.app_state import state_of
from game.models import HolderTotal, Tap, TeamTotal
from harness import game_files as factories
from kernel.scope import OPERATOR
from organising.service import load_definition
from scoring import engine
from scoring.ledger import ledger_mismatches, totals_match_ledger
from scoring.rescore import rescore_game
from tests.scoring.taps import T, describe, insert_taps, local

CARDS = [f"{i:07d}" for i in range(1, 7)]
CODES = ("A", "B", "C", "P")
START = local(1, 0, 0)  # the test games' start
COORDS = {"A": factories.A, "B": factories.B, "C": factories.C, "P": factories.P}
TAGS = {"A": frozenset(), "B": frozenset(), "C": frozenset(), "P": frozenset({"park"})}


@dataclass
class Scenario:
    rules: dict[str, Any]
    campaigns: list[dict[str, Any]]
    players: list[dict[str, Any]]
    taps: list[T]
    order: list[int]
    cuts: list[int]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    rules = {
        "journey_window_minutes": draw(st.sampled_from([60, 60, 30])),
        "points_per_leg": draw(st.sampled_from([10, 10, 7])),
        "max_speed_kmh": draw(st.sampled_from([25, 25, 12])),
        "max_points_per_day": draw(st.one_of(st.none(), st.integers(5, 60))),
    }
    campaigns = []
    for i in range(draw(st.integers(0, 2))):
        begin = START + timedelta(minutes=draw(st.integers(0, 2 * 24 * 60)))
        selector = draw(st.sampled_from(["all", "park", "codes"]))
        campaigns.append(
            {
                "code": f"C{i}",
                "name": f"campaign {i}",
                "multiplier": draw(st.sampled_from(["1.5", "2", "3", "0.5"])),
                "starts_at": begin.isoformat(),
                "ends_at": (begin + timedelta(minutes=draw(st.integers(30, 36 * 60)))).isoformat(),
                "checkpoint_tags": ["park"] if selector == "park" else [],
                "checkpoints": sorted(draw(st.sets(st.sampled_from(CODES), min_size=1)))
                if selector == "codes"
                else [],
                "age_bands": draw(st.sampled_from([[], [], ["5-11"]])),
            }
        )
    players = [
        {
            "card": card,
            "nickname": f"Walker {int(card)}",  # game files' nicknames are checked too
            "age_band": draw(st.sampled_from(["5-11", "25-44"])),
            "team": draw(st.sampled_from([None, "SCH1", "COM1"])),
        }
        for card in CARDS
        if draw(st.booleans())
    ]
    n = draw(st.integers(1, 28))
    taps = [
        T(
            draw(st.sampled_from(CARDS[:4])),  # few cards: long streams per holder
            draw(st.sampled_from(CODES)),
            START + timedelta(minutes=draw(st.integers(-90, 3 * 24 * 60)) // 4 * 4),
            key=f"k{i:03d}",
        )
        for i in range(n)
    ]
    order = draw(st.permutations(range(n)))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, n - 1)), max_size=4)))
    return Scenario(rules, campaigns, players, taps, list(order), cuts)


def _engine_game(sc: Scenario) -> engine.GameContext:
    rules = engine.Rules(
        starts_at=START,
        ends_at=local(12, 0, 0, month=6),
        timezone="Europe/London",
        journey_window_minutes=sc.rules["journey_window_minutes"],
        points_per_leg=sc.rules["points_per_leg"],
        max_speed_kmh=float(sc.rules["max_speed_kmh"]),
        max_points_per_day=sc.rules["max_points_per_day"],
    )
    checkpoints = {c: engine.Checkpoint(c, *COORDS[c], tags=TAGS[c]) for c in CODES}
    campaigns = [
        engine.Campaign(
            code=c["code"],
            multiplier=Decimal(c["multiplier"]),
            starts_at=datetime.fromisoformat(c["starts_at"]),
            ends_at=datetime.fromisoformat(c["ends_at"]),
            checkpoint_codes=frozenset(c["checkpoints"]),
            checkpoint_tags=frozenset(c["checkpoint_tags"]),
            age_bands=frozenset(c["age_bands"]),
        )
        for c in sc.campaigns
    ]
    return engine.GameContext(rules, checkpoints, campaigns)


async def _make_game(app: FastAPI, sc: Scenario) -> Any:
    slug = f"p-{uuid.uuid4().hex[:12]}"
    data = factories.game_file(slug, campaigns=sc.campaigns, players=sc.players)
    data["game"]["rules"] = sc.rules
    async with state_of(app).sessionmaker() as s:
        result = await load_definition(
            s, yaml.safe_dump(data), box=state_of(app).secret_box, actor="test", scope=OPERATOR
        )
        await s.commit()
        return await describe(s, result.game_id, slug)


PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY
@given(sc=scenarios())
async def test_incremental_in_any_order_equals_scoring_at_once(app: FastAPI, sc: Scenario) -> None:
    game = await _make_game(app, sc)
    arrival = [sc.taps[i] for i in sc.order]
    bounds = [0, *sc.cuts, len(arrival)]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        if lo >= hi:
            continue
        async with state_of(app).writing(), state_of(app).sessionmaker() as s:
            await insert_taps(s, game, arrival[lo:hi])
            await s.commit()
    await check_against_engine(app, game, sc)


async def check_against_engine(app: FastAPI, game: Any, sc: Scenario) -> None:
    """Every stored outcome and total equals the pure engine scoring all of ``sc.taps`` at
    once; a full re-score then changes nothing."""
    # The pure engine over the whole set at once.
    ctx = _engine_game(sc)
    registered = {p["card"]: p for p in sc.players}
    expected: dict[str, engine.Outcome] = {}
    by_card: dict[str, list[engine.Tap]] = defaultdict(list)
    for t in sc.taps:
        by_card[t.card].append(engine.Tap(t.key or "", t.checkpoint, t.at))
    for card, taps in by_card.items():
        player = registered.get(card)
        issued = "SCH1" if card in CARDS[:3] else None  # cards 1-3 are issued to SCH1
        team = player["team"] if player is not None else issued
        holder = engine.Holder(
            age_band=player["age_band"] if player else None,
            team_periods=(engine.TeamPeriod(None, game.teams[team] if team else None),),
        )
        for out in engine.score_holder(taps, holder, ctx):
            expected[out.key] = out

    async with state_of(app).sessionmaker() as s:
        rows = (await s.execute(select(Tap).where(Tap.game_id == game.game_id))).scalars().all()
        assert len(rows) == len(sc.taps)
        holder_of = {t.key: game.holder(t.card) for t in sc.taps}
        want_holders: dict[int, list[float]] = defaultdict(lambda: [0, 0.0])
        want_teams: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        members: dict[int, set[int]] = defaultdict(set)
        for row in rows:
            out = expected[row.source_key]
            got = (row.outcome, row.points, row.team_id, row.local_date)
            assert got == (out.outcome, out.points, out.team_id, out.local_date), row.source_key
            assert abs(row.distance_m - out.distance_m) < 1e-6
            campaign = None if out.campaign_code is None else out.campaign_code
            assert (row.campaign_id is None) == (campaign is None)
            want_holders[holder_of[row.source_key]][0] += out.points
            want_holders[holder_of[row.source_key]][1] += out.distance_m
            if out.team_id is not None:
                want_teams[out.team_id][0] += out.points
                if out.counted:
                    members[out.team_id].add(holder_of[row.source_key])
        assert await ledger_mismatches(s, game.game_id) == []
        assert await totals_match_ledger(s, game.game_id)
        stored = {
            r.holder_id: (r.points, r.distance_m)
            for r in (
                await s.execute(select(HolderTotal).where(HolderTotal.game_id == game.game_id))
            ).scalars()
        }
        for holder_id, (points, distance) in want_holders.items():
            assert stored[holder_id][0] == points
            assert abs(stored[holder_id][1] - distance) < 1e-3
        teams = {
            r.team_id: (r.points, r.active_members)
            for r in (
                await s.execute(select(TeamTotal).where(TeamTotal.game_id == game.game_id))
            ).scalars()
        }
        for team_id, (points, _) in want_teams.items():
            assert teams.get(team_id, (0, 0)) == (points, len(members[team_id]))
        for team_id, (points, active) in teams.items():
            if team_id not in want_teams:
                assert (points, active) == (0, 0)

        # Re-scoring the game from scratch finds nothing to change.
        report = await rescore_game(s, game.game_id, actor="test", reason="property")
        assert report.changed == 0
        assert report.points_after == report.points_before
        assert await ledger_mismatches(s, game.game_id) == []
        await s.rollback()
