"""Each statistic is checked against hand-worked numbers or an independent implementation."""

import math
from fractions import Fraction

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from evaluation.stats import (
    mcnemar_exact,
    mean_with_ci,
    paired_mean_change,
    proportion,
    relative_ranks,
    slope_index_of_inequality,
)

Z95 = 1.959963984540054
T95_DF4 = 2.7764451051977987  # t(0.975, 4); printed tables give 2.776


# ---------------------------------------------------------------------------- McNemar


def test_mcnemar_hand_worked() -> None:
    # b = 2, c = 10: P(X <= 2 | n = 12, 1/2) = (1 + 12 + 66) / 2**12
    assert mcnemar_exact(2, 10).p_value == pytest.approx(2 * 79 / 4096, rel=1e-12)
    assert mcnemar_exact(10, 2).p_value == pytest.approx(2 * 79 / 4096, rel=1e-12)
    # b = 0, c = 6: 2 * (1/2)**6
    assert mcnemar_exact(0, 6).p_value == pytest.approx(1 / 32, rel=1e-12)
    # symmetric case is capped at 1
    assert mcnemar_exact(5, 5).p_value == 1.0
    assert mcnemar_exact(0, 0).p_value == 1.0
    assert mcnemar_exact(3, 4).discordant == 7


def _binomial_sum(k: int, n: int) -> Fraction:
    return Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2**n)


@pytest.mark.parametrize(("b", "c"), [(b, c) for b in range(0, 25, 3) for c in range(0, 25, 4)])
def test_mcnemar_matches_statsmodels_and_exact_fractions(b: int, c: int) -> None:
    if b + c == 0:
        return
    ours = mcnemar_exact(b, c).p_value
    table = np.array([[30, b], [c, 40]])
    assert ours == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-9, abs=1e-15)
    exact = min(Fraction(1), 2 * _binomial_sum(min(b, c), b + c))
    assert ours == pytest.approx(float(exact), rel=1e-9, abs=1e-15)


def test_mcnemar_rejects_negative() -> None:
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


# ---------------------------------------------------------------------------- means


def test_mean_with_ci_hand_worked() -> None:
    est = mean_with_ci([1, 2, 3, 4, 5])
    assert est.n == 5
    assert est.mean == 3
    assert est.sd == pytest.approx(math.sqrt(2.5))
    assert est.se == pytest.approx(math.sqrt(2.5) / math.sqrt(5))
    half = T95_DF4 * math.sqrt(0.5)
    assert est.ci_low == pytest.approx(3 - half)
    assert est.ci_high == pytest.approx(3 + half)
    assert est.t_statistic == pytest.approx(3 / math.sqrt(0.5))


def test_paired_mean_change_hand_worked_and_ttest_rel() -> None:
    before = [2, 3, 5, 1, 0]
    after = [3, 5, 5, 2, 4]  # differences 1, 2, 0, 1, 4: mean 1.6, variance 9.2 / 4 = 2.3
    est = paired_mean_change(before, after)
    se = math.sqrt(2.3 / 5)
    assert est.mean == pytest.approx(1.6)
    assert est.sd == pytest.approx(math.sqrt(2.3))
    assert est.ci_low == pytest.approx(1.6 - T95_DF4 * se)
    assert est.ci_high == pytest.approx(1.6 + T95_DF4 * se)
    reference = sps.ttest_rel(after, before)
    assert est.t_statistic == pytest.approx(reference.statistic)
    assert est.p_value == pytest.approx(reference.pvalue)


def test_mean_edge_cases() -> None:
    assert mean_with_ci([]).mean is None
    one = mean_with_ci([4.0])
    assert (one.mean, one.sd, one.ci_low) == (4.0, None, None)
    flat = mean_with_ci([2.0, 2.0, 2.0])
    assert (flat.ci_low, flat.ci_high, flat.p_value) == (2.0, 2.0, 0.0)
    with pytest.raises(ValueError):
        paired_mean_change([1.0], [1.0, 2.0])


# ---------------------------------------------------------------------------- proportion


def test_wilson_interval_hand_formula_and_statsmodels() -> None:
    count, n = 12, 40
    p = count / n
    z2 = Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    est = proportion(count, n)
    assert est.value == 0.3
    assert est.ci_low == pytest.approx(centre - half)
    assert est.ci_high == pytest.approx(centre + half)
    lo, hi = proportion_confint(count, n, method="wilson")
    assert (est.ci_low, est.ci_high) == (pytest.approx(lo), pytest.approx(hi))
    assert proportion(0, 0).value is None
    zero = proportion(0, 20)
    assert zero.ci_low == pytest.approx(0.0, abs=1e-12)
    assert zero.ci_high is not None and zero.ci_high > 0


# ---------------------------------------------------------------------------- SII / RII

POPS = [100, 200, 300, 200, 200]  # shares 0.1, 0.2, 0.3, 0.2, 0.2
VALUES = [10.0, 8.0, 7.0, 5.0, 4.0]


def test_relative_ranks_are_cumulative_midpoints() -> None:
    assert relative_ranks(POPS) == pytest.approx([0.05, 0.2, 0.45, 0.7, 0.9])
    # the phe_sii documentation's example: 12% then 10% -> 0.06 and 0.17
    assert relative_ranks([12, 10, 78])[:2] == pytest.approx([0.06, 0.17])


def test_sii_hand_worked_example() -> None:
    # Weighted least squares by hand (weights = population shares a):
    #   x = 0.05, 0.2, 0.45, 0.7, 0.9;  mean x = 0.5;  mean y = 6.5
    #   Sxy = sum a (x - 0.5)(y - 6.5) = -0.1575 - 0.09 - 0.0075 - 0.06 - 0.2 = -0.515
    #   Sxx = sum a (x - 0.5)^2 = 0.02025 + 0.018 + 0.00075 + 0.008 + 0.032 = 0.079
    #   slope = -515/79, intercept = 6.5 + (515/79)/2 = 771/79, value at x=1 = 256/79
    result = slope_index_of_inequality(VALUES, POPS)
    assert result.sii == pytest.approx(-515 / 79)
    assert result.fitted_most_deprived == pytest.approx(771 / 79)
    assert result.fitted_least_deprived == pytest.approx(256 / 79)
    assert result.rii == pytest.approx(256 / 771)
    assert result.weighted_mean == pytest.approx(6.5)
    assert result.relative_to_mean == pytest.approx((-515 / 79) / 6.5)
    assert result.groups == 5
    assert result.sii_ci_low is None


def test_sii_matches_statsmodels_wls() -> None:
    x = np.array(relative_ranks(POPS))
    fit = sm.WLS(np.array(VALUES), sm.add_constant(x), weights=np.array(POPS) / 1000).fit()
    result = slope_index_of_inequality(VALUES, POPS)
    assert result.sii == pytest.approx(fit.params[1])
    assert result.fitted_most_deprived == pytest.approx(fit.params[0])


def test_sii_confidence_interval_hand_formula() -> None:
    ses = [1.0, 0.5, 2.0, 1.5, 1.0]
    a = np.array(POPS) / 1000
    x = np.array([0.05, 0.2, 0.45, 0.7, 0.9])
    weights = a * (x - 0.5) / 0.079  # slope = sum weights_i * y_i
    sd = math.sqrt(float(np.sum((weights * np.array(ses)) ** 2)))
    result = slope_index_of_inequality(VALUES, POPS, standard_errors=ses)
    assert result.sii_ci_low == pytest.approx(-515 / 79 - Z95 * sd)
    assert result.sii_ci_high == pytest.approx(-515 / 79 + Z95 * sd)


def test_sii_and_rii_intervals_agree_with_phe_sii_style_simulation() -> None:
    # phe_sii draws each quantile value from N(value, se), refits, and takes percentiles.
    ses = [0.8, 0.6, 0.5, 0.6, 0.7]
    result = slope_index_of_inequality(VALUES, POPS, standard_errors=ses)
    rng = np.random.default_rng(5)
    draws = rng.normal(VALUES, ses, size=(200_000, 5))
    a = np.array(POPS) / 1000
    x = np.array(relative_ranks(POPS))
    xc = x - a @ x
    slopes = (draws - (draws @ a)[:, None]) @ (a * xc) / (a @ xc**2)
    intercepts = draws @ a - slopes * (a @ x)
    riis = (intercepts + slopes) / intercepts
    lo, hi = np.percentile(slopes, [2.5, 97.5])
    assert result.sii_ci_low == pytest.approx(lo, rel=0.02)
    assert result.sii_ci_high == pytest.approx(hi, rel=0.02)
    rlo, rhi = np.percentile(riis, [2.5, 97.5])
    assert result.rii_ci_low == pytest.approx(rlo, abs=0.03)
    assert result.rii_ci_high == pytest.approx(rhi, abs=0.03)


def test_sii_negative_multiplier_flips_sign_and_inverts_rii() -> None:
    result = slope_index_of_inequality(VALUES, POPS, multiplier=-1)
    assert result.sii == pytest.approx(515 / 79)
    assert result.rii == pytest.approx(771 / 256)


def test_sii_flat_values_and_ratio_guards() -> None:
    flat = slope_index_of_inequality([5.0] * 5, POPS)
    assert flat.sii == pytest.approx(0.0, abs=1e-12)
    assert flat.rii == pytest.approx(1.0)
    negative = slope_index_of_inequality([-1.0, -0.5, 0.0, 0.5, 1.0], POPS)
    assert negative.rii is None  # fitted value at the most deprived end is not positive
    with pytest.raises(ValueError):
        slope_index_of_inequality([1.0], [10])
    with pytest.raises(ValueError):
        slope_index_of_inequality([1.0, 2.0], [10, 0])
    with pytest.raises(ValueError):
        slope_index_of_inequality([1.0, 2.0], [10])
