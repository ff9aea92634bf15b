"""Pure scoring engine: turns one holder's taps into outcomes and points.

This module implements the scoring contract of ``docs/scoring-rules.md``. It has no I/O,
no clock, no database and no logging: every function is a pure function of its arguments.
(:class:`GameContext` memoises checkpoint distances, campaign selections and local-day
boundaries in private caches; these never change a result, only how fast it is computed.)

Typical use::

    game = GameContext(rules, checkpoints, campaigns)       # once per game
    outcomes = score_holder(taps, holder, game)             # all of a holder's taps

    # incremental: score new taps that sort after everything already scored
    state = state_before(list(zip(old_taps, old_outcomes)))
    new_outcomes = resume(state, new_taps, holder, game)

Conventions:

* All datetimes must be timezone-aware. Periods are half-open ``[from, to)``.
* Taps are walked in :func:`sort_key` order ``(tapped_at, checkpoint_code, key)``.
* Speed is ``distance_m / seconds * 3.6`` km/h (see :func:`speed_kmh`); a tap is ``too_fast``
  when that is strictly greater than ``max_speed_kmh``, or when no time has passed.
* Points are ``points_per_leg × multiplier`` rounded half up (:func:`round_half_up`).
* The daily cap is kept per local day of the game timezone. A clock change that goes back
  across midnight (local date 7, 6, then 7 again) is handled: the state remembers the
  previous local day's points as well as the current one's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kernel.geodesy import haversine_m
from kernel.vocabulary import CAPPED, JOURNEY_START, LEG, OUT_OF_GAME, REPEAT, TOO_FAST

__all__ = [
    "INITIAL_STATE",
    "Anchor",
    "Campaign",
    "Checkpoint",
    "GameContext",
    "Holder",
    "Outcome",
    "Rules",
    "ScoringState",
    "Tap",
    "TeamPeriod",
    "resume",
    "round_half_up",
    "score_from",
    "score_holder",
    "sort_key",
    "speed_kmh",
    "state_before",
]

_ONE = Decimal(1)
_ANCHOR_OUTCOMES = frozenset((JOURNEY_START, REPEAT, TOO_FAST, LEG, CAPPED))
_LEG_OUTCOMES = frozenset((LEG, CAPPED))
# Sentinels for an empty local-day span: ``lo <= t < hi`` is false for every t.
_NO_SPAN_LO = datetime.max.replace(tzinfo=UTC)
_NO_SPAN_HI = datetime.min.replace(tzinfo=UTC)
_NEVER = (_NO_SPAN_LO, _NO_SPAN_HI)  # the active span of an unknown checkpoint
_EPSILON = timedelta(microseconds=1)


# --------------------------------------------------------------------------- helpers


def speed_kmh(distance_m: float, seconds: float) -> float:
    """Average speed in km/h, computed exactly as the engine does (``seconds`` must be > 0)."""
    return distance_m / seconds * 3.6


def round_half_up(value: Decimal) -> int:
    """Round to the nearest integer, halves away from zero (10.5 -> 11, 12.5 -> 13)."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Rules:
    """A game's scoring settings. The game period is ``[starts_at, ends_at)``."""

    starts_at: datetime
    ends_at: datetime
    timezone: str = "Europe/London"
    journey_window_minutes: int = 60
    points_per_leg: int = 10
    max_speed_kmh: float = 25.0
    max_points_per_day: int | None = None

    def __post_init__(self) -> None:
        _require_aware("starts_at", self.starts_at)
        _require_aware("ends_at", self.ends_at)
        if self.journey_window_minutes < 0:
            raise ValueError("journey_window_minutes must be >= 0")
        if self.points_per_leg < 0:
            raise ValueError("points_per_leg must be >= 0")
        if not self.max_speed_kmh > 0:
            raise ValueError("max_speed_kmh must be > 0")
        if self.max_points_per_day is not None and self.max_points_per_day < 0:
            raise ValueError("max_points_per_day must be >= 0 or None")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A box. It accepts taps only while active: ``[active_from, active_to)``, None = open."""

    code: str
    lat: float
    lon: float
    tags: frozenset[str] = frozenset()
    active_from: datetime | None = None
    active_to: datetime | None = None

    def __post_init__(self) -> None:
        if not -90.0 <= self.lat <= 90.0 or not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"checkpoint {self.code}: invalid coordinates")
        _require_aware("active_from", self.active_from)
        _require_aware("active_to", self.active_to)


@dataclass(frozen=True, slots=True)
class Campaign:
    """A points multiplier for legs ending at selected checkpoints in ``[starts_at, ends_at)``.

    Empty ``checkpoint_codes`` and ``checkpoint_tags`` select every checkpoint; otherwise a
    checkpoint matches when its code is listed OR it has one of the tags. Empty ``age_bands``
    means everyone (including unregistered cards, which have no age band).
    """

    code: str
    multiplier: Decimal
    starts_at: datetime
    ends_at: datetime
    checkpoint_codes: frozenset[str] = frozenset()
    checkpoint_tags: frozenset[str] = frozenset()
    age_bands: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _require_aware("starts_at", self.starts_at)
        _require_aware("ends_at", self.ends_at)
        if not isinstance(self.multiplier, Decimal) or not self.multiplier.is_finite():
            raise ValueError(f"campaign {self.code}: multiplier must be a finite Decimal")
        if self.multiplier < 0:
            raise ValueError(f"campaign {self.code}: multiplier must be >= 0")

    def selects(self, checkpoint: Checkpoint) -> bool:
        """Whether this campaign's checkpoint selector matches ``checkpoint``."""
        if not self.checkpoint_codes and not self.checkpoint_tags:
            return True
        return checkpoint.code in self.checkpoint_codes or not self.checkpoint_tags.isdisjoint(
            checkpoint.tags
        )

    def admits(self, age_band: str | None) -> bool:
        """Whether a holder with ``age_band`` (None = unregistered) may benefit."""
        return not self.age_bands or (age_band is not None and age_band in self.age_bands)


# (starts_at UTC, ends_at UTC, points of a leg, multiplier, campaign code)
_CampaignEntry = tuple[datetime, datetime, int, Decimal, str]


@dataclass(frozen=True, slots=True)
class GameContext:
    """Everything about a game the engine needs; build once per game and reuse.

    Precomputes the timezone, each checkpoint's effective active span (intersected with the
    game period), the campaigns sorted by (multiplier desc, code) with their leg points, and
    lazily caches checkpoint distances, per-age-band campaign selections and local days.
    """

    rules: Rules
    checkpoints: Mapping[str, Checkpoint]
    campaigns: Sequence[Campaign]

    tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _window: timedelta = field(init=False, repr=False, compare=False)
    _spans: dict[str, tuple[datetime, datetime]] = field(init=False, repr=False, compare=False)
    _coords: dict[str, tuple[float, float]] = field(init=False, repr=False, compare=False)
    _sorted_campaigns: tuple[tuple[Campaign, _CampaignEntry], ...] = field(
        init=False, repr=False, compare=False
    )
    _distances: dict[tuple[str, str], float] = field(init=False, repr=False, compare=False)
    _by_band: dict[str | None, dict[str, tuple[_CampaignEntry, ...]] | None] = field(
        init=False, repr=False, compare=False
    )
    _days: dict[date, tuple[datetime, datetime]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rules = self.rules
        start = _utc(rules.starts_at)
        end = _utc(rules.ends_at)
        spans: dict[str, tuple[datetime, datetime]] = {}
        coords: dict[str, tuple[float, float]] = {}
        for code, cp in self.checkpoints.items():
            if code != cp.code:
                raise ValueError(f"checkpoint mapping key {code!r} != code {cp.code!r}")
            lo = start if cp.active_from is None else max(start, _utc(cp.active_from))
            hi = end if cp.active_to is None else min(end, _utc(cp.active_to))
            spans[code] = (lo, hi)
            coords[code] = (cp.lat, cp.lon)
        ppl = Decimal(rules.points_per_leg)
        entries = sorted(
            (
                (
                    c,
                    (
                        _utc(c.starts_at),
                        _utc(c.ends_at),
                        round_half_up(ppl * c.multiplier),
                        c.multiplier,
                        c.code,
                    ),
                )
                for c in self.campaigns
            ),
            key=lambda pair: (-pair[0].multiplier, pair[0].code),
        )
        try:
            tz = ZoneInfo(rules.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {rules.timezone!r}") from exc
        init = object.__setattr__
        init(self, "tz", tz)
        init(self, "_window", timedelta(minutes=rules.journey_window_minutes))
        init(self, "_spans", spans)
        init(self, "_coords", coords)
        init(self, "_sorted_campaigns", tuple(entries))
        init(self, "_distances", {})
        init(self, "_by_band", {})
        init(self, "_days", {})

    # -- lookups used by the walk (all memoised, all pure)

    def distance_m(self, code_a: str, code_b: str) -> float:
        """Haversine distance between two of this game's checkpoints (cached, symmetric)."""
        key = (code_a, code_b)
        cached = self._distances.get(key)
        if cached is None:
            first, second = (code_a, code_b) if code_a <= code_b else (code_b, code_a)
            lat1, lon1 = self._coords[first]
            lat2, lon2 = self._coords[second]
            cached = haversine_m(lat1, lon1, lat2, lon2)
            self._distances[key] = cached
            self._distances[(code_b, code_a)] = cached
        return cached

    def campaigns_for(self, age_band: str | None) -> dict[str, tuple[_CampaignEntry, ...]] | None:
        """Per checkpoint code, the campaigns a holder of ``age_band`` could get there, best
        first (multiplier desc, then code). None when no campaign admits that age band."""
        if age_band in self._by_band:
            return self._by_band[age_band]
        admitted = [(c, e) for c, e in self._sorted_campaigns if c.admits(age_band)]
        result: dict[str, tuple[_CampaignEntry, ...]] | None = None
        if admitted:
            result = {}
            for code, cp in self.checkpoints.items():
                chosen = tuple(e for c, e in admitted if c.selects(cp))
                if chosen:
                    result[code] = chosen
        self._by_band[age_band] = result
        return result

    def local_date(self, at: datetime) -> date:
        """``at``'s calendar date in the game timezone."""
        return at.astimezone(self.tz).date()

    def local_day_span(self, at: datetime) -> tuple[datetime, datetime, date]:
        """``(lo, hi, day)``: ``day`` is ``at``'s local date and every instant in ``[lo, hi)``
        has that local date. The span is empty (lo > hi) when it cannot be established."""
        day = at.astimezone(self.tz).date()
        span = self._days.get(day)
        if span is None:
            span = self._days[day] = self._day_bounds(day)
        lo, hi = span
        if lo <= at < hi:
            return lo, hi, day
        return _NO_SPAN_LO, _NO_SPAN_HI, day

    def _day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants where local ``day`` starts and ends, when the UTC offset is the same
        all day; otherwise (a day with a clock change) an empty span, so that each tap's date
        is computed on its own. Only spans we can trust are cached: a clock change can make a
        local date non-contiguous (e.g. going back from 00:01 to 23:01)."""
        tz = self.tz
        try:
            lo = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
            hi = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
            last = hi - _EPSILON
            offset = lo.astimezone(tz).utcoffset()
            if (
                lo < hi
                and lo.astimezone(tz).date() == day
                and last.astimezone(tz).date() == day
                and last.astimezone(tz).utcoffset() == offset
                and (lo + (hi - lo) / 2).astimezone(tz).utcoffset() == offset
            ):
                return lo, hi
        except OverflowError:  # the first or last representable days
            pass
        return _NEVER


@dataclass(frozen=True, slots=True)
class TeamPeriod:
    valid_from: datetime | None  # None = from the beginning of time
    team_id: int | None  # None = no team


@dataclass(frozen=True, slots=True)
class Holder:
    """A registered player or an unregistered card.

    The team at time t is the team of the last period (by ``valid_from``, None first) with
    ``valid_from <= t``; None when there is no such period.
    """

    age_band: str | None = None
    team_periods: tuple[TeamPeriod, ...] = ()

    def team_at(self, at: datetime) -> int | None:
        team: int | None = None
        for period in _sorted_periods(self.team_periods):
            if period.valid_from is None or period.valid_from <= at:
                team = period.team_id
            else:
                break
        return team


def _sorted_periods(periods: tuple[TeamPeriod, ...]) -> tuple[TeamPeriod, ...]:
    if len(periods) < 2:
        return periods
    first = [p for p in periods if p.valid_from is None]
    dated = [p for p in periods if p.valid_from is not None]
    dated.sort(key=attrgetter("valid_from"))  # stable: equal instants keep input order
    return (*first, *dated)


@dataclass(frozen=True, slots=True)
class Tap:
    key: str  # the tap's source key, unique; last tie-breaker
    checkpoint_code: str
    tapped_at: datetime  # aware (corrected time)
    card_valid_from: datetime | None = None  # the card scores only in [from, until)
    card_valid_until: datetime | None = None


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    outcome: str
    points: int
    distance_m: float
    multiplier: Decimal  # Decimal(1) when no campaign applied
    campaign_code: str | None  # the campaign that applied, only for leg / capped
    team_id: int | None  # team the points count for (team at tapped_at)
    local_date: date  # tapped_at's date in the game timezone
    counted: bool  # outcome != "out_of_game"


class _OutcomeBuilder:
    """Fast construction of :class:`Outcome`.

    A frozen dataclass ``__init__`` sets each field through ``object.__setattr__``, which costs
    more than all the scoring logic for a tap. This class has exactly Outcome's slot layout and
    a plain ``__init__``; the scoring loop builds one and retypes it to Outcome (CPython checks
    that the layouts are compatible). The result is an ordinary, immutable Outcome.
    """

    __slots__ = Outcome.__slots__  # type: ignore[attr-defined]

    def __init__(
        self,
        key: str,
        outcome: str,
        points: int,
        distance_m: float,
        multiplier: Decimal,
        campaign_code: str | None,
        team_id: int | None,
        local_date: date,
        counted: bool,
    ) -> None:
        self.key = key
        self.outcome = outcome
        self.points = points
        self.distance_m = distance_m
        self.multiplier = multiplier
        self.campaign_code = campaign_code
        self.team_id = team_id
        self.local_date = local_date
        self.counted = counted


def _check_outcome_builder() -> None:
    args = ("k", LEG, 1, 2.0, _ONE, "c", 3, date(2000, 1, 1), True)
    built: Any = _OutcomeBuilder(*args)
    built.__class__ = Outcome
    if built != Outcome(*args) or type(built) is not Outcome:  # pragma: no cover
        raise RuntimeError("the Outcome fast path is out of sync with the Outcome dataclass")


_check_outcome_builder()


@dataclass(frozen=True, slots=True)
class Anchor:
    """The tap later taps are measured from."""

    checkpoint_code: str
    tapped_at: datetime


@dataclass(frozen=True, slots=True)
class ScoringState:
    """Where a walk over a holder's taps stands: the anchor and the daily-cap counters.

    ``day`` is the local date of the last ``leg``/``capped`` outcome and ``day_points`` the
    points scored on that day (what the daily cap compares against). ``previous_day`` and
    ``previous_day_points`` are the same for the local day before that one, needed only when
    a clock change takes the local date back to it.
    """

    anchor: Anchor | None = None
    day: date | None = None
    day_points: int = 0
    previous_day: date | None = None
    previous_day_points: int = 0


INITIAL_STATE = ScoringState()


# --------------------------------------------------------------------------- scoring

_sort_key = attrgetter("tapped_at", "checkpoint_code", "key")


def sort_key(tap: Tap) -> tuple[datetime, str, str]:
    """The total scoring order: ``(tapped_at, checkpoint_code, key)``."""
    return (tap.tapped_at, tap.checkpoint_code, tap.key)


def score_holder(taps: Iterable[Tap], holder: Holder, game: GameContext) -> list[Outcome]:
    """Score all of a holder's taps; outcomes are returned in :func:`sort_key` order."""
    return score_from(INITIAL_STATE, taps, holder, game)[0]


def resume(
    state: ScoringState, taps: Iterable[Tap], holder: Holder, game: GameContext
) -> list[Outcome]:
    """Score taps that follow (in sort order) the taps summarised by ``state``."""
    return score_from(state, taps, holder, game)[0]


def state_before(prior: Sequence[tuple[Tap, Outcome]]) -> ScoringState:
    """The state after walking already-scored ``(tap, outcome)`` pairs (in sort order)."""
    anchor_tap: Tap | None = None
    day: date | None = None
    day_points = 0
    previous_day: date | None = None
    previous_points = 0
    for tap, result in sorted(prior, key=lambda pair: _sort_key(pair[0])):
        if tap.key != result.key:
            raise ValueError(f"outcome {result.key!r} paired with tap {tap.key!r}")
        kind = result.outcome
        if kind in _ANCHOR_OUTCOMES:
            anchor_tap = tap
            if kind in _LEG_OUTCOMES:
                if result.local_date != day:  # the same bookkeeping as score_from
                    if result.local_date == previous_day:
                        day, previous_day = previous_day, day
                        day_points, previous_points = previous_points, day_points
                    else:
                        previous_day, previous_points = day, day_points
                        day, day_points = result.local_date, 0
                day_points += result.points
        elif kind != OUT_OF_GAME:
            raise ValueError(f"unknown outcome {kind!r}")
    anchor = None
    if anchor_tap is not None:
        anchor = Anchor(anchor_tap.checkpoint_code, anchor_tap.tapped_at)
    return ScoringState(anchor, day, day_points, previous_day, previous_points)


def score_from(
    state: ScoringState, taps: Iterable[Tap], holder: Holder, game: GameContext
) -> tuple[list[Outcome], ScoringState]:
    """Like :func:`resume`, also returning the state after the last tap.

    ``score_from(s, taps, ...)[1] == state_before(prior + list(zip(sorted taps, outcomes)))``
    whenever ``s == state_before(prior)``.
    """
    ordered = sorted(taps, key=_sort_key)
    if not ordered:
        return [], state

    rules = game.rules
    spans = game._spans
    window = game._window
    max_kmh = rules.max_speed_kmh
    points_per_leg = rules.points_per_leg
    cap = rules.max_points_per_day
    distances = game._distances
    distance_m = game.distance_m
    day_span = game.local_day_span
    campaigns = game.campaigns_for(holder.age_band)
    new = _OutcomeBuilder
    outcome_type = Outcome

    anchor = state.anchor
    a_code = ""  # meaningful only while a_time is not None
    a_time: datetime | None = None
    if anchor is not None:
        a_code = anchor.checkpoint_code
        a_time = anchor.tapped_at
        if a_code not in spans:
            raise ValueError(f"state anchor checkpoint {a_code!r} is not in this game")
        if ordered[0].tapped_at < a_time:
            raise ValueError("taps to resume must not precede the state's anchor")
    cur_day = state.day
    used = state.day_points
    prev_day = state.previous_day
    prev_used = state.previous_day_points

    periods = _sorted_periods(holder.team_periods)
    n_periods = len(periods)
    p_idx = -1
    team: int | None = None
    while p_idx + 1 < n_periods and periods[p_idx + 1].valid_from is None:
        p_idx += 1
        team = periods[p_idx].team_id
    next_change = periods[p_idx + 1].valid_from if p_idx + 1 < n_periods else None

    day_lo = _NO_SPAN_LO
    day_hi = _NO_SPAN_HI
    local_day = date.min
    out: list[Outcome] = []
    append = out.append

    for tap in ordered:
        t = tap.tapped_at
        if not day_lo <= t < day_hi:
            day_lo, day_hi, local_day = day_span(t)
        while next_change is not None and t >= next_change:
            p_idx += 1
            team = periods[p_idx].team_id
            next_change = periods[p_idx + 1].valid_from if p_idx + 1 < n_periods else None
        code = tap.checkpoint_code
        active_lo, active_hi = spans.get(code, _NEVER)
        valid_from = tap.card_valid_from
        valid_until = tap.card_valid_until
        if (
            not active_lo <= t < active_hi
            or (valid_from is not None and t < valid_from)
            or (valid_until is not None and t >= valid_until)
        ):
            o: Any = new(tap.key, OUT_OF_GAME, 0, 0.0, _ONE, None, team, local_day, False)
            o.__class__ = outcome_type
            append(o)
            continue  # not an anchor
        if a_time is None or (gap := t - a_time) > window:
            o = new(tap.key, JOURNEY_START, 0, 0.0, _ONE, None, team, local_day, True)
        elif code == a_code:
            o = new(tap.key, REPEAT, 0, 0.0, _ONE, None, team, local_day, True)
        else:
            seconds = gap.total_seconds()
            dist = distances.get((a_code, code))
            if dist is None:
                dist = distance_m(a_code, code)
            if seconds <= 0.0 or dist / seconds * 3.6 > max_kmh:
                o = new(tap.key, TOO_FAST, 0, 0.0, _ONE, None, team, local_day, True)
            else:
                points = points_per_leg
                multiplier = _ONE
                campaign_code: str | None = None
                if campaigns is not None:
                    candidates = campaigns.get(code)
                    if candidates is not None:
                        for c_start, c_end, c_points, c_multiplier, c_code in candidates:
                            if c_start <= t < c_end:
                                points = c_points
                                multiplier = c_multiplier
                                campaign_code = c_code
                                break
                if local_day != cur_day:
                    if local_day == prev_day:  # a clock change went back across midnight
                        cur_day, prev_day = prev_day, cur_day
                        used, prev_used = prev_used, used
                    else:
                        prev_day, prev_used = cur_day, used
                        cur_day, used = local_day, 0
                capped = False
                if cap is not None and points > 0 and points > cap - used:
                    points = cap - used  # cut to what is left of today's cap
                    if points <= 0:
                        points = 0
                        capped = True
                if capped:
                    o = new(
                        tap.key, CAPPED, 0, 0.0, multiplier, campaign_code, team, local_day, True
                    )
                else:
                    used += points
                    o = new(
                        tap.key, LEG, points, dist, multiplier, campaign_code, team, local_day, True
                    )
        o.__class__ = outcome_type
        append(o)
        a_code = code
        a_time = t

    if a_time is not None:
        anchor = Anchor(a_code, a_time)
    return out, ScoringState(anchor, cur_day, used, prev_day, prev_used)
