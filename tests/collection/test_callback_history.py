"""Importing past phone callbacks with their outcomes (issue 16): completed calls become callback
responses on the day of the call, in the same facts as calls recorded live."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.collection.models.fieldwork import CallbackAttempt, CallbackTask
from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.facts import ExperienceObservation
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions
from perception.surveys.models import FollowUpTask, Response

HEADER = "source_id,called_at,outcome,customer,service,ticket,contact_name,phone,note,resolved,on_time,csat\n"


def run(session: Any, campaign: Any, text: str) -> Any:
    from perception.collection.services.callback_history import import_callbacks

    return import_callbacks(
        session, campaign, ImportOptions(dry_run=False), org_timezone=DEFAULT_TIMEZONE, data=text.encode()
    )


def test_completed_and_unreached_calls_are_stored_with_their_dates(
    db_session: Any, campaign: Any, make_ticket: Any
) -> None:
    ticket = make_ticket()
    text = HEADER + (
        f"C1,2026-03-05 10:00,completed,R1-C,DESK,{ticket.external_id},王先生,13800000000,,yes,yes,2\n"
        "C2,2026-03-06 11:00,no_answer,R1-C,DESK,,李女士,,busy,,,\n"
    )
    result = run(db_session, campaign, text)
    assert (result.rows_total, result.rows_new) == (2, 2)
    tasks = {
        t.source_ref: t
        for t in db_session.scalars(select(CallbackTask).where(CallbackTask.campaign_id == campaign.id))
    }
    assert tasks["C1"].status == "completed" and tasks["C1"].completed_at == datetime(2026, 3, 5, 2, 0)
    assert tasks["C2"].status == "no_answer" and tasks["C2"].response_id is None
    response = db_session.get(Response, tasks["C1"].response_id)
    assert response.means == "callback" and response.observed_on == date(2026, 3, 5)
    assert response.ticket_id == ticket.id and response.answers["reached"] == "reached"
    csat = db_session.execute(
        select(ExperienceObservation.source, ExperienceObservation.observed_on, ExperienceObservation.value)
        .where(ExperienceObservation.kind == "csat")
    ).all()  # fmt: skip
    assert csat == [("callback", date(2026, 3, 5), 2.0)]
    assert (
        db_session.scalar(select(func.count()).select_from(FollowUpTask)) == 0
    )  # history, not a call to make
    assert db_session.scalar(select(func.count()).select_from(CallbackAttempt)) == 2
    again = run(db_session, campaign, text)
    assert (again.rows_new, again.rows_changed, again.rows_unchanged) == (0, 0, 2)
    fixed = run(db_session, campaign, text.replace("yes,yes,2", "yes,yes,4"))
    assert (fixed.rows_new, fixed.rows_changed) == (0, 1)
    assert db_session.scalars(
        select(ExperienceObservation.value).where(ExperienceObservation.kind == "csat")
    ).all() == [4.0]
    assert db_session.scalar(select(func.count()).select_from(Response)) == 1


def test_bad_outcome_and_answer_outside_the_scale_are_named(db_session: Any, campaign: Any) -> None:
    text = (
        HEADER
        + "C1,2026-03-05 10:00,maybe,R1-C,DESK,,,,,,,\n"
        + "C2,2026-03-05 10:00,completed,R1-C,DESK,,,,,yes,yes,6\n"
    )
    with pytest.raises(KpiImportError) as exc:
        run(db_session, campaign, text)
    found = " | ".join(p.located("en") for p in exc.value.problems)
    assert 'Row 2, column outcome, value "maybe"' in found and 'Row 3, column csat, value "6"' in found
    assert db_session.scalar(select(func.count()).select_from(CallbackTask)) == 0


def test_callbacks_import_through_the_api_and_the_page(
    client: Any, db_session: Any, campaign: Any, make_user: Any
) -> None:
    import io

    from perception.core.users import issue_token
    from tests.conftest import csrf_token, login

    _, secret = issue_token(db_session, make_user("orgb", "organiser"), "t")
    calls = [{"source_id": "A1", "called_at": "2026-03-05 10:00", "outcome": "refused", "customer": "R1-C"}]
    url = f"/api/v1/collection/callbacks/{campaign.id}/import"
    done = client.post(url, json={"calls": calls}, headers={"Authorization": f"Bearer {secret}"})
    assert done.status_code == 201 and done.get_json()["rows_new"] == 1
    login(client, "orgb")
    page = f"/collection/callbacks/{campaign.id}/history"
    assert "Import past callbacks" in client.get(f"/collection/callbacks/{campaign.id}").get_data(
        as_text=True
    )
    upload = (
        io.BytesIO((HEADER + "A2,2026-03-05 10:00,completed,R1-C,DESK,,,,,yes,yes,5\n").encode()),
        "c.csv",
    )
    checked = client.post(page, data={"csrf_token": csrf_token(client, page), "upload": upload},
                          content_type="multipart/form-data")  # fmt: skip
    assert checked.status_code == 302
    applied = client.post(
        checked.headers["Location"] + "/apply", data={"csrf_token": csrf_token(client, page)}
    )
    assert applied.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(CallbackTask)) == 2


def test_a_corrected_call_is_a_write_of_its_weeks(db_session: Any, campaign: Any) -> None:
    """A corrected call's earlier answer is withdrawn and its new one written, each declared for its
    week (data_version.week_write): the pre-aggregates read those weeks again, not every week
    (withdrawn undeclared, a corrected file of callbacks made them all stale)."""
    from perception.kpi.services import data_version

    text = HEADER + "C1,2026-03-05 10:00,completed,R1-C,DESK,,王先生,13800000000,,yes,yes,2\n"
    run(db_session, campaign, text)
    run(
        db_session,
        campaign,
        text.replace("2026-03-05 10:00", "2026-03-18 10:00").replace("yes,yes,2", "yes,yes,4"),
    )
    assert data_version.EXPERIENCE_PAST not in data_version.pending_writes(db_session)
    assert set(data_version.declared_weeks(db_session)) == {date(2026, 3, 2), date(2026, 3, 16)}
    assert db_session.scalars(
        select(ExperienceObservation.observed_on).where(ExperienceObservation.kind == "csat")
    ).all() == [date(2026, 3, 18)]
