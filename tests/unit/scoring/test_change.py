"""Change tests against statsmodels and scipy; the NPS difference test against a hand-worked case
and a simulation of its type-I error."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from scoring.change import (
    compare_means,
    compare_means_from_stats,
    compare_nps,
    compare_shares,
    min_detectable_change_mean,
    min_detectable_change_share,
)


@pytest.mark.parametrize(("xa", "na", "xb", "nb"), [(120, 200, 100, 200), (45, 60, 30, 58), (5, 12, 11, 13)])
def test_compare_shares_matches_statsmodels(xa, na, xb, nb):
    r = compare_shares(xa, na, xb, nb)
    z, _ = proportions_ztest([xb, xa], [nb, na])
    assert r.statistic == pytest.approx(z)
    # p: Fisher's exact test, two-sided as twice the smaller one-sided tail (issue 14).
    table = [[xb, nb - xb], [xa, na - xa]]
    tails = [stats.fisher_exact(table, alternative=alt).pvalue for alt in ("less", "greater")]
    assert r.p_value == pytest.approx(min(1.0, 2 * min(tails)))
    assert r.test == "fisher_exact"
    low, high = confint_proportions_2indep(xb, nb, xa, na, method="newcomb")
    assert (r.ci_low, r.ci_high) == pytest.approx((low, high))
    assert r.difference == pytest.approx(xb / nb - xa / na)


def test_share_mdc_matches_statsmodels_power():
    r = compare_shares(160, 200, 250, 300)
    pooled = 410 / 500
    effect = NormalIndPower().solve_power(nobs1=200, ratio=1.5, alpha=0.05, power=0.8)
    assert r.min_detectable_change == pytest.approx(effect * np.sqrt(pooled * (1 - pooled)), rel=1e-3)


def test_compare_means_matches_scipy_welch():
    rng = np.random.default_rng(5)
    a, b = rng.normal(3.8, 0.9, 40), rng.normal(3.4, 1.3, 55)
    r = compare_means(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert r.statistic == pytest.approx(ref.statistic)
    assert r.p_value == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval(0.95)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high))


def test_compare_means_from_stats_matches_scipy_and_power():
    r = compare_means_from_stats(4.1, 0.8, 120, 3.9, 0.8, 120)
    ref = stats.ttest_ind_from_stats(3.9, 0.8, 120, 4.1, 0.8, 120, equal_var=False)
    assert r.p_value == pytest.approx(ref.pvalue)
    effect = NormalIndPower().solve_power(nobs1=120, ratio=1.0, alpha=0.05, power=0.8)
    assert r.min_detectable_change == pytest.approx(effect * 0.8, rel=1e-3)
    assert not r.significant


def exact_nps_p(a, b):
    """Independent reference: enumerate b's (promoters, detractors) under the multivariate
    hypergeometric law of the pooled counts; two-sided = 2 x the smaller one-sided tail."""
    pooled = [x + y for x, y in zip(a, b, strict=True)]
    nb = sum(b)
    observed = b[0] - b[2]
    low = high = 0.0
    for prom in range(min(pooled[0], nb) + 1):
        for det in range(min(pooled[2], nb - prom) + 1):
            pas = nb - prom - det
            if pas > pooled[1]:
                continue
            pmf = stats.multivariate_hypergeom.pmf([prom, pas, det], pooled, nb)
            low += pmf if prom - det <= observed else 0.0
            high += pmf if prom - det >= observed else 0.0
    return min(1.0, 2 * min(low, high))


def test_compare_nps_hand_worked():
    # a: 50/30/20 of 100 -> NPS 0.30, Var = (0.5 + 0.2 - 0.09)/100 = 0.0061
    # b: 40/30/30 of 100 -> NPS 0.10, Var = (0.4 + 0.3 - 0.01)/100 = 0.0069
    # z = (0.10 - 0.30) / sqrt(0.0130) = -1.75412...
    r = compare_nps((50, 30, 20), (40, 30, 30))
    assert r.difference == pytest.approx(-20.0)
    assert r.statistic == pytest.approx(-0.2 / np.sqrt(0.013))
    assert r.p_value == pytest.approx(exact_nps_p((50, 30, 20), (40, 30, 30)))
    assert r.ci_low < r.difference < r.ci_high


def test_compare_nps_equals_unequal_variance_z_test_on_coded_scores():
    # The NPS is the mean of scores coded +1/0/-1; statsmodels' unequal-variance z test uses
    # ddof = 1, so it agrees with the multinomial variance up to n/(n-1).
    a = np.repeat([1.0, 0.0, -1.0], [900, 600, 500])
    b = np.repeat([1.0, 0.0, -1.0], [1000, 500, 500])
    r = compare_nps((900, 600, 500), (1000, 500, 500))
    z, _ = CompareMeans(DescrStatsW(b), DescrStatsW(a)).ztest_ind(usevar="unequal")
    assert r.statistic == pytest.approx(z, rel=1e-3)


def test_compare_nps_type_one_error_by_simulation():
    rng = np.random.default_rng(11)
    probs = [0.4, 0.35, 0.25]
    rejections = 0
    trials = 600
    for _ in range(trials):
        ca, cb = rng.multinomial(150, probs), rng.multinomial(120, probs)
        rejections += compare_nps(tuple(ca), tuple(cb)).significant
    assert rejections / trials <= 0.075  # exact: at or below the nominal 5% (binomial slack)


def test_low_sample_flag_and_validation():
    assert compare_shares(3, 6, 5, 6).low_sample
    with pytest.raises(ValueError):
        compare_shares(7, 6, 5, 6)
    with pytest.raises(ValueError):
        compare_means_from_stats(1, 1, 1, 2, 1, 5)


def test_planning_mdc_matches_statsmodels_power():
    effect = NormalIndPower().solve_power(nobs1=40, ratio=2.0, alpha=0.05, power=0.8)
    assert min_detectable_change_share(0.8, 40, 80) == pytest.approx(effect * 0.4, rel=1e-3)
    assert min_detectable_change_mean(1.1, 40, 80) == pytest.approx(effect * 1.1, rel=1e-3)
    # hand check: (1.959964 + 0.841621) * sqrt(0.16 * (1/40 + 1/80)) = 0.217010
    assert min_detectable_change_share(0.8, 40, 80) == pytest.approx(0.217010, abs=1e-5)
