"""The quantiles kept per (confidence, df) are scipy's own floats, exactly (issue 19: a page of
some hundred groups asked scipy for the same quantile each time)."""

from __future__ import annotations

import pytest
from scipy import stats

from scoring.index import t_quantile
from scoring.intervals import z_quantile


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_z_quantile_is_scipys(confidence):
    for _ in range(2):  # computed, then kept
        assert z_quantile(confidence) == float(stats.norm.ppf(0.5 + confidence / 2.0))
    with pytest.raises(ValueError, match="confidence"):
        z_quantile(1.0)


def test_t_quantile_is_scipys():
    for df in (1, 2, 7, 29, 30, 999, 123456):
        for p in (0.9, 0.975, 0.995):
            assert t_quantile(p, df) == float(stats.t.ppf(p, df))
            assert t_quantile(p, df) == float(stats.t.ppf(p, df))
