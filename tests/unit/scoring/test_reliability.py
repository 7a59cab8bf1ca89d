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
    r = cronbach_alpha(wide_missing.to_numpy(), nan_policy="pairwise")
    assert r.alpha == pytest.approx(ref_alpha, abs=1e-12)
    assert (round(r.ci_low, 3), round(r.ci_high, 3)) == tuple(ref_ci)
    ref_list, _ = pg.cronbach_alpha(data=wide_missing, nan_policy="listwise")
    listwise = cronbach_alpha(wide_missing.to_numpy(), nan_policy="listwise")
    assert listwise.alpha == pytest.approx(ref_list, abs=1e-12)
    assert listwise.n == len(wide_missing.dropna())


def test_alpha_if_item_deleted_matches_pingouin(wide_missing):
    r = cronbach_alpha(wide_missing.to_numpy(), list(wide_missing.columns), nan_policy="pairwise")
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


def test_listwise_is_the_default_and_pairwise_keeps_single_answer_rows():
    """Issue 14: the pairwise variant dropped rows with one answer, so it differed from pingouin."""
    import pandas as pd

    rng = np.random.default_rng(14)
    base = rng.integers(2, 6, 40)
    x = np.clip(base[:, None] + rng.integers(-1, 2, (40, 4)), 1, 5).astype(float)
    x[:6, 1:] = np.nan  # six respondents answered one item only
    x[10:14, 2] = np.nan
    frame = pd.DataFrame(x, columns=list("abcd"))
    pair_ref, pair_ci = pg.cronbach_alpha(data=frame)
    pair = cronbach_alpha(x, nan_policy="pairwise")
    assert pair.alpha == pytest.approx(pair_ref, abs=1e-12) and pair.n == 40
    assert (round(pair.ci_low, 3), round(pair.ci_high, 3)) == tuple(pair_ci)
    listwise_ref, _ = pg.cronbach_alpha(data=frame, nan_policy="listwise")
    listwise = cronbach_alpha(x)
    assert listwise.alpha == pytest.approx(listwise_ref, abs=1e-12)
    complete = frame.dropna()
    _, complete_ci = pg.cronbach_alpha(data=complete)  # the interval on the rows that count
    assert listwise.n == len(complete) == 30
    assert (round(listwise.ci_low, 3), round(listwise.ci_high, 3)) == tuple(complete_ci)


def test_alpha_edge_cases():
    with pytest.raises(ValueError):
        cronbach_alpha(np.full((1, 3), 4.0))  # n = 1
    with pytest.raises(ValueError):
        cronbach_alpha(np.full((3, 3), np.nan))  # no complete respondent
    same = cronbach_alpha(np.full((10, 3), 4.0))  # all equal: no variance to split
    assert np.isnan(same.alpha)
