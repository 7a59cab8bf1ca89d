"""Closing the loop: low scores and complaints become follow-up tasks for the region."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from perception.core.models.audit import AuditEntry
from perception.core.models.facts import ExperienceObservation, TextEntry
from perception.surveys.models import FollowUpTask, Response
from perception.surveys.services.errors import SurveyError
from perception.surveys.services.followup import open_followups, update_followup
from perception.surveys.services.store import AnswersInvalid
from tests.surveys.conftest import store


def test_low_csat_creates_a_task_seen_by_its_region_only(
    client, login_as, db_session, org, make_campaign, invite, post_page
):
    campaign = make_campaign()
    token = invite(campaign)["r1@example.com"]
    client.get(f"/s/t/{token}")
    post_page(
        client, "/s/r", {"csat": "2", "low_reasons": ["not_fixed", "attitude"], "improve": "Fix it for real"}
    )
    task = db_session.scalar(select(FollowUpTask))
    assert task.reasons == "low_csat" and "CSAT 2" in task.detail
    assert task.region_id == org["R1"]["region"].id and task.contact_id == org["R1"]["contact"].id
    assert task.status == "open" and task.due_on is not None

    r1 = login_as("collector", region="R1")
    r2 = login_as("collector", region="R2")
    assert [t.id for t in open_followups(db_session, r1.user)] == [task.id]
    assert open_followups(db_session, r2.user) == []
    page = r1.get("/surveys/followups", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"#{task.id}" in page and "Low CSAT" in page
    assert r2.get(f"/surveys/followups/{task.id}").status_code == 404
    detail = r1.get(f"/surveys/followups/{task.id}", headers={"Accept-Language": "en"})
    assert detail.status_code == 200 and "Fix it for real" in detail.get_data(as_text=True)


def test_task_needs_an_outcome_to_be_done(
    login_as, db_session, org, make_campaign, invite, client, post_page
):
    campaign = make_campaign()
    token = invite(campaign)["r1@example.com"]
    client.get(f"/s/t/{token}")
    post_page(client, "/s/r", {"csat": "1", "low_reasons": "slow_response"})
    task = db_session.scalar(select(FollowUpTask))
    collector = login_as("collector", region="R1")
    path = f"/surveys/followups/{task.id}"
    html = collector.get(path).get_data(as_text=True)
    token_value = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    refused = collector.post(
        path,
        data={"csrf_token": token_value, "status": "done", "outcome": ""},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 422 and "Describe the outcome" in refused.get_data(as_text=True)
    db_session.refresh(task)
    assert task.status == "open"
    ok = collector.post(
        path, data={"csrf_token": token_value, "status": "done", "outcome": "Called back, fixed."}
    )
    assert ok.status_code == 302
    db_session.refresh(task)
    assert task.status == "done" and task.outcome == "Called back, fixed." and task.closed_at is not None
    assert open_followups(db_session, collector.user) == []
    # This task's updates in the order they were written (without ORDER BY, PostgreSQL returns a
    # heap's rows in whatever order its pages hold them); the assignment job's update names no
    # status and may come before or after the collector's (it came last in a long CI run).
    changes = db_session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.object_type == "FollowUpTask",
            AuditEntry.object_id == str(task.id),
            AuditEntry.action == "update",
        )
        .order_by(AuditEntry.id)
    ).all()
    statuses = [c.after["status"] for c in changes if "status" in c.after]
    assert statuses and statuses[-1] == "done"


def test_nps_detractor_and_complaint(db_session, org, versions):
    contact = org["R2"]["contact"]
    response = store(
        db_session,
        versions["nps_relationship"],
        {"nps": 6, "reason": "我要投诉：上周故障三天没人处理"},
        contact=contact,
    )
    task = db_session.scalar(select(FollowUpTask).where(FollowUpTask.response_id == response.id))
    assert task.reasons == "low_nps,complaint" and task.region_id == org["R2"]["region"].id
    promoter = store(db_session, versions["nps_relationship"], {"nps": 9}, contact=contact)
    assert db_session.scalar(select(FollowUpTask).where(FollowUpTask.response_id == promoter.id)) is None


def test_store_response_for_a_phone_callback(db_session, org, versions, make_user):
    interviewer = make_user("caller", "collector", region="R1")
    answers = {
        "reached": "reached",
        "resolved": "yes",
        "on_time": "yes",
        "csat": 4,
        "dimensions": {"response_speed": 5, "staff_attitude": 4},
        "comments": "很满意",
    }
    response = store(
        db_session,
        versions["phone_callback"],
        answers,
        contact=org["R1"]["contact"],
        means="callback",
        recorded_by_id=interviewer.id,
        ticket_id=42,
    )
    assert (
        response.means == "callback"
        and response.recorded_by_id == interviewer.id
        and response.ticket_id == 42
    )
    facts = db_session.execute(
        select(
            ExperienceObservation.source,
            ExperienceObservation.kind,
            ExperienceObservation.dimension,
            ExperienceObservation.value,
        )
        .where(ExperienceObservation.source_id == response.id)
        .order_by(ExperienceObservation.id)
    ).all()
    assert facts == [
        ("callback", "csat", None, 4.0),
        ("callback", "likert", "response_speed", 5.0),
        ("callback", "likert", "staff_attitude", 4.0),
    ]
    text = db_session.scalar(
        select(TextEntry).where(TextEntry.source_id == response.id, TextEntry.source == "callback")
    )
    assert text.kind == "callback_comment" and text.text == "很满意"
    # the week of the response (ISO Monday) is the analysis period
    obs = db_session.scalar(
        select(ExperienceObservation).where(ExperienceObservation.source_id == response.id)
    )
    assert obs.period_start.weekday() == 0 and obs.period_start <= obs.observed_on


def test_store_response_rejects_bad_answers_and_stores_nothing(db_session, org, versions):
    with pytest.raises(AnswersInvalid) as err:
        store(db_session, versions["csat_transactional"], {"csat": 9}, contact=org["R1"]["contact"])
    assert {p.field for p in err.value.problems} == {"csat"}
    with pytest.raises(AnswersInvalid):
        store(db_session, versions["csat_transactional"], {}, contact=org["R1"]["contact"])
    assert db_session.scalar(select(Response.id)) is None


def test_update_followup_rejects_unknown_status(db_session, org, versions):
    response = store(
        db_session,
        versions["csat_transactional"],
        {"csat": 1, "low_reasons": ["attitude"]},
        contact=org["R1"]["contact"],
    )
    task = db_session.scalar(select(FollowUpTask).where(FollowUpTask.response_id == response.id))
    with pytest.raises(SurveyError) as err:
        update_followup(db_session, task, status="forgotten", outcome=None, now=response.submitted_at)
    assert err.value.problems[0].field == "status"


def test_followup_panel_renders_for_other_pages(app, db_session, org, versions, make_user):
    from flask import render_template

    store(
        db_session,
        versions["csat_transactional"],
        {"csat": 2, "low_reasons": ["attitude"]},
        contact=org["R1"]["contact"],
    )
    collector = make_user("c1", "collector", region="R1")
    with app.test_request_context("/collection/", headers={"Accept-Language": "en"}):
        html = render_template(
            "surveys/_followups_panel.html", followups=open_followups(db_session, collector)
        )
    assert "Low CSAT" in html and "CSAT 2" in html and "Open" in html


def test_only_followup_workers_change_a_task(login_as, db_session, org, versions):
    response = store(
        db_session,
        versions["csat_transactional"],
        {"csat": 1, "low_reasons": ["attitude"]},
        contact=org["R1"]["contact"],
    )
    task = db_session.scalar(select(FollowUpTask).where(FollowUpTask.response_id == response.id))
    analyst = login_as("analyst")
    page = analyst.get(f"/surveys/followups/{task.id}")
    assert page.status_code == 200 and 'name="outcome"' not in page.get_data(as_text=True)
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    denied = analyst.post(
        f"/surveys/followups/{task.id}", data={"csrf_token": token, "status": "done", "outcome": "x"}
    )
    assert denied.status_code == 403
    db_session.refresh(task)
    assert task.status == "open"
