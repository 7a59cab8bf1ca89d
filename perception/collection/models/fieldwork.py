"""Collection fieldwork beyond the weekly report: phone callbacks (电话回访), the sampling
comparison (抽样对比) and the stored result of comparing each feedback record and ticket with the
standard in force (反馈记录与标准对比).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.models.base import Base, utcnow
from perception.kpi.models import Ticket
from perception.setup.models.standards import StandardVersion  # noqa: F401  (standard_version table for the FK)

# --- phone callbacks -----------------------------------------------------------------------------


class CallbackOutcome(enum.StrEnum):
    NO_ANSWER = "no_answer"
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"
    COMPLETED = "completed"


class CallbackCampaign(Base):
    """A callback queue for one region: closed tickets of a period sampled at ``sampling_rate``,
    or a list of contacts; answered with the callback script (a survey version)."""

    __tablename__ = "callback_campaign"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(8), default="tickets")  # tickets | list
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)  # exclusive
    sampling_rate: Mapped[float] = mapped_column(Float, default=1.0)
    seed: Mapped[str] = mapped_column(String(32))
    survey_version_id: Mapped[int | None] = mapped_column(Integer)  # the callback script
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | closed
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    tasks: Mapped[list[CallbackTask]] = relationship(back_populates="campaign", order_by="CallbackTask.id")


class CallbackTask(Base):
    """One customer to call back (about a closed ticket, or from the campaign list)."""

    __tablename__ = "callback_task"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("campaign_id", "ticket_id"),
        UniqueConstraint("campaign_id", "source_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("callback_campaign.id", ondelete="CASCADE"), index=True
    )
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    engineer: Mapped[str | None] = mapped_column(String(120))  # who handled the ticket
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | CallbackOutcome
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    interviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    response_id: Mapped[int | None] = mapped_column(Integer)  # the stored survey response
    source_ref: Mapped[str | None] = mapped_column(String(64))  # the call's id in an imported history file

    campaign: Mapped[CallbackCampaign] = relationship(back_populates="tasks")
    ticket: Mapped[Ticket | None] = relationship()
    attempt_log: Mapped[list[CallbackAttempt]] = relationship(
        back_populates="task", order_by="CallbackAttempt.id", cascade="all, delete-orphan"
    )


class CallbackAttempt(Base):
    __tablename__ = "callback_attempt"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("callback_task.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    interviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))  # CallbackOutcome
    note: Mapped[str | None] = mapped_column(Text)

    task: Mapped[CallbackTask] = relationship(back_populates="attempt_log")


# --- sampling comparison -------------------------------------------------------------------------


class SamplingRun(Base):
    """A reproducible stratified random draw of closed tickets; seed, population digest and the
    method name let an auditor recompute exactly the same sample."""

    __tablename__ = "sampling_run"
    __audited__ = True
    __region_free__ = True  # spans regions; its sampled tickets are region-scoped

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # exclusive; tickets closed in [start, end)
    margin: Mapped[float] = mapped_column(Float)  # target margin of error e (share scale)
    confidence: Mapped[float] = mapped_column(Float, default=0.95)
    expected_share: Mapped[float] = mapped_column(Float, default=0.5)  # p in n0 = z^2 p(1-p)/e^2
    seed: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(32))
    population: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)
    population_digest: Mapped[str] = mapped_column(String(64))
    region_filter: Mapped[list[int] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    strata: Mapped[list[SamplingStratum]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="SamplingStratum.id"
    )


class SamplingStratum(Base):
    __tablename__ = "sampling_stratum"
    __table_args__ = (UniqueConstraint("run_id", "region_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sampling_run.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    population: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)

    run: Mapped[SamplingRun] = relationship(back_populates="strata")


class SampledTicket(Base):
    """A sampled ticket: what the ticket records next to what the customer confirms."""

    __tablename__ = "sampled_ticket"
    __audited__ = True
    __table_args__ = (UniqueConstraint("run_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sampling_run.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    draw_key: Mapped[str] = mapped_column(String(64))  # sha256(seed:ticket id), the rank used
    ticket_resolved: Mapped[bool] = mapped_column(Boolean)
    ticket_on_time: Mapped[bool | None] = mapped_column(Boolean)  # None: no standard to judge by
    confirmed_resolved: Mapped[bool | None] = mapped_column(Boolean)
    confirmed_on_time: Mapped[bool | None] = mapped_column(Boolean)
    confirmed_satisfied: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | confirmed | unreachable
    discrepancy: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)

    ticket: Mapped[Ticket] = relationship()


# --- feedback record / ticket vs standard --------------------------------------------------------


class CheckResult(enum.StrEnum):
    MEETS = "meets"
    MISSES = "misses"
    NOT_MEASURABLE = "not_measurable"


class StandardCheck(Base):
    """The comparison of one feedback entry or ticket with the confirmed standard in force for its
    service, tier and date. ``detail`` lists every standard that applied."""

    __tablename__ = "standard_check"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_standard_check_period", "period_start", "region_id", "service_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(12))  # feedback | ticket
    source_id: Mapped[int] = mapped_column(Integer)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("service_tier.id"))
    checked_on: Mapped[date] = mapped_column(Date)  # the date whose standard applied
    period_start: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(16))  # CheckResult
    standard_version_id: Mapped[int | None] = mapped_column(ForeignKey("standard_version.id"))
    standard_code: Mapped[str | None] = mapped_column(String(32))
    metric: Mapped[str | None] = mapped_column(String(40))
    value: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    comparator: Mapped[str | None] = mapped_column(String(2))
    detail: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    checked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
