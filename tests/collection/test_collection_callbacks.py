"""Phone callbacks: a reproducible queue from closed tickets, attempts, the script's answers stored
as a callback response, and the rule that the handling engineer may not call back."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from perception.collection.services import callbacks as collection_callbacks
from perception.collection.services.errors import CollectionError
from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.facts import ExperienceObservation
from perception.surveys.models import Response
from perception.surveys.services.settings import SurveySettings
from tests.conftest import post_form

ANSWERS = {"resolved": "yes", "on_time": "no", "csat": "4"}


def _attempt(*args, **kw):
    """``record_attempt`` with the default time zone and survey settings, as the tests' app has them."""
    return collection_callbacks.record_attempt(
        *args, org_timezone=DEFAULT_TIMEZONE, survey_settings=SurveySettings(), **kw
    )


@pytest.fixture
def script(db_session):
    from perception.surveys.services.definitions import ensure_builtin_surveys

    return ensure_builtin_surveys(db_session)["phone_callback"]


@pytest.fixture
def queue(db_session, cat, make_ticket, script, make_user):
    make_ticket(closed_at=datetime(2026, 3, 3, 12, 0))  # the region's contact, matched by e-mail
    for i in range(1, 6):
        make_ticket(closed_at=datetime(2026, 3, 3 + i, 12, 0), contact=f"联系人{i}")
    make_ticket(closed_at=datetime(2026, 4, 1, 12, 0))  # outside the period
    make_ticket(region="R2", closed_at=datetime(2026, 3, 3, 12, 0))  # another region
    make_ticket(status="in_progress", closed_at=None, resolved_at=None)  # not closed
    return collection_callbacks.create_campaign(
        db_session,
        region_id=cat["R1"]["region"].id,
        name="三月回访",
        survey_version_id=script.id,
        user=make_user("org1", "organiser"),
        start=date(2026, 3, 1),
        end=date(2026, 4, 1),
        sampling_rate=1.0,
        seed="s1",
    )


def test_queue_holds_the_regions_closed_tickets_of_the_period(queue, cat):
    assert len(queue.tasks) == 6
    task = queue.tasks[0]
    assert task.engineer == "李工" and task.contact_id == cat["R1"]["contact"].id  # matched by email


def test_sampling_rate_draw_is_reproducible_and_matches_the_documented_rule(
    db_session, cat, make_ticket, script
):
    tickets = [make_ticket(closed_at=datetime(2026, 3, 3, 12, 0), contact=f"c{i}") for i in range(40)]

    def campaign(seed):
        c = collection_callbacks.create_campaign(
            db_session,
            region_id=cat["R1"]["region"].id,
            name=seed,
            survey_version_id=script.id,
            user=None,
            start=date(2026, 3, 1),
            end=date(2026, 4, 1),
            sampling_rate=0.3,
            seed=seed,
        )
        return {t.ticket_id for t in c.tasks}

    expected = {
        t.id
        for t in tickets
        if int(hashlib.sha256(f"abc:{t.id}".encode()).hexdigest()[:16], 16) / 2**64 < 0.3
    }
    assert campaign("abc") == expected == campaign("abc")
    assert 0 < len(expected) < 40
    assert campaign("xyz") != expected


def test_a_person_is_called_once_about_their_latest_ticket(db_session, cat, make_ticket, script):
    """Issue 17: the demo's callback queues held one contact up to 6 times."""
    same = [make_ticket(closed_at=datetime(2026, 3, d, 12, 0)) for d in (3, 9, 5)]  # one contact, by e-mail
    named = [make_ticket(closed_at=datetime(2026, 3, d, 12, 0), contact=" 王经理 ") for d in (4, 6)]
    other = make_ticket(closed_at=datetime(2026, 3, 7, 12, 0), contact="张主任")
    queue = collection_callbacks.create_campaign(
        db_session, region_id=cat["R1"]["region"].id, name="once", survey_version_id=script.id, user=None,
        start=date(2026, 3, 1), end=date(2026, 4, 1), sampling_rate=1.0, seed="once",
    )  # fmt: skip
    assert sorted(t.ticket_id for t in queue.tasks) == sorted([same[1].id, named[1].id, other.id])


def test_attempts_then_completion_store_a_callback_response(db_session, queue, make_user):
    interviewer = make_user("caller", "collector", region="R1")
    task = queue.tasks[0]
    _attempt(db_session, task, interviewer, "no_answer")
    assert (task.status, task.attempts) == ("no_answer", 1)
    _attempt(db_session, task, interviewer, "completed", answers=ANSWERS, note="客户满意")
    assert (task.status, task.attempts) == ("completed", 2) and task.response_id is not None
    response = db_session.get(Response, task.response_id)
    assert response.means == "callback" and response.recorded_by_id == interviewer.id
    assert response.ticket_id == task.ticket_id and response.answers["reached"] == "reached"
    scored = db_session.scalars(
        select(ExperienceObservation).where(
            ExperienceObservation.source_id == response.id, ExperienceObservation.source == "callback"
        )
    )
    assert any(o.kind == "csat" and o.value == 4 for o in scored)
    with pytest.raises(CollectionError):
        _attempt(db_session, task, interviewer, "no_answer")


def test_invalid_answers_store_nothing(db_session, queue, make_user):
    interviewer = make_user("caller", "collector", region="R1")
    task = queue.tasks[0]
    with pytest.raises(CollectionError) as exc:
        _attempt(db_session, task, interviewer, "completed", answers={"csat": "9"})
    assert {p.field for p in exc.value.problems} >= {"csat"}
    assert task.status == "pending" and task.attempts == 0
    assert db_session.scalar(select(func.count()).select_from(Response)) == 0


def test_the_handling_engineer_may_not_call_back(db_session, queue, make_user):
    engineer = make_user("li", "collector", region="R1")
    engineer.display_name = " 李工 "  # the ticket names the engineer as text
    task = queue.tasks[0]
    with pytest.raises(CollectionError) as exc:
        _attempt(db_session, task, engineer, "completed", answers=ANSWERS)
    assert exc.value.problems[0].field == "interviewer"
    assert task.attempts == 0


def test_callback_over_http(app, login_as, db_session, queue):
    c = login_as("collector")
    task = queue.tasks[1]
    url = f"/collection/callbacks/tasks/{task.id}"
    page = c.get(url).get_data(as_text=True)
    assert 'name="csat"' in page and 'name="outcome"' in page
    response = post_form(c, url, {"outcome": "completed", **ANSWERS}, token_from=url)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db_session.expire_all()
    assert task.status == "completed"
    assert "三月回访" in c.get(f"/collection/callbacks/{queue.id}").get_data(as_text=True)
    other_region = login_as("collector", username="c_r2", region="R2")
    assert other_region.get(url).status_code == 404


def test_engineer_is_refused_over_the_api(client, db_session, queue, make_user):
    from perception.core.users import issue_token

    engineer = make_user("li", "collector", region="R1")
    engineer.display_name = "李工"
    _, secret = issue_token(db_session, engineer, "t")
    response = client.post(
        f"/api/v1/collection/callbacks/tasks/{queue.tasks[0].id}/attempts",
        json={"outcome": "completed", "answers": ANSWERS},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    (error,) = response.get_json()["errors"]
    assert (error["field"], error["code"]) == ("interviewer", "handling_engineer")
    assert error["detail_zh"] == "处理该工单的工程师不能对其进行回访。"


def test_progress_planned_vs_done(db_session, queue, make_user):
    interviewer = make_user("caller", "collector", region="R1")
    _attempt(db_session, queue.tasks[0], interviewer, "completed", answers=ANSWERS)
    _attempt(db_session, queue.tasks[1], interviewer, "refused")
    _attempt(db_session, queue.tasks[2], interviewer, "wrong_number")
    rows = collection_callbacks.callback_progress(db_session, date(2026, 3, 1), date(2026, 4, 1))
    mine, total = rows
    assert (mine.planned, mine.attempted, mine.completed, mine.refused, mine.unreachable) == (6, 3, 1, 1, 1)
    assert mine.completion_rate == 1 / 6 and total.region_id is None and total.planned == 6


def test_low_callback_score_becomes_a_follow_up_on_the_regions_collection_page(
    login_as, db_session, queue, make_user
):
    from perception.surveys.models import FollowUpTask

    interviewer = make_user("caller", "collector", region="R1")
    task = queue.tasks[0]
    _attempt(db_session, task, interviewer, "completed", answers=ANSWERS | {"csat": "1"})
    followup = db_session.scalar(select(FollowUpTask).where(FollowUpTask.response_id == task.response_id))
    assert followup is not None
    page = login_as("collector").get("/collection/").get_data(as_text=True)
    assert "Open follow-up tasks" in page and f"#{followup.id}" in page
    assert f"#{followup.id}" not in login_as("collector", username="c_r2", region="R2").get(
        "/collection/"
    ).get_data(as_text=True)
