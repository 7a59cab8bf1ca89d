"""Cronbach's alpha where a user looks for it (issue 14): the experience page's reliability of
each set of dimensions asked together, listwise, equal to pingouin's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from perception.analysis.services.experience import experience
from perception.analysis.services.filters import parse_filters
from tests.analysis.conftest import MONDAY

DIMS = ("response_speed", "fault_handling", "staff_attitude")


def test_alpha_of_the_dimensions_asked_together_matches_pingouin(
    db_session, org, catalog, observe, period_args
):
    rng = np.random.default_rng(7)
    n = 25
    base = rng.integers(2, 6, n)
    x = np.clip(base[:, None] + rng.integers(-1, 2, (n, 3)), 1, 5).astype(float)
    x[:3, 2] = np.nan  # three skipped the third item: they do not count (listwise)
    r1 = org["R1"]["region"]
    for d, dim in enumerate(DIMS):
        rows = [i for i in range(n) if not np.isnan(x[i, d])]
        observe(r1, catalog["DESK"], "rating", x[rows, d], dimension=dim, respondents=[i + 1 for i in rows])
    view = experience(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    by_items = {r.dimensions: r.result for r in view.reliability}
    got = by_items[("response_speed", "fault_handling", "staff_attitude")]
    ref, _ = pg.cronbach_alpha(data=pd.DataFrame(x), nan_policy="listwise")
    assert got.alpha == pytest.approx(ref, abs=1e-12)
    assert got.n == 22 and got.k == 3
    assert view.to_dict()["reliability"][0]["result"]["n"] == 22


def test_experience_page_shows_alpha(login_as, db_session, org, catalog, observe):
    r1 = org["R1"]["region"]
    ratings = [4, 5, 3, 4, 2, 5, 4, 3, 4, 5, 3, 4]
    for dim in DIMS:
        observe(r1, catalog["DESK"], "rating", ratings, dimension=dim, respondents=range(1, 13))
    html = login_as("analyst").get("/analysis/experience?from=2026-W10&to=2026-W13").get_data(as_text=True)
    assert "Cronbach" in html and "Listwise" in html


def test_heat_map_marks_cells_with_fewer_than_30_ratings(db_session, org, catalog, observe, period_args):
    """Issue 14: "43 of 72 heat-map cells have n < 30 with no mark"."""
    from perception.analysis.services import charts

    r1 = org["R1"]["region"]
    observe(r1, catalog["DESK"], "rating", [4] * 30, dimension="response_speed")
    observe(r1, catalog["DESK"], "rating", [2, 3, 5], dimension="fault_handling")
    view = experience(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    svg = charts.dimension_heatmap_chart(view, zh=False).decode()
    assert ">4.00<" in svg and ">3.33*<" in svg and "fewer than 30 ratings" in svg
