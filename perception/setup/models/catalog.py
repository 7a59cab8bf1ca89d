"""The service catalogue core shared by every phase: services, tiers and customer subscriptions.

Setup (phase 1) manages them; tickets, surveys, collection and analysis refer to them.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.models.base import Base, TimestampMixin


class ServiceKind(enum.StrEnum):
    REACTIVE = "reactive"  # 受理服务: started by the customer (requests, incidents)
    PROACTIVE = "proactive"  # 主动服务: started by the provider (inspections, reminders, training)


class Service(TimestampMixin, Base):
    __tablename__ = "service"
    __audited__ = True
    __region_free__ = True  # the catalogue itself is visible to every region
    __customer_visible__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default=ServiceKind.REACTIVE.value)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="service")


class ServiceTier(TimestampMixin, Base):
    """A service package level (platinum / gold / silver); rank 1 is the highest."""

    __tablename__ = "service_tier"
    __audited__ = True
    __region_free__ = True
    __customer_visible__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    rank: Mapped[int] = mapped_column(Integer, default=1)


class Subscription(TimestampMixin, Base):
    """A customer organisation receives a service at a tier (in the customer's region)."""

    __tablename__ = "subscription"
    __audited__ = True
    __table_args__ = (UniqueConstraint("customer_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_org.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("service_tier.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)

    service: Mapped[Service] = relationship(back_populates="subscriptions")
    tier: Mapped[ServiceTier | None] = relationship()

    @classmethod
    def customer_clause(cls, customer_id: int) -> Any:
        return cls.customer_id == customer_id
