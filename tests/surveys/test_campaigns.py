"""Campaigns for staff: pages, permissions, region scoping, invitations, reminders, frequency cap,
unsubscribe, response rates and the ticket trigger."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import func, select

from perception.core.models.base import utcnow
from perception.core.models.org import Contact
from perception.kpi.models import Ticket
from perception.setup.models.catalog import Service, ServiceTier, Subscription
from perception.surveys.jobs import send_campaign_invitations, send_campaign_reminders
from perception.surveys.models import Campaign, Invitation
from perception.surveys.services.rates import campaign_rates
from perception.surveys.services.tickets import sampled

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _form(client, path, data):
    html = client.get(path).get_data(as_text=True)
    return client.post(
        path, data={"csrf_token": CSRF.search(html).group(1), **data}, headers={"Accept-Language": "en"}
    )


def test_analyst_creates_campaign_and_bad_input_stores_nothing(login_as, db_session, versions, org):
    analyst = login_as("analyst", region="R1")
    assert analyst.get("/surveys/").status_code == 200
    base = {
        "code": "NPS-2026",
        "name_zh": "年度关系调查",
        "name_en": "Annual relationship survey",
        "version_id": str(versions["nps_relationship"].id),
        "kind": "relationship",
        "channel": "personal",
        "region_id": "",
        "customer_id": "",
        "service_id": "",
        "tier_id": "",
        "opens_at": "2026-12-01T09:00",
        "closes_at": "2026-11-30T09:00",
        "reminder_after_days": "3",
        "max_reminders": "1",
        "sampling_rate": "1",
        "csat_threshold": "2",
        "nps_threshold": "6",
    }
    bad = _form(analyst, "/surveys/campaigns/new", base)
    assert bad.status_code == 422 and "The campaign must close after it opens." in bad.get_data(as_text=True)
    assert db_session.scalar(select(func.count(Campaign.id))) == 0
    good = _form(analyst, "/surveys/campaigns/new", {**base, "closes_at": "2026-12-31T18:00"})
    assert good.status_code == 302
    campaign = db_session.scalar(select(Campaign))
    # entered in the organisation's time zone (the default, UTC+8), stored as UTC
    assert campaign.opens_at.isoformat() == "2026-12-01T01:00:00" and campaign.status == "draft"


def test_collector_cannot_manage_and_sees_only_own_region(login_as, make_campaign):
    r2_campaign = make_campaign(region="R2")
    national = make_campaign(region=None)
    collector = login_as("collector", region="R1")
    assert collector.get("/surveys/campaigns/new").status_code == 403
    assert collector.get(f"/surveys/campaigns/{r2_campaign.id}").status_code == 404
    assert collector.get(f"/surveys/campaigns/{national.id}").status_code == 200
    listing = collector.get("/surveys/").get_data(as_text=True)
    assert r2_campaign.code not in listing and national.code in listing


def test_opening_sends_invitations_with_cap_and_unsubscribe(
    login_as, db_session, org, make_campaign, mailbox, client
):
    owner = login_as("system_owner")
    extra = Contact(
        customer_id=org["R1"]["customer"].id,
        region_id=org["R1"]["region"].id,
        name="王伟",
        email="wang@example.com",
        language="zh_CN",
    )
    no_mail = Contact(customer_id=org["R1"]["customer"].id, region_id=org["R1"]["region"].id, name="No mail")
    db_session.add_all([extra, no_mail])
    db_session.flush()
    first = make_campaign(region="R1", open_=False)
    page = owner.get(f"/surveys/campaigns/{first.id}").get_data(as_text=True)
    opened = owner.post(
        f"/surveys/campaigns/{first.id}/open", data={"csrf_token": CSRF.search(page).group(1)}
    )
    assert opened.status_code == 302
    messages = mailbox.new()
    assert sorted(m["To"] for m in messages) == ["r1@example.com", "wang@example.com"]
    chinese = next(m for m in messages if m["To"] == "wang@example.com")
    body = chinese.get_content()
    assert "尊敬的王伟" in body and "/s/t/" in body and "/s/unsubscribe/" in body
    # A second campaign the same month: the frequency cap keeps both contacts out.
    second = make_campaign(region="R1")
    assert send_campaign_invitations(db_session, campaign_id=second.id) == 0
    # After the cap (30 days) the contact is invited again, unless they unsubscribed.
    link = re.search(r"(/s/unsubscribe/\S+)", body).group(1)
    confirm = client.get(link).get_data(as_text=True)
    assert client.post(link, data={"csrf_token": CSRF.search(confirm).group(1)}).status_code == 200
    later = utcnow() + timedelta(days=31)
    second.closes_at = later + timedelta(days=5)
    assert send_campaign_invitations(db_session, campaign_id=second.id, now=later) == 1
    assert [m["To"] for m in mailbox.new()] == ["r1@example.com"]


def test_reminders_only_to_non_respondents_after_n_days(
    db_session, org, make_campaign, invite, mailbox, client, post_page
):
    extra = Contact(
        customer_id=org["R1"]["customer"].id,
        region_id=org["R1"]["region"].id,
        name="Li",
        email="li@example.com",
    )
    db_session.add(extra)
    db_session.flush()
    campaign = make_campaign(region="R1", reminder_after_days=3, max_reminders=1)
    tokens = invite(campaign)
    client.get(f"/s/t/{tokens['r1@example.com']}")
    post_page(client, "/s/r", {"csat": "5"})
    assert send_campaign_reminders(db_session, now=utcnow() + timedelta(days=2)) == 0
    assert send_campaign_reminders(db_session, now=utcnow() + timedelta(days=3, hours=1)) == 1
    reminder = mailbox.new()
    assert [m["To"] for m in reminder] == ["li@example.com"] and "提醒" in reminder[0]["Subject"]
    assert send_campaign_reminders(db_session, now=utcnow() + timedelta(days=7)) == 0  # max one reminder
    # the new link works, and so does the first one
    new_token = re.search(r"/s/t/(\S+)", reminder[0].get_content()).group(1)
    assert client.get(f"/s/t/{new_token}").status_code == 303
    assert client.get(f"/s/t/{tokens['li@example.com']}").status_code == 303


def test_response_rates_by_region_and_tier(
    db_session, org, make_campaign, invite, client, post_page, login_as
):
    tier = ServiceTier(code="GOLD", name_zh="金牌", name_en="Gold", rank=1)
    service = Service(code="DESK", name_zh="桌面运维", name_en="Desktop support")
    db_session.add_all([tier, service])
    db_session.flush()
    for code in ("R1", "R2"):
        db_session.add(
            Subscription(
                customer_id=org[code]["customer"].id,
                service_id=service.id,
                tier_id=tier.id,
                region_id=org[code]["region"].id,
            )
        )
    db_session.flush()
    campaign = make_campaign(region=None)
    tokens = invite(campaign)
    client.get(f"/s/t/{tokens['r1@example.com']}")
    post_page(client, "/s/r", {"csat": "4"})
    by_region = {
        r.label_en: (r.invited, r.responded, r.rate)
        for r in campaign_rates(db_session, campaign, "region", None)
    }
    assert by_region == {"Beijing": (1, 1, 1.0), "Shanghai": (1, 0, 0.0)}
    by_tier = [
        (r.label_en, r.invited, r.responded) for r in campaign_rates(db_session, campaign, "tier", None)
    ]
    assert by_tier == [("Gold", 2, 1)]
    r2 = login_as("collector", region="R2")
    scoped = [(r.label_en, r.invited) for r in campaign_rates(db_session, campaign, "region", r2.user)]
    assert scoped == [("Shanghai", 1)]
    page = login_as("analyst").get(f"/surveys/campaigns/{campaign.id}", headers={"Accept-Language": "en"})
    assert "50.0%" in page.get_data(as_text=True)


def test_sampling_is_a_uniform_hash_draw():
    rate = 0.3
    kept = [t for t in range(1, 5001) if sampled(7, t, rate)]
    # reference: the same draw computed here with hashlib
    expected = [
        t
        for t in range(1, 5001)
        if int(hashlib.sha256(f"7:{t}".encode()).hexdigest()[:16], 16) < rate * 2**64
    ]
    assert kept == expected
    assert abs(len(kept) / 5000 - rate) < 0.03  # binomial sd ~ 0.0065
    assert all(sampled(7, t, 1.0) for t in range(1, 50))


def test_closed_tickets_trigger_sampled_invitations(db_session, org, make_campaign, mailbox):
    service = Service(code="NET", name_zh="网络运维", name_en="Network")
    db_session.add(service)
    db_session.flush()
    campaign = make_campaign(kind="transactional", region="R1", sampling_rate=1.0)
    campaign.opens_at = utcnow() - timedelta(days=2)
    now = utcnow()
    region, customer = org["R1"]["region"].id, org["R1"]["customer"].id

    def ticket(external_id: str, contact: str, closed_ago: timedelta | None) -> Ticket:
        """A P3 ticket of R1's customer opened a day ago; closed ``closed_ago`` back, or still open."""
        return Ticket(
            external_id=external_id,
            service_id=service.id,
            region_id=region,
            customer_id=customer,
            priority="P3",
            contact=contact,
            opened_at=now - timedelta(days=1),
            closed_at=now - closed_ago if closed_ago is not None else None,
            status="closed" if closed_ago is not None else "open",
        )

    tickets = [
        ticket("T-1", "R1@example.com", timedelta(hours=2)),
        ticket("T-2", "nobody@example.com", timedelta(hours=1)),
        ticket("T-3", "R1@example.com", None),
    ]
    db_session.add_all(tickets)
    db_session.flush()
    assert send_campaign_invitations(db_session, campaign_id=campaign.id, now=now) == 1
    invitation = db_session.scalar(select(Invitation))
    assert invitation.ticket_id == tickets[0].id and invitation.service_id == service.id
    assert [m["To"] for m in mailbox.new()] == ["r1@example.com"]
    # the scan moved on: the same tickets are not invited twice
    assert send_campaign_invitations(db_session, campaign_id=campaign.id, now=now + timedelta(hours=1)) == 0


def test_questionnaire_pages_publish_and_show_problems(login_as, db_session, versions):
    analyst = login_as("analyst")
    page = analyst.get("/surveys/definitions", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "csat_transactional" in page
    bad = _form(analyst, "/surveys/definitions", {"code": "pulse", "definition": "id: pulse\npages: []\n"})
    assert bad.status_code == 422 and "definition" in bad.get_data(as_text=True)
    good_yaml = (
        "schema_version: 1\nid: pulse\nversion: '1'\ntitle: {zh: 脉搏, en: Pulse}\n"
        "pages:\n  - id: p\n    questions:\n      - {id: csat, type: csat, text: {zh: 满意吗, en: Happy?}}\n"
    )
    good = _form(analyst, "/surveys/definitions", {"code": "pulse", "definition": good_yaml})
    assert good.status_code == 302 and "/surveys/versions/" in good.location
    shown = analyst.get(good.location).get_data(as_text=True)
    assert "Happy?" in shown
    collector = login_as("collector")
    assert _form(collector, "/surveys/definitions", {"code": "x", "definition": good_yaml}).status_code == 403


def test_anonymous_campaign_page_shows_its_public_link(login_as, make_campaign):
    campaign = make_campaign(channel="anonymous")
    page = login_as("analyst").get(f"/surveys/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"/s/a/{campaign.public_slug}" in page
