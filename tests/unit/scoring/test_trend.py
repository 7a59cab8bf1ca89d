"""Trend slope against scipy.stats.linregress and statsmodels WLS; drop detection against
statsmodels' proportion z test and Holm correction."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from scoring.trend import detect_drop_means, detect_drop_shares, holm, trend_slope


def test_slope_matches_linregress():
    y = np.array([71.0, 72.5, 70.9, 74.0, 75.2, 74.8, 77.1, 76.0])
    r = trend_slope(y)
    ref = stats.linregress(np.arange(8), y)
    assert r.slope == pytest.approx(ref.slope)
    assert r.intercept == pytest.approx(ref.intercept)
    assert r.p_value == pytest.approx(ref.pvalue)
    half = stats.t.ppf(0.975, 6) * ref.stderr
    assert (r.ci_low, r.ci_high) == pytest.approx((ref.slope - half, ref.slope + half))
    assert r.significant


def test_weighted_slope_matches_statsmodels_wls():
    y = np.array([0.80, 0.78, 0.83, 0.76, 0.74, np.nan, 0.72])
    n = np.array([120, 80, 40, 150, 90, 10, 60])
    r = trend_slope(y, weights=n)
    ok = ~np.isnan(y)
    fit = sm.WLS(y[ok], sm.add_constant(np.arange(7)[ok]), weights=n[ok]).fit()
    assert r.slope == pytest.approx(fit.params[1])
    assert r.p_value == pytest.approx(fit.pvalues[1])
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(fit.conf_int()[1]))
    assert r.n_periods == 6


def test_drop_against_baseline_matches_statsmodels():
    successes = [160, 170, 165, 158, 160, 120]
    n = [200, 200, 200, 200, 200, 200]
    r = detect_drop_shares(successes, n, baseline_periods=4, adjust="none")
    assert r.baseline == pytest.approx(653 / 800)
    for check in r.checks:
        _, p = proportions_ztest([successes[check.period], 653], [200, 800], alternative="smaller")
        assert check.p_value == pytest.approx(p)
    assert [c.significant_drop for c in r.checks] == [False, True]
    assert r.any_drop


def test_holm_matches_statsmodels():
    p = [0.01, 0.04, 0.03, 0.2, 0.005]
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1].tolist())


def test_drop_in_means_with_holm():
    means = [4.1, 4.0, 4.2, 4.1, 3.6, 4.05]
    sds = [0.8] * 6
    ns = [100] * 6
    r = detect_drop_means(means, sds, ns, baseline_periods=[0, 1, 2, 3])
    assert r.adjustment == "holm"
    assert r.baseline == pytest.approx(4.1)
    drop = {c.period: c for c in r.checks}
    # baseline SD pools within and between periods: sqrt((396 * 0.64 + 100 * 0.02) / 399)
    sd0 = np.sqrt((4 * 99 * 0.64 + 100 * (0 + 0.01 + 0.01 + 0)) / 399)
    z = (3.6 - 4.1) / np.sqrt(0.64 / 100 + sd0**2 / 400)
    raw = stats.norm.cdf(z)
    assert drop[4].statistic == pytest.approx(z)
    assert drop[4].p_value == pytest.approx(min(1.0, 2 * raw))  # smallest of two p-values: x2
    assert drop[4].significant_drop and not drop[5].significant_drop


def test_needs_three_periods():
    with pytest.raises(ValueError):
        trend_slope([1.0, 2.0])
