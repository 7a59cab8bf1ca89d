"""The exact programme's banded matrix (scoring.exact_tests._band) is the matrix of its
definition, B[i, j] = w[d0 + i - j] inside w and 0 outside, entry for entry (a double loop
here), at every offset, size and band width the programme meets, empty ones included."""

from __future__ import annotations

import itertools

import numpy as np

from scoring.exact_tests import _band


def _by_definition(w, d0, rows, columns):
    out = np.zeros((max(rows, 0), max(columns, 0)))
    for i, j in itertools.product(range(max(rows, 0)), range(max(columns, 0))):
        if 0 <= d0 + i - j < len(w):
            out[i, j] = w[d0 + i - j]
    return out


def test_the_band_is_its_definition():
    rng = np.random.default_rng(20)
    for k, d0, rows, columns in itertools.product(
        (1, 2, 5, 9), (-6, -1, 0, 1, 3, 12), (0, 1, 4, 7), (0, 1, 3, 8)
    ):
        w = rng.random(k)
        got = _band(w, d0, rows, columns)
        want = _by_definition(w, d0, rows, columns)
        assert got.shape == want.shape and got.flags.c_contiguous
        assert np.array_equal(got, want)
        assert not np.signbit(got).any()  # zeros are +0.0, as np.where gave them
