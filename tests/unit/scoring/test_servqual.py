"""SERVQUAL gaps against a hand-worked example and scipy's paired t test."""

import numpy as np
import pytest
from scipy import stats

from scoring.servqual import servqual_gaps

# Four respondents, three items: items 1-2 measure reliability, item 3 responsiveness (7-point).
P = np.array([[5, 6, 4], [4, 5, 5], [6, 6, 3], [5, 4, 4]], dtype=float)
E = np.array([[6, 7, 6], [6, 6, 6], [7, 6, 5], [6, 6, 6]], dtype=float)
DIMS = ["reliability", "reliability", "responsiveness"]


def test_item_gaps_match_paired_t_test():
    r = servqual_gaps(P, E, DIMS, item_names=["R1", "R2", "S1"])
    for i, item in enumerate(r.items):
        ref = stats.ttest_rel(P[:, i], E[:, i])
        ci = ref.confidence_interval(0.95)
        assert item.gap == pytest.approx(np.mean(P[:, i] - E[:, i]))
        assert (item.ci_low, item.ci_high) == pytest.approx((ci.low, ci.high))
        assert item.low_sample


def test_dimension_and_overall_gaps_hand_worked():
    # Item gaps: R1 = (-1 -2 -1 -1)/4 = -1.25; R2 = (-1 -1 0 -2)/4 = -1.0; S1 = (-2 -1 -2 -2)/4 = -1.75.
    # Reliability = mean of R1, R2 = -1.125; responsiveness = -1.75.
    # Unweighted overall = (-1.125 - 1.75)/2 = -1.4375.
    # Weighted with stated importance 70/30: 0.7 * -1.125 + 0.3 * -1.75 = -1.3125.
    r = servqual_gaps(P, E, DIMS, importance={"reliability": 70, "responsiveness": 30})
    gaps = {d.name: d.gap for d in r.dimensions}
    assert gaps == pytest.approx({"reliability": -1.125, "responsiveness": -1.75})
    assert r.overall_unweighted.gap == pytest.approx(-1.4375)
    assert r.overall_weighted is not None
    assert r.overall_weighted.gap == pytest.approx(-1.3125)
    assert dict(r.weights) == pytest.approx({"reliability": 0.7, "responsiveness": 0.3})
    rel = r.dimensions[0]
    assert rel.perception == pytest.approx(5.125) and rel.expectation == pytest.approx(6.25)


def test_missing_answers_are_dropped_pairwise():
    p, e = P.copy(), E.copy()
    e[0, 2] = np.nan
    r = servqual_gaps(p, e, DIMS)
    assert r.items[2].n == 3
    assert r.items[2].gap == pytest.approx((-1 - 2 - 2) / 3)


def test_importance_must_cover_every_dimension():
    with pytest.raises(ValueError):
        servqual_gaps(P, E, DIMS, importance={"reliability": 1})
