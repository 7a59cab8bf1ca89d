"""The transactional trigger: invite the contact of each ticket closed in the ticket data.

Each run looks at tickets closed since the campaign's last scan (or since it opened) that match
its audience filters, keeps a sample of them and invites each sampled ticket's contact, with the
ticket's service, tier and region attached so the answers land on the right KPI cell.

Sampling is deterministic: a ticket is kept when the first 64 bits of
SHA-256("<campaign id>:<ticket id>"), read as a fraction of 2**64, are below the sampling rate.
That is a uniform draw per ticket (a hash as a pseudo-random function), so a run that is
repeated keeps the same tickets. A ticket's contact is the customer's contact whose email (or
else name) equals the ticket's contact field.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from perception.core.models.org import Contact
from perception.kpi.models import Ticket, TicketStatus
from perception.surveys.models import Campaign, Invitation
from perception.surveys.services.invitations import Target, invite_contacts
from perception.surveys.services.settings import SurveySettings


def sampled(campaign_id: int, ticket_id: int, rate: float) -> bool:
    """Whether the ticket falls in the campaign's sample (see the module docstring)."""
    if rate >= 1.0:
        return True
    digest = hashlib.sha256(f"{campaign_id}:{ticket_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def _contact_for(session: Session, ticket: Ticket) -> Contact | None:
    if not ticket.contact or ticket.customer_id is None:
        return None
    key = ticket.contact.strip()
    return session.scalar(
        select(Contact)
        .where(
            Contact.customer_id == ticket.customer_id,
            or_(func.lower(Contact.email) == key.lower(), Contact.name == key),
        )
        .order_by(Contact.id)
        .limit(1)
    )


def invite_closed_tickets(
    session: Session, campaign: Campaign, now: datetime, settings: SurveySettings
) -> int:
    """Invite the sampled contacts of tickets closed since the last scan; returns emails sent."""
    since = campaign.last_ticket_scan_at or campaign.opens_at
    stmt = select(Ticket).where(
        Ticket.status == TicketStatus.CLOSED,
        Ticket.closed_at.is_not(None),
        Ticket.closed_at >= since,
        Ticket.closed_at < now,
    )
    if campaign.region_id is not None:
        stmt = stmt.where(Ticket.region_id == campaign.region_id)
    if campaign.customer_id is not None:
        stmt = stmt.where(Ticket.customer_id == campaign.customer_id)
    if campaign.service_id is not None:
        stmt = stmt.where(Ticket.service_id == campaign.service_id)
    if campaign.tier_id is not None:
        stmt = stmt.where(Ticket.tier_id == campaign.tier_id)
    invited = set(
        session.scalars(
            select(Invitation.ticket_id).where(
                Invitation.campaign_id == campaign.id, Invitation.ticket_id.is_not(None)
            )
        )
    )
    targets = []
    for ticket in session.scalars(stmt.order_by(Ticket.closed_at, Ticket.id)):
        if ticket.id in invited or not sampled(campaign.id, ticket.id, campaign.sampling_rate):
            continue
        contact = _contact_for(session, ticket)
        if contact is None:
            continue
        targets.append(Target(contact, ticket.id, ticket.service_id, ticket.tier_id, ticket.region_id))
    sent = invite_contacts(session, campaign, targets, now, settings)
    campaign.last_ticket_scan_at = now
    session.flush()
    return sent


def invite_for_ticket(session: Session, ticket_id: int, now: datetime, settings: SurveySettings) -> int:
    """Invite the contact of ONE just-closed ticket for every open transactional campaign whose
    audience it matches, at once (a service-desk closing event), under the same sampling and
    frequency cap as the scan; returns emails sent. A ticket already invited for a campaign is
    skipped (the scan skips it afterwards likewise), so a replayed close sends nothing twice."""
    from perception.surveys.models import CampaignKind, CampaignStatus, Channel

    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.status != TicketStatus.CLOSED:
        return 0
    campaigns = session.scalars(
        select(Campaign).where(
            Campaign.kind == CampaignKind.TRANSACTIONAL,
            Campaign.channel == Channel.PERSONAL,
            Campaign.status == CampaignStatus.OPEN,
            Campaign.opens_at <= now,
            Campaign.closes_at > now,
        )
    ).all()
    sent = 0
    for campaign in campaigns:
        wanted = (campaign.region_id, campaign.customer_id, campaign.service_id, campaign.tier_id)
        actual = (ticket.region_id, ticket.customer_id, ticket.service_id, ticket.tier_id)
        if any(w is not None and w != a for w, a in zip(wanted, actual, strict=True)):
            continue
        # As the scan: a campaign asks about tickets closed while it is open (not history).
        if ticket.closed_at is None or not campaign.opens_at <= ticket.closed_at <= now:
            continue
        if not sampled(campaign.id, ticket.id, campaign.sampling_rate):
            continue
        if session.scalar(select(Invitation.id).where(Invitation.campaign_id == campaign.id,
                                                       Invitation.ticket_id == ticket.id)):  # fmt: skip
            continue
        contact = _contact_for(session, ticket)
        if contact is None:
            continue
        target = Target(contact, ticket.id, ticket.service_id, ticket.tier_id, ticket.region_id)
        sent += invite_contacts(session, campaign, [target], now, settings)
    return sent
