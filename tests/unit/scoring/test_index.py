"""The composite perception index: complete data against scipy's t interval of the per-respondent
index; missing data against a bootstrap of respondents."""

import numpy as np
import pytest
from scipy import stats

from scoring.index import FEEDBACK_DIMENSIONS, perception_index_by_group

WEIGHTS = [3, 2, 1, 1, 1, 2]


@pytest.fixture
def ratings():
    rng = np.random.default_rng(21)
    return rng.integers(1, 6, (300, 6)).astype(float), rng.choice(["a", "b"], 300)


def test_complete_data_equals_t_interval_of_respondent_index(ratings):
    x, region = ratings
    results = perception_index_by_group(x, region, weights=WEIGHTS)
    w = np.array(WEIGHTS) / sum(WEIGHTS)
    for r in results:
        idx = (100 * (x[region == r.key[0]] - 1) / 4) @ w
        ref = stats.t.interval(0.95, idx.size - 1, loc=idx.mean(), scale=stats.sem(idx))
        assert r.estimate == pytest.approx(idx.mean())
        assert (r.ci_low, r.ci_high) == pytest.approx(ref)


def test_named_weights_and_hand_example():
    # One respondent rating 5 on response speed and 1 elsewhere, weights 1 and 1 for speed and
    # attitude: index = (100 + 0) / 2 = 50.
    x = np.array([[5, 1, 1, 1, 1, 1]], dtype=float)
    weights = {"response_speed": 1.0, "staff_attitude": 1.0}
    r = perception_index_by_group(x, weights=weights)[0]
    assert r.estimate == pytest.approx(50.0)
    assert r.low_sample and np.isnan(r.ci_low)
    assert [c for c, _, _ in FEEDBACK_DIMENSIONS][0] == "response_speed"


def test_missing_data_interval_agrees_with_bootstrap(ratings):
    x, _ = ratings
    rng = np.random.default_rng(2)
    x = x.copy()
    x[rng.random(x.shape) < 0.3] = np.nan
    r = perception_index_by_group(x, weights=WEIGHTS)[0]
    w = np.array(WEIGHTS, dtype=float)

    def index(sample):
        means = np.nanmean(100 * (sample - 1) / 4, axis=0)
        return float(np.sum(w * means) / w.sum())

    assert r.estimate == pytest.approx(index(x))
    boots = [index(x[rng.integers(0, 300, 300)]) for _ in range(1500)]
    se_boot = np.std(boots, ddof=1)
    se_code = (r.ci_high - r.ci_low) / 2 / stats.t.ppf(0.975, r.n - 1)
    assert se_code == pytest.approx(se_boot, rel=0.1)


def test_weight_validation():
    with pytest.raises(ValueError):
        perception_index_by_group(np.ones((3, 6)), weights=[1, 1])
    with pytest.raises(ValueError):
        perception_index_by_group(np.full((3, 6), 9.0))
