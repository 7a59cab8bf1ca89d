"""Where a respondent stands: the state of a personal invitation and its saved draft, and the
campaign behind an anonymous link. Reads only (the answer path writes in ``submit``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from perception.core.transaction import Db, core
from perception.surveys.models import (
    Campaign,
    CampaignStatus,
    Channel,
    Invitation,
    ResponseDraft,
    SurveyVersion,
    table_of,
)
from perception.surveys.services.submit import CampaignFacts


class Availability(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    NOT_YET = "not_yet"
    USED = "used"
    MISSING = "missing"


def availability(status: str, opens_at: datetime, closes_at: datetime, now: datetime) -> Availability:
    if status == CampaignStatus.CLOSED or closes_at <= now:
        return Availability.CLOSED
    if status != CampaignStatus.OPEN or opens_at > now:
        return Availability.NOT_YET
    return Availability.OPEN


@dataclass(frozen=True)
class PersonalState:
    availability: Availability
    closes_at: datetime | None = None
    opens_at: datetime | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    page: int | None = None
    ticket_id: int | None = None  # a post-ticket invitation's ticket (its page names it)


_INV, _CAMP, _DRAFT = table_of(Invitation), table_of(Campaign), table_of(ResponseDraft)
# Built once as Core statements: every survey page runs them (issue 19).
STATE = (
    select(
        _INV.c.used_at,
        _INV.c.expires_at,
        _CAMP.c.status,
        _CAMP.c.opens_at,
        _CAMP.c.closes_at,
        _INV.c.ticket_id,
    )
    .join(_CAMP, _CAMP.c.id == _INV.c.campaign_id)
    .where(_INV.c.id == bindparam("invitation_id"))
)
DRAFT = select(_DRAFT.c.answers, _DRAFT.c.page_index).where(
    _DRAFT.c.invitation_id == bindparam("invitation_id")
)


def personal_state(
    session: Db, invitation_id: int, now: datetime, *, with_draft: bool = True
) -> PersonalState:
    conn = core(session)
    row = conn.execute(STATE, {"invitation_id": invitation_id}).first()
    if row is None:
        return PersonalState(Availability.MISSING)
    used_at, expires_at, status, opens_at, closes_at, ticket_id = row
    if used_at is not None:
        return PersonalState(Availability.USED, closes_at, opens_at)
    state = availability(status, opens_at, min(closes_at, expires_at), now)
    if state != Availability.OPEN or not with_draft:
        return PersonalState(state, closes_at, opens_at, ticket_id=ticket_id)
    draft = conn.execute(DRAFT, {"invitation_id": invitation_id}).first()
    if draft is None:
        return PersonalState(state, closes_at, opens_at, ticket_id=ticket_id)
    return PersonalState(state, closes_at, opens_at, dict(draft[0] or {}), draft[1], ticket_id)


def draft_answers(session: Db, invitation_id: int) -> dict[str, Any]:
    answers = session.scalar(
        select(ResponseDraft.answers).where(ResponseDraft.invitation_id == invitation_id)
    )
    return dict(answers or {})


@dataclass(frozen=True)
class AnonymousCampaign:
    facts: CampaignFacts
    fingerprint: str
    availability: Availability
    closes_at: datetime
    opens_at: datetime


def anonymous_campaign(session: Session, slug: str, now: datetime) -> AnonymousCampaign | None:
    if not slug or len(slug) > 32:
        return None
    row = session.execute(
        select(Campaign, SurveyVersion.fingerprint)
        .join(SurveyVersion, SurveyVersion.id == Campaign.version_id)
        .where(Campaign.public_slug == slug, Campaign.channel == Channel.ANONYMOUS)
    ).first()
    if row is None:
        return None
    c, fingerprint = row
    if c.region_id is None:
        return None
    facts = CampaignFacts(
        c.id,
        c.version_id,
        c.region_id,
        c.customer_id,
        c.service_id,
        c.tier_id,
        c.csat_threshold,
        c.nps_threshold,
    )
    return AnonymousCampaign(
        facts, fingerprint, availability(c.status, c.opens_at, c.closes_at, now), c.closes_at, c.opens_at
    )
