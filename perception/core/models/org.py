"""The organisation: regions, their collection points, customer organisations and contacts."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.base import Base, TimestampMixin


class Region(TimestampMixin, Base):
    """A province/region with its own operations team; the unit of region scoping."""

    __tablename__ = "region"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)

    collection_points: Mapped[list[CollectionPoint]] = relationship(back_populates="region")
    customers: Mapped[list[CustomerOrg]] = relationship(back_populates="region")

    @classmethod
    def region_clause(cls, region_ids: frozenset[int]) -> Any:
        return cls.id.in_(region_ids)


class CollectionPoint(TimestampMixin, Base):
    """A business group / regional team that collects for its own customer group (采集点)."""

    __tablename__ = "collection_point"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", use_alter=True), nullable=True)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", use_alter=True), nullable=True)
    # Weekly report deadline, read in the region's time zone (ISO weekday 1=Monday).
    report_due_weekday: Mapped[int] = mapped_column(Integer, default=1)
    report_due_time: Mapped[time] = mapped_column(Time, default=time(12, 0))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The first day the point reports weekly (None: always did). Weeks before it are not counted
    # as missing: a point set up in June has no reports to miss in January.
    active_from: Mapped[date | None] = mapped_column(Date, nullable=True)

    region: Mapped[Region] = relationship(back_populates="collection_points")


class CustomerOrg(TimestampMixin, Base):
    """A customer organisation (perception object's owner); belongs to one primary region."""

    __tablename__ = "customer_org"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    industry: Mapped[str | None] = mapped_column(String(80))

    region: Mapped[Region] = relationship(back_populates="customers")
    contacts: Mapped[list[Contact]] = relationship(back_populates="customer")

    @classmethod
    def customer_clause(cls, customer_id: int) -> Any:
        return cls.id == customer_id


class Contact(TimestampMixin, Base):
    """A person at a customer organisation who can be surveyed or called back."""

    __tablename__ = "contact"
    __audited__ = True
    __table_args__ = (UniqueConstraint("customer_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_org.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8), default="zh_CN")
    title: Mapped[str | None] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(Text)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime)

    customer: Mapped[CustomerOrg] = relationship(back_populates="contacts")
