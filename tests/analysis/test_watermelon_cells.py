"""Issue 14, watermelons: one row per region x service cell with its KPIs listed in the row, the
headline counting cells evidenced on both sides under the multiplicity rule, candidates apart with
their reason. Today two KPIs of one cell that share one experience number are listed twice
("29 listed / 22 distinct")."""

from __future__ import annotations

from perception.analysis.services.filters import parse_filters
from perception.analysis.services.kpi_experience import kpi_vs_experience, watermelon_cells
from tests.analysis.conftest import MONDAY


def _world(db_session, org, catalog, observe, link_kpi, kpi_value):
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    desk = catalog["DESK"]
    resp = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    fcr = link_kpi(desk, "FCR", 0.90, "csat_share", 0.85)
    for week in range(4):
        kpi_value(resp, desk, r1, 0.97, 0.95, week=week, n=1000)
        kpi_value(fcr, desk, r1, 0.96, 0.90, week=week, n=1000)
        observe(r1, desk, "csat", [5] * 12 + [2] * 13, week=week)  # 48 % on 100 answers
        kpi_value(resp, desk, r2, 0.97, 0.95, week=week, n=1000)
        kpi_value(fcr, desk, r2, 0.96, 0.90, week=week, n=1000)
    observe(r2, desk, "csat", [5, 2, 2, 2, 2])  # 20 % on 5 answers: a candidate, not evidenced
    return r1, r2


def test_one_row_per_cell_with_its_kpis(db_session, org, catalog, observe, link_kpi, kpi_value, period_args):
    r1, r2 = _world(db_session, org, catalog, observe, link_kpi, kpi_value)
    view = kpi_vs_experience(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    # The per-KPI list counts each cell once per KPI: 4 rows for 2 distinct measurements.
    assert len(view.watermelons) == 4
    assert len({(w.service_id, w.region_id) for w in view.watermelons}) == 2
    cells = watermelon_cells(view)
    assert [(c.service_code, c.region_code) for c in cells.evidenced] == [("DESK", "R1")]
    assert sorted(k.kpi_code for k in cells.evidenced[0].kpis) == ["FCR", "RESP"]
    assert cells.evidenced[0].n == 100
    assert [(c.region_code, c.reason) for c in cells.candidates] == [("R2", "low_n")]
    assert cells.candidates[0].n == 5
    assert cells.headline == 1
    assert view.to_dict()["watermelon_cells"]["headline"] == 1


def test_review_uses_the_same_cells(db_session, org, catalog, observe, link_kpi, kpi_value):
    from perception.review.services.section_kpi import _watermelons

    _world(db_session, org, catalog, observe, link_kpi, kpi_value)
    f = parse_filters(db_session, {"from": "2026-W10", "to": "2026-W13"}, None, today=MONDAY)
    view = kpi_vs_experience(db_session, f)
    rows, facts = _watermelons(view)
    assert len(rows) == 2 and len(facts) == 2
    assert [f["evidenced"] for f in facts] == [True, False]


def test_home_headline_counts_evidenced_cells_by_name(
    app, db_session, org, catalog, observe, link_kpi, kpi_value, make_user
):
    from datetime import datetime

    from perception.analysis.home import analysis_panel
    from perception.core.clock import Clock

    _world(db_session, org, catalog, observe, link_kpi, kpi_value)
    user = make_user("melon_manager", "manager", region="R1")
    user2 = make_user("melon_manager2", "manager", region_id=org["R2"]["region"].id)
    clock = Clock(fixed_now=datetime(2026, 3, 30, 4, 0))  # Monday of W14: W10-W13 complete
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        panel = analysis_panel(db_session, user, clock)
        other = analysis_panel(db_session, user2, clock)
    assert panel is not None and other is not None
    figure = next(f for f in panel.figures if f.label == "Evidenced watermelons")
    # Two KPIs of desktop support in R1, one cell: counted once, named, no code.
    assert figure.value == "1" and figure.note == "Service desk in " + org["R1"]["region"].name_en
    assert next(f for f in other.figures if f.label == "Evidenced watermelons").value == "0"


def test_not_measurable_dimension_standard_says_what_would_measure_it(
    db_session, org, catalog, observe, link_kpi, kpi_value, period_args
):
    from perception.setup.models.standards import PlanItem

    r2, net = org["R2"]["region"], catalog["NET"]
    d = link_kpi(net, "NETR", 0.9, "dimension_rating_mean", 4.0, dimension="fault_handling")
    kpi_value(d, net, r2, 0.95, 0.9)
    observe(r2, net, "rating", [2, 3, 2], dimension="fault_handling")
    filters = parse_filters(db_session, period_args, None, today=MONDAY)
    (bare,) = kpi_vs_experience(db_session, filters).unmatched
    assert bare.reason == "not_measurable_yet:3:30:R2" and "add a plan line" in bare.measured_by[0][1]
    db_session.add_all(
        [
            PlanItem(
                service_id=net.id, region_id=r2.id, means="questionnaire", frequency="monthly", active=True
            ),
            PlanItem(
                service_id=net.id, region_id=None, means="feedback_record", frequency="weekly", active=True
            ),
            PlanItem(
                service_id=net.id,
                region_id=org["R1"]["region"].id,
                means="phone_callback",
                frequency="weekly",
                active=True,
            ),  # fmt: skip
        ]
    )
    db_session.flush()
    (u,) = kpi_vs_experience(db_session, filters).unmatched
    assert [en for _, en in u.measured_by] == [
        "Weekly report: the collectors' rating of “Fault-handling effect” (another voice, shown apart; "
        "27 more ratings needed)",
        "Questionnaire: add a rating of “Fault-handling effect” to this service's survey "
        "(27 more ratings needed)",
    ]
    assert u.kpi_name_en == "NETR KPI" and u.region_name_en == r2.name_en
    assert not kpi_vs_experience(db_session, filters).cells  # never judged on overall CSAT instead
