"""Cronbach's alpha against pingouin on the data sets pingouin ships (offline) and against
item-total correlations computed directly with NumPy."""

import numpy as np
import pingouin as pg
import pytest

from scoring.reliability import alpha_by_dimension, cronbach_alpha, pairwise_covariance


@pytest.fixture(scope="module")
def wide():
    long = pg.read_dataset("cronbach_alpha")
    return long.pivot(index="Subj", columns="Items", values="Scores")


@pytest.fixture(scope="module")
def wide_missing():
    return pg.read_dataset("cronbach_wide_missing")


def test_alpha_matches_pingouin_shipped_dataset(wide):
    ref_alpha, ref_ci = pg.cronbach_alpha(data=wide)
    r = cronbach_alpha(wide.to_numpy(), list(wide.columns))
    assert r.alpha == pytest.approx(ref_alpha, abs=1e-12)
    assert (round(r.ci_low, 3), round(r.ci_high, 3)) == tuple(ref_ci)  # pingouin rounds to 3 places
    assert r.n == 15 and r.k == wide.shape[1]


def test_alpha_with_missing_values_pairwise_and_listwise(wide_missing):
    ref_alpha, ref_ci = pg.cronbach_alpha(data=wide_missing)
    r = cronbach_alpha(wide_missing.to_numpy())
    assert r.alpha == pytest.approx(ref_alpha, abs=1e-12)
    assert (round(r.ci_low, 3), round(r.ci_high, 3)) == tuple(ref_ci)
    ref_list, _ = pg.cronbach_alpha(data=wide_missing, nan_policy="listwise")
    listwise = cronbach_alpha(wide_missing.to_numpy(), nan_policy="listwise")
    assert listwise.alpha == pytest.approx(ref_list, abs=1e-12)
    assert listwise.n == len(wide_missing.dropna())


def test_alpha_if_item_deleted_matches_pingouin(wide_missing):
    r = cronbach_alpha(wide_missing.to_numpy(), list(wide_missing.columns))
    for item in r.items:
        ref, _ = pg.cronbach_alpha(data=wide_missing.drop(columns=item.item))
        assert item.alpha_if_deleted == pytest.approx(ref, abs=1e-12)


def test_item_total_correlation_matches_numpy(wide):
    x = wide.to_numpy(dtype=float)
    r = cronbach_alpha(x)
    for i, item in enumerate(r.items):
        rest = np.delete(x, i, axis=1).sum(axis=1)
        assert item.item_total_correlation == pytest.approx(np.corrcoef(x[:, i], rest)[0, 1], abs=1e-12)


def test_pairwise_covariance_matches_pandas(wide_missing):
    ref = wide_missing.cov().to_numpy()
    assert pairwise_covariance(wide_missing.to_numpy()) == pytest.approx(ref, abs=1e-12)


def test_alpha_by_dimension_skips_single_item_dimensions(wide):
    x = wide.to_numpy(dtype=float)[:, :5]
    dims = ["speed", "speed", "speed", "attitude", "training"]
    out = alpha_by_dimension(x, dims)
    assert list(out) == ["speed"]
    ref, _ = pg.cronbach_alpha(data=wide.iloc[:, :3])
    assert out["speed"].alpha == pytest.approx(ref, abs=1e-12)


def test_validation():
    with pytest.raises(ValueError):
        cronbach_alpha(np.ones((5, 1)))
