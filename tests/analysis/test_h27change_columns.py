"""The change look's histogram read as columns (issue 19: on PostgreSQL each column comes back as
one value of concatenated binary numbers, read by NumPy without a Python object per number): the
columns must be the rows' own, and the look made from them the very look of the rows, on the
database the tests run on: every test, n, estimate, p and q, to the bit."""

from __future__ import annotations

import numpy as np

from perception.analysis.services import changes
from perception.analysis.services.changes import Histogram, build_inputs
from scoring.drift import detect_drops
from tests.analysis.test_changes_service import FILTERS, TODAY


def _answers(observe, org, catalog, *, unknown: bool = False) -> None:
    """Every kind the look tests, on several scales, with and without a service; the recent weeks
    lower in Beijing; a rating without its dimension (no measure takes it) and, with ``unknown``,
    a dimension that is none of the six."""
    r1, r2, desk, net = org["R1"]["region"], org["R2"]["region"], catalog["DESK"], catalog["NET"]
    rng = np.random.default_rng(27)
    for week in range(12):
        recent = week >= 8
        low = [1] * (5 if recent else 0)
        observe(r1, desk, "csat", rng.integers(3, 6, size=12).tolist() + low, week=week)
        observe(r1, desk, "csat", rng.integers(1, 11, size=6).tolist(), week=week, scale=(1, 10))
        observe(r1, None, "csat", [5, 4, 2], week=week)
        observe(r1, desk, "nps", rng.integers(0, 11, size=14).tolist() + low, week=week, scale=(0, 10))
        observe(r2, net, "nps", [9, 7, 6, 10], week=week, scale=(0, 10))
        observe(r1, desk, "ces", rng.integers(1, 8, size=9).tolist(), week=week, scale=(1, 7))
        for dimension in ("staff_attitude", "response_speed"):
            values = rng.integers(2, 6, size=8).tolist() + low
            observe(r1, desk, "likert", values, week=week, dimension=dimension)
            observe(r2, None, "rating", [4, 5, 3], week=week, dimension=dimension)
        observe(r2, net, "rating", [2, 3], week=week)  # no dimension: no measure
        if unknown:
            observe(r2, net, "likert", [1, 5, 4], week=week, dimension="night_shift_cover")
    # Another voice's answers (a weekly report's) are not the look's.
    observe(r1, desk, "csat", [1, 1, 1], week=11, source="feedback")


def _named(h: Histogram) -> list[tuple]:
    """The rows of ``h`` with each measure by its name ("" for none), in row order."""
    names = [*h.measures, ""]
    columns = (h.recent, h.region, h.service, h.measure, h.lo, h.hi, h.value, h.count)
    return [
        (bool(r), int(a), int(b), names[m], float(lo), float(hi), float(v), int(c))
        for r, a, b, m, lo, hi, v, c in zip(*(c.tolist() for c in columns), strict=True)
    ]


def _window():
    window = changes.change_window(FILTERS, TODAY)
    assert window is not None
    return window


def test_the_columns_are_the_rows_and_make_the_same_look(db_session, org, catalog, observe):
    _answers(observe, org, catalog)
    window = _window()
    columns = changes._histogram_columns(db_session, FILTERS, window)
    rows = changes._histogram(db_session, FILTERS, window)
    of_rows = Histogram.of_rows(rows)
    assert len(columns) == len(rows) > 50
    assert all(c.dtype == o.dtype for c, o in zip(
        (columns.recent, columns.region, columns.service, columns.lo, columns.value, columns.count),
        (of_rows.recent, of_rows.region, of_rows.service, of_rows.lo, of_rows.value, of_rows.count),
        strict=True,
    ))  # fmt: skip
    assert sorted(_named(columns)) == sorted(_named(of_rows))
    assert "" in {row[3] for row in _named(of_rows)}  # the rating without its dimension
    assert {"csat", "nps", "ces", "staff_attitude", "response_speed"} <= set(of_rows.measures)
    # The look from either, and from the rows themselves: the same to the bit (the dimensions'
    # scale is 1..5, so their sums do not depend on the rows' order).
    from_columns, from_rows = detect_drops(*build_inputs(columns)), detect_drops(*build_inputs(rows))
    assert from_columns.flags and repr(from_columns.tests) == repr(from_rows.tests)
    assert repr(detect_drops(*build_inputs(of_rows)).tests) == repr(from_rows.tests)
    flagged = {(t.unit, t.measure) for t in from_columns.flags}
    assert (("region", org["R1"]["region"].id), "staff_attitude") in flagged


def test_the_page_s_look_is_the_look_of_the_rows(db_session, org, catalog, observe):
    _answers(observe, org, catalog)
    window = _window()
    view = changes.computed_view(db_session, FILTERS, window)
    summary = changes.computed_summary(db_session, FILTERS, window)
    look = detect_drops(*build_inputs(changes._histogram(db_session, FILTERS, window)))
    assert view.flags and repr(view.look.tests) == repr(look.tests)
    assert [(r.unit, r.measure) for r in summary.flags] == [(t.unit, t.measure) for t in look.flags]
    assert summary.n_tests == len(look.tests) and summary.n_tested == look.n_tested


def test_a_dimension_not_among_the_six_is_tested_as_before(db_session, org, catalog, observe):
    _answers(observe, org, catalog, unknown=True)
    window = _window()
    columns = changes._histogram_columns(db_session, FILTERS, window)
    assert "night_shift_cover" in columns.measures
    rows = changes._histogram(db_session, FILTERS, window)
    assert sorted(_named(columns)) == sorted(_named(Histogram.of_rows(rows)))
    look = detect_drops(*build_inputs(columns))
    assert any(t.measure == "night_shift_cover" for t in look.tests)
    assert repr(look.tests) == repr(detect_drops(*build_inputs(rows)).tests)


def test_an_empty_window_gives_empty_columns_and_no_tests(db_session, org, catalog, observe):
    r1, desk = org["R1"]["region"], catalog["DESK"]
    observe(r1, desk, "csat", [5, 4], week=0, source="feedback")  # not the customers' voice
    columns = changes._histogram_columns(db_session, FILTERS, _window())
    assert len(columns) == 0 and columns.count.dtype == np.int64
    assert detect_drops(*build_inputs(columns)).tests == ()
