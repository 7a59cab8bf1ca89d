"""Surveys in the app: frozen questionnaire versions, campaigns, invitations, responses, follow-ups.

- A ``SurveyVersion`` is published once and never changed; every ``Response`` points at the
  version it answered, so later edits of a questionnaire never reinterpret old answers.
- An ``Invitation`` binds one campaign to one contact; its secret links (``SurveyLink``) store only
  a SHA-256 hash of the token. ``Invitation.used_at`` is set in the same transaction as the
  response (a conditional UPDATE), which makes a personal link single-use.
- Anonymous responses carry no contact, invitation, address or user agent; their time is kept
  to the day only, and their audit rows name the campaign, not the response.
- ``FollowUpTask`` closes the loop: a low score or a complaint becomes a task for the region;
  ``FollowUpRoute`` rules say who owns the tasks of a region and/or a service.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.models.base import Base, TimestampMixin, utcnow


class CampaignKind(enum.StrEnum):
    RELATIONSHIP = "relationship"  # periodic, sent to an audience of contacts
    TRANSACTIONAL = "transactional"  # sent after a closed ticket, sampled


class Channel(enum.StrEnum):
    PERSONAL = "personal"  # one single-use link per contact, by email
    ANONYMOUS = "anonymous"  # one public link per campaign; nothing ties a response to a person


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ResponseMeans(enum.StrEnum):
    SURVEY = "survey"  # answered by the customer on the survey pages
    CALLBACK = "callback"  # answered by an interviewer reading a phone-callback script


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class FollowUpReason(enum.StrEnum):
    LOW_CSAT = "low_csat"
    LOW_NPS = "low_nps"
    COMPLAINT = "complaint"


class Survey(TimestampMixin, Base):
    """A questionnaire under a stable code; its content lives in published versions."""

    __tablename__ = "survey"
    __audited__ = True
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    instrument: Mapped[str | None] = mapped_column(String(64))  # built-in instrument name, if any

    versions: Mapped[list[SurveyVersion]] = relationship(
        back_populates="survey", order_by="SurveyVersion.number"
    )


class SurveyVersion(Base):
    """One published, frozen definition (the engine's dump) with its fingerprint."""

    __tablename__ = "survey_version"
    __audited__ = True
    __region_free__ = True
    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    survey: Mapped[Survey] = relationship(back_populates="versions")


class Campaign(TimestampMixin, Base):
    """A survey version sent to an audience through a channel between two dates.

    Audience filters left empty mean "all". A campaign without a region is national and is
    listed for every region (each region's figures are then filtered by region).
    """

    __tablename__ = "survey_campaign"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=CampaignKind.RELATIONSHIP)
    channel: Mapped[str] = mapped_column(String(16), default=Channel.PERSONAL)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("service_tier.id"))
    opens_at: Mapped[datetime] = mapped_column(DateTime)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    reminder_after_days: Mapped[int] = mapped_column(Integer, default=3)
    max_reminders: Mapped[int] = mapped_column(Integer, default=1)
    sampling_rate: Mapped[float] = mapped_column(Float, default=1.0)  # transactional only
    public_slug: Mapped[str | None] = mapped_column(String(32), unique=True)  # anonymous only
    csat_threshold: Mapped[int | None] = mapped_column(Integer, default=2)  # CSAT <= this: follow up
    nps_threshold: Mapped[int | None] = mapped_column(Integer, default=6)  # NPS <= this: follow up
    last_ticket_scan_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    version: Mapped[SurveyVersion] = relationship()

    @classmethod
    def region_clause(cls, region_ids: frozenset[int]) -> Any:
        return or_(cls.region_id.in_(region_ids), cls.region_id.is_(None))

    def is_open_at(self, moment: datetime) -> bool:
        return self.status == CampaignStatus.OPEN and self.opens_at <= moment < self.closes_at


class Invitation(Base):
    """One contact invited to one campaign (and, for transactional campaigns, one ticket)."""

    __tablename__ = "survey_invitation"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("campaign_id", "ticket_id"),
        Index("ix_survey_invitation_contact_sent", "contact_id", "sent_at"),
        Index("ix_survey_invitation_campaign_contact", "campaign_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("survey_campaign.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_org.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("service_tier.id"))
    ticket_id: Mapped[int | None] = mapped_column(Integer)  # the closed ticket that triggered it
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    campaign: Mapped[Campaign] = relationship()


class SurveyLink(Base):
    """A secret link of an invitation: only the SHA-256 of the token is stored. A reminder adds a
    new link and leaves the earlier one working until the invitation is used or expires."""

    __tablename__ = "survey_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("survey_invitation.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class ResponseDraft(Base):
    """Answers saved page by page on a personal link, so the respondent can resume later."""

    __tablename__ = "survey_response_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("survey_invitation.id"), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    page_index: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AnonymousDraft(Base):
    """Answers so far on an anonymous link, keyed by the SHA-256 of an opaque random key that only
    the respondent's session cookie holds (the answers themselves once rode in the cookie, and a
    long Chinese comment overflowed its 4 KB: issue 18). Like the anonymous response it keeps the
    day only, and nothing about the person or the request; deleted on submission, purged after
    ``DRAFT_DAYS`` without a save."""

    __tablename__ = "survey_anonymous_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("survey_campaign.id"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    page_index: Mapped[int] = mapped_column(Integer, default=0)
    saved_on: Mapped[date] = mapped_column(Date)


class Response(Base):
    """A completed questionnaire. Written by ``perception.surveys.services.store`` only (Core
    inserts plus an explicit audit row: the automatic audit would record the submitter's address,
    which an anonymous response must never carry)."""

    __tablename__ = "survey_response"
    __table_args__ = (
        UniqueConstraint("campaign_id", "submission_nonce"),
        Index("ix_survey_response_campaign_region", "campaign_id", "region_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("survey_campaign.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("survey_invitation.id"), unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("service_tier.id"))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    means: Mapped[str] = mapped_column(String(16), default=ResponseMeans.SURVEY)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submission_nonce: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(DateTime)  # anonymous: midnight of the day
    observed_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # callback interviewer

    version: Mapped[SurveyVersion] = relationship()


class FollowUpTask(TimestampMixin, Base):
    """A low score or complaint to act on, owned by the response's region."""

    __tablename__ = "survey_followup"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id"), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("survey_campaign.id"))
    reasons: Mapped[str] = mapped_column(String(64))  # comma-separated FollowUpReason values
    detail: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=FollowUpStatus.OPEN, index=True)
    outcome: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    due_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Routing (perception.surveys.services.followup_routing): when the owner rule was applied,
    # and when the task escalated for being overdue (each happens once).
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)

    response: Mapped[Response] = relationship()


class SurveyTestLink(Base):
    """A single-use test link of a version (or of a campaign's version) that goes through the
    respondent's real pages; its answers are kept on this row, marked as a test by living here.

    Nothing that reads answers (``Response``, the analysis facts, follow-ups, webhooks, response
    rates, per-question results, the frequency cap) ever reads this table, so a test answer
    changes no figure. Only the SHA-256 of the token is stored, as for a real link; the link
    expires, and ``used_at`` is set by one conditional UPDATE with the answers."""

    __tablename__ = "survey_test_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("survey_campaign.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))  # the campaign's, if any
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # answers so far (several pages)
    page_index: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the submitted test answers
    language: Mapped[str | None] = mapped_column(String(8))

    version: Mapped[SurveyVersion] = relationship()
    campaign: Mapped[Campaign | None] = relationship()

    @classmethod
    def region_clause(cls, region_ids: frozenset[int]) -> Any:
        return or_(cls.region_id.in_(region_ids), cls.region_id.is_(None))


class FollowUpRoute(TimestampMixin, Base):
    """A routing rule: follow-up tasks of a region and/or a service go to this owner.

    At least one of region and service is set; the most specific matching rule wins
    (``perception.surveys.services.followup_routing``). A rule without a region is global and
    only a user who sees every region may keep it.
    """

    __tablename__ = "survey_followup_route"
    __audited__ = True
    __table_args__ = (UniqueConstraint("region_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"))


def table_of(model: type[Base]) -> Table:
    """A model's Table, typed for Core statements (the answer path writes with Core)."""
    return cast(Table, model.__table__)
