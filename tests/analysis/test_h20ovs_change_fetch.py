"""The change look's histogram fetched as the driver's tuples and grouped without sorting
(issue 19, the overview's first load at a national provider's size): the rows must be the ones
SQLAlchemy's result gave, in the same order (build_inputs sums the dimensions in row order), and
the grouping by a table of keys must give np.unique's codes, so that every input, estimate, p and
q stays what it was."""

from __future__ import annotations

import numpy as np
import pytest

from perception.analysis.services import changes
from perception.analysis.services.changes import _unique_inverse, build_inputs, change_summary, change_view
from perception.analysis.services.overview import overview
from scoring.drift import detect_drops
from tests.analysis.test_changes_service import FILTERS, TODAY, _inputs_row_by_row
from tests.analysis.test_h20ov_change_summary import _drop, _rows


@pytest.mark.parametrize("bound", [1, 7, 1000, 1 << 20])
def test_unique_by_table_is_numpys_unique(bound):
    rng = np.random.default_rng(bound)
    for size in (0, 1, 5, 10_000):
        keys = rng.integers(0, bound, size=size).astype(np.int64)
        found, inverse = _unique_inverse(keys, bound)
        want_found, want_inverse = np.unique(keys, return_inverse=True)
        assert found.dtype == want_found.dtype and inverse.dtype == want_inverse.dtype
        assert np.array_equal(found, want_found) and np.array_equal(inverse, want_inverse.reshape(-1))
        assert np.array_equal(found[inverse], keys)


def _same_inputs(a, b) -> bool:
    return a[0].inputs() == b[0].inputs() and a[1].inputs() == b[1].inputs()


@pytest.mark.parametrize("seed", [40, 41])
def test_inputs_by_table_and_by_sorting_equal_the_row_by_row_reference(seed, monkeypatch):
    # Mixed scales (a 1..7 dimension scores in non-integral points, whose sums depend on the
    # order of addition) and rows in the database's arbitrary order.
    rows = _rows(seed, regions=40, services=15)
    by_table = build_inputs(rows)
    monkeypatch.setattr(changes, "UNIQUE_TABLE_LIMIT", 0)
    by_sorting = build_inputs(rows)
    reference = _inputs_row_by_row(rows)
    assert _same_inputs(by_table, by_sorting)
    assert by_table[0].inputs() == reference[0] and by_table[1].inputs() == reference[1]
    # repr: every float to the bit, NaN equal to NaN.
    assert repr(detect_drops(*by_table).tests) == repr(detect_drops(*by_sorting).tests)


def test_the_columns_accept_the_rows_of_either_driver():
    """sqlite3 gives the side as 0/1 and may give a whole float as an int; psycopg True/False."""
    rows = _rows(42, regions=6, services=3)
    as_sqlite = [(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), int(r[7]), r[8]) for r in rows]
    assert _same_inputs(build_inputs(rows), build_inputs(as_sqlite))


def _sqlalchemy_rows(session, statement, *, binary=False):
    """How _histogram read its rows before: SQLAlchemy's result rows."""
    return [tuple(row) for row in session.execute(statement).all()]


def test_the_histogram_rows_and_their_order_are_sqlalchemys(db_session, org, catalog, observe, monkeypatch):
    _drop(observe, org, catalog)
    window = changes.change_window(FILTERS, TODAY)
    assert window is not None
    fetched = [tuple(r) for r in changes._histogram(db_session, FILTERS, window)]
    with monkeypatch.context() as m:
        m.setattr(changes, "fetch_tuples", _sqlalchemy_rows)
        before = changes._histogram(db_session, FILTERS, window)
    assert len(fetched) > 10
    assert fetched == before  # same values, same order
    assert [type(v) for v in fetched[0][1:]] == [type(v) for v in before[0][1:]]


def test_the_look_the_summary_and_the_page_equal_sqlalchemys_fetch(
    db_session, org, catalog, observe, monkeypatch
):
    _drop(observe, org, catalog)
    look = change_view(db_session, FILTERS, today=TODAY)
    summary = change_summary(db_session, FILTERS, today=TODAY)
    page = overview(db_session, FILTERS, today=TODAY, whole_look=False).changes
    changes.forget_kept()
    monkeypatch.setattr(changes, "fetch_tuples", _sqlalchemy_rows)
    monkeypatch.setattr(changes, "UNIQUE_TABLE_LIMIT", 0)
    look_before = change_view(db_session, FILTERS, today=TODAY)
    summary_before = change_summary(db_session, FILTERS, today=TODAY)
    page_before = overview(db_session, FILTERS, today=TODAY, whole_look=False).changes
    assert look.flags and repr(look.look.tests) == repr(look_before.look.tests)
    assert repr(look.flags) == repr(look_before.flags)
    for name in ("window", "flags", "n_tests", "n_tested", "alpha", "min_n_recent", "min_n_baseline"):
        assert repr(getattr(summary, name)) == repr(getattr(summary_before, name)), name
    assert repr(page.flags) == repr(page_before.flags)
