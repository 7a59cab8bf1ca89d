"""Invitations and reminders by email.

- ``invite_audience``: a relationship campaign invites the audience contacts it has not invited
  yet (opening the campaign, then the daily job; transactional campaigns invite the contacts of
  newly closed tickets through ``tickets``).
- ``send_reminders``: a new link to contacts who have not answered N days after the last email,
  up to the campaign's reminder count; the earlier link keeps working.

No contact is invited more than once in SURVEY_CONTACT_CAP_DAYS across all campaigns; contacts
who unsubscribed or have no email address are skipped. Every email carries a signed unsubscribe
link and is written in the contact's language; a post-ticket one names the ticket, its service and
the day it closed (``about``). Emails leave once the transaction that made their
links commits (``after_commit``): a link in an email always works, and a rolled-back invitation
sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.mail import send_email
from perception.core.models.org import Contact, CustomerOrg
from perception.core.transaction import after_commit
from perception.setup.models.catalog import Subscription
from perception.surveys.models import Campaign, CampaignStatus, Channel, Invitation
from perception.surveys.services import anonymous_drafts
from perception.surveys.services.about import TicketAbout, ticket_about, ticket_about_by_id
from perception.surveys.services.settings import SurveySettings
from perception.surveys.services.tokens import issue_link, unsubscribe_token


def audience(campaign: Campaign) -> Select[Any]:
    """SELECT of the contacts a campaign addresses (before unsubscribe and frequency checks)."""
    stmt = select(Contact).join(CustomerOrg, CustomerOrg.id == Contact.customer_id)
    if campaign.region_id is not None:
        stmt = stmt.where(Contact.region_id == campaign.region_id)
    if campaign.customer_id is not None:
        stmt = stmt.where(Contact.customer_id == campaign.customer_id)
    if campaign.service_id is not None or campaign.tier_id is not None:
        sub = exists().where(Subscription.customer_id == Contact.customer_id)
        if campaign.service_id is not None:
            sub = sub.where(Subscription.service_id == campaign.service_id)
        if campaign.tier_id is not None:
            sub = sub.where(Subscription.tier_id == campaign.tier_id)
        stmt = stmt.where(sub)
    return stmt.order_by(Contact.id)


def subscription_of(
    session: Session, customer_id: int, service_id: int | None
) -> tuple[int | None, int | None]:
    """(service, tier) a contact's answers are attributed to: the campaign's service, else the
    customer's only subscription; the tier from that subscription."""
    stmt = select(Subscription.service_id, Subscription.tier_id).where(
        Subscription.customer_id == customer_id
    )
    if service_id is not None:
        stmt = stmt.where(Subscription.service_id == service_id)
    rows = session.execute(stmt.limit(2)).all()
    if len(rows) == 1:
        return rows[0][0], rows[0][1]
    return service_id, None


def recently_invited(contact_id: Any, since: datetime) -> Any:
    """SQL: the contact was sent an invitation (any campaign) since ``since``."""
    return exists().where(Invitation.contact_id == contact_id, Invitation.sent_at >= since)


def _email(
    contact: Contact,
    campaign: Campaign,
    token: str,
    expires_at: datetime,
    reminder: bool,
    settings: SurveySettings,
    about: TicketAbout | None = None,
) -> None:
    lang = "zh_CN" if (contact.language or "zh_CN").startswith("zh") else "en"
    link = f"{settings.public_base_url}/s/t/{token}"
    signed = unsubscribe_token(settings.secret_key, contact.id)
    unsubscribe = f"{settings.public_base_url}/s/unsubscribe/{signed}"
    with force_locale(lang):
        name = campaign.name_zh if lang == "zh_CN" else campaign.name_en
        subject = render_template("surveys/email/subject.txt", name=name, reminder=reminder).strip()
        text = render_template(
            "surveys/email/invitation.txt",
            contact=contact, name=name, link=link, unsubscribe=unsubscribe,
            expires_on=expires_at.date().isoformat(), reminder=reminder,
            about=about.line(lang) if about is not None else None,
        )  # fmt: skip
    address = contact.email
    assert address
    after_commit(lambda: send_email(address, subject, text))


@dataclass(frozen=True)
class Target:
    """A contact to invite; a ticket-triggered one carries the ticket's service, tier and region."""

    contact: Contact
    ticket_id: int | None = None
    service_id: int | None = None
    tier_id: int | None = None
    region_id: int | None = None


def invite_contacts(
    session: Session,
    campaign: Campaign,
    targets: Iterable[Target],
    now: datetime,
    settings: SurveySettings,
) -> int:
    """Invite each target that passes the frequency cap; returns how many were sent."""
    since = now - timedelta(days=settings.contact_cap_days)
    expires_at = min(campaign.closes_at, now + timedelta(days=settings.link_days))
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
        token = issue_link(session, invitation, now)
        about = (
            ticket_about_by_id(session, target.ticket_id, service_id, settings.org_timezone)
            if target.ticket_id is not None
            else None
        )
        _email(contact, campaign, token, expires_at, False, settings, about)
        sent += 1
    return sent


def invite_audience(session: Session, campaign: Campaign, now: datetime, settings: SurveySettings) -> int:
    """Invite the campaign's audience contacts it has not invited yet; returns how many."""
    already = exists().where(Invitation.campaign_id == campaign.id, Invitation.contact_id == Contact.id)
    stmt = audience(campaign).where(~already, Contact.unsubscribed_at.is_(None), Contact.email.is_not(None))
    return invite_contacts(session, campaign, (Target(c) for c in session.scalars(stmt)), now, settings)


def open_personal_campaigns(session: Session, now: datetime, campaign_id: int | None) -> list[Campaign]:
    """The personal campaigns open at ``now`` (or just the one), in id order."""
    stmt = select(Campaign).where(
        Campaign.status == CampaignStatus.OPEN,
        Campaign.channel == Channel.PERSONAL,
        Campaign.opens_at <= now,
        Campaign.closes_at > now,
    )
    if campaign_id is not None:
        stmt = stmt.where(Campaign.id == int(campaign_id))
    return list(session.scalars(stmt.order_by(Campaign.id)))


def send_reminders(session: Session, now: datetime, settings: SurveySettings) -> int:
    """Remind non-respondents of open personal campaigns after the campaign's reminder delay."""
    sent = 0
    for campaign in open_personal_campaigns(session, now, None):
        if campaign.max_reminders <= 0:
            continue
        due = now - timedelta(days=campaign.reminder_after_days)
        rows = session.execute(
            select(Invitation, Contact)
            .join(Contact, Contact.id == Invitation.contact_id)
            .where(
                Invitation.campaign_id == campaign.id,
                Invitation.used_at.is_(None),
                Invitation.expires_at > now,
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
            invitation.last_reminded_at = now
            token = issue_link(session, invitation, now)
            about = (
                ticket_about(session, invitation.id, settings.org_timezone)
                if invitation.ticket_id is not None
                else None
            )
            _email(contact, campaign, token, invitation.expires_at, True, settings, about)
            sent += 1
        if rows:
            record(
                session, "survey_reminders", object_type="Campaign", object_id=campaign.id,
                region_id=campaign.region_id, summary=f"{len(rows)} reminders sent",
            )  # fmt: skip
    anonymous_drafts.purge(session, now.date())
    session.flush()
    return sent


def unsubscribe(session: Session, contact: Contact, now: datetime) -> bool:
    """Stop surveying a contact; False when they had already unsubscribed."""
    if contact.unsubscribed_at is not None:
        return False
    contact.unsubscribed_at = now
    session.flush()
    return True
