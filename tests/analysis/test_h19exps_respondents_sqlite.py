"""On SQLite, the embedded default, the experience page's newest-respondents samples are read from
the per-respondent table as on PostgreSQL (issue 19): the table is built by the hourly refresh,
and the one-cell respondents' part of each sample is a range scan of the newest-first index (all
of it, or the region's) that stops after the sample, not a scan of the table. The plan is checked,
not a time (the samples' equality with the facts' is tests/analysis/test_h19exp2_respondents.py,
which runs on both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from perception.analysis.services.filters import parse_filters
from tests.analysis.conftest import MONDAY
from tests.analysis.test_h19agg_rollup import FIFTY_FIVE, FOURTEEN, _args, national  # noqa: F401


@pytest.mark.parametrize(
    "picked", [{}, {"region": "R1"}, {"service": "DESK"}], ids=["all", "region", "service"]
)
@pytest.mark.parametrize("period", [FOURTEEN, FIFTY_FIVE], ids=["14w", "55w"])
def test_the_samples_are_an_index_range_scan(db_session, national, picked, period):  # noqa: F811
    from perception.analysis.services.experience import driver_matrix
    from perception.analysis.services.reliability import dimension_matrix
    from perception.analysis.services.rollup import refresh_rollup

    conn = db_session.connection()
    if conn.dialect.name != "sqlite":
        pytest.skip("SQLite's plans (PostgreSQL's partial indexes serve it there)")
    org, catalog, extra = national
    f = parse_filters(db_session, _args(org, catalog, extra, picked, period), None, today=MONDAY)
    refresh_rollup(db_session, force=True)
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM experience_respondent" in statement and "UNION ALL" in statement:
            seen.append((statement, parameters))

    event.listen(db_session.get_bind(), "before_cursor_execute", record)
    try:
        driver_matrix(db_session, f, limit=10, overall_kind="csat", use_rollup=True)
        driver_matrix(db_session, f, limit=10, overall_kind="nps", use_rollup=True)
        dimension_matrix(db_session, f, limit=10, use_rollup=True)
    finally:
        event.remove(db_session.get_bind(), "before_cursor_execute", record)
    assert len(seen) == 3, "each sample read from the table"
    for statement, parameters in seen:
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
        reads = [step for step in plan if "experience_respondent" in step]
        newest = [s for s in reads if "ix_experience_respondent_newest" in s or "region_newest" in s]
        assert newest and all(s.startswith("SEARCH") for s in newest), plan
        assert not [s for s in reads if s.startswith("SCAN")], plan
