"""Issue 14, pooling tiers: a week whose Gold tier missed its own 95 % while Silver beat its 90 % was
"met" on the KPI page (the n-weighted mean, 97.5 %, against the strictest target), and the "standard
missed" alert said the opposite. One rule now (scoring.pooled_met): the week is missed, on the page,
in its summary and in the alert, and the missing tier is listed among the breaches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from perception.analysis.services.alert_checks import check_missed_standards
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.kpis import kpi_analysis
from scoring.attainment import pooled_met, standard_attainment
from tests.analysis.conftest import MONDAY


def _value(session, definition, service, region, tier, week, value, target, n):
    from perception.kpi.models import KpiValue

    monday = MONDAY + timedelta(weeks=week)
    session.add(
        KpiValue(
            definition_id=definition.id,
            service_id=service.id,
            region_id=region.id,
            tier_id=tier.id,
            tier_key=tier.id,
            granularity="week",
            period_start=monday,
            period_end=monday + timedelta(days=7),
            value=value,
            n=n,
            target=target,
            comparator=">=",
            met=value >= target,
            provenance="computed",
        )
    )
    session.flush()


def test_a_week_with_one_tier_missing_is_missed_everywhere(db_session, org, catalog, link_kpi):
    from perception.setup.models.catalog import ServiceTier

    silver = ServiceTier(code="SILVER", name_zh="银牌", name_en="Silver", rank=2)
    db_session.add(silver)
    db_session.flush()
    desk, gold, r1 = catalog["DESK"], catalog["GOLD"], org["R1"]["region"]
    d = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    for week in range(3):
        _value(db_session, d, desk, r1, gold, week, 93.0, 95.0, 100)  # Gold missed its own target
        _value(db_session, d, desk, r1, silver, week, 99.0, 90.0, 300)  # Silver met its own
    view = kpi_analysis(db_session, AnalysisFilters(start=MONDAY, end=MONDAY + timedelta(weeks=3)))
    region_row = next(a for a in view.by_region if a.region_code == "R1")
    week0 = region_row.attainment.periods[0]
    assert week0.value == pytest.approx((93 * 100 + 99 * 300) / 400)  # 97.5 >= 95: "met" before
    assert week0.met is False and region_row.attainment.n_met == 0
    assert view.summary[0].attainment.n_met == 0
    assert {(b.tier_code, b.value) for b in view.breaches} == {("GOLD", 93.0)} and view.breach_count == 3
    alerts = check_missed_standards(db_session, MONDAY + timedelta(weeks=2))
    assert len(alerts) == 1 and "3 weeks" in alerts[0].message_en


def test_pooled_met_rule():
    assert pooled_met([True, False]) is False and pooled_met([True, None, True]) is True
    assert pooled_met([]) is None and pooled_met([None]) is None
    result = standard_attainment(["w0", "w1"], [97.5, 97.5], ">=", 95.0, [False, None])
    assert [p.met for p in result.periods] == [False, True] and result.n_met == 1
    with pytest.raises(ValueError):
        standard_attainment(["w0"], [1.0], ">=", 1.0, [True, True])
