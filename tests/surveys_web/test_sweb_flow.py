"""The respondent's journey over HTTP: invitation -> open -> answer -> thank-you."""

from __future__ import annotations

from sqlalchemy import func, select

from perception.models.facts import ExperienceObservation, TextEntry
from perception.models.surveys import Invitation, Response


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
