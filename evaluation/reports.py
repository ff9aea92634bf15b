"""Pure report builder: who took part, what changed, and for whom (by IMD quintile).

Input: :class:`Participant` records (plain dataclasses) and residents per quintile (the IoD
population denominators of the game area's LSOAs), per nation. Output: a JSON-ready ``dict``;
:func:`report_to_csv_rows` flattens it for CSV.

Groups. Quintiles are within one nation (never pooled): a report has one section per nation,
each with groups ``Q1``-``Q5`` (that nation's quintiles, Q1 = most deprived 20%), ``other``
(everyone else: other nations, unknown deprivation, and for uptake players living outside the
game area) and ``total`` (the whole game). Groups Q1-Q5 + other add up to the total.

Disclosure control (:mod:`evaluation.disclosure`) applies to every group below the whole game:
counts 1-7 -> ``"*"``, other counts rounded to 5; percentages from unrounded counts, ``"*"``
when the denominator is under 10 or the numerator/complement is 1-7; means and tests from
fewer than 10 people ``"*"``; secondary suppression across the groups of each measure. The
``total`` group is whole-game level: counts are exact, and only the "fewer than 10 people"
rules apply. Inequality indices are published only when every quintile value they are computed
from is published (otherwise they could give a suppressed value back). ``None`` means "not
applicable" (e.g. no one in the group).

Paired design: for each follow-up wave (2 = game end, 3 = about six months later) against the
baseline (wave 1, registration), only people who answered the item at both waves count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from evaluation import disclosure as dc
from evaluation import stats
from game.instruments import DEFAULT_INSTRUMENTS, LONELINESS_ANSWERS, ONS4_ITEMS

__all__ = [
    "BELONGING_LEVELS",
    "CSV_COLUMNS",
    "GROUPS",
    "NATURE_ITEMS",
    "NATURE_MIN_ITEMS",
    "REPORT_SCHEMA",
    "Participant",
    "ScoreColumns",
    "WaveAnswers",
    "build_report",
    "build_report_from_columns",
    "report_to_csv_rows",
    "score_columns",
]

REPORT_SCHEMA: Final = "taptrail.evaluation.report/1"
BASELINE_WAVE: Final = 1
FOLLOW_UP_WAVES: Final = (2, 3)
QUINTILES: Final = (1, 2, 3, 4, 5)
GROUPS: Final = ("Q1", "Q2", "Q3", "Q4", "Q5", "other")
TOTAL: Final = "total"
INACTIVE_MAX_DAYS: Final = 1
GUIDELINE_MIN_DAYS: Final = 5
#: Community Life Survey answers, weakest to strongest (scored 1-4)
BELONGING_LEVELS: Final = ("not_at_all", "not_very", "fairly", "very")
BELONGS: Final = frozenset({"fairly", "very"})
NATURE_ITEMS: Final = 6
#: a person's nature connection score needs at least this many of the six items answered
NATURE_MIN_ITEMS: Final = 4
#: ONS loneliness answers scored 1 (never) to 5 (often or always): higher = lonelier
LONELINESS_SCORES: Final = {a: 5 - i for i, a in enumerate(LONELINESS_ANSWERS)}

_PCT_DECIMALS: Final = 1
_RATE_DECIMALS: Final = 2
_MEAN_DECIMALS: Final = 2
_SII_DECIMALS: Final = 3


@dataclass(frozen=True, slots=True)
class WaveAnswers:
    """One person's answers at one wave; ``None`` = not answered or "prefer not to say"."""

    activity_days: int | None = None
    belonging: str | None = None
    nature: tuple[int | None, ...] = ()
    life_satisfaction: int | None = None
    worthwhile: int | None = None
    happiness: int | None = None
    anxiety: int | None = None
    loneliness: str | None = None

    def __post_init__(self) -> None:
        for item in ONS4_ITEMS:
            value = getattr(self, item)
            if value is not None and not 0 <= value <= 10:
                raise ValueError(f"{item} is scored 0-10")
        if self.loneliness is not None and self.loneliness not in LONELINESS_SCORES:
            raise ValueError(f"loneliness must be one of {', '.join(LONELINESS_ANSWERS)}")
        if self.activity_days is not None and not 0 <= self.activity_days <= 7:
            raise ValueError("activity_days must be 0-7")
        if self.belonging is not None and self.belonging not in BELONGING_LEVELS:
            raise ValueError(f"belonging must be one of {', '.join(BELONGING_LEVELS)}")
        if len(self.nature) > NATURE_ITEMS:
            raise ValueError(f"at most {NATURE_ITEMS} nature items")
        if any(v is not None and not 1 <= v <= 7 for v in self.nature):
            raise ValueError("nature items are scored 1-7")

    @property
    def belonging_score(self) -> int | None:
        """1 (not at all strongly) to 4 (very strongly)."""
        return None if self.belonging is None else BELONGING_LEVELS.index(self.belonging) + 1

    @property
    def nature_score(self) -> float | None:
        """Mean item score (1-7) of the answered items, if at least 4 of 6 were answered."""
        answered = [v for v in self.nature if v is not None]
        if len(answered) < NATURE_MIN_ITEMS:
            return None
        return sum(answered) / len(answered)

    @property
    def loneliness_score(self) -> int | None:
        """1 (never lonely) to 5 (often or always)."""
        return None if self.loneliness is None else LONELINESS_SCORES[self.loneliness]


@dataclass(frozen=True, slots=True)
class Participant:
    player_id: int
    #: IMD quintile (1 = most deprived) within ``nation``; None when not known
    imd_quintile: int | None
    nation: str | None
    waves: Mapping[int, WaveAnswers] = field(default_factory=dict)
    #: lives in one of the game area's LSOAs (counts towards uptake rates)
    in_area: bool = True

    def __post_init__(self) -> None:
        if self.imd_quintile is not None and self.imd_quintile not in QUINTILES:
            raise ValueError("imd_quintile must be 1-5 or None")

    def answers(self, wave: int) -> WaveAnswers | None:
        return self.waves.get(wave)


# --------------------------------------------------------------------------------------------
# helpers


def _round(value: float | None, decimals: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, decimals)


def _p(value: float | None) -> float | None:
    """A p-value to 4 significant digits (so 1.2e-07 does not print as 0.0)."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.4g}")


class _Metrics:
    """Collects metric -> {group -> value} and turns it into group -> {metric -> value}."""

    def __init__(self) -> None:
        self.by_metric: dict[str, dict[str, Any]] = {}

    def put(self, metric: str, groups: Sequence[Any], total: Any) -> None:
        values = dict(zip(GROUPS, groups, strict=True))
        values[TOTAL] = total
        self.by_metric[metric] = values

    def groups(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {g: {} for g in (*GROUPS, TOTAL)}
        for metric, values in self.by_metric.items():
            for group, value in values.items():
                out[group][metric] = value
        return out


def _counts(m: _Metrics, metric: str, counts: Sequence[int]) -> frozenset[int]:
    protected = dc.protect_counts(counts, total_exact=True)
    m.put(metric, protected.values, protected.total)
    return protected.suppressed


def _total_pct(
    num: int, den: int, scale: float = 100.0, decimals: int = _PCT_DECIMALS
) -> float | str | None:
    return dc.disclose_percentage(
        num, den, decimals=decimals, scale=scale, protect_small_counts=False
    )


def _pcts(
    m: _Metrics,
    metric: str,
    nums: Sequence[int],
    dens: Sequence[int],
    also_hidden: Iterable[int] = (),
) -> set[int]:
    published = dc.protect_percentages(
        nums, dens, also_hidden=frozenset(also_hidden), decimals=_PCT_DECIMALS
    )
    m.put(metric, published, _total_pct(sum(nums), sum(dens)))
    return {i for i, v in enumerate(published) if v == dc.SUPPRESSED}


def _means(
    m: _Metrics,
    prefix: str,
    per_group: Sequence[stats.MeanEstimate],
    total: stats.MeanEstimate,
    *,
    with_ci: bool = True,
    with_p: bool = False,
) -> set[int]:
    values = [e.mean for e in per_group]
    sizes = [e.n for e in per_group]
    published, hidden = dc.protect_statistics(values, sizes, decimals=_MEAN_DECIMALS)
    m.put(prefix, published, dc.disclose_statistic(total.mean, total.n, decimals=_MEAN_DECIMALS))

    def follow(attr: str, fmt: Callable[[float | None], float | None]) -> None:
        group_values = [
            None
            if getattr(e, attr) is None
            else dc.SUPPRESSED
            if i in hidden
            else fmt(getattr(e, attr))
            for i, e in enumerate(per_group)
        ]
        m.put(
            f"{prefix}_{attr}",
            group_values,
            dc.disclose_statistic(fmt(getattr(total, attr)), total.n),
        )

    def mean_fmt(value: float | None) -> float | None:
        return _round(value, _MEAN_DECIMALS)

    if with_ci:
        follow("ci_low", mean_fmt)
        follow("ci_high", mean_fmt)
    if with_p:
        follow("p_value", _p)
    return set(hidden)


def _mcnemar(
    m: _Metrics,
    b: Sequence[int],
    c: Sequence[int],
    n_paired: Sequence[int],
    hidden_counts: frozenset[int],
) -> None:
    groups: list[float | str | None] = []
    for i, (bi, ci, n) in enumerate(zip(b, c, n_paired, strict=True)):
        if n == 0:
            groups.append(None)
        elif n < dc.MIN_PEOPLE or i in hidden_counts:
            groups.append(dc.SUPPRESSED)
        else:
            groups.append(_p(stats.mcnemar_exact(bi, ci).p_value))
    n_total = sum(n_paired)
    total_p = _p(stats.mcnemar_exact(sum(b), sum(c)).p_value) if n_total else None
    m.put("mcnemar_p", groups, dc.disclose_statistic(total_p, n_total))


# Paired analyses run on numpy arrays: one row per participant, NaN = no usable answer. The
# scores are computed once per report (:class:`ScoreColumns`), so a game of 100,000 players with
# three waves takes a fraction of a second; every statistic still gets the same Python floats.

_MEASURES: Final = ("activity", "belonging", "nature", *ONS4_ITEMS, "loneliness")
#: instrument -> the measures (report sections) it gives
INSTRUMENT_MEASURES: Final[dict[str, tuple[str, ...]]] = {
    "activity": ("activity",),
    "belonging": ("belonging",),
    "nature": ("nature",),
    "ons4": ONS4_ITEMS,
    "loneliness": ("loneliness",),
}


def measures_of(instruments: Sequence[str]) -> tuple[str, ...]:
    return tuple(m for i in instruments for m in INSTRUMENT_MEASURES[i])


def _measure_scores(a: WaveAnswers) -> tuple[float, ...]:
    def f(value: float | None) -> float:
        return math.nan if value is None else float(value)

    return (
        f(a.activity_days),
        f(a.belonging_score),
        f(a.nature_score),
        *(f(getattr(a, item)) for item in ONS4_ITEMS),
        f(a.loneliness_score),
    )


@dataclass(frozen=True)
class ScoreColumns:
    """The report's input in columns, one entry per participant (the fast path for big games;
    :func:`score_columns` makes it from :class:`Participant` records).

    ``quintile``: 1-5, 0 = unknown; ``nation``: the nation the quintile is within (object
    array, None = unknown); ``in_area``: lives in the game area; ``values``: for each
    (measure, wave), measure in ``activity`` (days), ``belonging`` (score 1-4), ``nature``
    (mean item score, needs 4 of 6 items), the ONS4 items (0-10) and ``loneliness`` (1-5),
    the participant's score or NaN (no usable answer). ``active_days``: days with at least
    one tap, per participant (None when not known: the implementation block is left out).
    """

    quintile: np.ndarray
    nation: np.ndarray
    in_area: np.ndarray
    values: Mapping[tuple[str, int], np.ndarray]
    active_days: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.quintile)
        if len(self.nation) != n or len(self.in_area) != n:
            raise ValueError("one quintile, nation and in_area per participant")
        if any(len(v) != n for v in self.values.values()):
            raise ValueError("one score per participant in every column")
        if self.active_days is not None and len(self.active_days) != n:
            raise ValueError("one active_days value per participant")
        if n and (self.quintile.min() < 0 or self.quintile.max() > 5):
            raise ValueError("quintiles are 1-5 (0 = unknown)")

    def __len__(self) -> int:
        return len(self.quintile)

    def groups(self, nation: str) -> np.ndarray:
        """Group index (0-4 = Q1-Q5 of ``nation``, 5 = other) of every participant."""
        mine = (self.nation == nation) & (self.quintile > 0)
        return np.where(mine, self.quintile - 1, len(GROUPS) - 1)

    def nations(self) -> set[str]:
        return {str(n) for n in self.nation[self.quintile > 0] if n is not None}


def score_columns(
    people: Sequence[Participant],
    waves: Sequence[int],
    active_days: Mapping[int, int] | None = None,
) -> ScoreColumns:
    """:class:`ScoreColumns` of participant records for the given waves (``active_days``:
    player id -> days with a tap; players not in it had none)."""
    n = len(people)
    columns: dict[tuple[str, int], list[float]] = {
        (m, w): [math.nan] * n for m in _MEASURES for w in waves
    }
    wanted = set(waves)
    quintiles = [0] * n
    nations: list[str | None] = [None] * n
    in_area = [True] * n
    for i, p in enumerate(people):
        quintiles[i] = p.imd_quintile or 0
        nations[i] = p.nation
        in_area[i] = p.in_area
        for wave, answers in p.waves.items():
            if wave not in wanted:
                continue
            for measure, score in zip(_MEASURES, _measure_scores(answers), strict=True):
                columns[(measure, wave)][i] = score
    return ScoreColumns(
        quintile=np.array(quintiles, dtype=np.int64),
        nation=np.array(nations, dtype=object),
        in_area=np.array(in_area, dtype=bool),
        values={key: np.array(col, dtype=float) for key, col in columns.items()},
        active_days=None
        if active_days is None
        else np.array([active_days.get(p.player_id, 0) for p in people], dtype=np.int64),
    )


def _bincount(groups: np.ndarray) -> list[int]:
    return [int(v) for v in np.bincount(groups, minlength=len(GROUPS))]


@dataclass(frozen=True)
class _Paired:
    """Baseline respondents per group, and the (before, after) pairs with their groups."""

    n_baseline: list[int]
    group: np.ndarray
    before: np.ndarray
    after: np.ndarray

    @property
    def n_paired(self) -> list[int]:
        return _bincount(self.group)

    def count(self, mask: np.ndarray) -> list[int]:
        return _bincount(self.group[mask])

    def split(self, values: np.ndarray) -> list[list[float]]:
        return [values[self.group == g].tolist() for g in range(len(GROUPS))]


def _pairs(scores: ScoreColumns, groups: np.ndarray, measure: str, wave: int) -> _Paired:
    before = scores.values[(measure, BASELINE_WAVE)]
    after = scores.values[(measure, wave)]
    answered = ~np.isnan(before)
    paired = answered & ~np.isnan(after)
    return _Paired(_bincount(groups[answered]), groups[paired], before[paired], after[paired])


def _changes(paired: _Paired) -> tuple[list[stats.MeanEstimate], stats.MeanEstimate]:
    diff = paired.after - paired.before
    per_group = [stats.mean_with_ci(values) for values in paired.split(diff)]
    return per_group, stats.mean_with_ci(diff.tolist())


def _paired_binary(
    paired: _Paired,
    *,
    target: Callable[[np.ndarray], np.ndarray],
    target_name: str,
    leave_name: str,
    enter_name: str,
    improved_name: str,
    extra_states: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    change_name: str,
) -> dict[str, Any]:
    """Shared paired analysis for a binary state (inactive; not belonging).

    b = left the target state (target -> not), c = entered it (not -> target)."""
    m = _Metrics()
    n_baseline = paired.n_baseline
    n_paired = paired.n_paired
    hidden_base = _counts(m, "n_baseline", n_baseline)
    hidden_paired = _counts(m, "n_paired", n_paired)
    _pcts(m, "follow_up_pct", n_paired, n_baseline, hidden_base | hidden_paired)

    states = {target_name: target, **extra_states}
    hidden_target_before: set[int] = set()
    for name, test in states.items():
        hidden = _pcts(
            m, f"{name}_before_pct", paired.count(test(paired.before)), n_paired, hidden_paired
        )
        if name == target_name:
            hidden_target_before = hidden
        _pcts(m, f"{name}_after_pct", paired.count(test(paired.after)), n_paired, hidden_paired)

    was = target(paired.before)
    now = target(paired.after)
    b = paired.count(was & ~now)
    c = paired.count(~was & now)
    hidden_b = _counts(m, leave_name, b)
    hidden_c = _counts(m, enter_name, c)
    _mcnemar(m, b, c, n_paired, hidden_b | hidden_c)

    in_target = paired.count(was)
    improved = paired.count(was & (paired.after > paired.before))
    _pcts(m, improved_name, improved, in_target, hidden_paired | hidden_target_before)

    per_group, total = _changes(paired)
    _means(m, change_name, per_group, total)
    return {"groups": m.groups(), "_changes": per_group}


def _activity(paired: _Paired) -> dict[str, Any]:
    return _paired_binary(
        paired,
        target=lambda d: d <= INACTIVE_MAX_DAYS,
        target_name="inactive",
        leave_name="b_inactive_to_active",
        enter_name="c_active_to_inactive",
        improved_name="inactive_at_baseline_now_more_days_pct",
        extra_states={"meets_guideline": lambda d: d >= GUIDELINE_MIN_DAYS},
        change_name="mean_change_days",
    )


def _belonging(paired: _Paired) -> dict[str, Any]:
    belongs_min = BELONGING_LEVELS.index("fairly") + 1
    return _paired_binary(
        paired,
        target=lambda s: s < belongs_min,
        target_name="not_belonging",
        leave_name="b_not_belonging_to_belonging",
        enter_name="c_belonging_to_not_belonging",
        improved_name="not_belonging_at_baseline_now_stronger_pct",
        extra_states={"belongs": lambda s: s >= belongs_min},
        change_name="mean_change_score",
    )


def _scale(
    paired: _Paired, states: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None
) -> dict[str, Any]:
    """Paired mean scores (before, after, change with a t interval and paired t-test p) and,
    for each named state, the share in it before and after."""
    m = _Metrics()
    n_baseline = paired.n_baseline
    n_paired = paired.n_paired
    hidden_base = _counts(m, "n_baseline", n_baseline)
    hidden_paired = _counts(m, "n_paired", n_paired)
    _pcts(m, "follow_up_pct", n_paired, n_baseline, hidden_base | hidden_paired)
    _means(
        m,
        "mean_before",
        [stats.mean_with_ci(v) for v in paired.split(paired.before)],
        stats.mean_with_ci(paired.before.tolist()),
        with_ci=False,
    )
    _means(
        m,
        "mean_after",
        [stats.mean_with_ci(v) for v in paired.split(paired.after)],
        stats.mean_with_ci(paired.after.tolist()),
        with_ci=False,
    )
    for name, test in (states or {}).items():
        _pcts(m, f"{name}_before_pct", paired.count(test(paired.before)), n_paired, hidden_paired)
        _pcts(m, f"{name}_after_pct", paired.count(test(paired.after)), n_paired, hidden_paired)
    per_group, total = _changes(paired)
    _means(m, "mean_change", per_group, total, with_p=True)
    return {"groups": m.groups(), "_changes": per_group}


def _nature(paired: _Paired) -> dict[str, Any]:
    return _scale(paired)


#: ONS thresholds: life satisfaction, worthwhile and happiness low = 0-4, very high = 9-10;
#: anxiety high = 6-10, very low = 0-1
def _positive_ons(paired: _Paired) -> dict[str, Any]:
    return _scale(paired, {"low": lambda v: v <= 4, "very_high": lambda v: v >= 9})


def _anxiety(paired: _Paired) -> dict[str, Any]:
    return _scale(paired, {"high": lambda v: v >= 6, "very_low": lambda v: v <= 1})


def _loneliness(paired: _Paired) -> dict[str, Any]:
    often = LONELINESS_SCORES["often_always"]
    return _scale(paired, {"lonely_often": lambda v: v >= often})


#: measure -> (section builder, the mean-change metric its inequality index uses)
_SECTIONS: Final[dict[str, tuple[Callable[[_Paired], dict[str, Any]], str]]] = {
    "activity": (_activity, "mean_change_days"),
    "belonging": (_belonging, "mean_change_score"),
    "nature": (_nature, "mean_change"),
    "life_satisfaction": (_positive_ons, "mean_change"),
    "worthwhile": (_positive_ons, "mean_change"),
    "happiness": (_positive_ons, "mean_change"),
    "anxiety": (_anxiety, "mean_change"),
    "loneliness": (_loneliness, "mean_change"),
}


def _uptake(
    scores: ScoreColumns, groups: np.ndarray, residents: Mapping[int, int]
) -> tuple[dict[str, Any], list[int], list[int], list[float | str | None]]:
    """Uptake groups, plus residents, in-area players and published rates for Q1-Q5."""
    m = _Metrics()
    other = len(GROUPS) - 1
    players = _bincount(np.where((groups < other) & ~scores.in_area, other, groups))
    res = [int(residents.get(q, 0)) for q in QUINTILES]
    if any(r < 0 for r in res):
        raise ValueError("residents must be non-negative")
    in_area = players[:5]
    known = sum(in_area)
    total_res = sum(res)
    hidden_players = _counts(m, "players", players) - {5}
    m.put("residents", [*res, None], total_res)
    # A rate is a percentage with scale 1,000 and residents as denominator. (More players than
    # residents would be a data error; the denominator is then capped at the players.)
    rates = dc.protect_percentages(
        in_area,
        [max(r, n) for r, n in zip(res, in_area, strict=True)],
        also_hidden=hidden_players,
        decimals=_RATE_DECIMALS,
        scale=1000.0,
    )
    rates = [None if r == 0 else v for r, v in zip(res, rates, strict=True)]
    total_rate = (
        _total_pct(known, total_res, scale=1000.0, decimals=_RATE_DECIMALS)
        if total_res >= known
        else None
    )
    m.put("rate_per_1000", [*rates, None], total_rate)
    shares = dc.protect_percentages(
        in_area, [known] * 5, also_hidden=hidden_players, decimals=_PCT_DECIMALS
    )
    m.put("share_of_players_pct", [*shares, None], 100.0 if known else None)
    m.put(
        "share_of_residents_pct",
        [round(100 * r / total_res, _PCT_DECIMALS) if total_res else None for r in res] + [None],
        100.0 if total_res else None,
    )
    published = m.groups()
    published[TOTAL]["players_in_area"] = known
    return {"groups": published}, res, in_area, rates


# --------------------------------------------------------------------------------------------
# inequality


_SII_CONVENTION: Final = (
    "Low & Low (2004) as in PHEindicatormethods phe_sii: quintiles ordered most deprived "
    "(Q1) to least deprived (Q5), each at the midpoint of its cumulative share of the area's "
    "residents; population-weighted regression of the indicator on that rank. SII = fitted "
    "value at the least deprived end minus the most deprived end (positive = higher in less "
    "deprived areas). RII = fitted least deprived / fitted most deprived. relative_to_mean = "
    "SII / population-weighted mean."
)


def _sii_block(
    values: Sequence[float | str | None],
    raw_values: Sequence[float | None],
    ses: Sequence[float | None],
    residents: Sequence[int],
) -> dict[str, Any]:
    used = [i for i in range(5) if residents[i] > 0]
    base: dict[str, Any] = {"quintiles_used": [i + 1 for i in used]}
    if len(used) < 3:
        return {**base, "status": "not enough quintiles (need residents in at least 3)"}
    if any(values[i] == dc.SUPPRESSED for i in used):
        return {
            **base,
            "status": "suppressed: depends on a suppressed quintile value",
            "sii": dc.SUPPRESSED,
            "rii": dc.SUPPRESSED,
        }
    if any(raw_values[i] is None or ses[i] is None for i in used):
        return {**base, "status": "no value for every quintile"}
    result = stats.slope_index_of_inequality(
        [float(raw_values[i]) for i in used],  # type: ignore[arg-type]
        [residents[i] for i in used],
        standard_errors=[float(ses[i]) for i in used],  # type: ignore[arg-type]
    )
    return {
        **base,
        "status": "ok",
        "sii": _round(result.sii, _SII_DECIMALS),
        "sii_ci_low": _round(result.sii_ci_low, _SII_DECIMALS),
        "sii_ci_high": _round(result.sii_ci_high, _SII_DECIMALS),
        "rii": _round(result.rii, _SII_DECIMALS),
        "rii_ci_low": _round(result.rii_ci_low, _SII_DECIMALS),
        "rii_ci_high": _round(result.rii_ci_high, _SII_DECIMALS),
        "relative_to_mean": _round(result.relative_to_mean, _SII_DECIMALS),
    }


def _uptake_sii(
    residents: Sequence[int], players: Sequence[int], published: Sequence[float | str | None]
) -> dict[str, Any]:
    raw: list[float | None] = []
    ses: list[float | None] = []
    for n, r in zip(players, residents, strict=True):
        if r <= 0:
            raw.append(None)
            ses.append(None)
            continue
        p = min(n / r, 1.0)
        raw.append(1000 * p)
        ses.append(1000 * math.sqrt(p * (1 - p) / r))
    return _sii_block(published, raw, ses, residents)


def _change_sii(
    section: Mapping[str, Any], metric: str, residents: Sequence[int]
) -> dict[str, Any]:
    changes: list[stats.MeanEstimate] = section["_changes"]
    published = [section["groups"][g][metric] for g in GROUPS[:5]]
    raw = [e.mean if e.n >= 2 else None for e in changes[:5]]
    ses = [e.se for e in changes[:5]]
    return _sii_block(published, raw, ses, residents)


# --------------------------------------------------------------------------------------------
# public API


def _definitions() -> dict[str, Any]:
    return {
        "groups": "Q1-Q5 = IMD quintiles within the nation (Q1 = most deprived 20% of small "
        "areas nationally, quintile = ceil(decile / 2)); other = other nations, unknown "
        "deprivation or (uptake) living outside the game area; total = whole game",
        "uptake": "players living in the game area's LSOAs per 1,000 residents (IoD population "
        "denominators); share_of_players_pct is among players with a known quintile",
        "paired": "wave 1 (registration) against each follow-up wave; only people who "
        "answered at both waves; follow_up_pct = paired / answered at baseline",
        "activity": f"days with 30+ minutes of activity raising breathing rate (0-7); inactive "
        f"= 0-{INACTIVE_MAX_DAYS} days; meets_guideline = {GUIDELINE_MIN_DAYS}+ days; "
        "b = inactive -> not, c = not -> inactive; mcnemar_p = exact McNemar test on (b, c); "
        "mean_change_days with a 95% t interval",
        "belonging": "belongs = very or fairly strongly; b = not belonging -> belonging, c = "
        "belonging -> not; mean_change_score on 1 (not at all) to 4 (very strongly)",
        "nature": f"Nature Connection Index items, mean item score 1-7 of the answered items "
        f"(at least {NATURE_MIN_ITEMS} of {NATURE_ITEMS}); mean_change with a 95% t interval "
        "and paired t-test p",
        "ons4": "ONS personal well-being: life_satisfaction, worthwhile, happiness and anxiety, "
        "each 0-10; means and mean_change with a 95% t interval and paired t-test p; ONS "
        "thresholds: low = 0-4 and very_high = 9-10 (life satisfaction, worthwhile, "
        "happiness), high = 6-10 and very_low = 0-1 (anxiety)",
        "loneliness": "ONS direct question 'How often do you feel lonely?', scored 1 (never) to "
        "5 (often or always); lonely_often = often or always; mean_change on that score",
        "inequality": _SII_CONVENTION,
    }


def _disclosure_notes() -> dict[str, Any]:
    return {
        "suppressed_marker": dc.SUPPRESSED,
        "not_applicable": None,
        "rules": [
            "below whole-game level: counts 1-7 shown as *, other counts rounded to the "
            "nearest 5, 0 stays 0 (NHS Digital HES rule)",
            "percentages from unrounded counts; * when the denominator is under 10 or the "
            "numerator or its complement is 1-7 people",
            "means, intervals and tests from fewer than 10 people: *",
            "secondary suppression: when only one group of a measure is suppressed, the "
            "next-smallest group is suppressed too, so no value can be recovered from the total",
            "inequality indices: * when a quintile value they use is suppressed",
            "total (whole game): exact counts; the fewer-than-10 rules still apply",
        ],
    }


def build_report(
    participants: Iterable[Participant],
    residents: Mapping[str, Mapping[int, int]],
    *,
    nations: Sequence[str] | None = None,
    follow_up_waves: Sequence[int] = FOLLOW_UP_WAVES,
    instruments: Sequence[str] = DEFAULT_INSTRUMENTS,
) -> dict[str, Any]:
    """Build the evaluation report (see the module docstring for groups and rules).

    ``residents`` maps nation -> quintile (1-5) -> residents of the game area's LSOAs in that
    quintile. ``nations`` defaults to the nations in ``residents`` plus those of participants
    with a known quintile. ``instruments``: the game's survey instruments (a section for
    each of their measures).
    """
    people = list(participants)
    scores = score_columns(people, (BASELINE_WAVE, *follow_up_waves))
    return build_report_from_columns(
        scores,
        residents,
        nations=nations,
        follow_up_waves=follow_up_waves,
        instruments=instruments,
    )


def build_report_from_columns(
    scores: ScoreColumns,
    residents: Mapping[str, Mapping[int, int]],
    *,
    nations: Sequence[str] | None = None,
    follow_up_waves: Sequence[int] = FOLLOW_UP_WAVES,
    instruments: Sequence[str] = DEFAULT_INSTRUMENTS,
) -> dict[str, Any]:
    """:func:`build_report` from :class:`ScoreColumns` (same report, no per-person objects)."""
    measures = measures_of(instruments)
    missing = [
        w
        for w in (BASELINE_WAVE, *follow_up_waves)
        for m in measures
        if (m, w) not in scores.values
    ]
    if missing:
        raise ValueError(f"no scores for wave(s) {sorted(set(missing))}")
    if nations is None:
        nations = sorted(set(residents) | scores.nations())
    sections: dict[str, Any] = {}
    for nation in nations:
        nation_residents = residents.get(nation, {})
        bad = set(nation_residents) - set(QUINTILES)
        if bad:
            raise ValueError(f"residents for {nation}: quintiles must be 1-5, not {sorted(bad)}")
        groups = scores.groups(nation)
        uptake, res, players, rates = _uptake(scores, groups, nation_residents)
        section: dict[str, Any] = {"uptake": uptake}
        inequality: dict[str, Any] = {
            "convention": _SII_CONVENTION,
            "uptake_rate_per_1000": _uptake_sii(res, players, rates),
        }
        for name in measures:
            builder, metric = _SECTIONS[name]
            by_wave: dict[str, Any] = {}
            for wave in follow_up_waves:
                built = builder(_pairs(scores, groups, name, wave))
                inequality[f"{name}_{metric}_wave_{wave}"] = _change_sii(built, metric, res)
                by_wave[f"wave_{wave}"] = {"groups": built["groups"]}
            section[name] = by_wave
        section["inequality"] = inequality
        sections[nation] = section
    return {
        "schema": REPORT_SCHEMA,
        "players": len(scores),
        "instruments": list(instruments),
        "measures": list(measures),
        "definitions": _definitions(),
        "disclosure": _disclosure_notes(),
        "nations": sections,
    }


#: Columns of :func:`report_to_csv_rows`.
CSV_COLUMNS: Final = ("nation", "section", "comparison", "group", "metric", "value")


def _csv_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return value


def report_to_csv_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flatten a :func:`build_report` result into rows with :data:`CSV_COLUMNS` keys
    (``"*"`` stays ``"*"``; ``None`` is left for the CSV writer to print as empty)."""
    rows: list[dict[str, Any]] = [
        {
            "nation": "",
            "section": "game",
            "comparison": "",
            "group": TOTAL,
            "metric": "players",
            "value": report["players"],
        }
    ]

    def emit(
        nation: str, sec: str, comparison: str, groups: Mapping[str, Mapping[str, Any]]
    ) -> None:
        for group, metrics in groups.items():
            for metric, value in metrics.items():
                rows.append(
                    {
                        "nation": nation,
                        "section": sec,
                        "comparison": comparison,
                        "group": group,
                        "metric": metric,
                        "value": _csv_value(value),
                    }
                )

    measures = report.get("measures", _MEASURES[:3])

    def flat(nation: str, sec: str, comparison: str, block: Any) -> None:
        """Any other block: groups as groups, other values one row each."""
        if not isinstance(block, Mapping):
            rows.append(
                {
                    "nation": nation,
                    "section": sec,
                    "comparison": comparison,
                    "group": "",
                    "metric": "value",
                    "value": _csv_value(block),
                }
            )
            return
        for key, value in block.items():
            if key == "groups" and isinstance(value, Mapping):
                emit(nation, sec, comparison, value)
            elif isinstance(value, Mapping):
                flat(nation, sec, f"{comparison}.{key}" if comparison else key, value)
            else:
                rows.append(
                    {
                        "nation": nation,
                        "section": sec,
                        "comparison": comparison,
                        "group": "",
                        "metric": key,
                        "value": _csv_value(value),
                    }
                )

    for nation, section in report["nations"].items():
        emit(nation, "uptake", "", section["uptake"]["groups"])
        for name in measures:
            for comparison, block in section[name].items():
                emit(nation, name, comparison, block["groups"])
        for measure, block in section["inequality"].items():
            if not isinstance(block, Mapping):
                continue
            for metric, value in block.items():
                rows.append(
                    {
                        "nation": nation,
                        "section": "inequality",
                        "comparison": measure,
                        "group": "",
                        "metric": metric,
                        "value": _csv_value(value),
                    }
                )
        for key, block in section.items():
            if key not in ("uptake", "inequality", *measures):
                flat(nation, key, "", block)
    for key in ("adoption", "implementation"):
        if key in report:
            flat("", key, "", report[key])
    return rows
