"""The collection JSON API: teams send their week as JSON; errors name the row; scoping holds."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from perception.collection.models.reports import ReportEntry
from perception.core.users import issue_token
from tests.collection.conftest import WEEK, dynamic, feedback, requirement


def _auth(db_session, user):
    _, secret = issue_token(db_session, user, "tool")
    return {"Authorization": f"Bearer {secret}"}


def test_put_report_then_submit_and_read_back(client, db_session, org, cat, collector):
    headers = _auth(db_session, collector)
    point = org["R1"]["point"].id
    body = {"entries": [dynamic(), feedback(), requirement()], "submit": True}
    response = client.put(
        f"/api/v1/collection/points/{point}/weeks/2026-W10/report", json=body, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["status"] == "submitted" and data["week"] == "2026-W10" and len(data["entries"]) == 3
    got = client.get(f"/api/v1/collection/reports/{data['id']}", headers=headers).get_json()
    assert [e["kind"] for e in got["entries"]] == ["dynamic", "feedback", "requirement"]
    listing = client.get("/api/v1/collection/reports?from=2026-W09&to=2026-W11", headers=headers).get_json()
    assert [r["id"] for r in listing["items"]] == [data["id"]]


def test_put_report_422_names_rows_and_stores_nothing(client, db_session, org, cat, collector):
    headers = _auth(db_session, collector)
    body = {"entries": [feedback(), feedback(dimension="smell"), requirement(customer="NOPE")]}
    response = client.put(
        f"/api/v1/collection/points/{org['R1']['point'].id}/weeks/2026-W10/report", json=body, headers=headers
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422 and problem["detail"] and problem["detail_zh"]
    errors = problem["errors"]
    assert {(e["row"], e["field"], e["code"]) for e in errors} == {
        (2, "dimension", "unknown_choice"),
        (3, "customer", "unknown_customer"),
    }
    assert all(e["detail_zh"] and e["detail_en"] for e in errors)
    assert db_session.scalar(select(func.count()).select_from(ReportEntry)) == 0


def test_malformed_requests_answer_the_problem_shape(client, db_session, org, cat, collector):
    headers = _auth(db_session, collector)
    url = f"/api/v1/collection/points/{org['R1']['point'].id}/weeks"
    not_a_list = client.put(f"{url}/2026-W10/report", json={"entries": "x"}, headers=headers)
    assert not_a_list.status_code == 422 and not_a_list.mimetype == "application/problem+json"
    assert [e["field"] for e in not_a_list.get_json()["errors"]] == ["entries"]
    bad_week = client.put(f"{url}/week-ten/report", json={"entries": []}, headers=headers)
    assert bad_week.status_code == 422
    assert [(e["field"], e["code"]) for e in bad_week.get_json()["errors"]] == [("week", "invalid_week")]
    reversed_range = client.get("/api/v1/collection/reports?from=2026-W11&to=2026-W09", headers=headers)
    assert reversed_range.status_code == 400 and reversed_range.get_json()["errors"][0]["field"] == "from"
    bad_day = client.get("/api/v1/collection/events?start=2026-13-01&end=2026-03-20", headers=headers)
    assert bad_day.status_code == 400
    assert [(e["field"], e["code"]) for e in bad_day.get_json()["errors"]] == [("start", "invalid_date")]
    missing = client.get("/api/v1/collection/events?start=2026-03-01", headers=headers)
    assert missing.status_code == 400 and missing.get_json()["errors"][0]["field"] == "end"


def test_other_regions_point_and_report_are_404(client, db_session, org, cat, make_user, collector, put):
    theirs = put("R2", WEEK, [feedback(customer="R2-C")], make_user("c2", "collector", region="R2"))
    headers = _auth(db_session, collector)
    assert client.get(f"/api/v1/collection/reports/{theirs.id}", headers=headers).status_code == 404
    put_other = client.put(
        f"/api/v1/collection/points/{org['R2']['point'].id}/weeks/2026-W10/report",
        json={"entries": []},
        headers=headers,
    )
    assert put_other.status_code == 404
    assert client.post(f"/api/v1/collection/reports/{theirs.id}/submit", headers=headers).status_code == 404


def test_organiser_returns_through_api_and_reads_completeness(client, db_session, collector, make_user, put):
    report = put("R1", WEEK, [feedback()], collector, submit_at=datetime(2026, 3, 9, 5, 0))
    headers = _auth(db_session, make_user("org1", "organiser"))
    assert (
        client.post(
            f"/api/v1/collection/reports/{report.id}/return", json={"comment": ""}, headers=headers
        ).status_code
        == 422
    )
    returned = client.post(
        f"/api/v1/collection/reports/{report.id}/return", json={"comment": "fix"}, headers=headers
    )
    assert returned.get_json()["status"] == "returned"
    board = client.get(
        "/api/v1/collection/completeness?from=2026-W10&to=2026-W10", headers=headers
    ).get_json()
    mine = [c for c in board["cells"] if c["report_id"] == report.id][0]
    assert mine["state"] == "late" and mine["lateness_hours"] == 1.0
    r1 = [r for r in board["regions"] if r["region_id"] == report.region_id][0]
    assert (r1["counted"], r1["late"], r1["on_time"]) == (1, 1, 0)


def test_events_for_analysis(client, db_session, collector, make_user, put):
    put(
        "R1",
        WEEK,
        [dynamic(date="2026-03-04"), dynamic(date="2026-03-20", category="supplier_change")],
        collector,
        submit_at=datetime(2026, 3, 8),
    )
    put("R1", date(2026, 3, 9), [dynamic(date="2026-03-05")], collector)  # a draft: not an event yet
    headers = _auth(db_session, make_user("an", "analyst"))
    items = client.get(
        "/api/v1/collection/events?start=2026-03-01&end=2026-03-20", headers=headers
    ).get_json()["items"]
    assert [(e["event_date"], e["category"]) for e in items] == [("2026-03-04", "system_change")]
