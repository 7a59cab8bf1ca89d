"""Rank correlation against scipy.stats.spearmanr; the lead/lag check against statsmodels'
Granger causality tests on a constructed series in which KPI leads experience by 2 periods."""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.tsa.stattools import grangercausalitytests

from scoring.association import granger_f_test, kpi_experience_correlations, lead_lag, rank_correlation
from scoring.comparison import ComparisonCell, compare_kpi_experience


def test_spearman_matches_scipy_with_ties():
    kpi = [95.1, 96.0, 97.2, 94.0, 98.8, 96.0, 93.5, 99.1, 97.0, 95.5, 94.9, 96.8]
    exp = [0.81, 0.84, 0.80, 0.77, 0.90, 0.84, 0.70, 0.88, 0.86, 0.79, 0.82, 0.83]
    r = rank_correlation(kpi, exp)
    ref = stats.spearmanr(kpi, exp)
    assert r.rho == pytest.approx(ref.statistic)
    assert r.p_value == pytest.approx(ref.pvalue)
    # Bonett & Wright (2000): tanh(atanh(rho) +- 1.96 sqrt((1 + rho^2/2) / (n - 3)))
    half = stats.norm.ppf(0.975) * math.sqrt((1 + ref.statistic**2 / 2) / 9)
    assert r.ci_low == pytest.approx(math.tanh(math.atanh(ref.statistic) - half))
    assert r.ci_high == pytest.approx(math.tanh(math.atanh(ref.statistic) + half))


def test_spearman_degenerate_inputs():
    assert math.isnan(rank_correlation([1, 1, 1], [1, 2, 3]).rho)
    assert rank_correlation([1, 2, 3, 4], [2, 4, 6, 8]).rho == pytest.approx(1.0)


@pytest.fixture
def leading_series():
    rng = np.random.default_rng(12)
    kpi = np.cumsum(rng.normal(0, 1, 40)) + 90
    exp = np.empty(40)
    exp[:2] = 4.0
    exp[2:] = 4.0 + 0.3 * (kpi[:-2] - 90) + rng.normal(0, 0.1, 38)
    return kpi, exp


def test_granger_f_matches_statsmodels(leading_series):
    kpi, exp = leading_series
    dk, de = np.diff(kpi), np.diff(exp)
    ref = grangercausalitytests(np.column_stack([de, dk]), maxlag=3)
    for order in (1, 2, 3):
        mine = granger_f_test(de, dk, order)
        f, p, df_den, df_num = ref[order][0]["ssr_ftest"]
        assert mine.f_statistic == pytest.approx(f)
        assert mine.p_value == pytest.approx(p)
        assert (mine.df_num, mine.df_den) == (df_num, df_den)


def test_lead_lag_finds_the_two_period_lead(leading_series):
    kpi, exp = leading_series
    r = lead_lag(kpi, exp, max_lag=4)
    assert r.best_lag == 2 and r.kpi_leads
    assert r.message.code == "kpi_leads_experience"
    lag2 = next(c for c in r.correlations if c.lag == 2)
    dk, de = np.diff(kpi), np.diff(exp)
    ref = stats.pearsonr(dk[:-2], de[2:])
    assert lag2.correlation == pytest.approx(ref.statistic) and lag2.p_value == pytest.approx(ref.pvalue)
    assert r.kpi_to_experience[1].p_value < 0.001


def test_lead_lag_independent_series_show_no_lead():
    rng = np.random.default_rng(5)
    r = lead_lag(rng.normal(size=30).cumsum(), rng.normal(size=30).cumsum(), max_lag=3)
    assert not r.kpi_leads


def test_correlations_across_regions_and_over_time():
    cells = []
    for period in range(4):
        for i, region in enumerate("abcde"):
            kpi = 94 + i + 0.5 * period
            cells.append(
                ComparisonCell("incident", region, period, kpi, 95.0, ">=", 0.8, 100, 70 + 4 * i + period)
            )
    compared = compare_kpi_experience(cells).cells
    out = kpi_experience_correlations(compared)
    assert len(out.across_regions) == 4 and len(out.over_time) == 5
    key, corr = out.across_regions[0]
    assert key == ("incident", None, 0)
    assert corr.rho == pytest.approx(1.0)
