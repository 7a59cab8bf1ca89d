"""SLA and OLA models (phase 1, setup): the agreement with its covered hours, the services it
covers, customer-defined holidays, indicators, communication promises, escalation rules and
reporting. Re-exported by perception.setup.models.standards, where the other setup models live.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, String, Text, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.base import Base, TimestampMixin
from perception.core.models.org import CustomerOrg
from perception.setup.models.catalog import ServiceTier

if TYPE_CHECKING:
    from perception.setup.models.standards import ServiceStandard


class AgreementKind(enum.StrEnum):
    SLA = "sla"  # with the customer
    OLA = "ola"  # internal, supporting an SLA


def _customer_region_ids(region_ids: frozenset[int]) -> Any:
    return select(CustomerOrg.id).where(CustomerOrg.region_id.in_(region_ids))


class Sla(TimestampMixin, Base):
    """A service level agreement (kind ``sla``) or an internal OLA (kind ``ola``, ``supports_sla_id``).

    Scope: the services in ``services``; ``customer_id`` NULL = every customer of those services
    (restricted to ``tier_id`` when set). Covered hours use scoring.calendar text
    (``24x7`` or ``mon-fri 09:00-18:00``) in ``timezone`` minus ``holidays``.
    """

    __tablename__ = "sla"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(8), default=AgreementKind.SLA)
    supports_sla_id: Mapped[int | None] = mapped_column(ForeignKey("sla.id"))
    team_zh: Mapped[str | None] = mapped_column(String(200))  # OLA: the internal team
    team_en: Mapped[str | None] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    definition_zh: Mapped[str | None] = mapped_column(Text)  # the service-level definition
    definition_en: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"), index=True)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("service_tier.id"))
    covered_hours: Mapped[str] = mapped_column(String(200), default="24x7")
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    services: Mapped[list[SlaService]] = relationship(back_populates="sla", cascade="all, delete-orphan")
    holidays: Mapped[list[SlaHoliday]] = relationship(
        back_populates="sla", cascade="all, delete-orphan", order_by="SlaHoliday.day"
    )
    workdays: Mapped[list[SlaWorkday]] = relationship(
        back_populates="sla", cascade="all, delete-orphan", order_by="SlaWorkday.day"
    )
    indicators: Mapped[list[SlaIndicator]] = relationship(
        back_populates="sla", cascade="all, delete-orphan", order_by="SlaIndicator.id"
    )
    promises: Mapped[list[CommunicationPromise]] = relationship(
        back_populates="sla", cascade="all, delete-orphan", order_by="CommunicationPromise.id"
    )
    escalations: Mapped[list[EscalationRule]] = relationship(
        back_populates="sla", cascade="all, delete-orphan", order_by="EscalationRule.after_minutes"
    )
    reports: Mapped[list[SlaReport]] = relationship(
        back_populates="sla", cascade="all, delete-orphan", order_by="SlaReport.id"
    )
    customer: Mapped[CustomerOrg | None] = relationship()
    tier: Mapped[ServiceTier | None] = relationship()
    supports: Mapped[Sla | None] = relationship(remote_side="Sla.id")

    @property
    def service_ids(self) -> list[int]:
        return [link.service_id for link in self.services]

    @classmethod
    def region_clause(cls, region_ids: frozenset[int]) -> Any:
        return or_(cls.customer_id.is_(None), cls.customer_id.in_(_customer_region_ids(region_ids)))

    @classmethod
    def customer_clause(cls, customer_id: int) -> Any:
        return or_(cls.customer_id == customer_id, cls.customer_id.is_(None)) & (
            cls.kind == AgreementKind.SLA
        )


class SlaService(Base):
    __tablename__ = "sla_service"
    __audited__ = True
    __table_args__ = (UniqueConstraint("sla_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sla_id: Mapped[int] = mapped_column(ForeignKey("sla.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)

    sla: Mapped[Sla] = relationship(back_populates="services")


class SlaHoliday(Base):
    """A customer-defined holiday (local date) without coverage."""

    __tablename__ = "sla_holiday"
    __audited__ = True
    __table_args__ = (UniqueConstraint("sla_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sla_id: Mapped[int] = mapped_column(ForeignKey("sla.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str | None] = mapped_column(String(120))

    sla: Mapped[Sla] = relationship(back_populates="holidays")


class SlaWorkday(Base):
    """A make-up working day (调休, local date): worked on a regular working day's hours whatever its
    weekday, e.g. the Saturday after China's National Day week (scoring.calendar, ``workdays``)."""

    __tablename__ = "sla_workday"
    __audited__ = True
    __table_args__ = (UniqueConstraint("sla_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sla_id: Mapped[int] = mapped_column(ForeignKey("sla.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str | None] = mapped_column(String(120))

    sla: Mapped[Sla] = relationship(back_populates="workdays")


class SlaIndicator(Base):
    """An indicator with its target; linked to a standard when one measures it."""

    __tablename__ = "sla_indicator"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    sla_id: Mapped[int] = mapped_column(ForeignKey("sla.id", ondelete="CASCADE"), index=True)
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("service_standard.id"))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    comparator: Mapped[str | None] = mapped_column(String(2))
    target: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(16))

    sla: Mapped[Sla] = relationship(back_populates="indicators")
    standard: Mapped[ServiceStandard | None] = relationship()


class CommunicationPromise(Base):
    """E.g. call back within 5 minutes of a report."""

    __tablename__ = "communication_promise"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    sla_id: Mapped[int] = mapped_column(ForeignKey("sla.id", ondelete="CASCADE"), index=True)
    description_zh: Mapped[str] = mapped_column(String(300))
    description_en: Mapped[str] = mapped_column(String(300))
    within_minutes: Mapped[float | None] = mapped_column(Float)
    channel: Mapped[str | None] = mapped_column(String(32))

    sla: Mapped[Sla] = relationship(back_populates="promises")


class EscalationRule(Base):
    """Not recovered after ``after_minutes`` of covered time: notify these roles/addresses."""

    __tablename__ = "escalation_rule"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    sla_id: Mapped[int] = mapped_column(ForeignKey("sla.id", ondelete="CASCADE"), index=True)
    after_minutes: Mapped[float] = mapped_column(Float)
    # Comma-separated: role names such as provider_project_manager, customer_regional_manager.
    notify_roles: Mapped[str] = mapped_column(String(300), default="")
    notify_emails: Mapped[str] = mapped_column(String(500), default="")
    description_zh: Mapped[str | None] = mapped_column(String(300))
    description_en: Mapped[str | None] = mapped_column(String(300))

    sla: Mapped[Sla] = relationship(back_populates="escalations")

    @property
    def roles(self) -> list[str]:
        return [r.strip() for r in self.notify_roles.split(",") if r.strip()]

    @property
    def emails(self) -> list[str]:
        return [e.strip() for e in self.notify_emails.split(",") if e.strip()]


class SlaReport(Base):
    """Reporting: e.g. a monthly SLA-failure report to the project managers."""

    __tablename__ = "sla_report"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    sla_id: Mapped[int] = mapped_column(ForeignKey("sla.id", ondelete="CASCADE"), index=True)
    frequency: Mapped[str] = mapped_column(String(12))  # REPORT_FREQUENCIES
    recipients: Mapped[str] = mapped_column(String(300))  # comma-separated roles/addresses
    description_zh: Mapped[str | None] = mapped_column(String(300))
    description_en: Mapped[str | None] = mapped_column(String(300))

    sla: Mapped[Sla] = relationship(back_populates="reports")
