"""KPI versus experience: quadrants, the watermelon list ranked by evidence then gap, correlations
and lead/lag, on facts and KPI values written directly."""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint

from perception.analysis.services.filters import parse_filters
from perception.analysis.services.kpi_experience import kpi_vs_experience
from tests.analysis.conftest import MONDAY


@pytest.fixture
def melon_world(db_session, org, catalog, observe, link_kpi, kpi_value):
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    desk, net = catalog["DESK"], catalog["NET"]
    d_desk = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    d_net = link_kpi(net, "NETR", 0.9, "dimension_rating_mean", 4.0, dimension="response_speed")
    for week in range(4):
        kpi_value(d_desk, desk, r1, 0.97, 0.95, week=week, n=1000)  # KPI green on 4000 tickets ...
        observe(r1, desk, "csat", [5] * 12 + [2] * 13, week=week)  # ... experience 48 %: watermelon
        kpi_value(d_desk, desk, r2, 0.96, 0.95, week=week)
        observe(r2, desk, "csat", [5] * 24 + [3] * 1, week=week)  # 96 %: both met
        kpi_value(d_net, net, r1, 0.80, 0.9, week=week)  # KPI red, experience fine
        observe(r1, net, "rating", [5, 4, 4, 5, 5, 4, 5, 5], week=week, dimension="response_speed")
    # KPI green, 3 poor ratings: not measurable yet (fewer than 30 ratings of the dimension).
    kpi_value(d_net, net, r2, 0.95, 0.9, week=0)
    observe(r2, net, "rating", [2, 3, 2], week=0, dimension="response_speed")
    return {"r1": r1, "r2": r2}


def test_quadrants_and_ranked_watermelons(db_session, melon_world, period_args):
    view = kpi_vs_experience(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    quadrant = {c.key: c.comparison.quadrant for c in view.cells}
    assert quadrant == {
        "RESP|DESK|R1": "watermelon",
        "RESP|DESK|R2": "both_met",
        "NETR|NET|R1": "kpi_missed_experience_met",
    }
    assert [w.key for w in view.watermelons] == ["RESP|DESK|R1"]
    assert [u.reason for u in view.unmatched] == ["not_measurable_yet:3:30:R2"]
    top = view.watermelons[0].comparison
    assert top.evidenced and top.n == 100 and top.experience_estimate == pytest.approx(0.48)
    low, high = proportion_confint(48, 100, method="wilson")
    assert (top.experience_ci_low, top.experience_ci_high) == pytest.approx((low, high))
    assert top.kpi_value == pytest.approx(0.97)
    # Issue 14: the KPI side has its own Wilson interval (3880 of 4000 tickets), above 95%.
    kpi_low, kpi_high = proportion_confint(3880, 4000, method="wilson")
    assert (top.kpi_ci_low, top.kpi_ci_high) == pytest.approx((kpi_low, kpi_high)) and top.kpi_evidenced
    assert dict(view.quadrant_counts)["watermelon"] == 1


def test_scope_hides_other_regions_cells(db_session, melon_world, period_args):
    scope = frozenset({melon_world["r2"].id})
    view = kpi_vs_experience(db_session, parse_filters(db_session, period_args, scope, today=MONDAY))
    assert {c.region_code for c in view.cells} == {"R2"}
    assert not view.watermelons and view.unmatched[0].reason == "not_measurable_yet:3:30:R2"


def test_unlinked_kpi_is_reported_not_compared(db_session, org, catalog, kpi_value, observe, period_args):
    from perception.kpi.models import KpiDefinition

    d = KpiDefinition(code="LONE", name_zh="孤立指标", name_en="Lone KPI", unit="share")
    db_session.add(d)
    db_session.flush()
    kpi_value(d, catalog["DESK"], org["R1"]["region"], 0.9, 0.8)
    observe(org["R1"]["region"], catalog["DESK"], "csat", [5, 5])
    view = kpi_vs_experience(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    assert len(view.cells) == 0
    assert [(u.kpi_code, u.reason) for u in view.unmatched] == [("LONE", "no_kpi_standard")]


def test_nps_experience_uses_the_nps_as_a_mean(
    db_session, org, catalog, observe, link_kpi, kpi_value, period_args
):
    import numpy as np

    r1 = org["R1"]["region"]
    d = link_kpi(catalog["DESK"], "NPSK", 0.9, "nps", 30.0)
    kpi_value(d, catalog["DESK"], r1, 0.95, 0.9)
    scores = [10] * 10 + [8] * 5 + [3] * 15
    observe(r1, catalog["DESK"], "nps", scores, scale=(0, 10))
    view = kpi_vs_experience(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    cell = view.cells[0].comparison
    per_respondent = np.array([100.0] * 10 + [0.0] * 5 + [-100.0] * 15)
    assert cell.experience_estimate == pytest.approx(per_respondent.mean())  # NPS = -16.7
    from scipy import stats

    # Issue 14: an NPS target is judged with the NPS score test (the one its score interval
    # inverts), checked against the independent reference of tests/unit/test_nps_target_interval.
    from tests.unit.test_nps_target_interval import _reference_statistic

    t = _reference_statistic(10, 15, 30, 0.30)
    assert cell.p_value == pytest.approx(2 * stats.norm.sf(abs(t)), rel=1e-6)
    assert cell.experience_kind == "nps"
    assert cell.quadrant == "watermelon"


def test_lead_lag_for_a_watermelon_with_enough_weeks(db_session, org, catalog, observe, link_kpi, kpi_value):
    r1 = org["R1"]["region"]
    d = link_kpi(catalog["DESK"], "RESP", 0.95, "csat_share", 0.85)
    for week in range(12):
        kpi_value(d, catalog["DESK"], r1, 0.96 + 0.001 * (week % 3), 0.95, week=week)
        good = 15 + (week * 7) % 10
        observe(r1, catalog["DESK"], "csat", [5] * good + [2] * (40 - good), week=week)
    f = parse_filters(db_session, {"from": "2026-W10", "to": "2026-W21"}, None, today=MONDAY)
    view = kpi_vs_experience(db_session, f)
    assert view.watermelons and view.watermelons[0].key == "RESP|DESK|R1"
    keys = [k for k, _ in view.lead_lag]
    assert keys == ["RESP|DESK|R1"]
    result = dict(view.lead_lag)["RESP|DESK|R1"]
    assert result.correlations  # cross-correlations computed over 12 weeks
    over_time = dict(view.correlations.over_time)
    assert ("DESK:RESP", "R1", None) in over_time
