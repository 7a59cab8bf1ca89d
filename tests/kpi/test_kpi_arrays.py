"""distinct_rows against the obvious reference: sorted(set(zip(...)))."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from perception.kpi.services.arrays import distinct_rows


@given(
    st.lists(
        st.tuples(st.integers(-3, 40), st.integers(0, 5), st.integers(-1, 1000)), min_size=1, max_size=60
    )
)
def test_distinct_rows_matches_python_sets(rows):
    cols = [np.array(c, dtype=np.int64) for c in zip(*rows, strict=True)]
    uniq, inverse = distinct_rows(*cols)
    expected = sorted(set(rows))
    assert list(zip(*(u.tolist() for u in uniq), strict=True)) == expected
    assert [expected[i] for i in inverse.tolist()] == rows


def test_distinct_rows_dense_and_sorted_paths_agree():
    """Few possible keys are numbered without a sort; many take np.unique: the same answer."""
    rng = np.random.default_rng(5)
    small = [rng.integers(0, 4, 500), rng.integers(10, 13, 500)]  # 12 possible keys: dense
    wide = [small[0] * 10**9, small[1]]  # the same rows, 4e9 possible keys: np.unique
    for cols in (small, wide):
        uniq, inverse = distinct_rows(*cols)
        rows = list(zip(*(c.tolist() for c in cols), strict=True))
        expected = sorted(set(rows))
        assert list(zip(*(u.tolist() for u in uniq), strict=True)) == expected
        assert [expected[i] for i in inverse.tolist()] == rows
