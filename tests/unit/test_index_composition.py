"""Issue 14, the perception index: the right n (respondents contributing), a low-sample flag when
any dimension has fewer than 30 ratings, and an interval that is not 2.2-2.95x too wide. Checked
against independent references: scipy's t interval of the per-respondent index (complete data,
where it is exact) and a seeded respondent bootstrap (missing dimensions, repeated ratings)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from perception.analysis.services.facts import Acc, index_measure
from scoring.index import perception_index_by_group, perception_index_from_sums


def _as_sums(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    answered = ~np.isnan(x)
    return np.where(answered, 25.0 * (x - 1.0), 0.0), answered.astype(float)


def test_complete_data_is_the_t_interval_of_the_per_respondent_index():
    rng = np.random.default_rng(7)
    x = rng.integers(1, 6, size=(40, 6)).astype(float)
    s, c = _as_sums(x)
    (r,) = perception_index_from_sums(s, c)
    per_person = (25.0 * (x - 1.0)).mean(axis=1)
    low, high = stats.t.interval(
        0.95, len(per_person) - 1, loc=per_person.mean(), scale=stats.sem(per_person)
    )
    assert r.measure.n == 40 and r.measure.estimate == pytest.approx(per_person.mean())
    assert (r.measure.ci_low, r.measure.ci_high) == pytest.approx((low, high))
    assert [p.weight for p in r.parts] == pytest.approx([1 / 6] * 6)
    assert r.thin == () and not r.measure.low_sample  # 40 ratings of each dimension


def _missing_world(seed: int = 11) -> np.ndarray:
    """Each respondent rates one to three dimensions (as on the demo: most rate one)."""
    rng = np.random.default_rng(seed)
    x = np.full((300, 6), np.nan)
    for r in range(300):
        dims = rng.choice(6, size=rng.choice([1, 1, 2, 3]), replace=False)
        x[r, dims] = rng.integers(1, 6, size=len(dims))
    return x


def test_missing_dimensions_match_a_respondent_bootstrap_and_the_old_interval_was_too_wide():
    x = _missing_world()
    s, c = _as_sums(x)
    (r,) = perception_index_from_sums(s, c)
    (same,) = perception_index_by_group(x)
    assert (r.measure.estimate, r.measure.ci_low, r.measure.ci_high) == pytest.approx(
        (same.estimate, same.ci_low, same.ci_high)
    )
    assert r.measure.n == 300  # every respondent who rated anything
    rng = np.random.default_rng(2026)
    boot = []
    for _ in range(2000):
        pick = rng.integers(0, 300, size=300)
        bs, bc = s[pick], c[pick]
        m = bs.sum(axis=0) / bc.sum(axis=0)
        boot.append(m.mean())
    se_boot = float(np.std(boot, ddof=1))
    half = (r.measure.ci_high - r.measure.ci_low) / 2
    se = half / stats.t.ppf(0.975, r.measure.n - 1)
    assert se == pytest.approx(se_boot, rel=0.08)
    # Yesterday's facts-sums interval (sum of per-dimension SEs) on the same answers.
    parts = {}
    for d, code in enumerate(
        (
            "response_speed",
            "fault_handling",
            "deliverable_quality",
            "staff_attitude",
            "service_conformity",
            "training_effect",
        )
    ):
        v = x[~np.isnan(x[:, d]), d]
        y = 25.0 * (v - 1.0)
        parts[("rating", code)] = Acc(n=len(v), s=float(v.sum()), ss=float((v * v).sum()), y=float(y.sum()),
                                      yy=float((y * y).sum()))  # fmt: skip
    old = index_measure(parts)
    assert old is not None and old.estimate == pytest.approx(r.measure.estimate)
    ratio = (old.ci_high - old.ci_low) / (r.measure.ci_high - r.measure.ci_low)
    print(f"old/new interval width: {ratio:.2f}")
    assert ratio > 2.0  # issue 14 measured 2.2-2.95 on the demo
    assert old.n != r.measure.n  # yesterday's n was the largest dimension's, not the respondents


def test_repeated_ratings_of_a_dimension_match_the_bootstrap():
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 4, size=(200, 6)).astype(float)
    counts[counts.sum(axis=1) == 0, 0] = 1
    sums = np.array([[rng.integers(0, 5, size=int(k)).sum() * 25.0 for k in row] for row in counts])
    (r,) = perception_index_from_sums(sums, counts)
    boot = []
    for _ in range(2000):
        pick = rng.integers(0, 200, size=200)
        boot.append((sums[pick].sum(axis=0) / counts[pick].sum(axis=0)).mean())
    se = (r.measure.ci_high - r.measure.ci_low) / 2 / stats.t.ppf(0.975, 199)
    assert se == pytest.approx(float(np.std(boot, ddof=1)), rel=0.08)
    assert r.measure.estimate == pytest.approx((sums.sum(axis=0) / counts.sum(axis=0)).mean())


def test_low_sample_when_one_dimension_is_thin():
    x = np.full((32, 6), np.nan)
    x[:, 0] = 4
    x[:, 1] = 3
    x[:5, 5] = 2  # training rated 5 times: the "n = 32 with no low-sample flag"
    s, c = _as_sums(x)
    (r,) = perception_index_from_sums(s, c)
    assert r.measure.n == 32 and r.measure.low_sample and r.thin == ("training_effect",)
    assert {p.code: p.n_ratings for p in r.parts} == {
        "response_speed": 32,
        "fault_handling": 32,
        "training_effect": 5,
    }


def test_edge_cases_zero_one_and_all_equal():
    (empty,) = perception_index_from_sums(np.zeros((0, 6)), np.zeros((0, 6)))
    assert empty.measure.n == 0 and math.isnan(empty.measure.estimate) and empty.measure.low_sample
    assert empty.parts == ()
    one = np.full((1, 6), np.nan)
    one[0, 2] = 5
    (r,) = perception_index_from_sums(*_as_sums(one))
    assert r.measure.n == 1 and r.measure.estimate == 100.0 and math.isnan(r.measure.ci_low)
    assert r.measure.low_sample
    same = np.full((30, 6), 4.0)
    (r,) = perception_index_from_sums(*_as_sums(same))
    assert r.measure.estimate == 75.0 and r.measure.ci_low == r.measure.ci_high == 75.0
    # A group with no rating has no index (n = 0 among others).
    s, c = _as_sums(np.vstack([same, np.full((1, 6), np.nan)]))
    out = perception_index_from_sums(s, c, np.array([0] * 30 + [1]))
    assert out[1].measure.n == 0 and math.isnan(out[1].measure.estimate)
    with pytest.raises(ValueError):
        perception_index_from_sums(np.ones((2, 6)), np.zeros((2, 6)))


@pytest.mark.parametrize("n", [0, 1, 7, 5000])
def test_summing_rows_per_index_is_numpy_s_add_at(n):
    """The index's merge per respondent and group (perception_index._summed_rows): the sums
    np.add.at gives, bit for bit (each group's rows added in row order), groups without a row 0."""
    from perception.analysis.services.perception_index import _summed_rows

    rng = np.random.default_rng(n)
    groups = max(1, n // 3)
    index = rng.integers(0, groups + 2, size=n)
    values = rng.normal(size=(n, 5)) * 10.0 ** rng.integers(-3, 4, size=(n, 1))
    want = np.zeros((groups + 2, 5))
    np.add.at(want, index, values)
    assert np.array_equal(_summed_rows(values, index, groups + 2), want)
