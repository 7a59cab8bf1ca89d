"""Issue 19: stored whole-second durations stay 32-bit integers through gather and selection, and
gather builds its indices by one cumulative sum. Checked against slices concatenated by hand and
numpy.percentile(method="linear") over the union, for int32 and float64 runs, empty runs included."""

from __future__ import annotations

import numpy as np
import pytest

from perception.kpi.services.duration_arrays import Column, gather
from perception.kpi.services.pooled import _grouped_percentiles


def _runs(rng: np.random.Generator, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count = rng.integers(0, 6, size=40)
    count[[0, 7, 39]] = 0
    offset = np.cumsum(count) - count
    values = np.concatenate([np.sort(rng.integers(0, 50, size=c)) for c in count]).astype(dtype)
    return values, count.astype(np.int64), offset.astype(np.int64)


@pytest.mark.parametrize("dtype", ["<i4", "<f8"])
def test_gather_is_the_runs_back_to_back(dtype: str) -> None:
    rng = np.random.default_rng(20)
    values, count, offset = _runs(rng, dtype)
    order = rng.permutation(count.size)
    found = gather(values, offset[order], count[order])
    expected = np.concatenate([values[o : o + c] for o, c in zip(offset[order], count[order], strict=True)])
    assert found.dtype == values.dtype
    assert found.tolist() == expected.tolist()
    assert gather(values, offset[:1], count[:1]).size == 0
    in_place = gather(values, offset[5:20], count[5:20])  # runs back to back: one slice, copied
    assert in_place.tolist() == values[offset[5] : offset[19] + count[19]].tolist()
    in_place[:] = 0
    assert values.any()


@pytest.mark.parametrize("dtype", ["<i4", "<f8"])
def test_grouped_percentiles_of_integer_runs_are_numpys(dtype: str) -> None:
    rng = np.random.default_rng(21)
    values, count, offset = _runs(rng, dtype)
    group = rng.integers(0, 5, size=count.size).astype(np.intp)
    found, n = _grouped_percentiles(Column(values, count, offset), group, 6, [50.0, 90.0])
    for g in range(6):
        union = np.concatenate(
            [values[o : o + c] for o, c, k in zip(offset, count, group, strict=True) if k == g]
            or [np.zeros(0)]
        ).astype(np.float64)
        assert n[g] == union.size
        if union.size:
            assert found[g].tolist() == np.percentile(union, [50.0, 90.0], method="linear").tolist()
        else:
            assert np.isnan(found[g]).all()
