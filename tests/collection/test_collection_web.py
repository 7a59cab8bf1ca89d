"""The weekly report as people use it: forms over HTTP, region and point scoping, CSRF, the
organiser's board and consolidation."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from perception.collection.models.reports import CollectionReport, ReportEntry
from tests.collection.conftest import WEEK, feedback, requirement
from tests.conftest import login, post_form


def _open(client, week="2026-W10"):
    response = post_form(client, "/collection/reports/open", {"week": week}, token_from="/collection/")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def _row(kind, index, **values):
    return {f"{kind}-{index}-{name}": value for name, value in values.items()}


def test_collector_fills_adds_rows_saves_and_submits(login_as, db_session, cat):
    c = login_as("collector")
    url = _open(c)
    page = c.get(url).get_data(as_text=True)
    assert 'name="feedback-0-dimension"' in page and "Save and submit" in page
    typed = _row(
        "feedback",
        0,
        customer="R1-C",
        dimension="fault_handling",
        rating="2",
        means="complaint",
        service="DESK",
        text="处理太慢 / too slow",
    )
    # Adding a row re-renders with what was typed, and stores nothing yet.
    added = post_form(c, url, {**typed, "action": "add_feedback"}, token_from=url)
    html = added.get_data(as_text=True)
    assert added.status_code == 200
    assert "处理太慢 / too slow" in html and 'name="feedback-1-text"' in html
    assert db_session.scalar(select(func.count()).select_from(ReportEntry)) == 0
    more = _row("requirement", 0, customer="R1-C", text="移动端报修", urgency="high")
    saved = post_form(c, url, {**typed, **more, "action": "save"}, token_from=url)
    assert saved.status_code == 302
    report = db_session.scalar(select(CollectionReport))
    assert report.status == "draft" and [e.kind for e in report.entries] == ["feedback", "requirement"]
    submitted = post_form(c, url, {**typed, **more, "action": "submit"}, token_from=url)
    assert submitted.status_code == 302
    db_session.expire_all()
    assert report.status == "submitted" and report.first_submitted_at is not None
    # Once submitted the page is read-only.
    page = c.get(url).get_data(as_text=True)
    assert 'name="feedback-0-text"' not in page
    # Times in the region's local time, never UTC beside the local deadline (issue 17).
    from perception.core.models.org import Region

    region = db_session.get(Region, report.region_id)
    local = report.first_submitted_at.replace(tzinfo=UTC).astimezone(ZoneInfo(region.timezone))
    assert "UTC" not in page and f"{local:%Y-%m-%d %H:%M}" in page


def test_bad_row_shows_the_error_on_its_field_in_chinese_and_stores_nothing(login_as, db_session, cat):
    c = login_as("collector")
    url = _open(c)
    data = {
        **_row(
            "feedback", 0, customer="R1-C", dimension="response_speed", rating="", means="visit", text="ok"
        ),
        "action": "save",
    }
    response = post_form(c, url, data, token_from=url, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422
    assert "此项为必填项" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(ReportEntry)) == 0


def test_form_post_requires_csrf(login_as, db_session, cat):
    c = login_as("collector")
    url = _open(c)
    response = c.post(url, data={**_row("requirement", 0, customer="R1-C", text="x"), "action": "save"})
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(ReportEntry)) == 0


def test_collector_cannot_see_another_regions_or_points_report(login_as, make_user, db_session, org, put):
    from perception.core.models.org import CollectionPoint

    other_region = put("R2", WEEK, [feedback(customer="R2-C")], make_user("c2", "collector", region="R2"))
    second_point = CollectionPoint(
        code="CP-R1-B", name_zh="北京二组", name_en="Beijing team B", region_id=org["R1"]["region"].id
    )
    db_session.add(second_point)
    db_session.flush()
    colleague = make_user("c1b", "collector", collection_point_id=second_point.id)
    same_region_other_point = _report_for(db_session, second_point, colleague)
    c = login_as("collector")
    for report in (other_region, same_region_other_point):
        assert c.get(f"/collection/reports/{report.id}").status_code == 404
        assert post_form(c, f"/collection/reports/{report.id}", {"action": "submit"}).status_code == 404
    listing = c.get("/collection/").get_data(as_text=True)
    assert "Beijing team B" not in listing and "Shanghai team" not in listing


def _report_for(db_session, point, user):
    from perception.collection.services import reports as collection_reports

    return collection_reports.open_report(db_session, point, WEEK, user, now=datetime(2026, 6, 1))


def test_organiser_returns_and_accepts(app, login_as, db_session, collector, put):
    report = put("R1", WEEK, [feedback()], collector, submit_at=datetime(2026, 3, 8))
    o = login_as("organiser")
    url = f"/collection/reports/{report.id}"
    assert "Return to the collection point" in o.get(url).get_data(as_text=True)
    post_form(o, url + "/return", {"comment": "请补充客户联系人"}, token_from=url)
    db_session.expire_all()
    assert report.status == "returned" and report.organiser_comment == "请补充客户联系人"
    # The collector sees the comment and may edit again.
    c = app.test_client()
    login(c, collector.username)
    c_page = c.get(url).get_data(as_text=True)
    assert "请补充客户联系人" in c_page and 'name="feedback-0-text"' in c_page
    post_form(
        c,
        url,
        {
            **_row(
                "feedback",
                0,
                customer="R1-C",
                dimension="response_speed",
                rating="3",
                means="visit",
                service="DESK",
                text="补充：联系人王伟",
            ),
            "action": "submit",
        },
        token_from=url,
    )
    db_session.expire_all()
    assert report.status == "resubmitted"
    post_form(o, url + "/accept", {}, token_from=url)
    db_session.expire_all()
    assert report.status == "accepted"


def test_organiser_cannot_edit_entries(login_as, collector, put):
    report = put("R1", WEEK, [feedback()], collector)
    o = login_as("organiser")
    assert post_form(o, f"/collection/reports/{report.id}", {"action": "save"}).status_code == 403


def test_board_shows_states_and_region_rate(login_as, collector, put):
    put("R1", WEEK, [feedback()], collector, submit_at=datetime(2026, 3, 9, 7, 0))  # 3 h late
    o = login_as("organiser")
    html = o.get("/collection/board?from=2026-W10&to=2026-W11").get_data(as_text=True)
    assert "2026-W10" in html and "2026-W11" in html
    assert "Late" in html and "3 h late" in html and "Missing" in html
    assert o.get("/collection/board").status_code == 200
    assert login_as("collector", username="c_other").get("/collection/board").status_code == 403


def test_consolidation_filters_marks_duplicates_and_exports(login_as, db_session, make_user, collector, put):
    put(
        "R1",
        WEEK,
        [feedback(), requirement(), requirement(text="报表导出")],
        collector,
        submit_at=datetime(2026, 3, 8),
    )
    put(
        "R2",
        WEEK,
        [requirement(customer="R2-C")],
        make_user("c2", "collector", region="R2"),
        submit_at=datetime(2026, 3, 8),
    )
    o = login_as("organiser")
    base = "/collection/consolidation?from=2026-W10&to=2026-W10"
    assert o.get(base).get_data(as_text=True).count('name="entry_id"') == 4
    html = o.get(base + "&kind=requirement&q=移动端").get_data(as_text=True)
    assert html.count('name="entry_id"') == 2
    ids = sorted(db_session.scalars(select(ReportEntry.id).where(ReportEntry.text.like("移动端%"))))
    post_form(
        o,
        "/collection/consolidation/duplicate",
        {"entry_id": ids[1], "duplicate_of": ids[0]},
        token_from=base,
    )
    assert db_session.get(ReportEntry, ids[1]).duplicate_of_id == ids[0]
    assert o.get(base + "&hide_duplicates=1").get_data(as_text=True).count('name="entry_id"') == 3
    csv = o.get("/collection/consolidation/export?from=2026-W10&to=2026-W10&kind=requirement&format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Week,Region") and text.count("移动端报修") == 2
    xlsx = o.get("/collection/consolidation/export?from=2026-W10&to=2026-W10&format=xlsx")
    assert xlsx.data[:2] == b"PK"


def test_pages_in_chinese(login_as, collector, put):
    report = put("R1", WEEK, [feedback()], collector, submit_at=datetime(2026, 3, 8))
    o = login_as("organiser")
    zh = {"Accept-Language": "zh-CN"}
    page = o.get(f"/collection/reports/{report.id}", headers=zh).get_data(as_text=True)
    assert "服务响应速度" in page and "退回采集点" in page and "按时" in page
    assert "各区域提交完整率" in o.get("/collection/board", headers=zh).get_data(as_text=True)
    assert "导出 CSV" in o.get("/collection/consolidation", headers=zh).get_data(as_text=True)
    assert "新建回访队列" in o.get("/collection/callbacks", headers=zh).get_data(as_text=True)
    assert "新建抽样" in o.get("/collection/sampling", headers=zh).get_data(as_text=True)


def test_board_accepts_a_week_given_as_a_date(login_as):
    html = login_as("organiser").get("/collection/board?week=2026-03-04").get_data(as_text=True)
    assert "2026-W10" in html and "2026-W03" in html and "2026-W11" not in html


def test_a_refused_step_is_flashed_in_the_users_language_and_changes_nothing(
    login_as, db_session, collector, put
):
    report = put("R1", WEEK, [feedback()], collector)  # a draft: it cannot be accepted yet
    o = login_as("organiser")
    url = f"/collection/reports/{report.id}"
    zh = {"Accept-Language": "zh-CN"}
    refused = post_form(o, url + "/accept", {}, token_from=url, headers=zh)
    assert refused.status_code == 302
    assert "只有已提交的报告才能被接受或退回" in o.get(url, headers=zh).get_data(as_text=True)
    db_session.expire_all()
    assert report.status == "draft" and report.reviewed_at is None


def test_lateness_reads_in_days_beyond_two_days(app):
    """Issue 17 saw lateness as "629.29 小时" where days read better."""
    from perception.collection.labels import lateness

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert lateness(629.29) == "迟交 26 天"
        assert lateness(3.0) == "迟交 3 小时"
        assert lateness(None) == ""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert lateness(47.4) == "47 h late"
        assert lateness(50) == "2 days late"
