"""The improvement register: derived priority, validation naming the field, filters and the overdue
rule, and the page as users meet it (CSRF, region scope, overdue highlighted, API 422)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from perception.api.errors import PROBLEM_JSON
from perception.core.clock import current_clock
from perception.core.users import issue_token
from perception.review.models import ImprovementItem
from perception.review.services import register as review_register
from perception.review.services.errors import ReviewError
from tests.conftest import post_form


@pytest.mark.parametrize(
    ("value", "effort", "score", "band"),
    [
        (5, 1, 25, "high"),
        (5, 3, 15, "high"),
        (4, 2, 16, "high"),
        (3, 3, 9, "medium"),
        (2, 2, 8, "medium"),
        (2, 3, 6, "low"),
        (1, 5, 1, "low"),
    ],
)
def test_priority_from_value_and_effort(value, effort, score, band):
    assert review_register.derive_priority(value, effort) == (score, band)


def test_item_gets_code_and_priority(db_session, org):
    item = review_register.create_item(
        db_session, review_register.ItemInput(title="回访话术统一", value=5, effort=2), today=date(2026, 3, 1)
    )
    assert item.code == "CI-0001" and (item.priority_score, item.priority) == (20, "high")
    assert item.result["status"] == "no_metric"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "value": 6}, "value"),
        ({"title": "x", "effort": "many"}, "effort"),
        ({"title": "x", "due_on": "next week"}, "due_on"),
        ({"title": "x", "source": "rumour"}, "source"),
        ({"title": "x", "metric": "happiness"}, "metric"),
        ({"title": "x", "metric": "kpi_value", "metric_kpi_code": "NOPE"}, "metric_kpi_code"),
        (
            {
                "title": "x",
                "metric": "csat_share",
                "baseline_from": "2026-03-01",
                "baseline_to": "2026-02-01",
            },
            "baseline_to",
        ),
        ({"title": "x", "status": "completed", "completed_on": "2999-01-01"}, "completed_on"),
        ({"title": "x", "owner_id": 999999}, "owner_id"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(db_session, org, data, field):
    with pytest.raises(ReviewError) as raised:
        review_register.create_item(db_session, review_register.parse_item(data), today=date(2026, 3, 1))
    assert raised.value.field == field and raised.value.zh and raised.value.en
    assert db_session.scalar(select(func.count(ImprovementItem.id))) == 0


def _items(db_session, org):
    today = current_clock().today()
    mk = review_register.create_item
    late = mk(
        db_session,
        review_register.ItemInput(
            title="逾期的事项",
            due_on=today - timedelta(days=3),
            status="in_progress",
            region_id=org["R1"]["region"].id,
        ),
        today=today,
    )
    mk(
        db_session,
        review_register.ItemInput(
            title="done late",
            due_on=today - timedelta(days=30),
            status="completed",
            completed_on=today - timedelta(days=40),
        ),
        today=today,
    )
    mk(
        db_session,
        review_register.ItemInput(title="R2 item", region_id=org["R2"]["region"].id, value=1),
        today=today,
    )
    return late


def test_overdue_filter(db_session, org):
    late = _items(db_session, org)
    today = current_clock().today()
    stmt = review_register.apply_filter(
        select(ImprovementItem), review_register.RegisterFilter(overdue=True), today
    )
    assert [i.code for i in db_session.scalars(stmt)] == [late.code]
    stmt = review_register.apply_filter(
        select(ImprovementItem), review_register.RegisterFilter(status="open"), today
    )
    assert {i.title for i in db_session.scalars(stmt)} == {"逾期的事项", "R2 item"}


def test_register_page_highlights_overdue_and_filters(db_session, org, login_as):
    _items(db_session, org)
    client = login_as("analyst")
    html = client.get("/improvements").get_data(as_text=True)
    assert 'class="overdue"' in html and "逾期的事项" in html and "R2 item" in html
    filtered = client.get("/improvements?overdue=1").get_data(as_text=True)
    assert "逾期的事项" in filtered and "R2 item" not in filtered


def test_region_bound_manager_sees_own_and_general_items_only(db_session, org, login_as):
    late = _items(db_session, org)
    other = db_session.scalar(select(ImprovementItem).where(ImprovementItem.title == "R2 item"))
    client = login_as("manager", region="R1", region_id=org["R1"]["region"].id)
    html = client.get("/improvements").get_data(as_text=True)
    assert "逾期的事项" in html and "R2 item" not in html
    assert client.get(f"/improvements/{late.id}").status_code == 200
    assert client.get(f"/improvements/{other.id}").status_code == 404


def test_create_through_the_form(db_session, org, login_as):
    client = login_as("analyst")
    response = post_form(
        client,
        "/improvements/new",
        {
            "title": "客户回访模板",
            "source": "customer_feedback",
            "value": "4",
            "effort": "2",
            "status": "proposed",
            "measure_weeks": "8",
        },
        token_from="/improvements/new",
    )
    assert response.status_code == 302
    item = db_session.scalar(select(ImprovementItem))
    assert item.title == "客户回访模板" and item.priority == "high"


def test_form_error_is_shown_in_chinese(db_session, org, login_as):
    client = login_as("analyst")
    response = post_form(
        client,
        "/improvements/new",
        {
            "title": "x",
            "value": "3",
            "effort": "3",
            "status": "proposed",
            "source": "analyst",
            "due_on": "soon",
        },
        token_from="/improvements/new",
        headers={"Accept-Language": "zh-CN"},
    )
    assert response.status_code == 200
    assert "“soon”不是有效日期" in response.get_data(as_text=True)  # on the due date field
    assert db_session.scalar(select(func.count(ImprovementItem.id))) == 0


def test_form_accepts_dates_as_people_write_them(db_session, org, login_as):
    client = login_as("analyst")
    response = post_form(
        client,
        "/improvements/new",
        {"title": "x", "value": "3", "effort": "3", "status": "proposed", "due_on": "2026年3月2日"},
        token_from="/improvements/new",
    )
    assert response.status_code == 302
    assert db_session.scalar(select(ImprovementItem.due_on)) == date(2026, 3, 2)


def test_post_without_csrf_is_refused(db_session, org, login_as):
    client = login_as("analyst")
    assert client.post("/improvements/new", data={"title": "x"}).status_code == 400
    assert db_session.scalar(select(func.count(ImprovementItem.id))) == 0


def test_api_create_validate_and_patch(db_session, org, client, make_user):
    user = make_user("ana", "analyst")
    _, secret = issue_token(db_session, user, "t")
    auth = {"Authorization": f"Bearer {secret}"}
    bad = client.post("/api/v1/improvements", json={"title": "x", "value": 9}, headers=auth)
    assert bad.status_code == 422 and bad.mimetype == PROBLEM_JSON
    assert [e["field"] for e in bad.get_json()["errors"]] == ["value"]
    assert bad.get_json()["errors"][0]["detail_zh"] == "请填写 1 到 5 之间的整数"
    late = client.post("/api/v1/improvements", json={"title": "x", "due_on": "next week"}, headers=auth)
    assert late.status_code == 422 and late.get_json()["errors"][0]["code"] == "invalid_date"
    listing = client.post("/api/v1/improvements", json=["x"], headers=auth)
    assert listing.status_code == 422 and listing.mimetype == PROBLEM_JSON
    assert db_session.scalar(select(func.count(ImprovementItem.id))) == 0
    made = client.post(
        "/api/v1/improvements", json={"title": "统一服务规范", "value": 4, "effort": 4}, headers=auth
    )
    assert made.status_code == 201 and made.get_json()["priority"] == "medium"
    item_id = made.get_json()["id"]
    patched = client.patch(f"/api/v1/improvements/{item_id}", json={"effort": 1}, headers=auth)
    assert patched.get_json()["priority"] == "high" and patched.get_json()["title"] == "统一服务规范"
    listed = client.get("/api/v1/improvements?priority=high", headers=auth).get_json()["items"]
    assert [i["id"] for i in listed] == [item_id]
