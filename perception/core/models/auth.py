"""Users, their roles, API tokens, signed-in sessions and throttle counters."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.models.base import Base, TimestampMixin, utcnow

if TYPE_CHECKING:
    from perception.core.models.org import Region


class Role(enum.StrEnum):
    """Roles from the domain (DOMAIN.md, 'roles'). A user may hold several."""

    SYSTEM_OWNER = "system_owner"  # 体系负责人: administers the perception system
    COLLECTOR = "collector"  # belongs to exactly one collection point / region
    ORGANISER = "organiser"  # consolidates collection reports
    ANALYST = "analyst"
    MANAGER = "manager"
    REVIEWER = "reviewer"
    MARKET = "market"  # market-expansion department (市场拓展部门)
    CUSTOMER_REP = "customer_rep"  # belongs to one customer organisation; confirms standards


class User(TimestampMixin, Base):
    __tablename__ = "user"
    __audited__ = True
    # Never copy secrets into the audit log's before/after images.
    __audit_exclude__ = frozenset({"password_hash", "session_version", "last_login_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set for a collector (their collection point's region) or any region-bound user:
    # a user with a region sees only that region's objects.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    collection_point_id: Mapped[int | None] = mapped_column(ForeignKey("collection_point.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"))
    # Bumped on password reset or deactivation so existing sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    region: Mapped[Region | None] = relationship(foreign_keys=[region_id], lazy="joined")
    role_links: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(link.role) for link in self.role_links)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


class UserRole(Base):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="role_links")


# The regions an API key is narrowed to (none: not narrowed by region).
api_token_region = Table(
    "api_token_region",
    Base.metadata,
    Column("token_id", ForeignKey("api_token.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("region.id", ondelete="CASCADE"), primary_key=True),
)


class ApiToken(Base):
    """A Bearer token for the JSON API. Only a SHA-256 hash of the secret is stored."""

    __tablename__ = "api_token"
    __audited__ = True
    __audit_exclude__ = frozenset({"token_hash", "last_used_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))  # shown to people to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Scope (perception.core.authz.KeyScope): a key acts with at most its user's rights, narrowed
    # to these roles (comma-separated; empty: all of the user's), the regions of
    # api_token_region (none: every region the user sees), one customer, and to reading only
    # when read_only is set.
    scope_roles: Mapped[str] = mapped_column(String(400), default="", server_default="")
    scope_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"))
    read_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship()
    scope_regions: Mapped[list[Region]] = relationship(secondary=api_token_region, order_by="Region.code")

    @property
    def scope_region_ids(self) -> frozenset[int]:
        return frozenset(r.id for r in self.scope_regions)


class UserSession(Base):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored. Sign-out,
    a password change or a disabled account revokes the row, which every node reads."""

    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # the absolute lifetime
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class ThrottleCounter(Base):
    """Failures under one key (an account, an address, a device) in a fixed window, shared by
    every process and node; ``perception.core.throttle`` changes it in one atomic statement."""

    __tablename__ = "throttle_counter"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime, index=True)
    hits: Mapped[int] = mapped_column(Integer)
