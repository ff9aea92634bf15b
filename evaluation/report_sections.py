"""The sections of an evaluation report, group by group: uptake, the paired changes of each
measure, and the inequality indices, with disclosure control applied to every number
(:mod:`evaluation.disclosure`; the rules are in :mod:`evaluation.reports`).

:class:`Metrics` collects one section's values; ``put_counts``, ``put_pcts`` and ``put_means``
publish counts, percentages and means under the rules; :data:`SECTIONS` maps a measure to
the builder of its section.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from evaluation import disclosure as dc
from evaluation import stats
from evaluation.report_scores import (
    BASELINE_WAVE,
    BELONGING_LEVELS,
    GROUPS,
    GUIDELINE_MIN_DAYS,
    INACTIVE_MAX_DAYS,
    LONELINESS_SCORES,
    QUINTILES,
    TOTAL,
    ScoreColumns,
)

_PCT_DECIMALS: Final = 1
_RATE_DECIMALS: Final = 2
_MEAN_DECIMALS: Final = 2
_SII_DECIMALS: Final = 3


def _round(value: float | None, decimals: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, decimals)


def _p(value: float | None) -> float | None:
    """A p-value to 4 significant digits (so 1.2e-07 does not print as 0.0)."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.4g}")


class Metrics:
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


def put_counts(m: Metrics, metric: str, counts: Sequence[int]) -> frozenset[int]:
    protected = dc.protect_counts(counts, total_exact=True)
    m.put(metric, protected.values, protected.total)
    return protected.suppressed


def _total_pct(
    num: int, den: int, scale: float = 100.0, decimals: int = _PCT_DECIMALS
) -> float | str | None:
    return dc.disclose_percentage(
        num, den, decimals=decimals, scale=scale, protect_small_counts=False
    )


def put_pcts(
    m: Metrics,
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


def put_means(
    m: Metrics,
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
    m: Metrics,
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


def bincount(groups: np.ndarray) -> list[int]:
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
        return bincount(self.group)

    def count(self, mask: np.ndarray) -> list[int]:
        return bincount(self.group[mask])

    def split(self, values: np.ndarray) -> list[list[float]]:
        return [values[self.group == g].tolist() for g in range(len(GROUPS))]


def paired_answers(scores: ScoreColumns, groups: np.ndarray, measure: str, wave: int) -> _Paired:
    before = scores.values[(measure, BASELINE_WAVE)]
    after = scores.values[(measure, wave)]
    answered = ~np.isnan(before)
    paired = answered & ~np.isnan(after)
    return _Paired(bincount(groups[answered]), groups[paired], before[paired], after[paired])


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
    m = Metrics()
    n_baseline = paired.n_baseline
    n_paired = paired.n_paired
    hidden_base = put_counts(m, "n_baseline", n_baseline)
    hidden_paired = put_counts(m, "n_paired", n_paired)
    put_pcts(m, "follow_up_pct", n_paired, n_baseline, hidden_base | hidden_paired)

    states = {target_name: target, **extra_states}
    hidden_target_before: set[int] = set()
    for name, test in states.items():
        hidden = put_pcts(
            m, f"{name}_before_pct", paired.count(test(paired.before)), n_paired, hidden_paired
        )
        if name == target_name:
            hidden_target_before = hidden
        put_pcts(m, f"{name}_after_pct", paired.count(test(paired.after)), n_paired, hidden_paired)

    was = target(paired.before)
    now = target(paired.after)
    b = paired.count(was & ~now)
    c = paired.count(~was & now)
    hidden_b = put_counts(m, leave_name, b)
    hidden_c = put_counts(m, enter_name, c)
    _mcnemar(m, b, c, n_paired, hidden_b | hidden_c)

    in_target = paired.count(was)
    improved = paired.count(was & (paired.after > paired.before))
    put_pcts(m, improved_name, improved, in_target, hidden_paired | hidden_target_before)

    per_group, total = _changes(paired)
    put_means(m, change_name, per_group, total)
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
    m = Metrics()
    n_baseline = paired.n_baseline
    n_paired = paired.n_paired
    hidden_base = put_counts(m, "n_baseline", n_baseline)
    hidden_paired = put_counts(m, "n_paired", n_paired)
    put_pcts(m, "follow_up_pct", n_paired, n_baseline, hidden_base | hidden_paired)
    put_means(
        m,
        "mean_before",
        [stats.mean_with_ci(v) for v in paired.split(paired.before)],
        stats.mean_with_ci(paired.before.tolist()),
        with_ci=False,
    )
    put_means(
        m,
        "mean_after",
        [stats.mean_with_ci(v) for v in paired.split(paired.after)],
        stats.mean_with_ci(paired.after.tolist()),
        with_ci=False,
    )
    for name, test in (states or {}).items():
        put_pcts(
            m, f"{name}_before_pct", paired.count(test(paired.before)), n_paired, hidden_paired
        )
        put_pcts(m, f"{name}_after_pct", paired.count(test(paired.after)), n_paired, hidden_paired)
    per_group, total = _changes(paired)
    put_means(m, "mean_change", per_group, total, with_p=True)
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
SECTIONS: Final[dict[str, tuple[Callable[[_Paired], dict[str, Any]], str]]] = {
    "activity": (_activity, "mean_change_days"),
    "belonging": (_belonging, "mean_change_score"),
    "nature": (_nature, "mean_change"),
    "life_satisfaction": (_positive_ons, "mean_change"),
    "worthwhile": (_positive_ons, "mean_change"),
    "happiness": (_positive_ons, "mean_change"),
    "anxiety": (_anxiety, "mean_change"),
    "loneliness": (_loneliness, "mean_change"),
}


def uptake_section(
    scores: ScoreColumns, groups: np.ndarray, residents: Mapping[int, int]
) -> tuple[dict[str, Any], list[int], list[int], list[float | str | None]]:
    """Uptake groups, plus residents, in-area players and published rates for Q1-Q5."""
    m = Metrics()
    other = len(GROUPS) - 1
    players = bincount(np.where((groups < other) & ~scores.in_area, other, groups))
    res = [int(residents.get(q, 0)) for q in QUINTILES]
    if any(r < 0 for r in res):
        raise ValueError("residents must be non-negative")
    in_area = players[:5]
    known = sum(in_area)
    total_res = sum(res)
    hidden_players = put_counts(m, "players", players) - {5}
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


SII_CONVENTION: Final = (
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


def uptake_sii(
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


def change_sii(section: Mapping[str, Any], metric: str, residents: Sequence[int]) -> dict[str, Any]:
    changes: list[stats.MeanEstimate] = section["_changes"]
    published = [section["groups"][g][metric] for g in GROUPS[:5]]
    raw = [e.mean if e.n >= 2 else None for e in changes[:5]]
    ses = [e.se for e in changes[:5]]
    return _sii_block(published, raw, ses, residents)
