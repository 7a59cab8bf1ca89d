"""Weighted SERVQUAL with each respondent's own 100-point weights, against a hand-worked case and an
independent per-respondent computation with numpy's weighted average and scipy's t interval."""

import math

import numpy as np
import pytest
from scipy import stats

from scoring.servqual import servqual_gaps, weighted_servqual

DIMS = ["reliability", "empathy", "tangibles"]
NAN = math.nan
# Respondent 3 rated no empathy pair; respondent 4 gave no weights.
P = np.array([[5, 4, 6], [6, 5, 5], [4, NAN, 7], [5, 5, 5]], dtype=float)
E = np.array([[6, 6, 6], [7, 5, 6], [6, NAN, 5], [6, 6, 6]], dtype=float)
W = np.array([[50, 30, 20], [20, 60, 20], [40, 40, 20], [NAN, NAN, NAN]], dtype=float)


def test_hand_worked_case():
    # Gaps: r1 (-1, -2, 0), r2 (-1, 0, -1), r3 (-2, -, 2), r4 (-1, -1, -1).
    # Weighted (sum w/100 * G): r1 -0.5 - 0.6 + 0 = -1.1; r2 -0.2 + 0 - 0.2 = -0.4;
    # r3 renormalised over the rated dimensions (40 and 20 of 60): -2 * 2/3 + 2 * 1/3 = -2/3.
    # r4 gave no weights: left out. Pooled: (-1.1 - 0.4 - 2/3) / 3 = -0.7222...
    r = weighted_servqual(P, E, W, DIMS)
    per = np.array([-1.1, -0.4, -2 / 3])
    assert r.weighted.n == 3 and r.left_out == 1
    assert r.weighted.gap == pytest.approx(-0.7222222222)
    low, high = stats.t.interval(0.95, 2, loc=per.mean(), scale=stats.sem(per))
    assert (r.weighted.ci_low, r.weighted.ci_high) == pytest.approx((low, high))
    assert r.weighted.low_sample
    # Unweighted over the same three respondents: r1 -1, r2 -2/3, r3 0.
    assert r.unweighted.n == 3 and r.unweighted.gap == pytest.approx((-1 - 2 / 3 + 0) / 3)
    # Mean weights: reliability (50 + 20 + 40) / 3, empathy (30 + 60 + 40) / 3, tangibles 20.
    got = {d.dimension: d for d in r.weights}
    assert got["reliability"].points == pytest.approx(110 / 3)
    assert got["empathy"].points == pytest.approx(130 / 3)
    assert got["tangibles"].points == pytest.approx(20.0)
    assert got["tangibles"].ci_low == pytest.approx(20.0) and got["tangibles"].n == 3
    ref = stats.ttest_1samp([50, 20, 40], 0).confidence_interval(0.95)
    assert (got["reliability"].ci_low, got["reliability"].ci_high) == pytest.approx((ref.low, ref.high))


def test_matches_an_independent_per_respondent_computation():
    rng = np.random.default_rng(3)
    n, k = 57, 5
    e = rng.integers(3, 8, size=(n, k)).astype(float)
    p = np.clip(e + rng.integers(-3, 2, size=(n, k)), 1, 7).astype(float)
    gone = rng.random((n, k)) < 0.15
    p[gone], e[gone] = NAN, NAN
    w = rng.multinomial(100, [0.1, 0.3, 0.2, 0.25, 0.15], size=n).astype(float)
    w[rng.random(n) < 0.2] = NAN  # a fifth gave no weights
    r = weighted_servqual(p, e, w, [f"d{j}" for j in range(k)])
    reference = []
    for i in range(n):
        ok = ~np.isnan(p[i] - e[i])
        if np.isnan(w[i]).all() or not ok.any() or w[i][ok].sum() == 0:
            continue
        reference.append(np.average((p[i] - e[i])[ok], weights=w[i][ok]))
    ref = np.array(reference)
    assert r.weighted.n == len(ref)
    assert r.weighted.gap == pytest.approx(ref.mean(), abs=1e-12)
    ci = stats.ttest_1samp(ref, 0).confidence_interval(0.95)
    assert (r.weighted.ci_low, r.weighted.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-12)
    given = w[~np.isnan(w).all(axis=1)]
    shares = 100 * given / given.sum(axis=1, keepdims=True)
    assert [d.points for d in r.weights] == pytest.approx(shares.mean(axis=0).tolist())


def test_complete_answers_give_the_1990_formula():
    # With every dimension rated, the respondent's score is sum_d (w_d / 100) * (P_d - E_d).
    r = weighted_servqual(P[:2], E[:2], W[:2], DIMS)
    by_formula = [float(np.sum(W[i] / 100 * (P[i] - E[i]))) for i in range(2)]
    assert r.weighted.gap == pytest.approx(np.mean(by_formula))


def test_equal_weights_give_the_unweighted_gap():
    rng = np.random.default_rng(5)
    e = rng.integers(2, 8, size=(40, 3)).astype(float)
    p = np.clip(e + rng.integers(-2, 2, size=(40, 3)), 1, 7).astype(float)
    equal = np.full((40, 3), 100 / 3)
    r = weighted_servqual(p, e, equal, DIMS)
    plain = servqual_gaps(p, e, DIMS).overall_unweighted
    assert r.weighted.gap == pytest.approx(plain.gap)
    assert (r.weighted.ci_low, r.weighted.ci_high) == pytest.approx((plain.ci_low, plain.ci_high))
    assert r.weighted.gap == pytest.approx(r.unweighted.gap)
    assert all(d.points == pytest.approx(100 / 3) for d in r.weights)


def test_a_dimension_given_zero_points_does_not_count():
    w = np.array([[0, 50, 50]], dtype=float)
    base = weighted_servqual(P[:1], E[:1], w, DIMS)
    moved = P[:1].copy()
    moved[0, 0] = 1.0  # reliability (weight 0) much worse
    assert weighted_servqual(moved, E[:1], w, DIMS).weighted.gap == pytest.approx(base.weighted.gap)
    assert base.weighted.gap == pytest.approx(0.5 * -2 + 0.5 * 0)
    # All points on a dimension the respondent rated no pair of: nothing to weight, left out.
    only = weighted_servqual(P[2:3], E[2:3], np.array([[0, 100, 0]], dtype=float), DIMS)
    assert only.weighted.n == 0 and only.left_out == 1


def test_no_and_one_respondent():
    none = weighted_servqual(np.empty((0, 3)), np.empty((0, 3)), np.empty((0, 3)), DIMS)
    assert none.weighted.n == 0 and math.isnan(none.weighted.gap) and math.isnan(none.weighted.ci_low)
    assert all(d.n == 0 and math.isnan(d.points) for d in none.weights) and none.left_out == 0
    one = weighted_servqual(P[:1], E[:1], W[:1], DIMS)
    assert one.weighted.n == 1 and one.weighted.gap == pytest.approx(-1.1)
    assert math.isnan(one.weighted.ci_low) and math.isnan(one.weighted.ci_high)
    assert one.weights[0].points == pytest.approx(50.0) and math.isnan(one.weights[0].ci_low)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="negative"):
        weighted_servqual(P[:1], E[:1], np.array([[-10, 60, 50]], dtype=float), DIMS)
    with pytest.raises(ValueError, match="shape"):
        weighted_servqual(P, E, W[:2], DIMS)
