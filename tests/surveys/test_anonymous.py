"""The anonymous link stores nothing that ties a response to a person; bots are turned away
without blocking people who share an office address."""

from __future__ import annotations

from sqlalchemy import func, select, text

from perception.core.models.audit import AuditEntry
from perception.core.models.facts import ExperienceObservation
from perception.surveys.models import FollowUpTask, Response

AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Probe-UA-7f3a"
ADDRESS = "203.0.113.77"


def _all_rows(db_session, table):
    return [str(tuple(row)) for row in db_session.execute(text(f"SELECT * FROM {table}"))]  # noqa: S608 - fixed names


def test_anonymous_response_is_unlinkable(app, db_session, make_campaign, post_page):
    campaign = make_campaign(channel="anonymous", csat_threshold=2)
    assert campaign.public_slug
    c = app.test_client()
    env = {"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": AGENT}
    html = c.get(f"/s/a/{campaign.public_slug}", environ_base=env).get_data(as_text=True)
    nonce_page = html
    done = post_page(
        c,
        f"/s/a/{campaign.public_slug}",
        {"csat": "1", "low_reasons": "slow_response", "improve": "Too slow"},
        html=nonce_page,
    )
    assert done.status_code == 303 and done.location.split("?")[0].endswith("/s/done")
    response = db_session.scalar(select(Response).where(Response.campaign_id == campaign.id))
    assert response.contact_id is None and response.invitation_id is None and response.recorded_by_id is None
    assert response.submitted_at.time().isoformat() == "00:00:00"  # the day only
    assert response.region_id == campaign.region_id
    # Nothing anywhere holds the address or the user agent ...
    for table in (
        "survey_response",
        "audit_entry",
        "survey_followup",
        "experience_observation",
        "text_entry",
    ):
        for row in _all_rows(db_session, table):
            assert ADDRESS not in row and "Probe-UA-7f3a" not in row, table
    # ... and the audit log names the campaign, never the response id.
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "survey_response")).all()
    assert [(a.object_type, a.object_id, a.address, a.actor_name) for a in audit] == [
        ("Campaign", str(campaign.id), None, "anonymous")
    ]
    # Facts and the follow-up task still reach analysis and the region.
    assert (
        db_session.scalar(
            select(ExperienceObservation.value).where(ExperienceObservation.source_id == response.id)
        )
        == 1
    )
    task = db_session.scalar(select(FollowUpTask).where(FollowUpTask.response_id == response.id))
    assert task.contact_id is None and task.region_id == campaign.region_id


def test_anonymous_double_submit_is_one_response(app, db_session, make_campaign, post_page):
    campaign = make_campaign(channel="anonymous")
    c = app.test_client()
    path = f"/s/a/{campaign.public_slug}"
    html = c.get(path).get_data(as_text=True)
    # the session forgets the form after the first submit; a retry posts the same page again
    first = post_page(c, path, {"csat": "4"}, html=html)
    assert first.status_code == 303
    retry = post_page(c, path, {"csat": "4"}, html=html)
    assert retry.status_code == 303 and retry.location.split("?")[0].endswith("/s/done")
    assert db_session.scalar(select(func.count(Response.id)).where(Response.campaign_id == campaign.id)) == 1
    # a new visit is a new respondent: a second response
    html2 = c.get(path).get_data(as_text=True)
    post_page(c, path, {"csat": "5"}, html=html2)
    assert db_session.scalar(select(func.count(Response.id)).where(Response.campaign_id == campaign.id)) == 2


def test_anonymous_campaign_needs_a_region(db_session, versions):
    import pytest

    from perception.core.models.base import utcnow
    from perception.surveys.services.campaigns import create_campaign
    from perception.surveys.services.errors import SurveyError

    with pytest.raises(SurveyError) as err:
        create_campaign(
            db_session,
            {
                "code": "anon-x",
                "name_zh": "匿名",
                "name_en": "Anon",
                "version_id": versions["csat_transactional"].id,
                "channel": "anonymous",
                "opens_at": utcnow(),
                "closes_at": utcnow().replace(year=2100),
            },
            None,
        )
    assert [p.field for p in err.value.problems] == ["region_id"]


def test_honeypot_stores_nothing_but_looks_fine(app, db_session, make_campaign, post_page):
    campaign = make_campaign(channel="anonymous")
    c = app.test_client()
    path = f"/s/a/{campaign.public_slug}"
    bot = post_page(c, path, {"csat": "5", "fax_number": "+1 555 0100"})
    assert bot.status_code == 303 and bot.location.split("?")[0].endswith("/s/done")
    assert db_session.scalar(select(func.count(Response.id))) == 0


def test_too_fast_is_asked_to_check_not_blocked(
    app, db_session, make_campaign, invite, post_page, monkeypatch
):
    monkeypatch.setitem(app.config, "SURVEY_MIN_FILL_SECONDS", 3600)
    campaign = make_campaign(channel="anonymous")
    path = f"/s/a/{campaign.public_slug}"
    # Two people behind one office address: both are only asked to check, nobody is blocked.
    for person in (app.test_client(), app.test_client()):
        env = {"REMOTE_ADDR": "198.51.100.1"}
        html = person.get(path, environ_base=env, headers={"Accept-Language": "en"}).get_data(as_text=True)
        again = post_page(person, path, {"csat": "4"}, html=html)
        body = again.get_data(as_text=True)
        assert again.status_code == 200 and "check your answers" in body
        assert 'value="4" checked' in body  # the answer is kept
    assert db_session.scalar(select(func.count(Response.id))) == 0
    monkeypatch.setitem(app.config, "SURVEY_MIN_FILL_SECONDS", 0)
    assert post_page(person, path, {"csat": "4"}).status_code == 303
    assert db_session.scalar(select(func.count(Response.id))) == 1


def test_closed_anonymous_link_says_so(client, db_session, make_campaign):
    campaign = make_campaign(channel="anonymous")
    campaign.status = "closed"
    db_session.flush()
    page = client.get(f"/s/a/{campaign.public_slug}", headers={"Accept-Language": "en"})
    assert page.status_code == 410 and "This survey has closed" in page.get_data(as_text=True)
    assert client.get("/s/a/not-a-slug").status_code == 404
