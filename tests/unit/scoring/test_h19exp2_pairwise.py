"""Pairwise-complete correlations computed once per set of rows (issue 19: the experience page's
key-driver bootstrap calls them 200 times): bit for bit what one pair at a time gave, for
questionnaire-shaped gaps (dimensions rated together), random gaps, a column with fewer than two
answers and one without variance; and so the key drivers with their bootstrap intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scoring import drivers
from scoring.drivers import key_drivers, pairwise_corr


def _one_pair_at_a_time(data):
    """The implementation before (the reference)."""
    a = np.asarray(data, dtype=float)
    present = ~np.isnan(a)
    k = a.shape[1]
    r = np.full((k, k), np.nan)
    n = (present.T.astype(np.int64) @ present.astype(np.int64)).astype(np.int64)
    for i in range(k):
        for j in range(i, k):
            both = present[:, i] & present[:, j]
            if both.sum() < 2:
                continue
            xi, xj = a[both, i], a[both, j]
            di, dj = xi - xi.mean(), xj - xj.mean()
            den = math.sqrt(float(di @ di) * float(dj @ dj))
            if den > 0:
                r[i, j] = r[j, i] = float(di @ dj) / den
    return r, n


def _data(kind, seed, rows=3000, k=7):
    rng = np.random.default_rng(seed)
    base = rng.integers(1, 6, (rows, 1)).astype(float)
    a = np.clip(base + rng.integers(-1, 2, (rows, k)), 1, 5).astype(float)
    if kind == "questionnaires":  # forms asking different dimension sets (one none); overall always
        form = rng.integers(0, 4, rows)
        asked = np.array(
            [[1, 1, 1, 1, 1, 0], [0, 1, 1, 0, 1, 1], [1, 0, 1, 1, 0, 1], [0, 0, 0, 0, 0, 0]], dtype=bool
        )
        a[:, :6][~asked[form]] = np.nan
    elif kind == "random":
        a[rng.random((rows, k)) < 0.3] = np.nan
    elif kind == "degenerate":
        a[rng.random((rows, k)) < 0.2] = np.nan
        a[:, 2] = np.nan
        a[5, 2] = 3.0  # one answer: no correlation
        a[:, 3] = np.where(np.isnan(a[:, 3]), np.nan, 4.0)  # no variance
    return a


@pytest.mark.parametrize("kind", ["complete", "questionnaires", "random", "degenerate"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pairwise_correlations_bit_for_bit(kind, seed):
    a = _data(kind, seed)
    r, n = pairwise_corr(a)
    want_r, want_n = _one_pair_at_a_time(a)
    assert np.array_equal(r, want_r, equal_nan=True)
    assert np.array_equal(n, want_n)
    for rows in (a[:2], a[:1], a[:0]):
        assert np.array_equal(pairwise_corr(rows)[0], _one_pair_at_a_time(rows)[0], equal_nan=True)


def test_against_numpy_on_complete_columns():
    a = _data("complete", 4)
    assert np.allclose(pairwise_corr(a)[0], np.corrcoef(a, rowvar=False), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["questionnaires", "random"])
def test_key_drivers_with_bootstrap_unchanged(kind, monkeypatch):
    a = _data(kind, 5)
    x, y = a[:, :6], a[:, 6]
    names = [f"d{j}" for j in range(6)]
    got = key_drivers(x, y, names, missing="pairwise", n_boot=50, seed=14)
    monkeypatch.setattr(drivers, "pairwise_corr", _one_pair_at_a_time)
    want = key_drivers(x, y, names, missing="pairwise", n_boot=50, seed=14)
    assert got == want
