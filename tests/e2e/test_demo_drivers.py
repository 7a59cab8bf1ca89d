"""Issue 14, key drivers on the demo: nobody rates all six dimensions, so the listwise drivers and
importance-performance never appeared on 26 weeks of demo data. With pairwise-complete correlations
they do, each weight with a bootstrap interval, and the dimensions left out are named with their n.
On the whole demo (the process's shared build)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_demo_shows_drivers_with_intervals_and_importance_performance(demo_session):
    from perception.analysis.services.experience import driver_matrix, experience
    from perception.analysis.services.filters import AnalysisFilters
    from perception.core.periods import week_start

    today = date.today()
    db_session = demo_session(26, today)
    end = week_start(today) + timedelta(weeks=1)
    filters = AnalysisFilters(start=end - timedelta(weeks=26), end=end)
    for kind in ("csat", "nps"):  # the observation: not one complete respondent
        x, y, _ = driver_matrix(db_session, filters, overall_kind=kind)
        assert not (~np.isnan(x).any(axis=1) & ~np.isnan(y)).any()
    view = experience(db_session, filters)
    assert view.drivers is not None and view.ipa is not None
    assert len(view.drivers.drivers) >= 3 and view.drivers.missing == "pairwise"
    assert view.drivers.n_boot == 200 and view.drivers.min_pair_n >= 30
    for d in view.drivers.drivers:
        assert d.ci_low is not None and d.ci_low <= d.weight <= d.ci_high
    assert {p.dimension for p in view.ipa.points} == {d.dimension for d in view.drivers.drivers}
    assert all(n < 30 for _, n in view.driver_left_out)
    # The same figures again: the bootstrap is seeded.
    again = experience(db_session, filters)
    assert [d.ci_high for d in again.drivers.drivers] == [d.ci_high for d in view.drivers.drivers]
