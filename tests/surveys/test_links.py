"""Personal links: resume, reuse, expiry, closed campaigns, idempotent submission, guessing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, text, update

from perception.core.models.auth import ThrottleCounter
from perception.core.models.base import utcnow
from perception.surveys.models import Invitation, Response, ResponseDraft, SurveyLink
from perception.surveys.services.tokens import hash_token


def _count(db_session, campaign):
    return db_session.scalar(select(func.count(Response.id)).where(Response.campaign_id == campaign.id))


def test_token_stored_only_as_hash(db_session, make_campaign, invite):
    campaign = make_campaign()
    token = invite(campaign)["r1@example.com"]
    link = db_session.scalar(select(SurveyLink))
    assert link.token_hash == hash_token(token)
    for table in ("survey_link", "survey_invitation", "audit_entry"):
        rows = db_session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608 - fixed names
        assert rows and all(token not in str(tuple(row)) for row in rows), table


def test_opening_never_consumes_and_progress_resumes(app, db_session, make_campaign, invite, post_page):
    campaign = make_campaign("nps_relationship")
    token = invite(campaign)["r1@example.com"]
    first = app.test_client()
    for _ in range(3):  # GET is safe: opening three times consumes nothing
        assert first.get(f"/s/t/{token}").status_code == 303
    html = first.get("/s/r", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Page 1 of 2" in html
    moved = post_page(first, "/s/r", {"nps": "9", "reason": "Reliable team"}, html=html)
    assert moved.status_code == 303
    draft = db_session.scalar(select(ResponseDraft))
    assert draft.answers == {"nps": 9, "reason": "Reliable team"} and draft.page_index == 1

    # Another device (no cookie) opens the same link later and lands on page 2 with page 1 kept.
    second = app.test_client()
    assert second.get(f"/s/t/{token}").status_code == 303
    page2 = second.get("/s/r", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Page 2 of 2" in page2 and "Rate each aspect" in page2
    back = post_page(second, "/s/r", {}, action="back", html=page2)
    assert back.status_code == 303
    page1 = second.get("/s/r", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'value="9" checked' in page1 and "Reliable team" in page1
    post_page(second, "/s/r", {"nps": "10", "reason": "Reliable team"}, html=page1)
    page2 = second.get("/s/r").get_data(as_text=True)
    done = post_page(
        second, "/s/r", {"dimensions.response_speed": "5", "dimensions.staff_attitude": "4"}, html=page2
    )
    assert done.status_code == 303 and done.location.split("?")[0].endswith("/s/done")
    response = db_session.scalar(select(Response).where(Response.campaign_id == campaign.id))
    assert response.answers["nps"] == 10
    assert response.answers["dimensions"] == {"response_speed": 5, "staff_attitude": 4}
    assert db_session.scalar(select(func.count(ResponseDraft.id))) == 0


def test_used_expired_and_wrong_tokens_look_the_same(
    app, client, db_session, make_campaign, invite, post_page
):
    campaign = make_campaign()
    tokens = invite(campaign)
    used = tokens["r1@example.com"]
    assert client.get(f"/s/t/{used}").status_code == 303
    post_page(client, "/s/r", {"csat": "4"})
    expired_campaign = make_campaign(region="R2")
    expired = invite(expired_campaign)["r2@example.com"]
    db_session.execute(
        update(SurveyLink)
        .where(SurveyLink.token_hash == hash_token(expired))
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    bodies = set()
    for token in (used, expired, "x" * 43):
        response = app.test_client().get(f"/s/t/{token}", headers={"Accept-Language": "en"})
        assert response.status_code == 404
        bodies.add(re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True)))
    assert len(bodies) == 1 and "This link cannot be used" in bodies.pop()
    assert _count(db_session, campaign) == 1 and _count(db_session, expired_campaign) == 0


def test_closed_campaign_has_a_clear_message(client, db_session, make_campaign, invite):
    campaign = make_campaign()
    token = invite(campaign)["r1@example.com"]
    client.get(f"/s/t/{token}")
    campaign.status = "closed"
    db_session.flush()
    page = client.get("/s/r", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 410 and "调查已结束" in page.get_data(as_text=True)
    assert client.get(f"/s/t/{token}").status_code == 410


def test_double_submit_stores_one_response_and_both_get_thanks(
    client, db_session, make_campaign, invite, post_page
):
    campaign = make_campaign()
    token = invite(campaign)["r1@example.com"]
    client.get(f"/s/t/{token}")
    tab_a = client.get("/s/r").get_data(as_text=True)
    tab_b = client.get("/s/r", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )  # another tab: new nonce
    first = post_page(client, "/s/r", {"csat": "5"}, html=tab_a)
    retry = post_page(client, "/s/r", {"csat": "5"}, html=tab_a)  # same form, same nonce: a retried POST
    assert first.status_code == retry.status_code == 303
    assert first.location == retry.location and retry.location.split("?")[0].endswith("/s/done")
    other = post_page(client, "/s/r", {"csat": "3"}, html=tab_b)
    assert other.status_code == 200 and "We already have your answers" in other.get_data(as_text=True)
    assert _count(db_session, campaign) == 1
    assert db_session.scalar(select(Response.answers).where(Response.campaign_id == campaign.id)) == {
        "csat": 5
    }


def test_guessing_is_rate_limited_per_address(app, db_session, make_campaign, invite, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_TOKEN_MAX_FAILURES", 3)
    campaign = make_campaign()
    token = invite(campaign)["r1@example.com"]
    guesser = app.test_client()
    for i in range(3):
        assert guesser.get(f"/s/t/guess{i:040d}", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 404
    blocked = guesser.get(f"/s/t/guess{9:040d}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert blocked.status_code == 429
    # The limit is kept in the database (shared by every node), per address.
    counter = db_session.get(ThrottleCounter, "survey-guess:10.0.0.9")
    assert counter is not None and counter.hits == 4
    # A real link still opens, from the guessing address too (issue 18), and is not consumed.
    assert guesser.get(f"/s/t/{token}", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 303
    other = app.test_client().get(f"/s/t/{token}", environ_base={"REMOTE_ADDR": "10.0.0.10"})
    assert other.status_code == 303
    assert db_session.scalar(select(Invitation.used_at)) is None


def test_expired_form_is_explained_and_stores_nothing(client, db_session, make_campaign, invite):
    campaign = make_campaign()
    token = invite(campaign)["r1@example.com"]
    client.get(f"/s/t/{token}")
    stale = client.post(
        "/s/r",
        data={"csrf_token": "stale", "submission_nonce": "n" * 22, "page": "0", "csat": "5"},
        headers={"Accept-Language": "en"},
    )
    assert stale.status_code == 400
    body = stale.get_data(as_text=True)
    assert "Please try again" in body and 'href="/s/r"' in body
    assert _count(db_session, campaign) == 0
