"""The answer endpoint's transaction: consume a personal link or accept an anonymous answer,
idempotently, and store the response (``store.write_response``).

Personal link: ONE conditional UPDATE marks the invitation used
(``... SET used_at = now WHERE id = :id AND used_at IS NULL AND <campaign open>``) and returns
its attribution; only the transaction whose UPDATE hit the row inserts a response. PostgreSQL
makes concurrent UPDATEs of the row wait for the first to commit and then re-check the WHERE
(READ COMMITTED), SQLite has one writer at a time, so 50 parallel submissions store one response.
A retried POST carries the same submission nonce, finds its response by (campaign, nonce) and
gets the same thank-you page. Anonymous answers rely on the unique (campaign, nonce) constraint.

The answer POST is a writer (``perception.core.transaction``): on SQLite its transaction begins
IMMEDIATE, in the writer queue, at its first statement. So the scoring happens before that
statement, and everything from the first statement to the commit is SQL.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from perception.core.transaction import Db, core
from perception.surveys.models import (
    Campaign,
    CampaignStatus,
    Invitation,
    Response,
    ResponseDraft,
    ResponseMeans,
    table_of,
)
from perception.surveys.services.facts import Attribution
from perception.surveys.services.followup import Thresholds
from perception.surveys.services.settings import SurveySettings
from perception.surveys.services.store import score, write_response
from surveys import Questionnaire


class Outcome(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # this very submission was stored before (retry, double click)
    USED = "used"  # the link was used by another submission
    CLOSED = "closed"  # the campaign is closed or the link expired


@dataclass(frozen=True)
class Submitted:
    outcome: Outcome
    response_id: int | None = None
    followup_id: int | None = None


@dataclass(frozen=True)
class CampaignFacts:
    """What the anonymous path needs of a campaign (read before the write transaction)."""

    id: int
    version_id: int
    region_id: int
    customer_id: int | None
    service_id: int | None
    tier_id: int | None
    csat_threshold: int | None
    nps_threshold: int | None


def _existing(session: Db, campaign_id: int, nonce: str) -> int | None:
    return session.scalar(
        select(Response.id).where(Response.campaign_id == campaign_id, Response.submission_nonce == nonce)
    )


_INV = table_of(Invitation)
_CAMP = table_of(Campaign)
# The consumption, built once: it runs on every submission.
CONSUME = (
    update(_INV)
    .where(
        _INV.c.id == bindparam("invitation_id"),
        _INV.c.used_at.is_(None),
        _INV.c.expires_at > bindparam("now"),
        exists().where(
            _CAMP.c.id == _INV.c.campaign_id,
            _CAMP.c.status == CampaignStatus.OPEN,
            _CAMP.c.opens_at <= bindparam("now"),
            _CAMP.c.closes_at > bindparam("now"),
            _CAMP.c.version_id == bindparam("version_id"),
        ),
    )
    .values(used_at=bindparam("now"))
    .returning(
        _INV.c.campaign_id, _INV.c.contact_id, _INV.c.region_id, _INV.c.customer_id, _INV.c.service_id,
        _INV.c.tier_id, _INV.c.ticket_id,
        select(_CAMP.c.csat_threshold).where(_CAMP.c.id == _INV.c.campaign_id).scalar_subquery(),
        select(_CAMP.c.nps_threshold).where(_CAMP.c.id == _INV.c.campaign_id).scalar_subquery(),
    )
)  # fmt: skip
THRESHOLDS = select(_CAMP.c.csat_threshold, _CAMP.c.nps_threshold).where(
    _CAMP.c.id == bindparam("campaign_id")
)
DROP_DRAFT = delete(table_of(ResponseDraft)).where(
    table_of(ResponseDraft).c.invitation_id == bindparam("invitation_id")
)


def submit_personal(
    session: Db,
    *,
    invitation_id: int,
    questionnaire: Questionnaire,
    version_id: int,
    clean: dict[str, object],
    nonce: str,
    language: str,
    now: datetime,
    org_timezone: str,
    settings: SurveySettings,
) -> Submitted:
    """Consume the invitation and store its response in the caller's transaction (a Session's, or
    the request's Core ``connection()``: the answer endpoint's, with no Session at all)."""
    scored = score(questionnaire, clean)  # before the first write: SQLite holds its lock until commit
    conn = core(session)
    row = conn.execute(
        CONSUME, {"invitation_id": invitation_id, "now": now, "version_id": version_id}
    ).first()
    if row is None:
        return _why_not(session, invitation_id, nonce)
    campaign_id, contact_id, region_id, customer_id, service_id, tier_id, ticket_id, csat_max, nps_max = row
    written = write_response(
        session,
        questionnaire=questionnaire,
        version_id=version_id,
        campaign_id=campaign_id,
        clean=clean,
        who=Attribution(region_id, customer_id, service_id, tier_id, ticket_id, contact_id),
        means=ResponseMeans.SURVEY,
        language=language,
        nonce=nonce,
        invitation_id=invitation_id,
        now=now,
        org_timezone=org_timezone,
        anonymous=False,
        limits=Thresholds(csat_max, nps_max, settings.complaint_words),
        followup_days=settings.followup_days,
        scored=scored,
    )
    if len(questionnaire.pages) > 1:  # drafts are saved only when moving on to a next page
        conn.execute(DROP_DRAFT, {"invitation_id": invitation_id})
    return Submitted(Outcome.STORED, written.response_id, written.followup_id)


def _why_not(session: Db, invitation_id: int, nonce: str) -> Submitted:
    used_at, campaign_id = session.execute(
        select(Invitation.used_at, Invitation.campaign_id).where(Invitation.id == invitation_id)
    ).one_or_none() or (None, None)
    if campaign_id is not None:
        found = _existing(session, campaign_id, nonce)
        if found is not None:
            return Submitted(Outcome.DUPLICATE, found)
    return Submitted(Outcome.USED if used_at is not None else Outcome.CLOSED)


def submit_anonymous(
    session: Session,
    *,
    campaign: CampaignFacts,
    questionnaire: Questionnaire,
    clean: dict[str, object],
    nonce: str,
    language: str,
    now: datetime,
    org_timezone: str,
    settings: SurveySettings,
) -> Submitted:
    """Store an anonymous response once per nonce; nothing ties it to a person or a request."""
    scored = score(questionnaire, clean)
    try:
        with session.begin_nested():
            written = write_response(
                session,
                questionnaire=questionnaire,
                version_id=campaign.version_id,
                campaign_id=campaign.id,
                clean=clean,
                who=Attribution(
                    campaign.region_id, campaign.customer_id, campaign.service_id, campaign.tier_id
                ),
                means=ResponseMeans.SURVEY,
                language=language,
                nonce=nonce,
                invitation_id=None,
                now=now,
                org_timezone=org_timezone,
                anonymous=True,
                limits=Thresholds(campaign.csat_threshold, campaign.nps_threshold, settings.complaint_words),
                followup_days=settings.followup_days,
                scored=scored,
            )
    except IntegrityError:
        found = _existing(session, campaign.id, nonce)
        if found is None:
            raise
        return Submitted(Outcome.DUPLICATE, found)
    return Submitted(Outcome.STORED, written.response_id, written.followup_id)


def save_draft(
    session: Db, invitation_id: int, answers: dict[str, object], page_index: int, now: datetime
) -> None:
    """Keep the answers so far (save-and-resume): update the draft, or insert the first one."""
    table = table_of(ResponseDraft)
    result = session.execute(
        update(table)
        .where(table.c.invitation_id == invitation_id)
        .values(answers=answers, page_index=page_index, updated_at=now)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        return
    try:
        with session.begin_nested():
            session.execute(
                insert(table),
                [
                    {
                        "invitation_id": invitation_id,
                        "answers": answers,
                        "page_index": page_index,
                        "updated_at": now,
                    }
                ],
            )
    except IntegrityError:  # a parallel first save (double click) got there first
        session.execute(
            update(table)
            .where(table.c.invitation_id == invitation_id)
            .values(answers=answers, page_index=page_index, updated_at=now)
        )
