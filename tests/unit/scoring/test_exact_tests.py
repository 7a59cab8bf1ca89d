"""The exact permutation tests and Benjamini-Hochberg against scipy and statsmodels, edge cases
(n = 0, 1, all equal) and the real false-positive rates the issue quoted (issue 14)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from scoring import compare_nps, compare_shares
from scoring.exact_tests import benjamini_hochberg, permutation_p_value, score_grid


def _scipy_exact(values_a, values_b, alternative):
    """scipy's exact permutation test of mean(b) - mean(a) (every split enumerated)."""
    return stats.permutation_test(
        (np.asarray(values_b, float), np.asarray(values_a, float)),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        permutation_type="independent",
        n_resamples=np.inf,
        alternative=alternative,
        vectorized=True,
    ).pvalue


def _counts(values, scores):
    return [int(np.sum(np.asarray(values) == s)) for s in scores]


@pytest.mark.parametrize(
    ("xa", "na", "xb", "nb"), [(8, 10, 2, 6), (31, 38, 3, 6), (5, 5, 0, 5), (0, 4, 1, 1)]
)
def test_two_categories_is_fishers_exact_test(xa, na, xb, nb):
    p = permutation_p_value([na - xa, xa], [nb - xb, xb], [0, 1], alternative="less")
    ref = stats.fisher_exact([[xb, nb - xb], [xa, na - xa]], alternative="less").pvalue
    assert p == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("scores", [(-1, 0, 1), (1, 2, 3, 4, 5), (1, 2, 3, 4, 5, 6, 7)])
def test_matches_scipy_exact_permutation_test(seed, scores):
    rng = np.random.default_rng(seed)
    a = rng.choice(scores, size=7)
    b = rng.choice(scores, size=5)
    for alternative in ("less", "greater", "two-sided"):
        p = permutation_p_value(_counts(a, scores), _counts(b, scores), scores, alternative=alternative)
        assert p == pytest.approx(_scipy_exact(a, b, alternative), rel=1e-9)


def test_large_samples_use_the_normal_approximation_close_to_the_exact_value():
    scores = (1, 2, 3, 4, 5)
    a, b = [30, 40, 80, 200, 160], [20, 30, 60, 140, 90]  # smaller side 340 > EXACT_MAX_N
    approx = permutation_p_value(a, b, scores)
    # Monte Carlo reference: 20000 random splits of the pooled answers.
    pooled = np.repeat(scores, np.add(a, b))
    rng = np.random.default_rng(0)
    observed = np.dot(b, scores)
    sums = np.array([rng.permutation(pooled)[: sum(b)].sum() for _ in range(20000)])
    assert approx == pytest.approx(np.mean(sums <= observed), abs=0.01)


def test_edge_cases_empty_single_and_all_equal():
    assert math.isnan(permutation_p_value([0, 0], [3, 1], [0, 1]))  # n = 0
    assert math.isnan(permutation_p_value([0, 5], [0, 3], [0, 1]))  # every answer equal
    assert math.isnan(permutation_p_value([0, 30, 0], [0, 30, 0], [-1, 0, 1]))
    # n = 1 on each side: one split of two answers, each half as likely.
    assert permutation_p_value([0, 1], [1, 0], [0, 1]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        permutation_p_value([1, 2], [1], [0, 1])


def test_quoted_nps_observations_are_not_significant_any_more():
    # Issue 14: "one promoter against one detractor is significant at p = 0".
    assert compare_nps((1, 0, 0), (0, 0, 1)).p_value == pytest.approx(1.0)
    # "two 5s against two 4s, p = 0": both detractors on 0..10 -> identical, p = 1.
    assert compare_nps((0, 0, 2), (0, 0, 2)).p_value == 1.0
    # The same two answers scored as means (CES-like): 6 equally likely splits, 1 as extreme.
    assert permutation_p_value([0, 2], [2, 0], [4, 5], alternative="two-sided") == pytest.approx(1 / 3)
    assert _scipy_exact([5, 5], [4, 4], "two-sided") == pytest.approx(1 / 3)


def _nps_p(a, b):
    return permutation_p_value(a[::-1], b[::-1], (-1, 0, 1), alternative="two-sided")


@pytest.mark.parametrize("n", [5, 10])
def test_nps_false_positive_rate_at_small_n_is_at_most_nominal(n):
    # Issue 14 measured 11.6% / 8.2% at n = 5 / 10 for the old z test. The real rate of the exact
    # test, summed over every possible pair of samples (no simulation error):
    probs = np.array([0.45, 0.35, 0.20])  # promoter, passive, detractor
    outcomes = [(p, n - p - d, d) for p in range(n + 1) for d in range(n + 1 - p)]
    weight = {c: stats.multinomial.pmf(c, n, probs) for c in outcomes}
    rate = sum(weight[a] * weight[b] for a in outcomes for b in outcomes if _nps_p(a, b) < 0.05)
    assert rate <= 0.05
    # The old z test on the same outcomes (the figure, reproduced):
    z_rate = 0.0
    for a in outcomes:
        for b in outcomes:
            d = (b[0] - b[2]) / n - (a[0] - a[2]) / n
            v = sum((x[0] + x[2]) / n - ((x[0] - x[2]) / n) ** 2 for x in (a, b)) / n
            z = abs(d) / math.sqrt(v) if v > 0 else (math.inf if d else 0.0)
            z_rate += weight[a] * weight[b] * (2 * stats.norm.sf(z) < 0.05)
    assert z_rate > 0.075


def test_nps_false_positive_rate_at_n_20_by_simulation():
    rng = np.random.default_rng(20)
    draws = rng.multinomial(20, [0.45, 0.35, 0.20], size=(3000, 2))
    rejections = sum(_nps_p(tuple(a), tuple(b)) < 0.05 for a, b in draws)
    assert rejections / 3000 <= 0.05 + 2.33 * math.sqrt(0.05 * 0.95 / 3000)


def test_compare_shares_quoted_small_n_week():
    # "81.6% -> 50%, p = 0.028" at n = 6 (pooled z); the exact test does not call it a change.
    r = compare_shares(155, 190, 3, 6)
    assert r.p_value > 0.05


def test_benjamini_hochberg_matches_statsmodels():
    rng = np.random.default_rng(4)
    p = rng.random(40) ** 3
    assert benjamini_hochberg(p) == pytest.approx(multipletests(p, method="fdr_bh")[1], rel=1e-12)
    with_nan = np.array([0.01, np.nan, 0.04, 0.03])
    got = benjamini_hochberg(with_nan)
    assert math.isnan(got[1])
    assert got[[0, 2, 3]] == pytest.approx(multipletests([0.01, 0.04, 0.03], method="fdr_bh")[1])
    assert benjamini_hochberg([]).size == 0
    assert benjamini_hochberg([0.2]).tolist() == [0.2]
    assert benjamini_hochberg([0.5, 0.5, 0.5]).tolist() == [0.5, 0.5, 0.5]


def test_score_grid():
    pos, origin, step = score_grid([0.0, 25.0, 100.0 / 6, 100.0])
    assert step == pytest.approx(100.0 / 12) and origin == 0.0
    assert pos.tolist() == [0, 3, 2, 12]
    assert score_grid([0.0, 1.0, math.pi]) is None
