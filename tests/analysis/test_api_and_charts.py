"""The JSON API of the analysis (same services as the pages), charts as PNG for the review PDF,
events from the weekly reports on the overview timeline, and the evidence page's scope."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.analysis.conftest import MONDAY

PERIOD = "from=2026-W10&to=2026-W13"


def _auth(db_session, user):
    from perception.core.users import issue_token

    _, secret = issue_token(db_session, user, "t")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def small(db_session, org, catalog, observe, link_kpi, kpi_value):
    r1, r2, desk = org["R1"]["region"], org["R2"]["region"], catalog["DESK"]
    d = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    kpi_value(d, desk, r1, 0.97, 0.95)
    observe(r1, desk, "csat", [5] * 10 + [2] * 30)
    observe(r2, desk, "csat", [4] * 7, customer=org["R2"]["customer"])
    return {"r1": r1, "r2": r2}


def test_api_pages_and_errors(make_user, client, db_session, small):
    analyst = make_user("api_analyst", "analyst")
    headers = _auth(db_session, analyst)
    overview = client.get(f"/api/v1/analysis/overview?{PERIOD}", headers=headers).get_json()
    assert overview["total"]["csat"]["n"] == 47 and overview["filters"]["start"] == MONDAY.isoformat()
    melons = client.get(f"/api/v1/analysis/kpi-vs-experience?{PERIOD}", headers=headers).get_json()
    assert melons["watermelons"][0]["key"] == "RESP|DESK|R1"
    for path in ("kpis", "experience", "demand", "evidence", "alerts"):
        assert client.get(f"/api/v1/analysis/{path}?{PERIOD}", headers=headers).status_code == 200
    bad = client.post(
        "/api/v1/analysis/opportunities",
        json={"kind": "common", "theme_key": "T99", "from": "2026-W10", "to": "2026-W13"},
        headers=headers,
    )
    # Every error is the one problem+json shape: the operation's problem names the field, in zh and en.
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    problem = bad.get_json()
    assert (problem["status"], problem["code"]) == (422, "unknown_theme")
    (error,) = problem["errors"]
    assert error["field"] == "theme_key" and "T99" in error["detail_en"] and "没有主题" in error["detail_zh"]
    period = client.post(
        "/api/v1/analysis/opportunities",
        json={"kind": "common", "theme_key": "T99", "from": "next week", "to": "2026-W13"},
        headers=headers,
    )
    assert period.status_code == 422 and period.get_json()["errors"][0]["field"] == "from"
    rename = client.patch("/api/v1/analysis/themes/T1", json={"name": 5}, headers=headers)
    assert rename.status_code == 422 and rename.get_json()["errors"][0]["field"] == "name"
    unknown = client.patch("/api/v1/analysis/themes/T1", json={"name": "x"}, headers=headers)
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["code"] == "unknown_theme"
    not_json = client.patch("/api/v1/analysis/themes/T1", data="name=x", headers=headers)
    assert not_json.status_code == 415 and not_json.mimetype == "application/problem+json"
    manager = make_user("api_manager", "manager")
    run = client.post("/api/v1/analysis/text-analysis/run", headers=_auth(db_session, manager))
    assert run.status_code == 403


def test_api_label_in_scope_only(make_user, client, db_session, org, write_texts, three_regions):
    from perception.analysis.models import TextCategory

    db_session.add(TextCategory(code="mobile", name_zh="移动端", name_en="Mobile"))
    (r1_entry,) = write_texts([("R1", 0, "希望支持微信报修")])
    (r2_entry,) = write_texts([("R2", 0, "希望支持手机报修")])
    bound = make_user("bound_analyst", "analyst", region="R1")
    regions, _ = three_regions
    bound.region_id = regions["R1"].id
    db_session.flush()
    headers = _auth(db_session, bound)
    ok = client.post(
        f"/api/v1/analysis/entries/{r1_entry}/label", json={"category": "mobile"}, headers=headers
    )
    assert ok.status_code == 200 and ok.get_json()["category"] == "mobile"
    other = client.post(
        f"/api/v1/analysis/entries/{r2_entry}/label", json={"category": "mobile"}, headers=headers
    )
    assert other.status_code == 404
    wrong = client.post(
        f"/api/v1/analysis/entries/{r1_entry}/label", json={"sentiment": "furious"}, headers=headers
    )
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "sentiment"
    missing = client.post(f"/api/v1/analysis/entries/{r1_entry + 10_000}/label", json={}, headers=headers)
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"


def test_png_charts_for_the_review_pdf(db_session, small):
    from perception.analysis.services import charts
    from perception.analysis.services.experience import experience
    from perception.analysis.services.filters import parse_filters
    from perception.analysis.services.kpi_experience import kpi_vs_experience
    from perception.analysis.services.overview import overview

    f = parse_filters(db_session, {"from": "2026-W10", "to": "2026-W13"}, None, today=MONDAY)
    ov = overview(db_session, f)
    images = [
        charts.overview_trend_chart(ov, zh=True, fmt="png"),
        charts.region_csat_chart(ov, zh=False, fmt="png"),
        charts.quadrant_matrix_chart(kpi_vs_experience(db_session, f), zh=True, fmt="png"),
        charts.dimension_heatmap_chart(experience(db_session, f), zh=True, fmt="png"),
    ]
    assert all(img.startswith(b"\x89PNG\r\n\x1a\n") and len(img) > 2000 for img in images)


def test_dynamic_events_on_the_overview_timeline(db_session, org, catalog, observe):
    from perception.analysis.services import charts
    from perception.analysis.services.filters import parse_filters
    from perception.analysis.services.overview import overview
    from perception.collection.models.reports import CollectionReport, ReportEntry

    r1 = org["R1"]["region"]
    observe(r1, catalog["DESK"], "csat", [5, 4, 2])
    report = CollectionReport(
        region_id=r1.id, collection_point_id=org["R1"]["point"].id, week_start=MONDAY, status="submitted"
    )
    db_session.add(report)
    db_session.flush()
    db_session.add(
        ReportEntry(
            report_id=report.id,
            region_id=r1.id,
            kind="dynamic",
            category="system_change",
            event_date=MONDAY + timedelta(days=9),
            text="核心系统升级",
        )
    )
    db_session.flush()
    view = overview(
        db_session, parse_filters(db_session, {"from": "2026-W10", "to": "2026-W13"}, None, today=MONDAY)
    )
    assert [(e.category, e.description) for e in view.events] == [("system_change", "核心系统升级")]
    svg = charts.overview_trend_chart(view, zh=False).decode("utf-8")
    assert "IT system upgrade/change" in svg


def test_evidence_lists_only_the_users_region(login_as, small):
    c = login_as("collector", region="R2")
    html = c.get(f"/analysis/evidence?{PERIOD}&kind=csat").get_data(as_text=True)
    assert "7 answers match" in html or "7" in html
    assert html.count("survey #") == 7  # only R2's seven answers, none of R1's forty


def test_charts_of_an_empty_period_still_render(db_session, small):
    from perception.analysis.services import charts
    from perception.analysis.services.experience import experience
    from perception.analysis.services.filters import parse_filters
    from perception.analysis.services.kpi_experience import kpi_vs_experience
    from perception.analysis.services.overview import overview

    f = parse_filters(db_session, {"from": "2020-W10", "to": "2020-W13"}, None, today=MONDAY)
    ov = overview(db_session, f)
    for image in (
        charts.overview_trend_chart(ov, zh=False),
        charts.region_csat_chart(ov, zh=False),
        charts.quadrant_matrix_chart(kpi_vs_experience(db_session, f), zh=False),
        charts.dimension_heatmap_chart(experience(db_session, f), zh=False),
        charts.dimension_bar_chart(experience(db_session, f), zh=False),
    ):
        assert image.lstrip().startswith(b"<?xml")
