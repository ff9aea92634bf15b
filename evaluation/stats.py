"""Statistics for the evaluation reports (pure functions on plain numbers).

* :func:`mcnemar_exact`: exact McNemar test on the discordant pairs (b, c): two-sided
  binomial, ``p = min(1, 2 * Binom(b + c, 1/2).cdf(min(b, c)))``, identical to
  ``statsmodels.stats.contingency_tables.mcnemar(table, exact=True)``.
* :func:`mean_with_ci` / :func:`paired_mean_change`: mean with a Student-t interval and the
  one-sample (paired) t-test against 0.
* :func:`proportion`: a proportion with the Wilson score interval (the interval
  PHEindicatormethods ``phe_proportion`` uses).
* :func:`slope_index_of_inequality`: SII and RII (Low & Low 2004) as PHEindicatormethods
  ``phe_sii`` computes them. Our reading of ``phe_sii`` (R/SII_function.R):

  - groups are ordered from most deprived (quintile 1) to least deprived;
  - each group's population share ``a_i``; its relative rank ``x_i`` is the midpoint of its
    slice of the cumulative population: ``x_i = a_1 + ... + a_{i-1} + a_i / 2``;
  - fit ``y_i * sqrt(a_i) = b0 * sqrt(a_i) + b1 * x_i * sqrt(a_i)`` by least squares, i.e. a
    regression of the indicator on the relative rank weighted by population share;
  - **SII = b1** = fitted value at x = 1 (least deprived end) minus fitted value at x = 0
    (most deprived end). So a *positive* SII means the indicator is *higher in less deprived*
    areas (for uptake: the least deprived take part more). ``multiplier=-1`` flips the sign
    (and, as in ``phe_sii``, inverts the RII) for "most deprived minus least deprived";
  - **RII = (b0 + b1) / b0** = fitted(least deprived) / fitted(most deprived).

  We also return ``relative_to_mean = SII / population-weighted mean`` (the Kunst &
  Mackenbach form of the RII; the weighted mean equals the fitted value at x = 1/2).
  ``phe_sii`` gets confidence limits by simulation from each group's standard error; because
  b1 is a fixed linear combination of the group values, its variance is exactly
  ``sum(L_i^2 * se_i^2)`` (L = the regression's linear weights), so we use that closed form
  (the limit the simulation converges to for normally distributed values); the RII interval
  uses the delta method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "McNemarResult",
    "MeanEstimate",
    "Proportion",
    "SiiResult",
    "mcnemar_exact",
    "mean_with_ci",
    "paired_mean_change",
    "proportion",
    "relative_ranks",
    "slope_index_of_inequality",
]


def _scipy_stats() -> ModuleType:
    """scipy.stats, imported on first use: it weighs about 50 MB, and processes that never
    compute a report (exports, imports, the readers' API) need not carry it."""
    from scipy import stats

    return stats


class _LazyStats:
    def __getattr__(self, name: str) -> Any:
        return getattr(_scipy_stats(), name)


sps: Any = _LazyStats()


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1, e.g. 0.95")
    return float(sps.norm.ppf(0.5 + confidence / 2))


@dataclass(frozen=True, slots=True)
class McNemarResult:
    b: int
    c: int
    p_value: float

    @property
    def discordant(self) -> int:
        return self.b + self.c


def mcnemar_exact(b: int, c: int) -> McNemarResult:
    """Exact (binomial) McNemar test on the discordant pair counts ``b`` and ``c``.

    With no discordant pairs the test has no information and ``p = 1``.
    """
    if b < 0 or c < 0:
        raise ValueError("b and c must be non-negative counts")
    n = b + c
    if n == 0:
        return McNemarResult(b, c, 1.0)
    p = min(1.0, 2.0 * float(sps.binom.cdf(min(b, c), n, 0.5)))
    return McNemarResult(b, c, p)


@dataclass(frozen=True, slots=True)
class MeanEstimate:
    """A mean with its t interval and the t-test of mean = 0 (``None`` where n < 2)."""

    n: int
    mean: float | None
    sd: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    t_statistic: float | None
    p_value: float | None
    confidence: float


def mean_with_ci(values: Sequence[float], *, confidence: float = 0.95) -> MeanEstimate:
    """Mean, sample SD (n - 1), standard error and Student-t interval of ``values``."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1, e.g. 0.95")
    n = len(values)
    if n == 0:
        return MeanEstimate(0, None, None, None, None, None, None, None, confidence)
    mean = math.fsum(values) / n
    if n == 1:
        return MeanEstimate(1, mean, None, None, None, None, None, None, confidence)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    se = sd / math.sqrt(n)
    t_crit = float(sps.t.ppf(0.5 + confidence / 2, n - 1))
    if se == 0:
        t_stat: float | None = None
        p: float | None = 1.0 if mean == 0 else 0.0
    else:
        t_stat = mean / se
        p = float(2 * sps.t.sf(abs(t_stat), n - 1))
    return MeanEstimate(
        n, mean, sd, se, mean - t_crit * se, mean + t_crit * se, t_stat, p, confidence
    )


def paired_mean_change(
    before: Sequence[float], after: Sequence[float], *, confidence: float = 0.95
) -> MeanEstimate:
    """Mean of ``after - before`` over pairs, with its t interval and paired t-test."""
    if len(before) != len(after):
        raise ValueError("before and after must be paired (same length)")
    return mean_with_ci([a - b for b, a in zip(before, after, strict=True)], confidence=confidence)


@dataclass(frozen=True, slots=True)
class Proportion:
    count: int
    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None


def proportion(count: int, n: int, *, confidence: float = 0.95) -> Proportion:
    """``count / n`` with the Wilson score interval."""
    if n < 0 or count < 0 or count > n:
        raise ValueError("need 0 <= count <= n")
    if n == 0:
        return Proportion(count, n, None, None, None)
    z = _z(confidence)
    p = count / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denom = 1 + z * z / n
    return Proportion(count, n, p, (centre - half) / denom, (centre + half) / denom)


@dataclass(frozen=True, slots=True)
class SiiResult:
    """Slope and relative index of inequality (see module docstring for conventions)."""

    sii: float
    rii: float | None
    relative_to_mean: float | None
    fitted_most_deprived: float
    fitted_least_deprived: float
    weighted_mean: float
    relative_ranks: tuple[float, ...]
    groups: int
    sii_ci_low: float | None
    sii_ci_high: float | None
    rii_ci_low: float | None
    rii_ci_high: float | None
    confidence: float
    multiplier: float


def relative_ranks(populations: Sequence[float]) -> list[float]:
    """Midpoint of each group's slice of the cumulative population share (phe_sii
    ``FindXValues``); groups ordered from most to least deprived."""
    total = math.fsum(populations)
    if total <= 0:
        raise ValueError("populations must sum to more than zero")
    ranks = []
    cumulative = 0.0
    for pop in populations:
        share = pop / total
        ranks.append(cumulative + share / 2)
        cumulative += share
    return ranks


def slope_index_of_inequality(
    values: Sequence[float],
    populations: Sequence[float],
    *,
    standard_errors: Sequence[float] | None = None,
    confidence: float = 0.95,
    multiplier: float = 1.0,
) -> SiiResult:
    """SII and RII of ``values`` across groups ordered most deprived -> least deprived.

    ``populations`` are the group denominators (all > 0). ``standard_errors`` (optional, one
    per group) give confidence intervals. RII and ``relative_to_mean`` are ``None`` when the
    fitted value at the most deprived end (or the mean) is not positive, where a ratio has no
    meaning (e.g. a mean *change* that is negative).
    """
    k = len(values)
    if k != len(populations):
        raise ValueError("values and populations must have the same length")
    if k < 2:
        raise ValueError("need at least two groups")
    if any(p <= 0 for p in populations):
        raise ValueError("every group needs a population above zero")
    if standard_errors is not None and len(standard_errors) != k:
        raise ValueError("one standard error per group")
    z = _z(confidence)

    total = math.fsum(populations)
    a = np.array([p / total for p in populations], dtype=float)
    x = np.array(relative_ranks(populations), dtype=float)
    y = np.array(values, dtype=float)
    sqrt_a = np.sqrt(a)
    design = np.column_stack([sqrt_a, x * sqrt_a])
    # Linear weights L with beta = L @ y (least squares on the sqrt-weighted system).
    weights = np.linalg.pinv(design) * sqrt_a  # (2, k): pinv(D) @ diag(sqrt_a)
    b0, b1 = (float(v) for v in weights @ y)

    fitted_most = b0
    fitted_least = b0 + b1
    mean = float(a @ y)
    sii = multiplier * b1
    rii: float | None = None
    if fitted_most > 0 and fitted_least >= 0:
        rii = fitted_least / fitted_most
    relative_to_mean = sii / mean if mean > 0 else None

    sii_lo = sii_hi = rii_lo = rii_hi = None
    if standard_errors is not None:
        se = np.array(standard_errors, dtype=float)
        if np.any(se < 0):
            raise ValueError("standard errors must be non-negative")
        sd_sii = float(np.sqrt(np.sum((weights[1] * se) ** 2))) * abs(multiplier)
        sii_lo, sii_hi = sii - z * sd_sii, sii + z * sd_sii
        if rii is not None:
            gradient = (weights[0] + weights[1]) / b0 - fitted_least * weights[0] / b0**2
            sd_rii = float(np.sqrt(np.sum((gradient * se) ** 2)))
            rii_lo, rii_hi = rii - z * sd_rii, rii + z * sd_rii
    if multiplier < 0 and rii is not None:
        rii = 1 / rii
        if rii_lo is not None and rii_hi is not None and rii_lo > 0:
            rii_lo, rii_hi = 1 / rii_hi, 1 / rii_lo
        else:
            rii_lo = rii_hi = None

    return SiiResult(
        sii=sii,
        rii=rii,
        relative_to_mean=relative_to_mean,
        fitted_most_deprived=fitted_most,
        fitted_least_deprived=fitted_least,
        weighted_mean=mean,
        relative_ranks=tuple(float(v) for v in x),
        groups=k,
        sii_ci_low=sii_lo,
        sii_ci_high=sii_hi,
        rii_ci_low=rii_lo,
        rii_ci_high=rii_hi,
        confidence=confidence,
        multiplier=multiplier,
    )
