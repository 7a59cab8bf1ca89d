"""Phase 1 (system setup) models: service strategy, the regions a service is delivered in,
service standards with confirmed versions, SLAs/OLAs, the perception plan, and training.

The catalogue core (Service, ServiceTier, Subscription) lives in perception.setup.models.catalog.

Standards have a stable identity (``ServiceStandard``: code, service, optional tier and
customer) and numbered versions (``StandardVersion``). A version is *in force* on a date ``d``
when its status is confirmed or superseded and ``effective_from <= d < effective_to``
(``effective_to`` is exclusive and NULL while it is the current version). Vocabularies (metrics,
statuses, means ...) are the tuples and StrEnums below; perception.setup.services.standards uses
them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.models.base import Base, TimestampMixin, utcnow
from perception.core.models.org import CustomerOrg
from perception.setup.models.catalog import Service, ServiceTier, Subscription

# --- vocabularies -------------------------------------------------------------------------------

METRICS = (
    "first_response_minutes",  # time to first response (per ticket; compared per priority)
    "resolution_minutes",  # time to resolution
    "response_within_target_share",  # share of tickets responded within time_limit_minutes
    "resolution_within_target_share",  # share of tickets resolved within time_limit_minutes
    "first_contact_resolution_rate",
    "reopen_rate",
    "answered_by_2nd_ring_share",  # service-desk calls answered by the 2nd ring
    "callback_within_target_share",  # reported issues called back within time_limit_minutes
    "inspection_completion_share",  # proactive: planned inspections done on time
    "backup_success_share",  # proactive: backup jobs succeeded
    "training_completion_share",
    "csat_share",  # share of 4-5 on a 5-point scale
    "csat_mean",
    "nps",
    "ces_mean",
    "dimension_rating_mean",  # mean rating of one of the six feedback dimensions (needs `dimension`)
    "servqual_gap",  # perception minus expectation (needs `dimension` = a SERVQUAL dimension)
    "sampling_agreement_share",  # sampling comparison: share of re-checked work the customer confirms
    "feedback_conformity_share",  # feedback records that conform to the standard
)
# Metrics that describe the customer's experience (measured by a perception means, not a KPI feed).
EXPERIENCE_METRICS = frozenset(
    {
        "csat_share",
        "csat_mean",
        "nps",
        "ces_mean",
        "dimension_rating_mean",
        "servqual_gap",
        "sampling_agreement_share",
        "feedback_conformity_share",
    }
)
# Fractions in [0, 1] (96% is written 0.96), unit "ratio".
SHARE_METRICS = frozenset(m for m in METRICS if m.endswith(("_share", "_rate")))
METRICS_NEEDING_DIMENSION = frozenset({"dimension_rating_mean", "servqual_gap"})
MEASURED_BY = ("kpi", "phone_callback", "sampling_comparison", "questionnaire", "feedback_record")
PERCEPTION_MEANS = ("phone_callback", "sampling_comparison", "questionnaire", "feedback_record")
COMPARATORS = (">=", "<=", ">", "<")
WINDOWS = ("day", "week", "month", "quarter")
PRIORITIES = ("P1", "P2", "P3", "P4")
DIMENSIONS = (
    "response_speed",
    "fault_handling",
    "deliverable_quality",
    "staff_attitude",
    "service_conformity",
    "training_effect",
)
SERVQUAL_DIMENSIONS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")
# efficiency: time/quantity requirement per priority; quality: result quality; experience: a
# perception target; proactive: a proactive-service delivery standard.
STANDARD_CATEGORIES = ("efficiency", "quality", "experience", "proactive")
PLAN_FREQUENCIES = ("per_ticket", "weekly", "monthly", "quarterly", "half_yearly")
REPORT_FREQUENCIES = ("weekly", "monthly", "quarterly")


class VersionStatus(enum.StrEnum):
    """Where a standard version is in the joint confirmation (perception.setup.services.confirm)."""

    DRAFT = "draft"
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


# Statuses of a version that was in force for some dates (agreed by both sides).
IN_FORCE_STATUSES = (VersionStatus.CONFIRMED, VersionStatus.SUPERSEDED)


def _customer_region_ids(region_ids: frozenset[int]) -> Any:
    return select(CustomerOrg.id).where(CustomerOrg.region_id.in_(region_ids))


# --- strategy, roles ----------------------------------------------------------------------------


class ServiceStrategy(TimestampMixin, Base):
    """A version of the service strategy (服务策略): statement and principles in both languages."""

    __tablename__ = "service_strategy"
    __audited__ = True
    __region_free__ = True
    __customer_visible__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    statement_zh: Mapped[str] = mapped_column(Text)
    statement_en: Mapped[str] = mapped_column(Text)
    principles_zh: Mapped[str] = mapped_column(Text, default="")  # one principle per line
    principles_en: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    effective_from: Mapped[date] = mapped_column(Date)


class PerceptionSystem(TimestampMixin, Base):
    """The single row naming the system owner (体系负责人) of the perception system."""

    __tablename__ = "perception_system"
    __audited__ = True
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200), default="用户感知体系")
    name_en: Mapped[str] = mapped_column(String(200), default="User perception system")
    # The service provider running the system, as reports name it on their covers (empty: not set).
    provider_name_zh: Mapped[str] = mapped_column(String(200), default="", server_default="")
    provider_name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    system_owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class ServiceRegion(Base):
    """A region in which a service is delivered (customers receive it through Subscription)."""

    __tablename__ = "service_region"
    __audited__ = True
    __table_args__ = (UniqueConstraint("service_id", "region_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)


class TrainingRecord(TimestampMixin, Base):
    """Who was trained on the perception system, when and on what (awareness and training)."""

    __tablename__ = "training_record"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    trainee_name: Mapped[str] = mapped_column(String(120))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    topic_zh: Mapped[str] = mapped_column(String(200))
    topic_en: Mapped[str] = mapped_column(String(200))
    trainer: Mapped[str | None] = mapped_column(String(120))
    hours: Mapped[float | None] = mapped_column(Float)

    @classmethod
    def region_clause(cls, region_ids: frozenset[int]) -> Any:
        return or_(cls.region_id.in_(region_ids), cls.region_id.is_(None))


# --- standards ----------------------------------------------------------------------------------


class ServiceStandard(TimestampMixin, Base):
    """Stable identity of a service standard; the measurable content lives in its versions.

    ``customer_id`` NULL means the standard applies to every customer subscribed to the service
    (at ``tier_id`` when set). ``experience_standard_id`` points a KPI standard to the
    experience target (a standard measured by a perception means) analysis compares it with.
    """

    __tablename__ = "service_standard"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("service_tier.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"), index=True)
    category: Mapped[str] = mapped_column(String(16), default="efficiency")
    experience_standard_id: Mapped[int | None] = mapped_column(ForeignKey("service_standard.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    service: Mapped[Service] = relationship()
    tier: Mapped[ServiceTier | None] = relationship()
    customer: Mapped[CustomerOrg | None] = relationship()
    experience_standard: Mapped[ServiceStandard | None] = relationship(remote_side="ServiceStandard.id")
    versions: Mapped[list[StandardVersion]] = relationship(
        back_populates="standard", order_by="StandardVersion.version", cascade="all, delete-orphan"
    )

    @classmethod
    def region_clause(cls, region_ids: frozenset[int]) -> Any:
        return or_(cls.customer_id.is_(None), cls.customer_id.in_(_customer_region_ids(region_ids)))

    @classmethod
    def customer_clause(cls, customer_id: int) -> Any:
        subscribed = select(Subscription.service_id).where(Subscription.customer_id == customer_id)
        return or_(
            cls.customer_id == customer_id, (cls.customer_id.is_(None)) & cls.service_id.in_(subscribed)
        )


class StandardVersion(TimestampMixin, Base):
    """One version of a standard: every measurable field, its status and confirmations."""

    __tablename__ = "standard_version"
    __audited__ = True
    __table_args__ = (UniqueConstraint("standard_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(
        ForeignKey("service_standard.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=VersionStatus.DRAFT)
    statement_zh: Mapped[str] = mapped_column(Text)
    statement_en: Mapped[str] = mapped_column(Text)
    metric: Mapped[str] = mapped_column(String(40))
    dimension: Mapped[str | None] = mapped_column(String(32))
    measured_by: Mapped[str] = mapped_column(String(24))
    comparator: Mapped[str] = mapped_column(String(2))
    target: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(16))
    window: Mapped[str | None] = mapped_column(String(8))
    time_limit_minutes: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[str | None] = mapped_column(String(8))
    customer_need: Mapped[str | None] = mapped_column(Text)
    procedure: Mapped[str | None] = mapped_column(Text)
    classification_standard: Mapped[str | None] = mapped_column(Text)  # reactive: 受理服务分类标准
    handling_norms: Mapped[str | None] = mapped_column(Text)  # reactive: 处理规范
    need_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    need_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    requested_effective_from: Mapped[date | None] = mapped_column(Date)
    effective_from: Mapped[date | None] = mapped_column(Date, index=True)
    effective_to: Mapped[date | None] = mapped_column(Date)  # exclusive
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime | None] = mapped_column(DateTime)
    provider_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    provider_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    customer_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    customer_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)

    standard: Mapped[ServiceStandard] = relationship(back_populates="versions")
    events: Mapped[list[StandardEvent]] = relationship(
        back_populates="version", order_by="StandardEvent.id", cascade="all, delete-orphan"
    )

    @classmethod
    def region_clause(cls, region_ids: frozenset[int]) -> Any:
        return cls.standard_id.in_(
            select(ServiceStandard.id).where(ServiceStandard.region_clause(region_ids))
        )

    @classmethod
    def customer_clause(cls, customer_id: int) -> Any:
        return cls.standard_id.in_(
            select(ServiceStandard.id).where(ServiceStandard.customer_clause(customer_id))
        )


class StandardEvent(Base):
    """A confirmation, rejection, proposal or comment on a version (the joint-confirmation trail).

    ``customer_id`` names the customer on whose behalf a customer representative acted.
    """

    __tablename__ = "standard_event"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("standard_version.id", ondelete="CASCADE"), index=True)
    # proposed | provider_confirmed | customer_confirmed | rejected | need_confirmed | comment | reopened
    action: Mapped[str] = mapped_column(String(24))
    side: Mapped[str | None] = mapped_column(String(12))  # provider | customer
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    version: Mapped[StandardVersion] = relationship(back_populates="events")


# --- perception plan ----------------------------------------------------------------------------


class PlanItem(TimestampMixin, Base):
    """Perception plan line: a service perceived for a customer group/region by one means.

    ``region_id`` NULL and ``customer_id`` NULL = every region/customer receiving the service.
    """

    __tablename__ = "plan_item"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"), index=True)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("service_tier.id"))
    means: Mapped[str] = mapped_column(String(24))  # PERCEPTION_MEANS
    frequency: Mapped[str] = mapped_column(String(12))  # PLAN_FREQUENCIES
    sample_size: Mapped[int | None] = mapped_column(Integer)
    sample_share: Mapped[float | None] = mapped_column(Float)  # e.g. 0.1 of closed tickets
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    service: Mapped[Service] = relationship()

    @classmethod
    def region_clause(cls, region_ids: frozenset[int]) -> Any:
        return or_(cls.region_id.in_(region_ids), cls.region_id.is_(None))

    @classmethod
    def customer_clause(cls, customer_id: int) -> Any:
        """A representative's lines: their own, and the general lines of a service they receive
        in their region (or in every region)."""
        subscribed = select(Subscription.service_id).where(Subscription.customer_id == customer_id)
        home = select(CustomerOrg.region_id).where(CustomerOrg.id == customer_id).scalar_subquery()
        general = cls.customer_id.is_(None) & cls.service_id.in_(subscribed)
        return or_(
            cls.customer_id == customer_id, general & or_(cls.region_id.is_(None), cls.region_id == home)
        )


# SLA/OLA models live in their own module; importing them here keeps one import path for the phase.
from perception.setup.models.agreements import (  # noqa: E402
    AgreementKind,
    CommunicationPromise,
    EscalationRule,
    Sla,
    SlaHoliday,
    SlaIndicator,
    SlaReport,
    SlaService,
    SlaWorkday,
)

__all__ = [
    "IN_FORCE_STATUSES",
    "AgreementKind",
    "CommunicationPromise",
    "EscalationRule",
    "PerceptionSystem",
    "PlanItem",
    "ServiceRegion",
    "ServiceStandard",
    "ServiceStrategy",
    "Sla",
    "SlaHoliday",
    "SlaIndicator",
    "SlaReport",
    "SlaService",
    "SlaWorkday",
    "StandardEvent",
    "StandardVersion",
    "TrainingRecord",
]
