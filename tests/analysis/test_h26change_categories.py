"""The change look's histogram counts CSAT and NPS answers per category, not per value (issue 19:
fewer rows to group, send and build from at a national provider's size), in two groupings, one per
side: the look must be the very look of the value-by-value histogram in one grouping, on the
database the tests run on: every test, n, estimate, p and q, to the bit."""

from __future__ import annotations

import numpy as np

from perception.analysis.services import changes
from perception.core.models.facts import ExperienceObservation as Obs
from tests.analysis.test_changes_service import FILTERS, TODAY


def _answers(observe, org, catalog) -> None:
    """Every CSAT value of three scales (a 1..2 scale's bottom is in its top-2 box), every NPS
    value, CES and a dimension; the recent weeks lower in Beijing, a few answers elsewhere."""
    r1, r2, desk, net = org["R1"]["region"], org["R2"]["region"], catalog["DESK"], catalog["NET"]
    rng = np.random.default_rng(26)
    for week in range(12):
        recent = week >= 8
        for scale in ((1, 5), (1, 10), (1, 2)):
            lo, hi = scale
            values = rng.integers(lo, hi + 1, size=12).tolist() + [hi] * (2 if recent else 9)
            observe(r1, desk, "csat", values, week=week, scale=scale)
        nps = list(range(11)) + [10] * (1 if recent else 8) + [0] * (6 if recent else 1)
        observe(r1, desk, "nps", nps, week=week, scale=(0, 10))
        observe(r1, desk, "ces", rng.integers(1, 8, size=10).tolist(), week=week, scale=(1, 7))
        observe(
            r1, desk, "likert", rng.integers(1, 6, size=10).tolist(), week=week, dimension="staff_attitude"
        )
        observe(r2, net, "nps", [9, 7, 6], week=week, scale=(0, 10))
        observe(r2, net, "csat", [4, 3], week=week, scale=(1, 5))


def test_the_look_by_category_is_the_look_by_value(db_session, org, catalog, observe, monkeypatch):
    _answers(observe, org, catalog)
    window = changes.change_window(FILTERS, TODAY)
    assert window is not None
    by_category = changes.computed_view(db_session, FILTERS, window)
    rows = changes._histogram(db_session, FILTERS, window)
    with monkeypatch.context() as m:
        # The histogram as it was: every answer counted by its own value.
        m.setattr(changes, "_answer_value", lambda: Obs.value)
        by_value = changes.computed_view(db_session, FILTERS, window)
        value_rows = changes._histogram(db_session, FILTERS, window)
    assert by_category.flags and {f.measure for f in by_category.flags} >= {"csat", "nps"}
    assert by_category.look.n_tested > 0
    assert repr(by_category.look.tests) == repr(by_value.look.tests)
    assert repr(by_category.flags) == repr(by_value.flags)
    # At most two CSAT rows and three NPS rows per side, cell and scale; the others as they were.
    assert len(rows) < len(value_rows)
    for kind, most in (("csat", 2), ("nps", 3)):
        groups: dict[tuple, int] = {}
        for row in rows:
            if row[3] == kind:
                key = (bool(row[0]), row[1], row[2], row[5], row[6])
                groups[key] = groups.get(key, 0) + 1
        assert groups and max(groups.values()) <= most, kind
    others = sorted(tuple(r) for r in rows if r[3] not in ("csat", "nps"))
    assert others == sorted(tuple(r) for r in value_rows if r[3] not in ("csat", "nps"))
