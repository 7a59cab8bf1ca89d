"""Issue 19, KPI versus experience at national scale: the page's experience side comes from the
running sums of the pre-aggregate (analysis.services.experience_cumulative: two weeks' rows)
instead of summing every week of the period (services.facts.aggregate by region and service,
main's way, kept here as the reference, and the facts themselves). The sums must be the same to
1e-12 whatever the period (14 and 55 weeks, one week, a gap, a Wednesday, before, after and past
the data) and the filters (regions, a regional user's scope, a service, a tier, both); a customer
filter and running sums that no longer match the facts read the pre-aggregate or the facts.

The data is test_h19agg_rollup's (gaps, tiers, three sources, answers without a service, cells of
one answer) with some answers that are not whole numbers, so the compensated sums are exercised.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from perception.analysis.models import ExperienceCumulative, ExperienceCumulativeState
from perception.analysis.services import experience_cumulative as ec
from perception.analysis.services import kpi_experience as ke
from perception.analysis.services.facts import CellIndex, FactTable, aggregate
from perception.analysis.services.filters import AnalysisFilters, parse_filters
from perception.analysis.services.rollup import refresh_rollup
from perception.core.models.facts import ExperienceObservation as Obs
from tests.analysis.conftest import MONDAY
from tests.analysis.kve_reference import cell_parts
from tests.analysis.test_h19agg_rollup import national
from tests.analysis.test_h19kve2_cell_sums import PERIOD, _close
from tests.analysis.test_h19kve2_cell_sums import national as kpi_national

__all__ = ["kpi_national", "national"]  # the fixtures, imported for pytest

KINDS = ke.EXPERIENCE_KINDS


@pytest.fixture
def answers(db_session, national, observe):
    """test_h19agg_rollup's answers and some that are not whole numbers (a collector's 3.3)."""
    org, catalog, extra = national
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    for week, value in ((-40, 3.3), (-3, 4.7), (0, 2.1), (5, 6.9), (11, 1.05)):
        observe(r1, catalog["DESK"], "rating", [value, value / 3], week=week, dimension="staff_attitude",
                scale=(1, 7), source="feedback", respondents=[50_000 + week, 60_000 + week])  # fmt: skip
        observe(r2, None, "ces", [value], week=week, scale=(1, 7), respondents=[70_000 + week])
    return national


def _periods() -> dict[str, tuple[date, date]]:
    wed = timedelta(days=2)
    end = MONDAY + timedelta(weeks=14)  # the Monday after the data's last week
    return {
        "14 weeks": (end - timedelta(weeks=14), end),
        "55 weeks": (end - timedelta(weeks=55), end),
        "everything": (MONDAY - timedelta(weeks=260), end + timedelta(weeks=10)),
        "one week": (MONDAY, MONDAY + timedelta(weeks=1)),
        "wednesdays": (MONDAY - timedelta(weeks=20) + wed, MONDAY + timedelta(weeks=3) + wed),
        "past the end": (MONDAY + timedelta(weeks=8), end + timedelta(weeks=30)),
        "before the data": (MONDAY - timedelta(weeks=80), MONDAY - timedelta(weeks=60)),
        "after the data": (end + timedelta(weeks=1), end + timedelta(weeks=14)),
    }


def _scopes(org, catalog) -> dict[str, dict]:
    r1, r2 = org["R1"]["region"].id, org["R2"]["region"].id
    return {
        "everything": {},
        "a regional user": {"region_ids": frozenset({r2})},
        "both regions": {"region_ids": frozenset({r1, r2})},
        "a service": {"service_id": catalog["DESK"].id},
        "a tier": {"tier_id": catalog["GOLD"].id},
        "a tier and a service in one region": {
            "tier_id": catalog["GOLD"].id,
            "service_id": catalog["NET"].id,
            "region_ids": frozenset({r1}),
        },  # fmt: skip
    }


def assert_same_table(got: FactTable, want: FactTable, where: str) -> None:
    """The same rows (one per region, service, kind, dimension and scale) and, per cell and
    (kind, dimension), the same sums to 1e-12: what the page reads (CellIndex.totals)."""
    assert len(got) == len(want), where
    assert (got.period == want.period).all(), where
    mine, theirs = CellIndex(got), CellIndex(want)
    cells = {(int(s), int(r)) for s, r in zip(want.service, want.region, strict=True)}
    assert cells == {(int(s), int(r)) for s, r in zip(got.service, got.region, strict=True)}, where
    for service, region in cells:
        a, b = cell_parts(mine, service, region), cell_parts(theirs, service, region)
        assert a.keys() == b.keys(), (where, service, region)
        for pair, acc in b.items():
            assert _close(vars(a[pair]), vars(acc)), (where, service, region, pair, vars(a[pair]), vars(acc))


def test_running_sums_give_what_the_pre_aggregate_gives(db_session, answers):
    org, catalog, _ = answers
    assert not ec.cumulative_usable(db_session)
    assert ec.period_table(db_session, AnalysisFilters(*_periods()["14 weeks"])) is None  # never built
    refresh_rollup(db_session, force=True)
    assert ec.cumulative_usable(db_session)
    state = db_session.scalar(select(ExperienceCumulativeState))
    weeks = db_session.scalar(select(func.count(Obs.period_start.distinct())))
    assert state.weeks == weeks and state.series > 20  # a row per week with answers
    compared = 0
    for period, (start, end) in _periods().items():
        for scope, narrowing in _scopes(org, catalog).items():
            f = AnalysisFilters(start, end, **narrowing)
            got = ec.period_table(db_session, f, kinds=KINDS)
            assert got is not None
            want = aggregate(db_session, f, kinds=KINDS, by=("region", "service"))
            assert_same_table(got, want, f"{period}, {scope}")
            facts = aggregate(db_session, f, kinds=KINDS, by=("region", "service"), use_rollup=False)
            assert_same_table(got, facts, f"{period}, {scope}, facts")
            compared += len(want)
    assert compared > 500
    everything = ec.period_table(db_session, AnalysisFilters(*_periods()["everything"]))
    assert everything is not None and "servqual_perception" in set(everything.kind)  # kinds: None is all


def test_a_regional_user_sees_only_their_regions(db_session, answers):
    org, catalog, _ = answers
    refresh_rollup(db_session, force=True)
    r2 = org["R2"]["region"].id
    f = parse_filters(db_session, {"from": "2025-W22", "to": "2026-W23"}, frozenset({r2}), today=MONDAY)
    got = ec.period_table(db_session, f, kinds=KINDS)
    assert got is not None and len(got) and set(got.region.tolist()) == {r2}


def test_a_customer_filter_and_stale_sums_read_the_pre_aggregate_or_the_facts(
    db_session, answers, observe, monkeypatch
):
    org, catalog, extra = answers
    refresh_rollup(db_session, force=True)
    start, end = _periods()["14 weeks"]
    assert ec.period_table(db_session, AnalysisFilters(start, end, customer_id=extra.id)) is None
    f = AnalysisFilters(start, end)
    before = ec.period_table(db_session, f, kinds=KINDS)
    assert before is not None
    observe(
        org["R1"]["region"], catalog["DESK"], "csat", [1, 1, 1], week=2, respondents=[80_001, 80_002, 80_003]
    )
    assert not ec.cumulative_usable(db_session)  # the facts' write counter moved
    assert ec.period_table(db_session, f, kinds=KINDS) is None
    written = []
    build = ec.refresh_experience_cumulative
    monkeypatch.setattr(ec, "refresh_experience_cumulative", lambda *a, **k: written.append(build(*a, **k)))
    assert refresh_rollup(db_session)  # the hourly job
    weeks = db_session.scalars(select(ExperienceCumulative.period_start)).all()
    changed = MONDAY + timedelta(weeks=2)
    assert written == [sum(1 for w in weeks if w >= changed)]  # the weeks from the new answers' on
    after = ec.period_table(db_session, f, kinds=KINDS)
    assert after is not None
    assert_same_table(after, aggregate(db_session, f, kinds=KINDS, by=("region", "service")), "refreshed")
    assert after.stats[:, 0].sum() == before.stats[:, 0].sum() + 3


def test_built_once_after_an_upgrade_while_the_pre_aggregate_is_current(db_session, answers):
    refresh_rollup(db_session, force=True)
    db_session.execute(delete(ExperienceCumulativeState))
    db_session.execute(delete(ExperienceCumulative))
    assert not ec.cumulative_usable(db_session)
    assert refresh_rollup(db_session) is None  # the pre-aggregate is current: not rebuilt
    assert ec.cumulative_usable(db_session)
    assert ec.refresh_experience_cumulative(db_session) is None  # current: nothing to do


def test_no_answers_at_all(db_session, org):
    refresh_rollup(db_session, force=True)
    got = ec.period_table(db_session, AnalysisFilters(MONDAY, MONDAY + timedelta(weeks=14)), kinds=KINDS)
    assert got is not None and len(got) == 0


@pytest.mark.parametrize("scoped", [False, True])
def test_the_page_reads_the_running_sums_with_the_same_figures(db_session, kpi_national, scoped, monkeypatch):
    scope = frozenset({kpi_national["R1"].id, kpi_national["R3"].id}) if scoped else None
    filters = parse_filters(db_session, PERIOD, scope, today=MONDAY)
    refresh_rollup(db_session, force=True)
    monkeypatch.setattr(ke, "period_table", lambda *_a, **_k: None)
    before = ke.kpi_vs_experience(db_session, filters, over_time=False)  # main's way: the pre-aggregate
    monkeypatch.undo()
    summed = aggregate

    def no_period_sum(*args, **kwargs):
        if kwargs.get("by") == ("region", "service"):
            raise AssertionError("the pre-aggregate was summed over the period")
        return summed(*args, **kwargs)  # the top watermelons' weeks (lead and lag)

    monkeypatch.setattr(ke, "aggregate", no_period_sum)
    after = ke.kpi_vs_experience(db_session, filters, over_time=False)
    assert [c.key for c in after.cells] == [c.key for c in before.cells] and after.cells
    for a, b in zip(after.cells, before.cells, strict=True):
        assert a.experience_basis == b.experience_basis
        x, y = a.comparison.to_dict(), b.comparison.to_dict()
        assert x.keys() == y.keys()
        for field in x:
            assert _close(x[field], y[field]), (a.key, field)
    assert [w.key for w in after.watermelons] == [w.key for w in before.watermelons]
    assert after.quadrant_counts == before.quadrant_counts and after.unmatched == before.unmatched
    assert after.lead_lag == before.lead_lag
