"""HTTP tests of every analysis view: rendering, region scoping (another region's id -> 404),
CSRF-protected actions, clear errors that store nothing, charts, exports and the JSON API."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from tests.conftest import post_form

PERIOD = "from=2026-W10&to=2026-W13"
PAGES = (
    "overview",
    "kpi-vs-experience",
    "kpis",
    "experience",
    "demand",
    "demand/review",
    "evidence",
    "alerts",
)


@pytest.fixture
def data(db_session, org, catalog, observe, link_kpi, kpi_value):
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    desk = catalog["DESK"]
    d = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    for week in range(4):
        kpi_value(d, desk, r1, 0.97, 0.95, week=week)
        kpi_value(d, desk, r2, 0.90, 0.95, week=week)
        observe(r1, desk, "csat", [5] * 10 + [2] * 10, week=week)
        observe(r2, desk, "csat", [5] * 19 + [2], week=week)
        observe(r1, desk, "rating", [4, 5, 3], week=week, dimension="response_speed")
    return {"r1": r1, "r2": r2, "kpi": d}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_an_analyst(login_as, data, page):
    c = login_as("analyst")
    response = c.get(f"/analysis/{page}?{PERIOD}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert "<h1>" in response.get_data(as_text=True)


def test_pages_in_chinese(login_as, data):
    c = login_as("manager")
    html = c.get(f"/analysis/kpi-vs-experience?{PERIOD}", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert "西瓜效应" in html and "KPI 与体验" in html


def test_region_scope_on_pages_and_api(login_as, data, db_session, make_user):
    from perception.core.users import issue_token

    c = login_as("collector", region="R2")
    html = c.get(f"/analysis/overview?{PERIOD}").get_data(as_text=True)
    assert "R2" in html and "Beijing" not in html
    assert c.get(f"/analysis/overview?{PERIOD}&region={data['r1'].id}").status_code == 404
    assert c.get(f"/analysis/kpi-vs-experience?{PERIOD}&region={data['r1'].id}").status_code == 404
    assert c.get(f"/analysis/evidence?{PERIOD}&region={data['r1'].id}").status_code == 404
    assert c.get(f"/analysis/chart/quadrant.svg?{PERIOD}&region={data['r1'].id}").status_code == 404
    user = c.user
    _, secret = issue_token(db_session, user, "t")
    auth = {"Authorization": f"Bearer {secret}"}
    body = c.get(f"/api/v1/analysis/kpi-vs-experience?{PERIOD}", headers=auth).get_json()
    assert {cell["region_code"] for cell in body["cells"]} == {"R2"}
    assert (
        c.get(f"/api/v1/analysis/overview?{PERIOD}&region={data['r1'].id}", headers=auth).status_code == 404
    )


def test_watermelon_on_the_monday_page(login_as, data):
    c = login_as("manager")
    html = c.get(f"/analysis/kpi-vs-experience?{PERIOD}").get_data(as_text=True)
    assert (
        'data-testid="watermelon-list"' in html and 'id="cell-DESK-R1"' in html
    )  # one row per service x region cell
    assert "/analysis/chart/quadrant.svg" in html


def test_bad_filter_is_explained_and_api_says_422(login_as, data, db_session):
    from perception.core.users import issue_token

    c = login_as("analyst")
    response = c.get("/analysis/overview?from=2026-W99")
    assert response.status_code == 200
    assert "is neither an ISO week" in response.get_data(as_text=True)
    _, secret = issue_token(db_session, c.user, "t")
    api = c.get("/api/v1/analysis/overview?from=bad", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 422 and api.mimetype == "application/problem+json"
    (problem,) = api.get_json()["errors"]
    assert (problem["field"], problem["code"], problem["value"]) == ("from", "invalid_period", "bad")
    assert "ISO 周" in problem["detail_zh"] and "ISO week" in problem["detail_en"]
    # Days are read by the one parser of typed dates, so 2026/3/2 is 2026-03-02's week.
    typed = c.get(
        "/api/v1/analysis/overview?from=2026/3/2&to=2026年3月8日",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert typed.status_code == 200
    assert (typed.get_json()["filters"]["start"], typed.get_json()["filters"]["end"]) == (
        "2026-03-02",
        "2026-03-09",
    )


def test_charts_are_svg_images(login_as, data):
    c = login_as("analyst")
    for name in ("overview_trend", "region_csat", "quadrant", "heatmap", "dimensions"):
        response = c.get(f"/analysis/chart/{name}.svg?{PERIOD}")
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        assert response.data.lstrip().startswith(b"<?xml") and b"<script" not in response.data
    kpi = c.get(f"/analysis/chart/kpi_trend.svg?{PERIOD}&kpi={data['kpi'].id}")
    assert kpi.status_code == 200
    assert c.get(f"/analysis/chart/nope.svg?{PERIOD}").status_code == 404


def test_exports_are_audited(login_as, data, db_session):
    from openpyxl import load_workbook

    from perception.core.models.audit import AuditEntry

    c = login_as("analyst")
    response = c.get(f"/analysis/export/watermelons.csv?{PERIOD}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    # One row per service x region cell with its KPIs, as on the page (issue 14).
    assert rows[0][0] == "Rank" and rows[1][1:4] == ["DESK", "R1", "RESP RESP KPI"]
    xlsx = c.get(f"/analysis/export/overview.xlsx?{PERIOD}")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.cell(1, 1).value == "Group" and sheet.cell(2, 1).value == "all"
    actions = db_session.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "export")).all()
    assert set(actions) >= {"watermelons", "overview"}
    assert c.get(f"/analysis/export/secret.csv?{PERIOD}").status_code == 404


def test_formula_injection_is_neutralised():
    from openpyxl import load_workbook

    from perception.analysis.services.exports import Column, Table, to_csv, to_xlsx

    evil = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "safe", -5, 0.25]
    table = Table("t", (Column("v", "值", "Value"),), tuple({"v": v} for v in evil))
    rows = list(csv.reader(io.StringIO(to_csv(table, zh=False).decode("utf-8-sig"), newline="")))
    cells = [r[0] for r in rows[1:]]
    assert cells[:6] == ['\'=HYPERLINK("http://x")', "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx"]
    assert cells[6:] == ["safe", "-5", "0.25"]
    sheet = load_workbook(io.BytesIO(to_xlsx(table, zh=True))).active
    values = [sheet.cell(i, 1).value for i in range(1, len(evil) + 2)]
    assert values[0] == "值" and values[1] == '\'=HYPERLINK("http://x")' and values[8] == -5
    assert all(not (isinstance(v, str) and v.startswith("=")) for v in values)


def test_text_actions_need_csrf_permission_and_scope(login_as, db_session, write_texts, three_regions):
    from perception.analysis.models import TextCategory, TextLabel, TextTheme
    from perception.analysis.services.text_run import run_text_analysis
    from tests.analysis.test_text_analysis import MOBILE, ONSITE, SPARES

    ids = write_texts(MOBILE + ONSITE + SPARES)
    db_session.add(TextCategory(code="mobile", name_zh="移动端", name_en="Mobile"))
    run_text_analysis(db_session)
    theme = db_session.scalar(select(TextTheme).limit(1))
    analyst = login_as("analyst")
    # Without the CSRF token nothing happens.
    assert analyst.post(f"/analysis/demand/themes/{theme.key}/rename", data={"name": "x"}).status_code == 400
    response = post_form(analyst, f"/analysis/demand/themes/{theme.key}/rename", {"name": "移动报修"})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(TextTheme, theme.id).name == "移动报修"
    # A manager may look but not rename.
    manager = login_as("manager")
    assert post_form(manager, f"/analysis/demand/themes/{theme.key}/rename", {"name": "x"}).status_code == 403
    # Labelling another region's entry is a 404; a bad category stores nothing and says why.
    regions, _ = three_regions
    r2_entry = next(i for i, item in zip(ids, MOBILE + ONSITE + SPARES, strict=True) if item[0] == "R2")
    bound = login_as("analyst", username="analyst_r1", region="R1")
    bound.user.region_id = regions["R1"].id
    db_session.flush()
    assert (
        post_form(bound, f"/analysis/demand/entries/{r2_entry}/label", {"category": "mobile"}).status_code
        == 404
    )
    r = post_form(
        analyst, f"/analysis/demand/entries/{ids[0]}/label", {"category": "nope"}, follow_redirects=True
    )
    assert "Unknown category or sentiment" in r.get_data(as_text=True)
    assert db_session.scalar(select(TextLabel.id)) is None
    ok = post_form(
        analyst, f"/analysis/demand/entries/{ids[0]}/label", {"category": "mobile", "sentiment": "negative"}
    )
    assert ok.status_code == 302 and db_session.scalar(select(TextLabel.category)) == "mobile"
    page = analyst.get("/analysis/demand?from=2026-W10&to=2026-W13").get_data(as_text=True)
    assert "移动报修" in page and 'data-testid="common-needs"' in page


def test_market_queue_and_update(login_as, db_session, write_texts, make_user):
    from perception.analysis.services.text_run import run_text_analysis
    from tests.analysis.test_text_analysis import MOBILE, ONSITE, REPORTS, SPARES, _theme_of

    mobile = write_texts(MOBILE)
    write_texts(ONSITE + SPARES + REPORTS)
    run_text_analysis(db_session)
    (key,) = _theme_of(db_session, mobile)
    analyst = login_as("analyst")
    sent = post_form(
        analyst,
        f"/analysis/demand/needs/send?{PERIOD}",
        {"kind": "common", "theme_key": key, "owner_id": "0"},
    )
    assert sent.status_code == 302
    market = login_as("market")
    html = market.get("/analysis/opportunities").get_data(as_text=True)
    assert "Common need" in html
    from perception.analysis.models import Opportunity

    opp = db_session.scalar(select(Opportunity))
    r = post_form(
        market,
        f"/analysis/opportunities/{opp.id}",
        {
            f"o{opp.id}-status": "contacted",
            f"o{opp.id}-owner_id": str(market.user.id),
            f"o{opp.id}-notes": "called",
        },
    )
    assert r.status_code == 302
    db_session.expire_all()
    opp = db_session.get(Opportunity, opp.id)
    assert (opp.status, opp.owner_id, opp.notes) == ("contacted", market.user.id, "called")
    collector = login_as("collector")
    assert collector.get("/analysis/opportunities").status_code == 403


def test_alerts_page_and_acknowledge(login_as, db_session, org):
    from perception.analysis.models import Alert
    from perception.analysis.services.alerts import AlertSpec, raise_alert

    manager = login_as("manager")
    a1 = raise_alert(
        db_session,
        AlertSpec(
            "missing_reports",
            "x1",
            "报告缺失",
            "Report missing",
            "/collection/board",
            region_id=org["R1"]["region"].id,
        ),
        base_url="",
    )
    raise_alert(
        db_session,
        AlertSpec(
            "missing_reports",
            "x2",
            "二区缺失",
            "R2 missing",
            "/collection/board",
            region_id=org["R2"]["region"].id,
        ),
        base_url="",
    )
    html = manager.get("/analysis/alerts").get_data(as_text=True)
    assert "Report missing" in html and "R2 missing" in html
    bound = login_as("collector", region="R2")
    html = bound.get("/analysis/alerts").get_data(as_text=True)
    assert "R2 missing" in html and "Report missing" not in html
    assert post_form(bound, f"/analysis/alerts/{a1.id}/acknowledge", {}).status_code == 404
    assert post_form(manager, f"/analysis/alerts/{a1.id}/acknowledge", {}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Alert, a1.id).status == "acknowledged"


def test_refused_settings_store_nothing_and_say_why_in_the_users_language(login_as, db_session):
    from perception.analysis.models import TextAnalysisSettings

    analyst = login_as("analyst")
    analyst.user.language = "zh_CN"
    db_session.flush()
    form = {"user_words": "两个 词", "theme_count": "0", "min_customers": "3", "min_regions": "3"}
    response = post_form(
        analyst, "/analysis/demand/settings", {**form, "review_threshold": "0.6"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "每行一个词，不含空格" in response.get_data(as_text=True)
    # update_settings stored the default row before it refused the word: atomic() undid it.
    assert db_session.scalar(select(TextAnalysisSettings.id)) is None


def test_a_period_ending_in_the_year_9999_is_explained_not_a_server_error(login_as, data):
    """Found by the session-12 bad-input probe: ?from=0001-01-01&to=9999-12-31 answered 500 on
    the overview, KPI and KPI-versus-experience pages (the Monday after 9999-12-27 overflowed)."""
    c = login_as("analyst")
    for page in ("/analysis/overview", "/analysis/kpis", "/analysis/kpi-vs-experience"):
        response = c.get(page + "?from=0001-01-01&to=9999-12-31", headers={"Accept-Language": "en"})
        assert response.status_code == 200, page
        assert "past the last date the product can show" in response.get_data(as_text=True), page
