"""Key drivers when nobody answers every dimension (issue 14): pairwise-complete correlations checked
against pandas.DataFrame.corr (pairwise by definition), weights against the decomposition of that
independent matrix, seeded bootstrap intervals, and edge cases (no answers, all equal, complete data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.drivers import importance_performance, key_drivers, pairwise_corr, relative_weights, shapley_r2

NAMES = ["speed", "fix", "quality", "attitude"]


@pytest.fixture
def gappy():
    """300 respondents; each rates two or three of the four dimensions (none rates all four)."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(300, 4))
    x[:, 1] += 0.5 * x[:, 0]
    y = x @ np.array([0.8, 0.4, 0.3, 0.1]) + rng.normal(size=300)
    for i in range(300):
        x[i, rng.choice(4, size=1 + i % 2, replace=False)] = np.nan
    assert not (~np.isnan(x)).all(axis=1).any()
    return x, y


def test_pairwise_correlations_match_pandas(gappy):
    x, y = gappy
    data = np.column_stack([x, y])
    r, n = pairwise_corr(data)
    frame = pd.DataFrame(data)
    np.testing.assert_allclose(r, frame.corr().to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(n, frame.notna().astype(int).T @ frame.notna().astype(int))


@pytest.mark.parametrize("method", ["relative_weights", "shapley"])
def test_weights_use_what_people_answer(gappy, method):
    x, y = gappy
    with pytest.raises(ValueError):  # the listwise rule has nobody left
        key_drivers(x, y, NAMES, method=method)
    result = key_drivers(x, y, NAMES, method=method, missing="pairwise", n_boot=200, seed=3)
    full = pd.DataFrame(np.column_stack([x, y])).corr().to_numpy()
    if np.linalg.eigvalsh(full).min() >= 0:
        decompose = relative_weights if method == "relative_weights" else shapley_r2
        expected = decompose(full[:-1, :-1], full[:-1, -1])
        np.testing.assert_allclose([d.weight for d in result.drivers], expected, rtol=1e-10)
    assert result.missing == "pairwise" and result.n == 300 and result.min_pair_n < 300
    assert [d.rank for d in result.drivers][0] == 1  # speed drives most
    for d in result.drivers:
        assert d.ci_low is not None and d.ci_low <= d.weight <= d.ci_high
    again = key_drivers(x, y, NAMES, method=method, missing="pairwise", n_boot=200, seed=3)
    assert [d.ci_low for d in again.drivers] == [d.ci_low for d in result.drivers]  # seeded


def test_complete_data_gives_the_listwise_answer():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(80, 4))
    y = x.sum(axis=1) + rng.normal(size=80)
    a = key_drivers(x, y, NAMES)
    b = key_drivers(x, y, NAMES, missing="pairwise")
    np.testing.assert_allclose([d.weight for d in a.drivers], [d.weight for d in b.drivers], rtol=1e-10)
    ipa_a = importance_performance(x, y, NAMES)
    ipa_b = importance_performance(x, y, NAMES, missing="pairwise")
    assert [p.quadrant for p in ipa_a.points] == [p.quadrant for p in ipa_b.points]


def test_ipa_pairwise_importance_is_the_pairwise_correlation(gappy):
    x, y = gappy
    ipa = importance_performance(x, y, NAMES, missing="pairwise")
    for j, point in enumerate(ipa.points):
        both = ~np.isnan(x[:, j])
        assert point.importance == pytest.approx(np.corrcoef(x[both, j], y[both])[0, 1], rel=1e-12)
        assert point.performance == pytest.approx(np.nanmean(x[:, j])) and point.n == both.sum()


def test_edge_cases():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3))
    y = rng.normal(size=40)
    none = x.copy()
    none[:, 2] = np.nan  # a dimension nobody rated
    with pytest.raises(ValueError):
        key_drivers(none, y, NAMES[:3], missing="pairwise")
    flat = x.copy()
    flat[:, 1] = 4.0  # all equal: no correlation exists
    with pytest.raises(ValueError):
        key_drivers(flat, y, NAMES[:3], missing="pairwise")
    with pytest.raises(ValueError):  # n = 1 respondent
        key_drivers(x[:1], y[:1], NAMES[:3], missing="pairwise")
    r, n = pairwise_corr(np.array([[1.0, np.nan], [2.0, 3.0]]))
    assert np.isnan(r[0, 1]) and n[0, 1] == 1 and r[0, 0] == 1.0


def test_an_indefinite_pairwise_matrix_is_projected():
    """Three items whose pairwise correlations (measured on different respondents) cannot coexist:
    r12 = r13 = 0.9, r23 = -0.9. The decomposition still gives finite, non-negative weights."""
    rng = np.random.default_rng(2)
    n = 200
    z = rng.normal(size=n)
    a = np.full((3 * n, 3), np.nan)
    a[:n, 0], a[:n, 1] = z, z + 0.3 * rng.normal(size=n)
    a[n : 2 * n, 0], a[n : 2 * n, 2] = z, z + 0.3 * rng.normal(size=n)
    a[2 * n :, 1], a[2 * n :, 2] = z, -z + 0.3 * rng.normal(size=n)
    y = np.nan_to_num(a).sum(axis=1) + rng.normal(size=3 * n)
    r, _ = pairwise_corr(np.column_stack([a, y]))
    assert np.linalg.eigvalsh(r).min() < 0
    result = key_drivers(a, y, NAMES[:3], missing="pairwise")
    assert all(np.isfinite(d.weight) and d.weight >= -1e-12 for d in result.drivers)
