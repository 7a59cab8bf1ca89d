"""Issue 19: the KPI-versus-experience page reads the KPI values' running sums of its period once
(kpi_cumulative.period_columns of every KPI: its pairs, then the cells of the KPIs compared), not
once for the pairs and again for the cells; its figures are those of main's two reads
(tests/analysis/test_h19kve7_page_columns.py and test_h19kve3_cumulative.py compare them)."""

from __future__ import annotations

from sqlalchemy import event

from perception.analysis.services import kpi_experience as ke
from perception.analysis.services.filters import parse_filters
from tests.analysis.conftest import MONDAY
from tests.analysis.test_h19kve2_cell_sums import PERIOD, national
from tests.analysis.test_h19kve7_page_columns import provider

__all__ = ["national", "provider"]  # the fixtures, imported for pytest


def test_the_page_reads_the_running_sums_once(db_session, provider):
    filters = parse_filters(db_session, PERIOD, None, today=MONDAY)
    reads: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        if "kpi_value_cumulative" in statement:
            reads.append(statement)

    engine = db_session.get_bind().engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        view = ke.kpi_vs_experience(db_session, filters, over_time=False)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(view.cells) > 10 and view.unmatched  # compared cells, and KPIs only noted
    assert len(reads) == 1, reads
