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
