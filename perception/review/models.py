"""Phase 4 (review and evaluation, 回顾评价) models: the semi-annual review, its findings and
decisions, the stored PDF reports, and the continual improvement register (CIR, ITIL 4).

A ``Review`` covers one period ``[period_start, period_end)``. While it is open its six sections
are computed live from the period's data; the system owner's sign-off stores them as JSON in
``snapshot`` (numbers, texts in both languages, chart inputs) and from then on the review is read
only and always renders from that snapshot, so later data changes cannot alter it.

An ``ImprovementItem`` names a measurable thing (``metric`` + scope) with a baseline computed
from the data and a target; after completion its result is computed from the data of the weeks
that follow ``completed_on`` (perception.review.services.results), never typed in.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.models.base import Base, TimestampMixin, utcnow
from perception.core.models.org import CustomerOrg


class ReviewStatus(enum.StrEnum):
    OPEN = "open"
    SIGNED = "signed"  # frozen: renders from ``snapshot``, read only


class FindingKind(enum.StrEnum):
    FINDING = "finding"
    DECISION = "decision"


class Review(TimestampMixin, Base):
    """One semi-annual (or configured) review of the whole perception system."""

    __tablename__ = "review"
    __audited__ = True
    __region_free__ = True  # a review covers the whole organisation
    __customer_visible__ = True  # a customer representative may countersign a signed review
    # The snapshot is large; the audit row records the sign-off through status/signature columns.
    __audit_exclude__ = frozenset({"snapshot"})

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)  # e.g. "2026-H1"
    label_zh: Mapped[str] = mapped_column(String(80))
    label_en: Mapped[str] = mapped_column(String(80))
    period_start: Mapped[date] = mapped_column(Date, index=True)
    period_end: Mapped[date] = mapped_column(Date)  # exclusive
    status: Mapped[str] = mapped_column(String(12), default=ReviewStatus.OPEN)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    frozen_at: Mapped[datetime | None] = mapped_column(DateTime)
    owner_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    owner_signatory: Mapped[str | None] = mapped_column(String(120))
    owner_signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    customer_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    customer_signatory: Mapped[str | None] = mapped_column(String(120))
    customer_signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    findings: Mapped[list[ReviewFinding]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewFinding.position"
    )
    reports: Mapped[list[ReviewReport]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewReport.lang"
    )
    countersignatures: Mapped[list[ReviewCountersignature]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewCountersignature.signed_at"
    )

    @property
    def signed(self) -> bool:
        return self.status == ReviewStatus.SIGNED


class ReviewFinding(Base):
    """A finding or decision the reviewers write, linked to evidence in one of the sections."""

    __tablename__ = "review_finding"
    __audited__ = True
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(12), default=FindingKind.FINDING)
    # Written in both languages, or in one (issue 17): ``text`` is the Chinese text (or, from
    # before English was asked for, whatever was written), ``text_en`` the English one; each
    # language shows its own and the other only when one was given (perception.core.i18n.localized).
    text: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    evidence_section: Mapped[str] = mapped_column(String(24))
    evidence_key: Mapped[str | None] = mapped_column(String(160))  # a row of that section, or None
    evidence_label: Mapped[dict[str, str] | None] = mapped_column(JSON)  # {"zh", "en"} when written
    evidence_note: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    review: Mapped[Review] = relationship(back_populates="findings")

    @property
    def text_zh(self) -> str:
        return self.text

    @property
    def texts(self) -> dict[str, str]:
        """``{"zh", "en"}`` as written (an empty one means "not given")."""
        return {"zh": self.text or "", "en": self.text_en or ""}


class ReviewCountersignature(Base):
    """A customer representative's countersignature of a signed review, one per customer: each
    representative countersigns their customer's view of the review (never the whole review)."""

    __tablename__ = "review_countersignature"
    __table_args__ = (UniqueConstraint("review_id", "customer_id"),)
    __audited__ = True
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_org.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    signatory: Mapped[str] = mapped_column(String(120))
    signed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    review: Mapped[Review] = relationship(back_populates="countersignatures")
    customer: Mapped[CustomerOrg] = relationship()


class ReviewPdfStatus(enum.StrEnum):
    """Whether the last generation of a review's PDF in one language succeeded."""

    READY = "ready"
    FAILED = "failed"  # ``ReviewReport.error`` says why


class ReviewReport(Base):
    """The stored PDF of a review in one language; regenerating replaces the content.

    Kept in the database (not a file) so every node of a multi-node deployment can serve it.
    """

    __tablename__ = "review_report"
    __region_free__ = True
    __customer_visible__ = True
    __table_args__ = (UniqueConstraint("review_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(5))  # "zh" | "en"
    status: Mapped[str] = mapped_column(String(12), default=ReviewPdfStatus.READY)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
    source_sha256: Mapped[str | None] = mapped_column(String(64))  # hash of the content rendered
    error: Mapped[str | None] = mapped_column(Text)
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    review: Mapped[Review] = relationship(back_populates="reports")


class ReviewSectionCache(Base):
    """A review section computed ahead (the slow ones: the data's health, the standards, KPI versus
    experience), with its page view in each language (charts drawn), so the review page opens at
    once (perception.review.page_cache). For a signed review ``basis`` is the snapshot's hash; for
    an open one the section is recomputed when older than REVIEW_PAGE_MAX_AGE_SECONDS."""

    __tablename__ = "review_section_cache"
    __region_free__ = True
    __table_args__ = (UniqueConstraint("review_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    basis: Mapped[str | None] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    view_zh: Mapped[dict[str, Any]] = mapped_column(JSON)
    view_en: Mapped[dict[str, Any]] = mapped_column(JSON)


# --- the continual improvement register -------------------------------------------------------


class ImprovementSource(enum.StrEnum):
    REVIEW_FINDING = "review_finding"
    ALERT = "alert"
    ANALYST = "analyst"
    CUSTOMER_FEEDBACK = "customer_feedback"


class ImprovementStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# Still to be done: such an item carries into the next review and can be overdue.
OPEN_IMPROVEMENT_STATUSES = (
    ImprovementStatus.PROPOSED,
    ImprovementStatus.APPROVED,
    ImprovementStatus.IN_PROGRESS,
)


class ImprovementMetric(enum.StrEnum):
    """What a baseline refers to (see perception.review.services.results for each measure)."""

    CSAT_SHARE = "csat_share"  # share of top-2 answers of CSAT observations
    NPS = "nps"
    RATING_MEAN = "rating_mean"  # mean rating (optionally of one feedback dimension)
    KPI_VALUE = "kpi_value"  # mean of the weekly values of a KPI
    KPI_ATTAINMENT = "kpi_attainment"  # share of weekly KPI values meeting their target


class ImprovementItem(TimestampMixin, Base):
    """One entry of the continual improvement register (持续改进登记册)."""

    __tablename__ = "improvement_item"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # CI-0001
    title: Mapped[str] = mapped_column(String(200))  # the Chinese title ("" when only English given)
    title_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default=ImprovementSource.ANALYST)
    source_ref: Mapped[str | None] = mapped_column(String(120))  # e.g. "alert:17"
    evidence: Mapped[str | None] = mapped_column(Text)
    business_case: Mapped[str | None] = mapped_column(Text)
    value: Mapped[int] = mapped_column(SmallInteger, default=3)  # 1..5
    effort: Mapped[int] = mapped_column(SmallInteger, default=3)  # 1..5
    priority_score: Mapped[int] = mapped_column(SmallInteger, default=9)  # derived, see register
    priority: Mapped[str] = mapped_column(String(8), default="medium", index=True)  # derived
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default=ImprovementStatus.PROPOSED, index=True)
    completed_on: Mapped[date | None] = mapped_column(Date)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)  # None: all
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id"), index=True)  # raised in
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("review_finding.id", ondelete="SET NULL"))
    # The baseline metric: what is measured, in which scope, over which baseline window.
    metric: Mapped[str | None] = mapped_column(String(20))  # ImprovementMetric
    metric_service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    metric_dimension: Mapped[str | None] = mapped_column(String(32))
    metric_kpi_code: Mapped[str | None] = mapped_column(String(32))  # KpiDefinition.code
    baseline_from: Mapped[date | None] = mapped_column(Date)
    baseline_to: Mapped[date | None] = mapped_column(Date)  # exclusive
    baseline_value: Mapped[float | None] = mapped_column(Float)  # computed when the metric is set
    baseline_n: Mapped[int | None] = mapped_column(Integer)
    target_value: Mapped[float | None] = mapped_column(Float)
    measure_weeks: Mapped[int] = mapped_column(SmallInteger, default=8)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # computed, never typed in
    result_computed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    @classmethod
    def region_clause(cls, region_ids: frozenset[int]) -> Any:
        return or_(cls.region_id.in_(region_ids), cls.region_id.is_(None))

    @property
    def title_zh(self) -> str:
        return self.title

    @property
    def titles(self) -> dict[str, str]:
        """``{"zh", "en"}`` as written (an empty one means "not given")."""
        return {"zh": self.title or "", "en": self.title_en or ""}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_IMPROVEMENT_STATUSES

    def overdue_on(self, today: date) -> bool:
        return self.is_open and self.due_on is not None and self.due_on < today
