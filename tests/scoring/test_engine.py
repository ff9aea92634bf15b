"""Unit tests for the pure scoring engine (scoring/engine.py) against docs/scoring-rules.md."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kernel.geodesy import EARTH_RADIUS_M, haversine_m
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
    Anchor,
    Campaign,
    Checkpoint,
    GameContext,
    Holder,
    Outcome,
    Rules,
    ScoringState,
    Tap,
    TeamPeriod,
    resume,
    round_half_up,
    score_from,
    score_holder,
    sort_key,
    speed_kmh,
    state_before,
)

LONDON = ZoneInfo("Europe/London")
DAY = date(2025, 6, 2)  # a Monday in British Summer Time
LAT0, LON0 = 51.5, -0.12


def destination(
    lat: float, lon: float, bearing_deg: float, distance_m: float
) -> tuple[float, float]:
    """The point ``distance_m`` from (lat, lon) along ``bearing_deg`` on the engine's sphere."""
    phi1, lam1 = math.radians(lat), math.radians(lon)
    theta, delta = math.radians(bearing_deg), distance_m / EARTH_RADIUS_M
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lam2)


# A, B, C: an equilateral triangle with 800 m sides; P is 800 m west of A, in a park.
_B = destination(LAT0, LON0, 90.0, 800.0)
_C = destination(LAT0, LON0, 30.0, 800.0)
_P = destination(LAT0, LON0, 270.0, 800.0)
TOWN: dict[str, Checkpoint] = {
    "A": Checkpoint("A", LAT0, LON0),
    "B": Checkpoint("B", *_B),
    "C": Checkpoint("C", *_C, tags=frozenset({"school"})),
    "P": Checkpoint("P", *_P, tags=frozenset({"park"})),
}


def at(hh: int, mm: int, ss: int = 0, day: date = DAY, us: int = 0) -> datetime:
    """A London wall-clock time on ``day``."""
    return datetime(day.year, day.month, day.day, hh, mm, ss, us, tzinfo=LONDON)


def make_game(
    campaigns: tuple[Campaign, ...] = (),
    checkpoints: dict[str, Checkpoint] | None = None,
    **settings: object,
) -> GameContext:
    rules = Rules(
        starts_at=datetime(2025, 6, 1, tzinfo=LONDON),
        ends_at=datetime(2025, 7, 1, tzinfo=LONDON),
        **settings,  # type: ignore[arg-type]
    )
    return GameContext(rules, TOWN if checkpoints is None else checkpoints, campaigns)


def make_taps(*visits: tuple[str, datetime]) -> list[Tap]:
    return [Tap(f"t{i}", code, when) for i, (code, when) in enumerate(visits)]


def kinds(outcomes: list[Outcome]) -> list[str]:
    return [o.outcome for o in outcomes]


def points(outcomes: list[Outcome]) -> list[int]:
    return [o.points for o in outcomes]


GAME = make_game()
NOBODY = Holder()


def campaign(
    code: str,
    multiplier: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    **selectors: frozenset[str],
) -> Campaign:
    return Campaign(
        code,
        Decimal(multiplier),
        at(0, 0) if starts_at is None else starts_at,
        at(0, 0, day=DAY + timedelta(days=1)) if ends_at is None else ends_at,
        **selectors,
    )


# --------------------------------------------------------------------------- geometry


def test_town_geometry_is_800m() -> None:
    for a, b in [("A", "B"), ("B", "C"), ("A", "C"), ("A", "P")]:
        assert GAME.distance_m(a, b) == pytest.approx(800.0, abs=1.0)
        assert GAME.distance_m(a, b) == GAME.distance_m(b, a)


def test_haversine_known_values() -> None:
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(EARTH_RADIUS_M * math.pi / 180)
    assert haversine_m(51.5, -0.1, 51.5, -0.1) == 0.0
    assert haversine_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(EARTH_RADIUS_M * math.pi)
    # London -> Paris, roughly 343.5 km
    assert haversine_m(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343_500, rel=0.005)


def test_round_half_up() -> None:
    assert round_half_up(Decimal("12.5")) == 13
    assert round_half_up(Decimal("10.5")) == 11
    assert round_half_up(Decimal("0.5")) == 1
    assert round_half_up(Decimal("1.49")) == 1
    assert round_half_up(Decimal("2.51")) == 3
    assert round_half_up(Decimal("15")) == 15
    assert round_half_up(Decimal("0")) == 0


def test_outcome_names() -> None:
    assert OUTCOMES == ("out_of_game", "journey_start", "repeat", "too_fast", "leg", "capped")


# --------------------------------------------------------------------------- worked examples


def test_example_1_three_legs_of_a_journey() -> None:
    result = score_holder(
        make_taps(("A", at(8, 0)), ("B", at(8, 15)), ("C", at(8, 40))), NOBODY, GAME
    )
    assert kinds(result) == [JOURNEY_START, LEG, LEG]
    assert points(result) == [0, 10, 10]
    assert sum(points(result)) == 20
    assert sum(o.distance_m for o in result) == pytest.approx(1600.0, abs=2.0)
    assert result[0].distance_m == 0.0


def test_example_2_repeat() -> None:
    result = score_holder(
        make_taps(("A", at(8, 0)), ("A", at(8, 1)), ("B", at(8, 20))), NOBODY, GAME
    )
    assert kinds(result) == [JOURNEY_START, REPEAT, LEG]
    assert sum(points(result)) == 10
    assert result[1].distance_m == 0.0


def test_example_3_exactly_sixty_minutes_is_a_leg() -> None:
    result = score_holder(make_taps(("A", at(8, 0)), ("B", at(9, 0))), NOBODY, GAME)
    assert kinds(result) == [JOURNEY_START, LEG]
    assert sum(points(result)) == 10


def test_example_4_more_than_sixty_minutes_starts_a_new_journey() -> None:
    result = score_holder(make_taps(("A", at(8, 0)), ("B", at(9, 1))), NOBODY, GAME)
    assert kinds(result) == [JOURNEY_START, JOURNEY_START]
    assert sum(points(result)) == 0


def test_example_5_too_fast_then_leg_from_the_too_fast_tap() -> None:
    taps = make_taps(("A", at(8, 0)), ("B", at(8, 1)))
    result = score_holder(taps, NOBODY, GAME)
    assert kinds(result) == [JOURNEY_START, TOO_FAST]
    assert sum(points(result)) == 0
    assert speed_kmh(GAME.distance_m("A", "B"), 60.0) == pytest.approx(48.0, abs=0.1)
    taps.append(Tap("t2", "C", at(8, 20)))
    result = score_holder(taps, NOBODY, GAME)
    assert kinds(result) == [JOURNEY_START, TOO_FAST, LEG]
    assert sum(points(result)) == 10
    assert result[2].distance_m == pytest.approx(800.0, abs=1.0)  # measured from B


def test_example_6_park_campaign_applies_where_the_leg_ends() -> None:
    game = make_game((campaign("PARKx2", "2", checkpoint_tags=frozenset({"park"})),))
    first = score_holder(make_taps(("A", at(8, 0)), ("P", at(8, 12))), NOBODY, game)
    assert kinds(first) == [JOURNEY_START, LEG]
    assert sum(points(first)) == 20
    assert first[1].multiplier == Decimal(2)
    assert first[1].campaign_code == "PARKx2"
    second = score_holder(make_taps(("P", at(8, 12)), ("A", at(8, 30))), NOBODY, game)
    assert kinds(second) == [JOURNEY_START, LEG]
    assert sum(points(second)) == 10
    assert second[1].multiplier == Decimal(1)
    assert second[1].campaign_code is None


def test_example_7_late_arrival_is_slotted_into_place() -> None:
    b = Tap("R-B/1", "B", at(8, 15))
    a = Tap("R-A/1", "A", at(8, 0))
    # box B uploads first: B alone is the start of a journey
    assert kinds(score_holder([b], NOBODY, GAME)) == [JOURNEY_START]
    # box A uploads an hour later: re-deriving gives example 1's first two taps
    result = score_holder([b, a], NOBODY, GAME)
    assert [o.key for o in result] == ["R-A/1", "R-B/1"]
    assert kinds(result) == [JOURNEY_START, LEG]
    assert sum(points(result)) == 10
    assert result == score_holder([a, b], NOBODY, GAME)


def test_example_8_daily_cap() -> None:
    game = make_game(max_points_per_day=25)
    taps = make_taps(
        ("A", at(8, 0)),
        ("B", at(8, 15)),
        ("C", at(8, 30)),
        ("A", at(8, 45)),
        ("B", at(9, 0)),
    )
    result = score_holder(taps, NOBODY, game)
    assert kinds(result) == [JOURNEY_START, LEG, LEG, LEG, CAPPED]
    assert points(result) == [0, 10, 10, 5, 0]
    assert result[3].distance_m == pytest.approx(800.0, abs=1.0)
    assert result[4].distance_m == 0.0


# --------------------------------------------------------------------------- ordering


def test_sort_key_is_time_then_checkpoint_then_key() -> None:
    tap = Tap("k", "A", at(8, 0))
    assert sort_key(tap) == (at(8, 0), "A", "k")
    taps = [
        Tap("z", "B", at(8, 0)),
        Tap("b", "A", at(8, 0)),
        Tap("a", "A", at(8, 0)),
        Tap("c", "A", at(7, 59)),
    ]
    assert [t.key for t in sorted(taps, key=sort_key)] == ["c", "a", "b", "z"]
    result = score_holder(taps, NOBODY, GAME)
    assert [o.key for o in result] == ["c", "a", "b", "z"]
    # A 07:59 start, A 08:00 repeat, A 08:00 repeat (0 s, same box), B 08:00 too fast (0 s)
    assert kinds(result) == [JOURNEY_START, REPEAT, REPEAT, TOO_FAST]


def test_tie_break_by_checkpoint_code_decides_the_anchor() -> None:
    # same instant at C and B: B sorts first, so C is the too_fast tap and becomes the anchor
    taps = [Tap("1", "C", at(8, 0)), Tap("2", "B", at(8, 0)), Tap("3", "C", at(8, 20))]
    result = score_holder(taps, NOBODY, GAME)
    assert [o.key for o in result] == ["2", "1", "3"]
    assert kinds(result) == [JOURNEY_START, TOO_FAST, REPEAT]


def test_ordering_uses_instants_not_wall_clock() -> None:
    # 08:10 London (BST) is 07:10 UTC, which is before 07:30 UTC
    taps = [Tap("utc", "B", datetime(2025, 6, 2, 7, 30, tzinfo=UTC)), Tap("ldn", "A", at(8, 10))]
    result = score_holder(taps, NOBODY, GAME)
    assert [o.key for o in result] == ["ldn", "utc"]
    assert kinds(result) == [JOURNEY_START, LEG]


# --------------------------------------------------------------------------- window and speed


def test_window_is_inclusive_to_the_microsecond() -> None:
    exact = score_holder(make_taps(("A", at(8, 0)), ("B", at(9, 0))), NOBODY, GAME)
    assert kinds(exact) == [JOURNEY_START, LEG]
    late = score_holder(make_taps(("A", at(8, 0)), ("B", at(9, 0, us=1))), NOBODY, GAME)
    assert kinds(late) == [JOURNEY_START, JOURNEY_START]


def test_repeat_restarts_the_clock() -> None:
    taps = make_taps(("A", at(8, 0)), ("A", at(9, 0)), ("A", at(9, 50)), ("B", at(10, 40)))
    result = score_holder(taps, NOBODY, GAME)
    assert kinds(result) == [JOURNEY_START, REPEAT, REPEAT, LEG]
    assert result[3].points == 10
    late_repeat = score_holder(make_taps(("A", at(8, 0)), ("A", at(9, 0, us=1))), NOBODY, GAME)
    assert kinds(late_repeat) == [JOURNEY_START, JOURNEY_START]


def test_custom_window() -> None:
    game = make_game(journey_window_minutes=30)
    assert kinds(score_holder(make_taps(("A", at(8, 0)), ("B", at(8, 30))), NOBODY, game)) == [
        JOURNEY_START,
        LEG,
    ]
    assert kinds(score_holder(make_taps(("A", at(8, 0)), ("B", at(8, 31))), NOBODY, game)) == [
        JOURNEY_START,
        JOURNEY_START,
    ]


def test_speed_exactly_at_the_limit_is_a_leg() -> None:
    gap = 115.0  # 800 m in 115 s is about 25.04 km/h
    limit = speed_kmh(GAME.distance_m("A", "B"), gap)
    game = make_game(max_speed_kmh=limit)
    start = at(8, 0)
    on_limit = score_holder(
        [Tap("1", "A", start), Tap("2", "B", start + timedelta(seconds=gap))], NOBODY, game
    )
    assert kinds(on_limit) == [JOURNEY_START, LEG]
    just_over = score_holder(
        [Tap("1", "A", start), Tap("2", "B", start + timedelta(seconds=gap, microseconds=-1))],
        NOBODY,
        game,
    )
    assert kinds(just_over) == [JOURNEY_START, TOO_FAST]


def test_default_speed_limit_boundary() -> None:
    # 800 m at 25 km/h takes 115.2 s
    start = at(8, 0)
    slow = score_holder(
        [Tap("1", "A", start), Tap("2", "B", start + timedelta(seconds=116))], NOBODY, GAME
    )
    fast = score_holder(
        [Tap("1", "A", start), Tap("2", "B", start + timedelta(seconds=115))], NOBODY, GAME
    )
    assert kinds(slow) == [JOURNEY_START, LEG]
    assert kinds(fast) == [JOURNEY_START, TOO_FAST]
    assert fast[1].distance_m == 0.0


def test_zero_second_gap_to_another_checkpoint_is_too_fast_even_at_zero_distance() -> None:
    twins = {
        "A": Checkpoint("A", LAT0, LON0),
        "A2": Checkpoint("A2", LAT0, LON0),
    }
    game = make_game(checkpoints=twins)
    same_time = score_holder(make_taps(("A", at(8, 0)), ("A2", at(8, 0))), NOBODY, game)
    assert kinds(same_time) == [JOURNEY_START, TOO_FAST]
    later = score_holder(make_taps(("A", at(8, 0)), ("A2", at(8, 0, 1))), NOBODY, game)
    assert kinds(later) == [JOURNEY_START, LEG]
    assert later[1].distance_m == 0.0


def test_too_fast_becomes_the_anchor() -> None:
    # A 08:00, B 08:01 too fast, then A 08:20: measured from B, so it is a leg of 800 m
    result = score_holder(
        make_taps(("A", at(8, 0)), ("B", at(8, 1)), ("A", at(8, 20))), NOBODY, GAME
    )
    assert kinds(result) == [JOURNEY_START, TOO_FAST, LEG]


# --------------------------------------------------------------------------- multipliers


def test_multipliers_take_the_max_not_the_product() -> None:
    game = make_game(
        (
            campaign("DOUBLE", "2"),
            campaign("TRIPLE", "3", checkpoint_codes=frozenset({"B"})),
            campaign("HALF", "1.5", checkpoint_tags=frozenset({"school"})),
        )
    )
    result = score_holder(
        make_taps(("A", at(8, 0)), ("B", at(8, 15)), ("C", at(8, 30))), NOBODY, game
    )
    assert points(result) == [0, 30, 20]
    assert [o.campaign_code for o in result] == [None, "TRIPLE", "DOUBLE"]
    assert [o.multiplier for o in result] == [Decimal(1), Decimal(3), Decimal(2)]


def test_equal_multipliers_tie_break_by_campaign_code() -> None:
    game = make_game((campaign("ZED", "2"), campaign("ALPHA", "2"), campaign("MID", "2")))
    result = score_holder(make_taps(("A", at(8, 0)), ("B", at(8, 15))), NOBODY, game)
    assert result[1].campaign_code == "ALPHA"
    assert result[1].points == 20


def test_a_matching_campaign_below_one_still_applies() -> None:
    game = make_game((campaign("QUIET", "0.5"),))
    result = score_holder(make_taps(("A", at(8, 0)), ("B", at(8, 15))), NOBODY, game)
    assert result[1].points == 5
    assert result[1].campaign_code == "QUIET"


@pytest.mark.parametrize(
    ("multiplier", "expected"),
    [("1", 10), ("1.25", 13), ("1.05", 11), ("1.04", 10), ("1.5", 15), ("2", 20), ("3", 30)],
)
def test_points_are_rounded_half_up(multiplier: str, expected: int) -> None:
    game = make_game((campaign("X", multiplier),))
    result = score_holder(make_taps(("A", at(8, 0)), ("B", at(8, 15))), NOBODY, game)
    assert result[1].points == expected
    assert result[1].multiplier == Decimal(multiplier)


def test_campaign_selectors_codes_or_tags() -> None:
    game = make_game(
        (
            campaign(
                "SEL",
                "2",
                checkpoint_codes=frozenset({"B"}),
                checkpoint_tags=frozenset({"park"}),
            ),
        )
    )
    taps = make_taps(("A", at(8, 0)), ("B", at(8, 15)), ("C", at(8, 30)), ("A", at(8, 45)))
    taps += [Tap("p", "P", at(9, 0))]
    result = score_holder(taps, NOBODY, game)
    assert points(result) == [0, 20, 10, 10, 20]
    assert [o.campaign_code for o in result] == [None, "SEL", None, None, "SEL"]


def test_campaign_window_is_half_open() -> None:
    game = make_game((campaign("MORNING", "2", starts_at=at(8, 15), ends_at=at(8, 45)),))

    def leg_points(leg_at: datetime) -> int:
        taps = [Tap("1", "A", leg_at - timedelta(minutes=15)), Tap("2", "B", leg_at)]
        return score_holder(taps, NOBODY, game)[1].points

    assert leg_points(at(8, 14, 59)) == 10
    assert leg_points(at(8, 15)) == 20
    assert leg_points(at(8, 44, 59)) == 20
    assert leg_points(at(8, 45)) == 10


def test_campaign_time_is_the_leg_tap_time_not_the_anchor() -> None:
    game = make_game((campaign("LATE", "2", starts_at=at(8, 10)),))
    result = score_holder(make_taps(("A", at(8, 0)), ("B", at(8, 15))), NOBODY, game)
    assert result[1].points == 20


def test_age_band_campaigns() -> None:
    game = make_game(
        (
            campaign("KIDS", "2", age_bands=frozenset({"u12"})),
            campaign("TEENS", "3", age_bands=frozenset({"13-17"})),
        )
    )
    taps = make_taps(("A", at(8, 0)), ("B", at(8, 15)))
    assert score_holder(taps, Holder("u12"), game)[1].points == 20
    assert score_holder(taps, Holder("13-17"), game)[1].points == 30
    adult = score_holder(taps, Holder("adult"), game)[1]
    assert (adult.points, adult.campaign_code, adult.multiplier) == (10, None, Decimal(1))
    assert score_holder(taps, Holder(None), game)[1].points == 10


def test_unregistered_holder_only_matches_open_campaigns() -> None:
    game = make_game(
        (
            campaign("EVERYONE", "1.5"),
            campaign("KIDS", "3", age_bands=frozenset({"u12"})),
        )
    )
    taps = make_taps(("A", at(8, 0)), ("B", at(8, 15)))
    unregistered = score_holder(taps, Holder(age_band=None), game)[1]
    assert (unregistered.points, unregistered.campaign_code) == (15, "EVERYONE")
    kid = score_holder(taps, Holder(age_band="u12"), game)[1]
    assert (kid.points, kid.campaign_code) == (30, "KIDS")


def test_non_leg_outcomes_carry_no_campaign() -> None:
    game = make_game((campaign("ALL", "2"),))
    taps = make_taps(("A", at(8, 0)), ("A", at(8, 1)), ("B", at(8, 2)), ("C", at(10, 0)))
    for o in score_holder(taps, NOBODY, game):
        assert o.outcome != LEG
        assert (o.points, o.multiplier, o.campaign_code, o.distance_m) == (0, 1, None, 0.0)


# --------------------------------------------------------------------------- daily cap


def test_daily_cap_uses_the_local_day() -> None:
    game = make_game(max_points_per_day=10)
    utc = datetime(2025, 6, 2, tzinfo=UTC)
    taps = [
        Tap("1", "A", utc.replace(hour=21, minute=50)),  # 22:50 BST, 2 June
        Tap("2", "B", utc.replace(hour=22, minute=0)),  # 23:00 BST, 2 June: leg, cap reached
        Tap("3", "C", utc.replace(hour=22, minute=45)),  # 23:45 BST, 2 June: capped
        Tap("4", "A", utc.replace(hour=23, minute=30)),  # 00:30 BST, 3 June: a new local day
    ]
    result = score_holder(taps, NOBODY, game)
    assert kinds(result) == [JOURNEY_START, LEG, CAPPED, LEG]
    assert points(result) == [0, 10, 0, 10]
    assert [o.local_date for o in result] == [DAY, DAY, DAY, DAY + timedelta(days=1)]


def test_daily_cap_cut_records_the_campaign() -> None:
    game = make_game((campaign("ALL", "2"),), max_points_per_day=30)
    taps = make_taps(("A", at(8, 0)), ("B", at(8, 15)), ("C", at(8, 30)), ("A", at(8, 45)))
    result = score_holder(taps, NOBODY, game)
    assert kinds(result) == [JOURNEY_START, LEG, LEG, CAPPED]
    assert points(result) == [0, 20, 10, 0]
    assert result[2].multiplier == Decimal(2)
    assert result[3].campaign_code == "ALL"
    assert result[3].multiplier == Decimal(2)


def test_daily_cap_zero_caps_every_leg() -> None:
    game = make_game(max_points_per_day=0)
    result = score_holder(make_taps(("A", at(8, 0)), ("B", at(8, 15))), NOBODY, game)
    assert kinds(result) == [JOURNEY_START, CAPPED]


def test_daily_cap_resets_next_day() -> None:
    game = make_game(max_points_per_day=10)
    tomorrow = DAY + timedelta(days=1)
    taps = make_taps(
        ("A", at(8, 0)),
        ("B", at(8, 15)),
        ("C", at(8, 30)),
        ("A", at(8, 0, day=tomorrow)),
        ("B", at(8, 15, day=tomorrow)),
        ("C", at(8, 30, day=tomorrow)),
    )
    assert kinds(score_holder(taps, NOBODY, game)) == [
        JOURNEY_START,
        LEG,
        CAPPED,
        JOURNEY_START,
        LEG,
        CAPPED,
    ]


def test_local_date_follows_the_game_timezone() -> None:
    game = GameContext(
        Rules(
            starts_at=datetime(2025, 1, 1, tzinfo=UTC),
            ends_at=datetime(2026, 1, 1, tzinfo=UTC),
            timezone="Pacific/Auckland",
        ),
        TOWN,
        (),
    )
    # 2025-06-02 13:00 UTC is 01:00 on 3 June in New Zealand (NZST, +12)
    [o] = score_holder([Tap("1", "A", datetime(2025, 6, 2, 13, tzinfo=UTC))], NOBODY, game)
    assert o.local_date == date(2025, 6, 3)


def test_local_dates_across_the_clock_changes() -> None:
    game = GameContext(
        Rules(
            starts_at=datetime(2025, 1, 1, tzinfo=UTC),
            ends_at=datetime(2026, 1, 1, tzinfo=UTC),
            max_points_per_day=10,
        ),
        TOWN,
        (),
    )
    times = [
        datetime(2025, 3, 29, 23, 30, tzinfo=UTC),  # 23:30 GMT 29 March
        datetime(2025, 3, 30, 0, 10, tzinfo=UTC),  # 00:10 GMT 30 March (clocks go forward at 1)
        datetime(2025, 3, 30, 0, 50, tzinfo=UTC),
        datetime(2025, 3, 30, 1, 30, tzinfo=UTC),  # 02:30 BST
        datetime(2025, 3, 30, 22, 30, tzinfo=UTC),  # 23:30 BST 30 March
        datetime(2025, 3, 30, 23, 10, tzinfo=UTC),  # 00:10 BST 31 March
        datetime(2025, 10, 26, 0, 30, tzinfo=UTC),  # 01:30 BST 26 October
        datetime(2025, 10, 26, 1, 20, tzinfo=UTC),  # 01:20 GMT 26 October (clocks went back)
        datetime(2025, 10, 26, 23, 59, tzinfo=UTC),  # 23:59 GMT 26 October
        datetime(2025, 10, 27, 0, 0, tzinfo=UTC),  # 00:00 GMT 27 October
    ]
    codes = ["A", "B"] * 5
    result = score_holder(
        [Tap(str(i), code, t) for i, (code, t) in enumerate(zip(codes, times, strict=True))],
        NOBODY,
        game,
    )
    assert [o.local_date for o in result] == [t.astimezone(LONDON).date() for t in times]
    assert kinds(result) == [
        JOURNEY_START,
        LEG,  # 30 March
        CAPPED,
        CAPPED,  # 40 min after the capped tap, still 30 March (02:30 BST)
        JOURNEY_START,
        LEG,  # 31 March
        JOURNEY_START,
        LEG,  # 26 October
        JOURNEY_START,
        TOO_FAST,  # one minute after, 800 m away
    ]


@pytest.mark.parametrize(
    ("zone", "change_at"),
    [
        ("America/Santiago", datetime(2025, 9, 7, 4, tzinfo=UTC)),  # midnight does not exist
        # 00:00 to 00:01 on 7 November, then back to 23:01 on 6 November
        ("America/Goose_Bay", datetime(2010, 11, 7, 3, tzinfo=UTC)),
        ("Europe/London", datetime(2025, 10, 26, 1, tzinfo=UTC)),
        ("Australia/Lord_Howe", datetime(2025, 4, 5, 15, tzinfo=UTC)),  # half-hour change
    ],
)
def test_local_dates_around_unusual_clock_changes(zone: str, change_at: datetime) -> None:
    game = GameContext(
        Rules(
            starts_at=change_at - timedelta(days=2),
            ends_at=change_at + timedelta(days=2),
            timezone=zone,
        ),
        TOWN,
        (),
    )
    seconds = {*range(-26 * 3600, 26 * 3600, 7 * 60), -1, 0, 30, 59, 60, 61, 3599, 3600}
    times = [change_at + timedelta(seconds=s) for s in sorted(seconds)]
    taps = [Tap(f"{i:04d}", "A", t) for i, t in enumerate(times)]
    result = score_holder(taps, NOBODY, game)
    assert [o.local_date for o in result] == [t.astimezone(ZoneInfo(zone)).date() for t in times]


def test_daily_cap_when_the_clocks_go_back_across_midnight() -> None:
    # Goose Bay, 7 November 2010: at 00:01 ADT the clocks went back to 23:01 AST on 6 November
    zone = "America/Goose_Bay"
    change_at = datetime(2010, 11, 7, 3, 1, tzinfo=UTC)
    game = GameContext(
        Rules(
            starts_at=change_at - timedelta(days=2),
            ends_at=change_at + timedelta(days=2),
            timezone=zone,
            max_points_per_day=10,
        ),
        TOWN,
        (),
    )
    taps = [
        Tap("1", "A", datetime(2010, 11, 7, 2, 0, tzinfo=UTC)),  # 23:00 ADT, 6 Nov
        Tap("2", "B", datetime(2010, 11, 7, 2, 30, tzinfo=UTC)),  # 23:30 ADT, 6 Nov: leg
        Tap("3", "C", datetime(2010, 11, 7, 3, 0, 30, tzinfo=UTC)),  # 00:00:30 ADT, 7 Nov: leg
        Tap("4", "A", datetime(2010, 11, 7, 3, 30, tzinfo=UTC)),  # 23:30 AST, 6 Nov: capped
        Tap("5", "B", datetime(2010, 11, 7, 4, 10, tzinfo=UTC)),  # 00:10 AST, 7 Nov: capped
        Tap("6", "C", datetime(2010, 11, 8, 4, 10, tzinfo=UTC)),  # 00:10 AST, 8 Nov: start
        Tap("7", "A", datetime(2010, 11, 8, 4, 30, tzinfo=UTC)),  # leg
    ]
    nov6, nov7, nov8 = date(2010, 11, 6), date(2010, 11, 7), date(2010, 11, 8)
    result = score_holder(taps, NOBODY, game)
    assert [o.local_date for o in result] == [nov6, nov6, nov7, nov6, nov7, nov8, nov8]
    assert kinds(result) == [JOURNEY_START, LEG, LEG, CAPPED, CAPPED, JOURNEY_START, LEG]
    for k in range(len(taps) + 1):
        state = state_before(list(zip(taps[:k], result[:k], strict=True)))
        assert resume(state, taps[k:], NOBODY, game) == result[k:]
    assert state_before(list(zip(taps[:4], result[:4], strict=True))) == ScoringState(
        Anchor("A", taps[3].tapped_at), nov6, 10, nov7, 10
    )


# --------------------------------------------------------------------------- out of game


def test_out_of_game_outside_the_period_and_not_an_anchor() -> None:
    game = GameContext(Rules(starts_at=at(8, 0), ends_at=at(9, 0)), TOWN, ())
    taps = make_taps(
        ("A", at(7, 59, 59)),
        ("B", at(8, 0)),
        ("C", at(8, 20)),
        ("A", at(9, 0)),
    )
    result = score_holder(taps, NOBODY, game)
    assert kinds(result) == [OUT_OF_GAME, JOURNEY_START, LEG, OUT_OF_GAME]
    assert [o.counted for o in result] == [False, True, True, False]


def test_out_of_game_does_not_become_the_anchor() -> None:
    game = GameContext(Rules(starts_at=at(8, 0), ends_at=at(9, 0)), TOWN, ())
    result = score_holder(make_taps(("B", at(7, 50)), ("B", at(8, 10))), NOBODY, game)
    assert kinds(result) == [OUT_OF_GAME, JOURNEY_START]


def test_inactive_checkpoint() -> None:
    mobile = Checkpoint("M", *_C, active_from=at(9, 0), active_to=at(10, 0))
    game = make_game(checkpoints={**TOWN, "M": mobile})
    taps = make_taps(
        ("A", at(8, 40)),
        ("M", at(8, 59)),  # not yet active
        ("B", at(9, 0)),  # leg from A (800 m in 20 min): the inactive tap is not the anchor
        ("M", at(9, 15)),  # active
        ("A", at(9, 30)),
        ("M", at(10, 0)),  # no longer active
    )
    result = score_holder(taps, NOBODY, game)
    assert kinds(result) == [JOURNEY_START, OUT_OF_GAME, LEG, LEG, LEG, OUT_OF_GAME]
    assert result[1].points == 0 and result[1].distance_m == 0.0 and not result[1].counted


def test_unknown_checkpoint_is_out_of_game() -> None:
    result = score_holder(
        make_taps(("A", at(8, 0)), ("NOPE", at(8, 10)), ("B", at(8, 20))), NOBODY, GAME
    )
    assert kinds(result) == [JOURNEY_START, OUT_OF_GAME, LEG]


def test_card_validity_window() -> None:
    valid_from, valid_until = at(8, 0), at(9, 0)
    taps = [
        Tap(str(i), code, when, valid_from, valid_until)
        for i, (code, when) in enumerate(
            [("A", at(7, 59)), ("B", at(8, 0)), ("C", at(8, 30)), ("A", at(9, 0))]
        )
    ]
    result = score_holder(taps, NOBODY, GAME)
    assert kinds(result) == [OUT_OF_GAME, JOURNEY_START, LEG, OUT_OF_GAME]


def test_card_validity_per_card_for_a_holder_with_a_replaced_card() -> None:
    swap = at(8, 30)
    old = [Tap("old1", "A", at(8, 0), None, swap), Tap("old2", "B", at(8, 40), None, swap)]
    new = [Tap("new1", "C", at(8, 20), swap, None), Tap("new2", "C", at(8, 45), swap, None)]
    result = score_holder(old + new, NOBODY, GAME)
    assert [o.key for o in result] == ["old1", "new1", "old2", "new2"]
    # the new card's 08:20 tap precedes its validity; old card's 08:40 tap follows its end
    assert kinds(result) == [JOURNEY_START, OUT_OF_GAME, OUT_OF_GAME, LEG]


# --------------------------------------------------------------------------- teams


def test_team_attribution_follows_team_periods() -> None:
    holder = Holder(
        "adult",
        (
            TeamPeriod(None, 1),
            TeamPeriod(at(8, 20), 2),
            TeamPeriod(at(8, 40), None),
            TeamPeriod(at(9, 0), 3),
        ),
    )
    taps = make_taps(
        ("A", at(8, 0)),
        ("B", at(8, 19, 59)),
        ("C", at(8, 20)),
        ("A", at(8, 40)),
        ("B", at(9, 0)),
        ("ZZZ", at(9, 30)),  # out of game: still attributed
    )
    assert [o.team_id for o in score_holder(taps, holder, GAME)] == [1, 1, 2, None, 3, 3]
    assert [holder.team_at(t.tapped_at) for t in taps] == [1, 1, 2, None, 3, 3]


def test_team_before_the_first_period_is_none_and_periods_are_sorted() -> None:
    holder = Holder(None, (TeamPeriod(at(9, 0), 7), TeamPeriod(at(8, 30), 5)))
    taps = make_taps(("A", at(8, 0)), ("B", at(8, 30)), ("C", at(9, 0)))
    assert [o.team_id for o in score_holder(taps, holder, GAME)] == [None, 5, 7]


def test_no_team() -> None:
    assert [o.team_id for o in score_holder(make_taps(("A", at(8, 0))), NOBODY, GAME)] == [None]
    holder = Holder(None, (TeamPeriod(None, 4),))
    assert [o.team_id for o in score_holder(make_taps(("A", at(8, 0))), holder, GAME)] == [4]


# --------------------------------------------------------------------------- resume


def test_resume_continues_from_the_state() -> None:
    game = make_game(max_points_per_day=25)
    taps = make_taps(
        ("A", at(8, 0)),
        ("B", at(8, 15)),
        ("Q", at(8, 20)),  # unknown: out of game, not the anchor
        ("C", at(8, 30)),
        ("A", at(8, 45)),
        ("B", at(9, 0)),
    )
    full = score_holder(taps, NOBODY, game)
    assert kinds(full) == [JOURNEY_START, LEG, OUT_OF_GAME, LEG, LEG, CAPPED]
    state = state_before(list(zip(taps[:3], full[:3], strict=True)))
    assert state == ScoringState(Anchor("B", at(8, 15)), DAY, 10, None, 0)
    assert resume(state, taps[3:], NOBODY, game) == full[3:]
    outcomes, final = score_from(state, taps[3:], NOBODY, game)
    assert outcomes == full[3:]
    assert final == ScoringState(Anchor("B", at(9, 0)), DAY, 25, None, 0)
    assert final == state_before(list(zip(taps, full, strict=True)))


def test_state_before_nothing_is_the_initial_state() -> None:
    assert state_before([]) == ScoringState()
    assert resume(ScoringState(), [], NOBODY, GAME) == []
    assert score_from(ScoringState(), [], NOBODY, GAME) == ([], ScoringState())


def test_resume_rejects_taps_before_the_anchor() -> None:
    state = ScoringState(Anchor("A", at(9, 0)), DAY, 0)
    with pytest.raises(ValueError, match="precede"):
        resume(state, [Tap("x", "B", at(8, 0))], NOBODY, GAME)
    with pytest.raises(ValueError, match="not in this game"):
        resume(ScoringState(Anchor("GONE", at(9, 0))), [Tap("x", "B", at(9, 5))], NOBODY, GAME)


def test_state_before_rejects_mismatched_pairs() -> None:
    taps = make_taps(("A", at(8, 0)))
    [o] = score_holder(taps, NOBODY, GAME)
    with pytest.raises(ValueError):
        state_before([(Tap("other", "A", at(8, 0)), o)])


# --------------------------------------------------------------------------- outcome shape


def test_outcome_fields() -> None:
    [start, leg] = score_holder(make_taps(("A", at(8, 0)), ("B", at(8, 15))), NOBODY, GAME)
    assert type(leg) is Outcome
    assert leg == Outcome(
        key="t1",
        outcome=LEG,
        points=10,
        distance_m=leg.distance_m,
        multiplier=Decimal(1),
        campaign_code=None,
        team_id=None,
        local_date=DAY,
        counted=True,
    )
    assert leg.distance_m == pytest.approx(800.0, abs=1.0)
    assert start.counted and start.points == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        leg.points = 99  # type: ignore[misc]
    assert hash(leg) == hash(dataclasses.replace(leg))


def test_input_iterables_are_accepted() -> None:
    taps = make_taps(("A", at(8, 0)), ("B", at(8, 15)))
    assert score_holder(iter(taps), NOBODY, GAME) == score_holder(tuple(taps), NOBODY, GAME)


# --------------------------------------------------------------------------- validation


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2025, 6, 2, 8, 0)
    with pytest.raises(ValueError):
        Rules(starts_at=naive, ends_at=at(9, 0))
    with pytest.raises(ValueError):
        Checkpoint("X", 0.0, 0.0, active_from=naive)
    with pytest.raises(ValueError):
        Campaign("X", Decimal(2), naive, at(9, 0))


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(ValueError):
        Rules(starts_at=at(8, 0), ends_at=at(9, 0), max_speed_kmh=0)
    with pytest.raises(ValueError):
        Rules(starts_at=at(8, 0), ends_at=at(9, 0), max_points_per_day=-1)
    with pytest.raises(ValueError):
        Checkpoint("X", 91.0, 0.0)
    with pytest.raises(ValueError):
        Campaign("X", Decimal("-1"), at(8, 0), at(9, 0))
    with pytest.raises(ValueError):
        Campaign("X", Decimal("NaN"), at(8, 0), at(9, 0))
    with pytest.raises(ValueError):
        GameContext(Rules(starts_at=at(8, 0), ends_at=at(9, 0)), {"A": TOWN["B"]}, ())
    with pytest.raises(ValueError):
        GameContext(Rules(starts_at=at(8, 0), ends_at=at(9, 0), timezone="Nowhere/Land"), {}, ())
