"""Property tests for the pure scoring engine (scoring/engine.py).

Random towns (3-8 checkpoints within a few km), random taps inside and slightly outside a game
period, random campaigns and caps. Besides the contract's invariants, the optimised engine is
checked against a deliberately naive reference implementation of docs/scoring-rules.md.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.geodesy import haversine_m
from kernel.vocabulary import (
    CAPPED,
    JOURNEY_START,
    LEG,
    OUT_OF_GAME,
    OUTCOMES,
    REPEAT,
    TOO_FAST,
)
from scoring.engine import (
    Campaign,
    Checkpoint,
    GameContext,
    Holder,
    Outcome,
    Rules,
    Tap,
    TeamPeriod,
    resume,
    score_from,
    score_holder,
    sort_key,
    state_before,
)

BASE = datetime(2025, 3, 27, 12, tzinfo=UTC)  # a few days before the clocks change
TAGS = ("park", "canal", "school")
AGE_BANDS = ("u12", "adult")
ZONES = ("Europe/London", "Europe/London", "America/New_York", "Australia/Lord_Howe")
PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Scenario:
    game: GameContext
    holder: Holder
    taps: list[Tap]


def instants(lo: datetime, span_seconds: int) -> st.SearchStrategy[datetime]:
    """Instants in [lo, lo + span]; often on a quarter-hour grid so that they coincide with
    tap times (boundaries of periods are where off-by-one bugs live)."""
    seconds = st.one_of(
        st.integers(0, span_seconds),
        st.integers(0, span_seconds // 900).map(lambda q: q * 900),
    )
    return seconds.map(lambda s: lo + timedelta(seconds=s))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    starts_at = BASE + timedelta(minutes=draw(st.integers(0, 14 * 24 * 60)))
    ends_at = starts_at + timedelta(hours=draw(st.integers(6, 72)))
    around = starts_at - timedelta(hours=3)
    around_s = int((ends_at - starts_at).total_seconds()) + 6 * 3600
    tz_name = draw(st.sampled_from(ZONES))
    # present the game period in a random zone: only the instants matter
    shown_in = ZoneInfo(draw(st.sampled_from(ZONES)))
    rules = Rules(
        starts_at=starts_at.astimezone(shown_in),
        ends_at=ends_at,
        timezone=tz_name,
        journey_window_minutes=draw(st.sampled_from([60, 60, 30, 90])),
        points_per_leg=draw(st.sampled_from([10, 10, 7, 5, 1])),
        max_speed_kmh=draw(st.sampled_from([25.0, 25.0, 12.0, 40.0])),
        max_points_per_day=draw(st.one_of(st.none(), st.integers(0, 40))),
    )

    n_checkpoints = draw(st.integers(3, 8))
    codes = [f"C{i}" for i in draw(st.permutations(range(n_checkpoints)))]
    checkpoints: dict[str, Checkpoint] = {}
    for code in codes:
        active_from = active_to = None
        if draw(st.integers(0, 4)) == 0:
            active_from = draw(st.one_of(st.none(), instants(around, around_s)))
            active_to = draw(st.one_of(st.none(), instants(around, around_s)))
        checkpoints[code] = Checkpoint(
            code,
            51.5 + draw(st.floats(-0.02, 0.02, allow_nan=False)),
            -0.12 + draw(st.floats(-0.03, 0.03, allow_nan=False)),
            draw(st.frozensets(st.sampled_from(TAGS), max_size=2)),
            active_from,
            active_to,
        )

    campaigns = []
    for i in range(draw(st.integers(0, 5))):
        c_start = draw(instants(around, around_s))
        campaigns.append(
            Campaign(
                f"camp{draw(st.integers(0, 3))}{i}",
                Decimal(draw(st.sampled_from(["1", "1.5", "2", "3"]))),
                c_start,
                c_start + timedelta(minutes=15 * draw(st.integers(1, 4 * 72))),
                draw(st.frozensets(st.sampled_from(codes), max_size=2)),
                draw(st.frozensets(st.sampled_from(TAGS), max_size=1)),
                draw(st.frozensets(st.sampled_from(AGE_BANDS), max_size=1)),
            )
        )
    game = GameContext(rules, checkpoints, campaigns)

    periods: list[TeamPeriod] = []
    if draw(st.booleans()):
        periods.append(TeamPeriod(None, draw(st.one_of(st.none(), st.integers(1, 5)))))
    for changed_at in sorted(draw(st.sets(instants(around, around_s), max_size=3))):
        periods.append(TeamPeriod(changed_at, draw(st.one_of(st.none(), st.integers(1, 5)))))
    holder = Holder(draw(st.sampled_from([None, *AGE_BANDS])), tuple(periods))

    # a replaced card: the old one is valid until `swap`, the new one from then on
    swap = draw(st.one_of(st.none(), instants(around, around_s)))

    n_taps = draw(st.integers(0, 25))
    keys = [f"k{i:02d}" for i in draw(st.permutations(range(n_taps)))]
    # start near the beginning of the game; some taps drift before or after it
    when = starts_at + timedelta(minutes=draw(st.integers(-120, around_s // 180)))
    gaps = st.one_of(
        st.just(0),
        st.integers(1, 300),
        st.integers(300, 90 * 60),
        st.integers(1, 60).map(lambda m: m * 60),  # whole minutes keep taps on the grid
        st.integers(3500, 3700),
        st.integers(3600, 3 * 3600),
    )
    tap_codes = [*codes, "ZZ"] if draw(st.booleans()) else codes  # ZZ: not a checkpoint
    # every instant where something starts or stops: some taps land exactly on one
    edges = [starts_at, ends_at, *(p.valid_from for p in periods if p.valid_from is not None)]
    edges += [c.starts_at for c in campaigns] + [c.ends_at for c in campaigns]
    edges += [t for cp in checkpoints.values() for t in (cp.active_from, cp.active_to) if t]
    edges += [swap] if swap is not None else []
    taps = []
    for key in keys:
        when += timedelta(seconds=draw(gaps))
        tapped_at = when
        if draw(st.integers(0, 5)) == 0:
            tapped_at = draw(st.sampled_from(edges))
        valid_from = valid_until = None
        if swap is not None:
            new_card = (tapped_at >= swap) != (draw(st.integers(0, 4)) == 0)  # or the wrong one
            valid_from, valid_until = (swap, None) if new_card else (None, swap)
        code = draw(st.sampled_from(tap_codes))
        zone = draw(st.sampled_from([UTC, ZoneInfo("Europe/London")]))
        taps.append(Tap(key, code, tapped_at.astimezone(zone), valid_from, valid_until))
    taps = draw(st.permutations(taps))
    return Scenario(game, holder, list(taps))


# --------------------------------------------------------------------------- naive reference


def reference_score(taps: list[Tap], holder: Holder, game: GameContext) -> list[Outcome]:
    """docs/scoring-rules.md, transcribed literally with no caching or shortcuts."""
    rules = game.rules
    tz = ZoneInfo(rules.timezone)
    anchor: Tap | None = None
    day_points: dict[date, int] = defaultdict(int)
    out = []
    for tap in sorted(taps, key=lambda t: (t.tapped_at, t.checkpoint_code, t.key)):
        t = tap.tapped_at
        local = t.astimezone(tz).date()
        team = None
        for period in holder.team_periods:
            if period.valid_from is None or period.valid_from <= t:
                team = period.team_id
        cp = game.checkpoints.get(tap.checkpoint_code)
        if (
            cp is None
            or not rules.starts_at <= t < rules.ends_at
            or (cp.active_from is not None and t < cp.active_from)
            or (cp.active_to is not None and t >= cp.active_to)
            or (tap.card_valid_from is not None and t < tap.card_valid_from)
            or (tap.card_valid_until is not None and t >= tap.card_valid_until)
        ):
            out.append(Outcome(tap.key, OUT_OF_GAME, 0, 0.0, Decimal(1), None, team, local, False))
            continue
        kind, pts, dist, mult, camp = JOURNEY_START, 0, 0.0, Decimal(1), None
        if anchor is None or t - anchor.tapped_at > timedelta(minutes=rules.journey_window_minutes):
            kind = JOURNEY_START
        elif anchor.checkpoint_code == tap.checkpoint_code:
            kind = REPEAT
        else:
            a = game.checkpoints[anchor.checkpoint_code]
            d = haversine_m(a.lat, a.lon, cp.lat, cp.lon)
            seconds = (t - anchor.tapped_at).total_seconds()
            if seconds == 0 or d / seconds * 3.6 > rules.max_speed_kmh:
                kind = TOO_FAST
            else:
                matching = [
                    c
                    for c in game.campaigns
                    if c.starts_at <= t < c.ends_at
                    and (
                        (not c.checkpoint_codes and not c.checkpoint_tags)
                        or cp.code in c.checkpoint_codes
                        or bool(cp.tags & c.checkpoint_tags)
                    )
                    and (not c.age_bands or holder.age_band in c.age_bands)
                ]
                if matching:
                    best = min(matching, key=lambda c: (-c.multiplier, c.code))
                    mult, camp = best.multiplier, best.code
                raw = (Decimal(rules.points_per_leg) * mult).quantize(
                    Decimal(1), rounding=ROUND_HALF_UP
                )
                pts = int(raw)
                kind, dist = LEG, d
                if rules.max_points_per_day is not None and pts > 0:
                    left = rules.max_points_per_day - day_points[local]
                    if pts > left:
                        pts = max(left, 0)
                        if pts == 0:
                            kind, dist = CAPPED, 0.0
                day_points[local] += pts
        out.append(Outcome(tap.key, kind, pts, dist, mult, camp, team, local, True))
        anchor = tap
    return out


# --------------------------------------------------------------------------- properties


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_independent_of_input_order(scenario: Scenario, rnd: random.Random) -> None:
    expected = score_holder(scenario.taps, scenario.holder, scenario.game)
    for _ in range(3):
        shuffled = list(scenario.taps)
        rnd.shuffle(shuffled)
        assert score_holder(shuffled, scenario.holder, scenario.game) == expected
    assert score_holder(reversed(scenario.taps), scenario.holder, scenario.game) == expected


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_resume_from_any_split_point_matches_full_scoring(
    scenario: Scenario, rnd: random.Random
) -> None:
    game, holder = scenario.game, scenario.holder
    ordered = sorted(scenario.taps, key=sort_key)
    full = score_holder(ordered, holder, game)
    for k in range(len(ordered) + 1):
        state = state_before(list(zip(ordered[:k], full[:k], strict=True)))
        rest = ordered[k:]
        rnd.shuffle(rest)
        outcomes, final = score_from(state, rest, holder, game)
        assert outcomes == full[k:]
        assert resume(state, rest, holder, game) == full[k:]
        assert final == state_before(list(zip(ordered, full, strict=True)))


@PROPERTY_SETTINGS
@given(scenarios())
def test_daily_points_never_exceed_the_cap(scenario: Scenario) -> None:
    outcomes = score_holder(scenario.taps, scenario.holder, scenario.game)
    cap = scenario.game.rules.max_points_per_day
    per_day: dict[date, int] = defaultdict(int)
    for o in outcomes:
        per_day[o.local_date] += o.points
        if o.outcome == CAPPED:
            assert cap is not None
    if cap is not None:
        assert all(total <= cap for total in per_day.values())


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_tap_gets_exactly_one_well_formed_outcome(scenario: Scenario) -> None:
    game = scenario.game
    outcomes = score_holder(scenario.taps, scenario.holder, game)
    assert len(outcomes) == len(scenario.taps)
    assert [o.key for o in outcomes] == [t.key for t in sorted(scenario.taps, key=sort_key)]
    for tap, o in zip(sorted(scenario.taps, key=sort_key), outcomes, strict=True):
        assert type(o) is Outcome
        assert o.outcome in OUTCOMES
        assert o.counted == (o.outcome != OUT_OF_GAME)
        assert o.local_date == tap.tapped_at.astimezone(game.tz).date()
        assert o.team_id == scenario.holder.team_at(tap.tapped_at)
        assert o.points >= 0
        if o.outcome != LEG:
            assert o.points == 0
            assert o.distance_m == 0.0
        if o.outcome not in (LEG, CAPPED):
            assert o.multiplier == 1
            assert o.campaign_code is None
        if o.campaign_code is None:
            assert o.multiplier == 1


@PROPERTY_SETTINGS
@given(scenarios())
def test_matches_the_naive_reference(scenario: Scenario) -> None:
    expected = reference_score(scenario.taps, scenario.holder, scenario.game)
    assert score_holder(scenario.taps, scenario.holder, scenario.game) == expected
