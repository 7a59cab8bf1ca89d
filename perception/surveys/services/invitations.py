"""Invitations and reminders by email, sent by background jobs.

- ``send_campaign_invitations`` (daily, and right after a campaign opens): every open personal
  campaign invites the audience contacts it has not invited yet; transactional campaigns invite
  the contacts of newly closed tickets (surveys_tickets).
- ``send_campaign_reminders`` (daily): a new link to contacts who have not answered N days after
  the last email, up to the campaign's reminder count; the earlier link keeps working.

No contact is invited more than once in SURVEY_CONTACT_CAP_DAYS across all campaigns; contacts
who unsubscribed or have no email address are skipped. Every email carries a signed unsubscribe
link. Emails are written in the contact's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.jobs import job
from perception.core.mail import send_email
from perception.core.models.base import utcnow
from perception.core.models.org import Contact
from perception.surveys.models import Campaign, CampaignKind, CampaignStatus, Channel, Invitation
from perception.surveys.services.campaigns import audience, subscription_of
from perception.surveys.services.settings import settings
from perception.surveys.services.tokens import issue_link, purge_failures, unsubscribe_token


def _moment(now: str | datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if isinstance(now, datetime):
        return now.replace(tzinfo=None)
    return datetime.fromisoformat(now).replace(tzinfo=None)


def recently_invited(contact_id: Any, since: datetime) -> Any:
    """SQL: the contact was sent an invitation (any campaign) since ``since``."""
    return exists().where(Invitation.contact_id == contact_id, Invitation.sent_at >= since)


def _email(contact: Contact, campaign: Campaign, token: str, expires_at: datetime, reminder: bool) -> None:
    cfg = settings()
    lang = "zh_CN" if (contact.language or "zh_CN").startswith("zh") else "en"
    link = f"{cfg.public_base_url}/s/t/{token}"
    signed = unsubscribe_token(str(current_app.secret_key or ""), contact.id)
    unsubscribe = f"{cfg.public_base_url}/s/unsubscribe/{signed}"
    with force_locale(lang):
        name = campaign.name_zh if lang == "zh_CN" else campaign.name_en
        subject = render_template("surveys/email/subject.txt", name=name, reminder=reminder).strip()
        text = render_template(
            "surveys/email/invitation.txt",
            contact=contact, name=name, link=link, unsubscribe=unsubscribe,
            expires_on=expires_at.date().isoformat(), reminder=reminder,
        )  # fmt: skip
    assert contact.email
    send_email(contact.email, subject, text)


@dataclass(frozen=True)
class Target:
    """A contact to invite; a ticket-triggered one carries the ticket's service, tier and region."""

    contact: Contact
    ticket_id: int | None = None
    service_id: int | None = None
    tier_id: int | None = None
    region_id: int | None = None


def invite_contacts(session: Session, campaign: Campaign, targets: Iterable[Target], now: datetime) -> int:
    """Invite each target that passes the frequency cap; returns how many were sent."""
    cfg = settings()
    since = now - timedelta(days=cfg.contact_cap_days)
    expires_at = min(campaign.closes_at, now + timedelta(days=cfg.link_days))
    sent = 0
    for target in targets:
        contact = target.contact
        if contact.unsubscribed_at is not None or not contact.email:
            continue
        if session.scalar(select(recently_invited(contact.id, since))):
            continue
        if target.ticket_id is None:
            service_id, tier_id = subscription_of(session, contact.customer_id, campaign.service_id)
        else:
            service_id, tier_id = target.service_id, target.tier_id
        invitation = Invitation(
            campaign_id=campaign.id, contact_id=contact.id, region_id=target.region_id or contact.region_id,
            customer_id=contact.customer_id, service_id=service_id, tier_id=campaign.tier_id or tier_id,
            ticket_id=target.ticket_id, created_at=now, sent_at=now, expires_at=expires_at,
        )  # fmt: skip
        session.add(invitation)
        session.flush()
        _email(contact, campaign, issue_link(session, invitation, now), expires_at, reminder=False)
        sent += 1
    return sent


def invite_audience(session: Session, campaign: Campaign, now: datetime) -> int:
    already = exists().where(Invitation.campaign_id == campaign.id, Invitation.contact_id == Contact.id)
    stmt = audience(campaign).where(~already, Contact.unsubscribed_at.is_(None), Contact.email.is_not(None))
    return invite_contacts(session, campaign, (Target(c) for c in session.scalars(stmt)), now)


def open_personal_campaigns(session: Session, now: datetime, campaign_id: int | None) -> list[Campaign]:
    stmt = select(Campaign).where(
        Campaign.status == CampaignStatus.OPEN,
        Campaign.channel == Channel.PERSONAL,
        Campaign.opens_at <= now,
        Campaign.closes_at > now,
    )
    if campaign_id is not None:
        stmt = stmt.where(Campaign.id == int(campaign_id))
    return list(session.scalars(stmt.order_by(Campaign.id)))


@job("send_campaign_invitations")
def send_campaign_invitations(
    session: Session, campaign_id: int | None = None, now: str | datetime | None = None, **_: Any
) -> int:
    """Invite what is due for every open personal campaign (or one); returns the emails sent."""
    from perception.surveys.services.tickets import invite_closed_tickets

    moment = _moment(now)
    total = 0
    for campaign in open_personal_campaigns(session, moment, campaign_id):
        if campaign.kind == CampaignKind.TRANSACTIONAL:
            count = invite_closed_tickets(session, campaign, moment)
        else:
            count = invite_audience(session, campaign, moment)
        if count:
            record(
                session, "survey_invitations", object_type="Campaign", object_id=campaign.id,
                region_id=campaign.region_id, summary=f"{count} invitations sent",
            )  # fmt: skip
        total += count
    return total


@job("send_campaign_reminders")
def send_campaign_reminders(session: Session, now: str | datetime | None = None, **_: Any) -> int:
    """Remind non-respondents of open campaigns after the campaign's reminder delay."""
    moment = _moment(now)
    sent = 0
    for campaign in open_personal_campaigns(session, moment, None):
        if campaign.max_reminders <= 0:
            continue
        due = moment - timedelta(days=campaign.reminder_after_days)
        rows = session.execute(
            select(Invitation, Contact)
            .join(Contact, Contact.id == Invitation.contact_id)
            .where(
                Invitation.campaign_id == campaign.id,
                Invitation.used_at.is_(None),
                Invitation.expires_at > moment,
                Invitation.sent_at <= due,
                Invitation.reminders_sent < campaign.max_reminders,
                (Invitation.last_reminded_at.is_(None)) | (Invitation.last_reminded_at <= due),
                Contact.unsubscribed_at.is_(None),
                Contact.email.is_not(None),
            )
            .order_by(Invitation.id)
        ).all()
        for invitation, contact in rows:
            invitation.reminders_sent += 1
            invitation.last_reminded_at = moment
            _email(
                contact,
                campaign,
                issue_link(session, invitation, moment),
                invitation.expires_at,
                reminder=True,
            )
            sent += 1
        if rows:
            record(
                session, "survey_reminders", object_type="Campaign", object_id=campaign.id,
                region_id=campaign.region_id, summary=f"{len(rows)} reminders sent",
            )  # fmt: skip
    purge_failures(session, moment - timedelta(days=1))
    session.flush()
    return sent


def unsubscribe(session: Session, contact: Contact, now: datetime) -> bool:
    """Stop surveying a contact; False when they had already unsubscribed."""
    if contact.unsubscribed_at is not None:
        return False
    contact.unsubscribed_at = now
    session.flush()
    return True
