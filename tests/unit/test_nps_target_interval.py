"""Issue 14: an NPS target on the KPI-versus-experience page is judged with the NPS score interval
used everywhere else, not a t (or bounded-mean) interval whose coverage at n = 30 with 90%
promoters is about 0.84. Coverage is computed exactly by enumerating every outcome of the
multinomial sample (no random draws), and the interval and p-value are checked against an
independent implementation (restricted MLE by numerical optimisation, roots by brentq)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from scoring.comparison import ComparisonCell, compare_one


def _cell(b: int, c: int, n: int, target: float) -> ComparisonCell:
    return ComparisonCell(
        service="S", region="R", period="p", kpi_value=1.0, kpi_target=0.9, kpi_comparator=">=",
        experience_target=target, experience_n=n, experience_promoters=b, experience_detractors=c,
    )  # fmt: skip


def _t_cell(b: int, c: int, n: int, target: float) -> ComparisonCell:
    """Yesterday's input: the NPS as a mean of +100/0/-100 with its SD (t interval)."""
    mean = 100.0 * (b - c) / n
    sd = math.sqrt(max(1e4 * (b + c) - n * mean * mean, 0.0) / (n - 1))
    return ComparisonCell(
        service="S", region="R", period="p", kpi_value=1.0, kpi_target=0.9, kpi_comparator=">=",
        experience_target=target, experience_n=n, experience_mean=mean, experience_sd=sd,
    )  # fmt: skip


def _reference_statistic(b: int, c: int, n: int, d: float) -> float:
    """Score statistic for d = p+ - p-: the multinomial likelihood maximised numerically under the
    constraint, then (b - c - n d) / sqrt(n (p+ + p- - d^2))."""
    a = n - b - c
    lo, hi = max(0.0, -d), min(1.0 - d, (1.0 - d) / 2.0)

    def nll(q: float) -> float:  # q = p-, p+ = q + d, p0 = 1 - 2q - d
        pp, p0 = q + d, 1.0 - 2.0 * q - d
        out = 0.0
        for count, p in ((b, pp), (c, q), (a, p0)):
            if count:
                out -= count * math.log(max(p, 1e-300))
        return out

    q = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-13}).x
    var = n * ((q + d) + q - d * d)
    return (b - c - n * d) / math.sqrt(var) if var > 0 else 0.0


def _reference_interval(b: int, c: int, n: int, z: float) -> tuple[float, float]:
    est = (b - c) / n
    f = lambda d, s: _reference_statistic(b, c, n, d) - s  # noqa: E731
    low = -1.0 if f(-1 + 1e-9, z) <= 0 else optimize.brentq(f, -1 + 1e-9, est, args=(z,), xtol=1e-12)
    high = 1.0 if f(1 - 1e-9, -z) >= 0 else optimize.brentq(f, est, 1 - 1e-9, args=(-z,), xtol=1e-12)
    return low, high


@pytest.mark.parametrize(("b", "c", "n", "target"), [(27, 1, 30, 50.0), (10, 15, 30, -10.0), (5, 0, 7, 30.0)])
def test_score_interval_and_test_match_an_independent_reference(b, c, n, target):
    r = compare_one(_cell(b, c, n, target))
    z = stats.norm.ppf(0.975)
    low, high = _reference_interval(b, c, n, z)
    assert r.experience_kind == "nps"
    assert r.experience_estimate == pytest.approx(100 * (b - c) / n)
    assert (r.experience_ci_low, r.experience_ci_high) == pytest.approx((100 * low, 100 * high), abs=1e-5)
    t = _reference_statistic(b, c, n, target / 100)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(t)), rel=1e-6)
    # The interval excludes the target exactly when the test rejects at 5%.
    assert (r.experience_ci_low > target or r.experience_ci_high < target) == (r.p_value < 0.05)


def _coverage(make, n: int, probs: tuple[float, float, float]) -> float:
    """Exact coverage of the cell interval for the true NPS: the sum over every outcome (b, c)
    of its multinomial probability when the interval holds the true value."""
    pp, p0, pm = probs
    true = 100.0 * (pp - pm)
    total = 0.0
    for b in range(n + 1):
        for c in range(n + 1 - b):
            r = compare_one(make(b, c, n, true))
            if r.experience_ci_low <= true <= r.experience_ci_high:
                total += stats.multinomial.pmf([b, n - b - c, c], n, [pp, p0, pm])
    return total


def test_coverage_at_n30_with_90_percent_promoters():
    probs = (0.9, 0.05, 0.05)
    score = _coverage(_cell, 30, probs)
    t_cov = _coverage(_t_cell, 30, probs)
    # Issue 14 measured 0.84 for the t interval; the score interval is close to the nominal 95%.
    assert t_cov < 0.90
    assert score >= 0.93
    assert abs(score - 0.95) < abs(t_cov - 0.95)


def test_edge_cases_all_promoters_and_one_answer():
    everyone = compare_one(_cell(30, 0, 30, 90.0))
    assert everyone.experience_estimate == 100.0 and everyone.experience_ci_low < 100.0  # never collapses
    one = compare_one(_cell(1, 0, 1, 0.0))
    assert one.experience_ci_low < 0.0 < one.experience_ci_high and one.low_sample and not one.evidenced
    with pytest.raises(ValueError):
        compare_one(_cell(0, 0, 0, 0.0))
    assert np.isfinite(compare_one(_cell(3, 3, 6, 0.0)).p_value)
