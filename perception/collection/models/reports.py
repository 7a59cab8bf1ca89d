"""Weekly collection reports (每周采集报告): one report per collection point and ISO week, its
entries of three kinds, the revisions kept at every submission and the reminders sent.

The callback, sampling and feedback-versus-standard records live in
``perception.collection.models.fieldwork``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.models.base import Base, TimestampMixin, utcnow


class ReportStatus(enum.StrEnum):
    """The workflow state. Completeness (on time / late / missing) is derived separately from
    ``first_submitted_at`` and the deadline (perception.collection.services.board)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # sent back by the organiser with a comment; editable again
    RESUBMITTED = "resubmitted"
    ACCEPTED = "accepted"


# States whose entries count as collected information (facts written, events visible).
COUNTED_STATUSES = (ReportStatus.SUBMITTED, ReportStatus.RESUBMITTED, ReportStatus.ACCEPTED)
EDITABLE_STATUSES = (ReportStatus.DRAFT, ReportStatus.RETURNED)


class EntryKind(enum.StrEnum):
    DYNAMIC = "dynamic"  # a. user dynamic information (用户动态信息)
    FEEDBACK = "feedback"  # b. feedback and suggestions (用户反馈与建议)
    REQUIREMENT = "requirement"  # c. personalised requirements (个性化需求)


class CollectionReport(TimestampMixin, Base):
    """The weekly report a collection point owes for the ISO week starting ``week_start``."""

    __tablename__ = "collection_report"
    __audited__ = True
    __table_args__ = (UniqueConstraint("collection_point_id", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    collection_point_id: Mapped[int] = mapped_column(ForeignKey("collection_point.id"), index=True)
    week_start: Mapped[date] = mapped_column(Date, index=True)  # Monday of the ISO week
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.DRAFT.value)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # number of submissions so far
    # Naive UTC. The first submission decides on time / late; later ones are resubmissions.
    first_submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    organiser_comment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(8), default="form")  # form | import | api

    entries: Mapped[list[ReportEntry]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportEntry.position"
    )
    revisions: Mapped[list[ReportRevision]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportRevision.number"
    )

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def counted(self) -> bool:
        return self.status in COUNTED_STATUSES


class ReportEntry(Base):
    """One row of a report. Columns used depend on ``kind`` (see ``services.entries``)."""

    __tablename__ = "report_entry"
    __audited__ = True
    __table_args__ = (Index("ix_report_entry_report_kind", "report_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("collection_report.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # EntryKind
    position: Mapped[int] = mapped_column(Integer, default=0)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    # a. dynamic information
    category: Mapped[str | None] = mapped_column(String(24))
    event_date: Mapped[date | None] = mapped_column(Date)
    impact: Mapped[str | None] = mapped_column(Text)
    # b. feedback
    dimension: Mapped[str | None] = mapped_column(String(32))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    means: Mapped[str | None] = mapped_column(String(16))
    # c. requirement
    area: Mapped[str | None] = mapped_column(String(120))
    urgency: Mapped[str | None] = mapped_column(String(12))
    size: Mapped[str | None] = mapped_column(String(12))
    # the description / feedback text / requirement text
    text: Mapped[str] = mapped_column(Text)
    # consolidation: the organiser marks repeats of the same information
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("report_entry.id", ondelete="SET NULL"))

    report: Mapped[CollectionReport] = relationship(back_populates="entries")

    def snapshot(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "customer_id": self.customer_id,
            "contact_name": self.contact_name,
            "service_id": self.service_id,
            "category": self.category,
            "event_date": self.event_date.isoformat() if self.event_date else None,
            "impact": self.impact,
            "dimension": self.dimension,
            "rating": self.rating,
            "means": self.means,
            "area": self.area,
            "urgency": self.urgency,
            "size": self.size,
            "text": self.text,
        }


class ReportRevision(Base):
    """What was submitted, frozen: revision N is the content of the N-th submission."""

    __tablename__ = "report_revision"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("collection_report.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    report: Mapped[CollectionReport] = relationship(back_populates="revisions")


class ReminderKind(enum.StrEnum):
    DUE_SOON = "due_soon"
    MISSING = "missing"


class ReportReminder(Base):
    """A reminder sent for (point, week, kind); the unique key makes each one go out once."""

    __tablename__ = "report_reminder"
    __table_args__ = (UniqueConstraint("collection_point_id", "week_start", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    collection_point_id: Mapped[int] = mapped_column(ForeignKey("collection_point.id"))
    week_start: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))  # ReminderKind
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recipients: Mapped[str] = mapped_column(Text, default="")
