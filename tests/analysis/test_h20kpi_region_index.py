"""Issue 19: a region's KPI values of a period are found through ix_kpi_value_region (region, week),
not by walking every region's entries of ix_kpi_value_period (week first): the internal KPI page of
a region's team or filtered to some regions. The page's figures are those of main's row-by-row
analysis (tests/analysis/h19kpis2_main_kpis.py) and those read without the index, for every scope,
with the weekly sums over the regions current or not (sums of floats to 1e-12 on PostgreSQL, whose
sum depends on the order the plan meets the rows in, as test_h19wk_kpis_week_sums compares them)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from perception.analysis.services import kpis
from perception.analysis.services.kpis import kpi_analysis
from perception.kpi.models import Granularity, KpiValue
from perception.kpi.services.kpi_week_sums import refresh_week_sums
from tests.analysis import h19kpis2_main_kpis as main
from tests.analysis.test_h19kpis2_kpis_sums import generated
from tests.analysis.test_h19wk_kpis_week_sums import WHICH, _filters_of, _same_json, _same_view

__all__ = ["generated"]  # the fixture, imported for pytest


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("week_sums", [False, True])
def test_every_scope_shows_what_it_showed_without_the_index(db_session, generated, which, week_sums):  # noqa: F811
    filters = _filters_of(generated, which)
    if week_sums:
        refresh_week_sums(db_session)
    with_index = kpi_analysis(db_session, filters)
    assert with_index.summary and with_index.breach_count
    _same_view(with_index, main.kpi_analysis(db_session, filters))
    # main's schema: the test's transaction is rolled back, the index with it
    db_session.execute(text("DROP INDEX ix_kpi_value_region"))
    without = kpi_analysis(db_session, filters)
    _same_view(with_index, without)
    # Floats to 1e-12: PostgreSQL's sum of floats depends on the order the plan meets the rows in
    # (as main's does from one plan to another); SQLite's compensated sum gave the same floats.
    _same_json(with_index.to_dict(), without.to_dict())
    if db_session.get_bind().dialect.name == "sqlite":
        assert with_index.to_dict() == without.to_dict()


def test_a_regions_values_are_found_through_the_index(db_session, generated):  # noqa: F811
    """The KPI page's grouping of one region's year (SQLite's plan; PostgreSQL chooses by its
    statistics, which a test's few rows do not make representative)."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    filters = _filters_of(generated, "one_region")
    v = KpiValue.__table__.c
    stmt = kpis.value_groups(
        (v.definition_id, v.service_id, v.period_start, v.comparator),
        *kpis._kpi_where(filters, Granularity.WEEK),
    )
    sql = stmt.compile(db_session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = " ".join(str(r[-1]) for r in db_session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "ix_kpi_value_region" in plan, plan
