"""Service-desk connections and the events they post (the intake of tickets as they happen).

- ``IntakeConnection``: one service desk (ServiceNow, Jira Service Management, Zammad, GLPI or the
  generic JSON shape) with the shared secret that signs its requests and the service and customer
  its tickets belong to when the payload does not say.
- ``IntakeEvent``: every authenticated event received, with what became of it: ``applied`` (the
  ticket was created or updated), ``duplicate`` (the same ticket update again: a retry or a
  replay), ``stale`` (older than what is stored: out of order), ``dead`` (malformed or unknown:
  kept with its body and the reason, for an owner to inspect and replay) or ``replayed`` (a dead
  event an owner replayed successfully). The source's update time per ticket decides idempotency
  and order, so no process memory is involved and any node may receive any event.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.models.base import Base, utcnow


class IntakeKind(enum.StrEnum):
    SERVICENOW = "servicenow"
    JIRA = "jira"
    ZAMMAD = "zammad"
    GLPI = "glpi"
    GENERIC = "generic"


class EventStatus(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    DEAD = "dead"
    REPLAYED = "replayed"


class IntakeConnection(Base):
    __tablename__ = "intake_connection"
    __audited__ = True
    __audit_exclude__ = frozenset({"secret"})  # the audit log records that it changed, never its value
    __region_free__ = True  # an owner's setting; its tickets carry their own regions

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # IntakeKind
    secret: Mapped[str] = mapped_column(String(128))  # HMAC key: must be readable to verify requests
    default_service: Mapped[str | None] = mapped_column(String(64))  # a service code
    default_customer: Mapped[str | None] = mapped_column(String(64))  # a customer code
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class IntakeEvent(Base):
    __tablename__ = "intake_event"
    __region_free__ = True  # only owners list them
    __table_args__ = (Index("ix_intake_event_connection_ticket", "connection_id", "ticket_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("intake_connection.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(12), index=True)  # EventStatus
    event_type: Mapped[str | None] = mapped_column(String(64))
    ticket_ref: Mapped[str | None] = mapped_column(String(64))  # the ticket's id in the service desk
    source_updated_at: Mapped[datetime | None] = mapped_column(DateTime)  # naive UTC
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    replayed_at: Mapped[datetime | None] = mapped_column(DateTime)

    connection: Mapped[IntakeConnection] = relationship()
