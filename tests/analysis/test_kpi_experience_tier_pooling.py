"""Issue 14, one pooling rule on the KPI-versus-experience page: a cell pooling tiers is met only
when every tier met its own target (scoring.pooled_met, the rule of the KPI page, its summary and
the "standard missed" alert), not when the pooled value beats the strictest tier target.

R1: Gold 93 % of 100 tickets against its own 95 % (missed), Silver 99 % of 300 against 90 %: pooled
97.5 % beats the strictest target (95 %), so the page called the cell "KPI met", a watermelon, while
the KPI page counted the weeks missed. R2, the other way round: Gold 96 % against 95 %, Silver 91 %
against 90 %, both met, pooled 92.25 % below 95 %: "KPI missed" before.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from statsmodels.stats.proportion import proportion_confint

from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.kpi_experience import kpi_vs_experience
from perception.analysis.services.kpis import kpi_analysis
from perception.core.users import issue_token
from tests.analysis.conftest import MONDAY

PERIOD = "from=2026-W10&to=2026-W13"
WEEKS = 4


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
        )  # fmt: skip
    )
    session.flush()


@pytest.fixture
def tiers_world(db_session, org, catalog, observe, link_kpi):
    from perception.setup.models.catalog import ServiceTier

    silver = ServiceTier(code="SILVER", name_zh="银牌", name_en="Silver", rank=2)
    db_session.add(silver)
    db_session.flush()
    desk, gold = catalog["DESK"], catalog["GOLD"]
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    d = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    for week in range(WEEKS):
        _value(db_session, d, desk, r1, gold, week, 0.93, 0.95, 100)
        _value(db_session, d, desk, r1, silver, week, 0.99, 0.90, 300)
        _value(db_session, d, desk, r2, gold, week, 0.96, 0.95, 100)
        _value(db_session, d, desk, r2, silver, week, 0.91, 0.90, 300)
        observe(r1, desk, "csat", [5] * 12 + [2] * 13, week=week)  # 48 %: experience missed
        observe(r2, desk, "csat", [5] * 24 + [3] * 1, week=week)  # 96 %: experience met
    return {"r1": r1, "r2": r2}


def _filters():
    return AnalysisFilters(start=MONDAY, end=MONDAY + timedelta(weeks=WEEKS))


def test_cells_follow_the_kpi_pages_rule(db_session, tiers_world):
    view = kpi_vs_experience(db_session, _filters())
    cells = {c.region_code: c.comparison for c in view.cells}
    r1, r2 = cells["R1"], cells["R2"]
    # The pooled value and the strictest target are still shown ...
    assert r1.kpi_value == pytest.approx((0.93 * 100 + 0.99 * 300) / 400) and r1.kpi_target == 0.95
    assert r2.kpi_value == pytest.approx((0.96 * 100 + 0.91 * 300) / 400)
    # ... but met follows every tier against its own target: R1 missed (no watermelon), R2 met.
    assert not r1.kpi_met and r1.quadrant == "both_missed" and not view.watermelons
    assert r2.kpi_met and r2.quadrant == "both_met"
    assert [(g.label, g.value, g.target) for g in r1.kpi_breaches] == [("GOLD", 0.93, 0.95)]
    assert r1.kpi_margin == pytest.approx(0.93 - 0.95)  # the worst tier's margin
    assert r2.kpi_breaches == () and r2.kpi_margin == pytest.approx(0.01)
    # Each tier's evidence is its own Wilson interval on its own tickets.
    gold = next(g for g in r2.kpi_groups if g.label == "GOLD")
    low, high = proportion_confint(384, 400, method="wilson")
    assert (gold.n, gold.ci_low, gold.ci_high) == (400, pytest.approx(low), pytest.approx(high))
    # The KPI page reads the same weeks as missed (R1) and met (R2).
    kpis = {a.region_code: a.attainment for a in kpi_analysis(db_session, _filters()).by_region}
    assert kpis["R1"].n_met == 0 and kpis["R2"].n_met == WEEKS


def test_page_api_and_export_show_the_tier_breach(login_as, db_session, tiers_world):
    c = login_as("analyst")
    html = c.get(f"/analysis/kpi-vs-experience?{PERIOD}").get_data(as_text=True)
    assert html.count('data-testid="kpi-tier-breach"') == 1
    assert "Gold 0.93 / 0.95" in html and "missed its own target" in html
    zh = login_as("analyst", username="analyst_zh", language="zh_CN")
    zh_html = zh.get(f"/analysis/kpi-vs-experience?{PERIOD}").get_data(as_text=True)
    assert "金牌 0.93 / 0.95" in zh_html and "未达到本等级目标" in zh_html
    _, secret = issue_token(db_session, c.user, "t")
    body = c.get(
        f"/api/v1/analysis/kpi-vs-experience?{PERIOD}", headers={"Authorization": f"Bearer {secret}"}
    ).get_json()
    r1 = next(x for x in body["cells"] if x["region_code"] == "R1")
    assert r1["comparison"]["kpi_met"] is False and r1["comparison"]["quadrant"] == "both_missed"
    tiers = [(g["label"], g["met"]) for g in r1["comparison"]["kpi_groups"]]
    assert tiers == [("GOLD", False), ("SILVER", True)]
    assert body["watermelon_cells"]["headline"] == 0 and not body["watermelon_cells"]["candidates"]
    csv = c.get(f"/analysis/export/kpi_vs_experience.csv?{PERIOD}").get_data(as_text=True)
    assert "GOLD 0.93 / 0.95" in csv
