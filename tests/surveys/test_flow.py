"""The respondent's journey over HTTP: invitation -> open -> answer -> thank-you."""

from __future__ import annotations

from sqlalchemy import func, select

from perception.core.models.facts import ExperienceObservation, TextEntry
from perception.surveys.models import Invitation, Response


def test_invitation_open_answer_thanks(app, client, db_session, org, make_campaign, invite, post_page):
    campaign = make_campaign("csat_transactional")
    tokens = invite(campaign)
    token = tokens["r1@example.com"]
    assert len(token) >= 22  # >= 128 bits in URL-safe base64

    opened = client.get(f"/s/t/{token}", headers={"Accept-Language": "en"})
    assert opened.status_code == 303 and opened.location.endswith("/s/r")
    assert token not in opened.location
    page = client.get("/s/r", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "How did we do?" in html

    done = post_page(
        client, "/s/r", {"csat": "5", "ces": "6", "improve": "Faster replies, please."}, html=html
    )
    assert done.status_code == 303 and done.location.split("?")[0].endswith("/s/done")
    thanks = client.get(done.location, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Thank you" in thanks and "How did we do?" in thanks

    response = db_session.scalar(select(Response).where(Response.campaign_id == campaign.id))
    assert response.answers == {"csat": 5, "ces": 6, "improve": "Faster replies, please."}
    assert response.contact_id == org["R1"]["contact"].id
    invitation = db_session.get(Invitation, response.invitation_id)
    assert invitation.used_at is not None and invitation.opened_at is not None
    kinds = sorted(
        db_session.scalars(
            select(ExperienceObservation.kind).where(ExperienceObservation.source_id == response.id)
        )
    )
    assert kinds == ["ces", "csat"]
    texts = db_session.scalars(select(TextEntry.text).where(TextEntry.source_id == response.id)).all()
    assert texts == ["Faster replies, please."]
    # the same link again: the neutral page
    again = client.get(f"/s/t/{token}")
    assert again.status_code == 404
    assert db_session.scalar(select(func.count(Response.id)).where(Response.campaign_id == campaign.id)) == 1


def test_answers_keep_the_version_they_answered(
    client, db_session, versions, make_campaign, invite, post_page
):
    import copy

    from perception.surveys.services.definitions import publish

    campaign = make_campaign("csat_transactional")
    first = versions["csat_transactional"]
    changed = copy.deepcopy(first.definition)
    changed["title"] = {"zh": "服务回访（新版）", "en": "How did we do? (new)"}
    second = publish(db_session, "csat_transactional", changed)
    assert second.number == first.number + 1 and second.fingerprint != first.fingerprint
    assert publish(db_session, "csat_transactional", changed).id == second.id  # unchanged: no new version
    token = invite(campaign)["r1@example.com"]
    client.get(f"/s/t/{token}")
    page = client.get("/s/r", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "How did we do?" in page and "(new)" not in page  # the campaign's frozen version
    post_page(client, "/s/r", {"csat": "4"}, html=page)
    stored = db_session.scalar(select(Response).where(Response.campaign_id == campaign.id))
    assert stored.version_id == first.id
    db_session.refresh(first)
    assert first.definition != changed  # the published version itself never changed


def test_language_switch_on_the_survey(client, make_campaign, invite):
    import re

    campaign = make_campaign()
    token = invite(campaign)["r1@example.com"]
    client.get(f"/s/t/{token}")
    page = client.get("/s/r", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "总体而言" in page and 'lang="en"' in page  # offers English
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    switched = client.post("/language", data={"csrf_token": csrf, "lang": "en", "next": "/s/r"})
    assert switched.status_code == 302 and switched.location.endswith("/s/r")
    english = client.get("/s/r", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Overall, how satisfied are you" in english
