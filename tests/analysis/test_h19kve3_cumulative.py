"""Issue 19, KPI versus experience at national scale: the page's KPI side comes from the running
sums of the weekly values (kpi.services.kpi_cumulative: two weeks' rows per series) instead of
summing every week of the period (kpi_experience.kpi_cell_sums, main's way, kept here as the
reference). The figures must be the same to 1e-12 whatever the filters: regions, a regional
user's scope, services, tiers, 14 and 52 weeks, a period starting before the data, on a gap, on a
Wednesday, one running past the last week, one with no value at all.

The data is test_h19kve2_cell_sums's: three regions (one with gaps, a week without tickets, a
week with n = 0), two services with two KPIs each, cells with one tier, no tier, and two tiers
with their own targets, one of which stops before the end.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from perception.analysis.services import kpi_experience as ke
from perception.analysis.services.filters import AnalysisFilters, parse_filters
from perception.analysis.services.kpi_links import kpi_pairs
from perception.kpi.models import KpiValue, KpiValueCumulative
from perception.kpi.services.kpi_cumulative import (
    cumulative_freshness,
    period_pairs,
    refresh_cumulative,
)
from perception.kpi.services.kpi_values_stamp import Freshness
from tests.analysis.conftest import MONDAY
from tests.analysis.kve_reference import cumulative_cell_sums
from tests.analysis.test_h19kve2_cell_sums import PERIOD, WEEKS, _close, national

__all__ = ["national"]  # the fixture, imported for pytest

END = MONDAY + timedelta(weeks=WEEKS)  # the Monday after the data's last week


def _periods() -> dict[str, tuple]:
    wed = timedelta(days=2)
    return {
        "all": (MONDAY, END),
        "14 weeks": (END - timedelta(weeks=14), END),  # starts before the data
        "52 weeks": (END - timedelta(weeks=52), END),
        "on a gap": (MONDAY + timedelta(weeks=2), MONDAY + timedelta(weeks=8)),  # R3 has no week 2, 3, 7
        "wednesdays": (MONDAY + timedelta(weeks=1) + wed, MONDAY + timedelta(weeks=7) + wed),
        "past the end": (MONDAY + timedelta(weeks=5), END + timedelta(weeks=20)),
        "one week": (MONDAY + timedelta(weeks=6), MONDAY + timedelta(weeks=7)),  # Silver stopped
        "before the data": (MONDAY - timedelta(weeks=30), MONDAY),
        "after the data": (END, END + timedelta(weeks=14)),
    }


def _scopes(session, regions) -> dict[str, dict]:
    from perception.setup.models.catalog import Service, ServiceTier

    services = {s.code: s.id for s in session.scalars(select(Service))}
    tiers = {t.code: t.id for t in session.scalars(select(ServiceTier))}
    r2_r3 = frozenset({regions["R2"].id, regions["R3"].id})
    r3 = frozenset({regions["R3"].id})
    return {
        "everything": {},
        "a regional user": {"region_ids": frozenset({regions["R1"].id})},
        "two regions": {"region_ids": r2_r3},
        "a service": {"service_id": services["DESK"]},
        "Gold": {"tier_id": tiers["GOLD"]},
        "Silver in two regions": {"tier_id": tiers["SILVER"], "region_ids": r2_r3},
        "a service in one region": {"service_id": services["NET"], "region_ids": r3},
    }


def _definitions(session) -> set[int]:
    return set(session.scalars(select(KpiValue.definition_id).distinct()))


def assert_same(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, cell in expected.items():
        mine = got[key]
        assert mine.weeks == cell.weeks, key
        assert mine.tickets == cell.tickets and _close(mine.value, cell.value), key
        assert mine.latest_target() == cell.latest_target(), key
        assert len(mine.tiers) == len(cell.tiers), key
        for a, b in zip(mine.tiers, cell.tiers, strict=True):
            assert (a.tier_id, a.tickets, a.rows, a.last, a.target, a.comparator) == (
                b.tier_id, b.tickets, b.rows, b.last, b.target, b.comparator,
            ), key  # fmt: skip
            assert _close(a.weighted_sum, b.weighted_sum) and _close(a.weights, b.weights), key
            assert _close(a.value, b.value), key


def test_running_sums_give_what_the_weekly_values_give(db_session, national):
    assert cumulative_freshness(db_session) is Freshness.ABSENT
    filters = AnalysisFilters(MONDAY, END)
    definitions = _definitions(db_session)
    assert cumulative_cell_sums(db_session, filters, definitions) is None  # never built
    written = refresh_cumulative(db_session)
    assert written and written == db_session.scalar(select(func.count()).select_from(KpiValueCumulative))
    assert cumulative_freshness(db_session) is Freshness.CURRENT
    assert refresh_cumulative(db_session) is None  # current: nothing to do
    compared = 0
    for start, end in _periods().values():
        for scope in _scopes(db_session, national).values():
            f = AnalysisFilters(start, end, **scope)
            expected = ke.kpi_cell_sums(db_session, f, definitions)
            got = cumulative_cell_sums(db_session, f, definitions)
            assert got is not None
            assert_same(got, expected)
            compared += len(expected)
            pairs = period_pairs(
                db_session, start, end, region_ids=f.region_ids, service_id=f.service_id, tier_id=f.tier_id
            )
            assert pairs == kpi_pairs(db_session, f)
    assert compared > 100


def test_a_write_that_does_not_keep_them_makes_the_page_sum_the_values(db_session, national):
    refresh_cumulative(db_session)
    filters = parse_filters(db_session, PERIOD, None, today=MONDAY)
    definitions = _definitions(db_session)
    value = db_session.scalars(select(KpiValue).order_by(KpiValue.id)).first()
    value.value = 0.5  # an edit through the ORM, which keeps no running sums
    db_session.flush()
    assert cumulative_freshness(db_session) is Freshness.STALE
    assert cumulative_cell_sums(db_session, filters, definitions) is None
    page = ke.kpi_vs_experience(db_session, filters, over_time=False)  # the weekly values' sums
    weekly = ke.kpi_vs_experience(db_session, filters, over_time=True)
    assert [c.comparison.kpi_value for c in page.cells] == pytest.approx(
        [c.comparison.kpi_value for c in weekly.cells], rel=1e-12
    )
    assert refresh_cumulative(db_session)  # the hourly job
    assert_same(
        cumulative_cell_sums(db_session, filters, definitions) or {},
        ke.kpi_cell_sums(db_session, filters, definitions),
    )


@pytest.mark.parametrize("scoped", [False, True])
def test_the_page_reads_the_running_sums_with_the_same_figures(db_session, national, scoped, monkeypatch):
    scope = frozenset({national["R1"].id, national["R3"].id}) if scoped else None
    filters = parse_filters(db_session, PERIOD, scope, today=MONDAY)
    before = ke.kpi_vs_experience(db_session, filters, over_time=False)  # main's way: not built yet
    refresh_cumulative(db_session)

    def no_scan(*_args, **_kwargs):
        raise AssertionError("the weekly values were summed")

    monkeypatch.setattr(ke, "kpi_cell_sums", no_scan)
    monkeypatch.setattr(ke, "kpi_pairs", no_scan)
    after = ke.kpi_vs_experience(db_session, filters, over_time=False)
    assert [c.key for c in after.cells] == [c.key for c in before.cells] and after.cells
    for a, b in zip(after.cells, before.cells, strict=True):
        assert a.weeks_with_kpi == b.weeks_with_kpi and a.tier_names == b.tier_names
        x, y = a.comparison.to_dict(), b.comparison.to_dict()
        assert x.keys() == y.keys()
        for field in x:
            assert _close(x[field], y[field]), (a.key, field)
    assert [w.key for w in after.watermelons] == [w.key for w in before.watermelons]
    assert after.quadrant_counts == before.quadrant_counts and after.unmatched == before.unmatched
    assert after.lead_lag == before.lead_lag
