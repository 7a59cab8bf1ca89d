"""Common and emerging needs (scoring.text.needs), checked against scipy and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.rates import test_poisson_2indep as poisson_2indep

from scoring.text import (
    ThemeAssignment,
    benjamini_hochberg,
    common_needs,
    emerging_need_message,
    emerging_needs,
    growth_p_value,
    theme_growth,
)

CASES = [
    (15, 100, 3, 100),
    (7, 40, 2, 60),
    (0, 50, 4, 80),
    (30, 120, 12, 150),
    (5, 300, 0, 280),
    (9, 90, 9, 90),
]


@pytest.mark.parametrize(("x1", "n1", "x0", "n0"), CASES)
def test_fisher_matches_scipy(x1: int, n1: int, x0: int, n0: int) -> None:
    table = [[x1, n1 - x1], [x0, n0 - x0]]
    expected = stats.fisher_exact(table, alternative="greater").pvalue
    assert growth_p_value(x1, n1, x0, n0, "fisher") == pytest.approx(expected, rel=1e-9)


# statsmodels computes the rate ratio x1/n1 / (x0/n0) as a side result and warns when x0 = 0.
@pytest.mark.filterwarnings("ignore:divide by zero encountered in scalar divide:RuntimeWarning")
@pytest.mark.parametrize(("x1", "n1", "x0", "n0"), CASES)
def test_poisson_exact_conditional_matches_statsmodels_and_binomtest(
    x1: int, n1: int, x0: int, n0: int
) -> None:
    expected = poisson_2indep(x1, n1, x0, n0, method="exact-cond", alternative="larger").pvalue
    assert growth_p_value(x1, n1, x0, n0, "poisson") == pytest.approx(expected, rel=1e-9)
    if x1 + x0:
        binom = stats.binomtest(x1, x1 + x0, n1 / (n1 + n0), alternative="greater").pvalue
        assert growth_p_value(x1, n1, x0, n0, "poisson") == pytest.approx(binom, rel=1e-9)


@pytest.mark.parametrize(("x1", "n1", "x0", "n0"), [c for c in CASES if c[0] + c[2] > 0])
def test_ztest_matches_statsmodels(x1: int, n1: int, x0: int, n0: int) -> None:
    _, expected = proportions_ztest([x1, x0], [n1, n0], alternative="larger")
    assert growth_p_value(x1, n1, x0, n0, "ztest") == pytest.approx(expected, rel=1e-9)


def test_growth_p_value_rejects_empty_period_and_unknown_method() -> None:
    with pytest.raises(ValueError, match="at least one entry"):
        growth_p_value(1, 0, 1, 10, "fisher")
    with pytest.raises(ValueError, match="unknown method"):
        growth_p_value(1, 10, 1, 10, "chi2")  # type: ignore[arg-type]


def test_benjamini_hochberg_matches_statsmodels() -> None:
    p = np.random.default_rng(3).uniform(0, 0.2, size=17)
    p[[2, 9]] = [0.0004, 0.0011]
    expected = multipletests(p, method="fdr_bh")[1]
    np.testing.assert_allclose(benjamini_hochberg(p), expected, rtol=1e-12)
    assert benjamini_hochberg([]) == []


def _entries(
    period: str, counts: dict[str | None, int], start: int
) -> tuple[list[ThemeAssignment], dict[str, str]]:
    assignments, periods, i = [], {}, start
    for key, count in counts.items():
        for _ in range(count):
            entry = f"e{i}"
            assignments.append(ThemeAssignment(entry, key, 0.9))
            periods[entry] = period
            i += 1
    return assignments, periods


def test_emerging_need_found_and_stable_theme_not() -> None:
    before, periods_before = _entries("2024-Q1", {"T1": 3, "T2": 30, "T3": 20, None: 47}, 0)
    after, periods_after = _entries("2024-Q2", {"T1": 18, "T2": 28, "T3": 19, None: 35}, 1000)
    periods = periods_before | periods_after
    rows = {g.theme_key: g for g in theme_growth(before + after, periods, "2024-Q2", "2024-Q1")}
    assert set(rows) == {"T1", "T2", "T3"}
    t1 = rows["T1"]
    assert (t1.count, t1.total, t1.previous_count, t1.previous_total) == (18, 100, 3, 100)
    assert t1.rate_ratio == pytest.approx(6.0)
    assert t1.p_value == pytest.approx(stats.fisher_exact([[18, 82], [3, 97]], alternative="greater").pvalue)
    expected_q = multipletests([rows[k].p_value for k in ("T1", "T2", "T3")], method="fdr_bh")[1]
    assert [rows[k].q_value for k in ("T1", "T2", "T3")] == pytest.approx(list(expected_q))
    emerging = emerging_needs(before + after, periods, "2024-Q2", "2024-Q1")
    assert [g.theme_key for g in emerging] == ["T1"]
    message = emerging_need_message(emerging[0], "微信报修")
    assert "微信报修" in message.zh and "3.0%" in message.zh and "18.0%" in message.en


def test_new_theme_has_infinite_ratio_and_needs_min_entries() -> None:
    before, p0 = _entries("P1", {"T1": 40}, 0)
    after, p1 = _entries("P2", {"T1": 30, "T9": 2}, 100)
    growth = {g.theme_key: g for g in theme_growth(before + after, p0 | p1, "P2", "P1")}
    assert math.isinf(growth["T9"].rate_ratio)
    assert emerging_needs(before + after, p0 | p1, "P2", "P1", alpha=0.9) == []


def test_common_needs_thresholds() -> None:
    rows = [
        # entry, theme, customer, region, period, weight
        ("a1", "T1", "甲", "华东", "Q1", 0.9),
        ("a2", "T1", "乙", "华北", "Q1", 0.8),
        ("a3", "T1", "丙", "华南", "Q1", 0.7),
        ("b1", "T2", "甲", "华东", "Q1", 0.9),
        ("b2", "T2", "乙", "华北", "Q1", 0.9),
        ("b3", "T2", "丁", "华北", "Q1", 0.9),  # three customers, two regions
        ("c1", "T3", "甲", "华东", "Q1", 0.9),
        ("c2", "T3", "乙", "华北", "Q1", 0.9),
        ("c3", "T3", "丙", "华南", "Q2", 0.9),  # third region only in another period
        ("d1", "T4", "甲", "华东", "Q1", 0.9),
        ("d2", "T4", "乙", "华北", "Q1", 0.9),
        ("d3", "T4", "丙", "华南", "Q1", 0.2),  # third region only with a weak assignment
        ("e1", None, "丙", "华南", "Q1", 0.0),
    ]
    assignments = [ThemeAssignment(e, t, w) for e, t, _, _, _, w in rows]
    customer = {e: c for e, _, c, _, _, _ in rows}
    region = {e: r for e, _, _, r, _, _ in rows}
    period = {e: p for e, _, _, _, p, _ in rows}
    needs = common_needs(assignments, customer, region, period, "Q1")
    assert [n.theme_key for n in needs] == ["T1", "T4"]
    assert needs[0].customers == ("丙", "乙", "甲") and needs[0].regions == ("华东", "华北", "华南")
    assert [
        n.theme_key for n in common_needs(assignments, customer, region, period, "Q1", min_weight=0.5)
    ] == ["T1"]
    relaxed = common_needs(assignments, customer, region, period, "Q1", min_customers=3, min_regions=2)
    assert {n.theme_key for n in relaxed} == {"T1", "T2", "T4"}
