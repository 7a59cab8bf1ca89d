"""Intervals against independent references: statsmodels, scipy, and the worked examples of
Fagerland, Lydersen & Laake (2017) "Statistical Analysis of Contingency Tables", ch. 8 (the NPS is
a difference of two cells of one multinomial sample, the same structure as a paired 2x2 table)."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from scoring.intervals import bootstrap_interval, nps_interval, t_interval, wilson_interval


@pytest.mark.parametrize(("x", "n"), [(0, 10), (1, 10), (5, 10), (10, 10), (81, 263), (3, 6), (950, 1000)])
def test_wilson_matches_statsmodels(x, n):
    low, high = wilson_interval([x], [n])
    ref = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert low[0] == pytest.approx(ref[0], abs=1e-12)
    assert high[0] == pytest.approx(ref[1], abs=1e-12)


def test_wilson_other_confidence_and_empty_group():
    low, high = wilson_interval([7, 0], [20, 0], confidence=0.9)
    ref = proportion_confint(7, 20, alpha=0.1, method="wilson")
    assert (low[0], high[0]) == pytest.approx(ref, abs=1e-12)
    assert np.isnan(low[1]) and np.isnan(high[1])


def test_nps_wald_hand_computed():
    # 50 promoters, 30 passives, 20 detractors: d = 0.3, Var = (0.5 + 0.2 - 0.09) / 100 = 0.0061
    low, high = nps_interval([50], [20], [100], method="wald")
    half = stats.norm.ppf(0.975) * np.sqrt(0.0061)
    assert low[0] == pytest.approx(0.3 - half, abs=1e-12)
    assert high[0] == pytest.approx(0.3 + half, abs=1e-12)


# Fagerland et al. (2017) Table 8.x, Cavo et al. (2012): n12 = 6, n21 = 16, N = 161, published as
# Wald -0.1184 to -0.0058 and Tango score -0.1240 to -0.0054 (4 decimals).
@pytest.mark.parametrize(
    ("prom", "det", "n", "method", "expected"),
    [
        (6, 16, 161, "wald", (-0.1184, -0.0058)),
        (6, 16, 161, "score", (-0.1240, -0.0054)),
    ],
)
def test_nps_interval_matches_published_examples(prom, det, n, method, expected):
    low, high = nps_interval([prom], [det], [n], method=method)
    assert (round(low[0], 4), round(high[0], 4)) == expected


@pytest.mark.parametrize(("prom", "det", "n"), [(1, 7, 21), (30, 10, 60), (5, 0, 5), (12, 30, 90)])
def test_nps_score_limits_solve_the_score_equation(prom, det, n):
    """At each limit d the score statistic (b - c - n d) / sqrt(n Var0(d)) equals -/+ z, with the
    constrained maximum-likelihood shares found here by numerical optimisation (scipy), not by
    the closed form used in the code (Tango 1998, eq. 3)."""
    from scipy.optimize import minimize_scalar

    z = stats.norm.ppf(0.975)

    def statistic(d):
        passives = n - prom - det

        def nll(q):  # q = P(detractor); P(promoter) = q + d
            pp, p0 = q + d, 1 - 2 * q - d
            return -(prom * np.log(pp) + det * np.log(q) + (passives * np.log(p0) if passives else 0.0))

        lo_q, hi_q = max(0.0, -d) + 1e-12, (1 - d) / 2 - 1e-12
        q = minimize_scalar(nll, bounds=(lo_q, hi_q), method="bounded", options={"xatol": 1e-12}).x
        return (prom - det - n * d) / np.sqrt(n * (2 * q + d - d * d))

    low, high = nps_interval([prom], [det], [n])
    if low[0] > -1:
        assert statistic(low[0]) == pytest.approx(z, abs=1e-4)
    if high[0] < 1:
        assert statistic(high[0]) == pytest.approx(-z, abs=1e-4)


def test_nps_adjusted_wald_matches_rocks_recipe():
    # Rocks (2016) / Sauro & Lewis: add 3/4 promoter, 3/4 detractor, n + 3.
    low, high = nps_interval([30], [10], [60], method="adjusted_wald")
    pp, pd, m = 30.75 / 63, 10.75 / 63, 63
    half = 1.959963984540054 * np.sqrt((pp + pd - (pp - pd) ** 2) / m)
    assert (low[0], high[0]) == pytest.approx((pp - pd - half, pp - pd + half), abs=1e-12)


def test_nps_score_interval_coverage_by_simulation():
    rng = np.random.default_rng(42)
    probs = np.array([0.45, 0.35, 0.20])  # promoters, passives, detractors; true NPS 0.25
    counts = rng.multinomial(80, probs, size=4000)
    low, high = nps_interval(counts[:, 0], counts[:, 2], np.full(4000, 80))
    coverage = np.mean((low <= 0.25) & (high >= 0.25))
    assert 0.93 <= coverage <= 0.97


def test_nps_score_interval_never_collapses_for_small_unanimous_samples():
    low, high = nps_interval([6], [0], [6])
    assert high[0] == 1.0 and low[0] < 0.5  # Wald would give the useless [1, 1]
    wl, wh = nps_interval([6], [0], [6], method="wald")
    assert wl[0] == wh[0] == 1.0


def test_t_interval_matches_scipy():
    data = np.array([3.0, 4, 5, 4, 2, 5, 4, 3, 4, 5])
    low, high = t_interval([data.mean()], [data.std(ddof=1)], [data.size])
    ref = stats.t.interval(0.95, data.size - 1, loc=data.mean(), scale=stats.sem(data))
    assert (low[0], high[0]) == pytest.approx(ref, rel=1e-12)
    low, high = t_interval([4.0], [1.0], [1])
    assert np.isnan(low[0]) and np.isnan(high[0])


def test_bootstrap_interval_agrees_with_t_interval_for_a_mean():
    rng = np.random.default_rng(7)
    data = rng.normal(10, 2, 400)
    low, high = bootstrap_interval(data, np.mean, n_resamples=3000, seed=1)
    ref = stats.t.interval(0.95, 399, loc=data.mean(), scale=stats.sem(data))
    assert low == pytest.approx(ref[0], abs=0.05)
    assert high == pytest.approx(ref[1], abs=0.05)
