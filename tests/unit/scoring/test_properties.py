"""Invariants checked with hypothesis: ranges, intervals containing the estimate, permutation
invariance and scaling behaviour."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scoring.index import perception_index_by_group
from scoring.intervals import nps_interval, wilson_interval
from scoring.measures import csat_by_group, mean_by_group, nps_by_group
from scoring.reliability import cronbach_alpha

FAST = settings(max_examples=60, deadline=None)
ltr = st.lists(st.integers(0, 10), min_size=1, max_size=80)


@FAST
@given(ltr, st.sampled_from(["score", "wald", "adjusted_wald"]))
def test_nps_in_range_and_interval_contains_estimate(scores, method):
    r = nps_by_group(np.array(scores, dtype=float), method=method)[0]
    assert -100.0 <= r.ci_low <= r.estimate <= r.ci_high <= 100.0


@FAST
@given(st.integers(0, 500), st.integers(1, 500), st.floats(0.5, 0.999))
def test_wilson_contains_estimate(x, extra, confidence):
    n = x + extra
    low, high = wilson_interval([x], [n], confidence)
    assert 0.0 <= low[0] <= x / n <= high[0] <= 1.0


@FAST
@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_nps_score_interval_narrows_with_more_data(p, o, d):
    n = p + o + d
    if n == 0:
        return
    low1, high1 = nps_interval([p], [d], [n])
    low4, high4 = nps_interval([4 * p], [4 * d], [4 * n])
    assert high4[0] - low4[0] <= high1[0] - low1[0] + 1e-12


@FAST
@given(st.lists(st.integers(1, 5), min_size=2, max_size=60), st.randoms(use_true_random=False))
def test_grouped_measures_are_permutation_invariant(scores, rnd):
    x = np.array(scores, dtype=float)
    groups = np.array([i % 3 for i in range(x.size)])
    order = list(range(x.size))
    rnd.shuffle(order)
    for measure in (csat_by_group, mean_by_group):
        a = measure(x, groups)
        b = measure(x[order], groups[order])
        assert [(r.key, r.n) for r in a] == [(r.key, r.n) for r in b]
        for ra, rb in zip(a, b, strict=True):
            assert ra.estimate == pytest.approx(rb.estimate, nan_ok=True)
            assert ra.ci_low == pytest.approx(rb.ci_low, nan_ok=True)


@FAST
@given(
    arrays(np.float64, st.integers(3, 40), elements=st.floats(1, 5)),
    st.floats(0.1, 10),
    st.floats(-5, 5),
)
def test_mean_interval_scales_affinely(x, a, b):
    r = mean_by_group(x)[0]
    s = mean_by_group(a * x + b)[0]
    assert s.estimate == pytest.approx(a * r.estimate + b, rel=1e-9, abs=1e-9)
    if np.isfinite(r.ci_low):
        assert s.ci_high - s.ci_low == pytest.approx(a * (r.ci_high - r.ci_low), rel=1e-6, abs=1e-9)


@FAST
@given(arrays(np.float64, (25, 4), elements=st.integers(1, 5).map(float)), st.floats(0.1, 10))
def test_cronbach_alpha_invariant_to_rescaling_all_items(x, a):
    if np.any(x.std(axis=0) == 0) or x.sum(axis=1).std() == 0:
        return
    assert cronbach_alpha(a * x).alpha == pytest.approx(cronbach_alpha(x).alpha, rel=1e-9, abs=1e-9)


@FAST
@given(
    arrays(np.float64, (12, 6), elements=st.integers(1, 5).map(float)),
    st.lists(st.floats(0.1, 5), min_size=6, max_size=6),
    st.floats(0.5, 20),
)
def test_index_invariant_to_weight_scale_and_within_range(x, weights, c):
    r1 = perception_index_by_group(x, weights=weights)[0]
    r2 = perception_index_by_group(x, weights=[c * w for w in weights])[0]
    assert r1.estimate == pytest.approx(r2.estimate)
    assert 0.0 <= r1.ci_low <= r1.estimate <= r1.ci_high <= 100.0
