"""Bookkeeping for periodic jobs: one row per (job, time slot) makes each slot run once across nodes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from perception.core.models.base import Base, utcnow


class ScheduledRun(Base):
    __tablename__ = "scheduled_run"
    __table_args__ = (UniqueConstraint("job_name", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(80))
    slot: Mapped[str] = mapped_column(String(40))  # e.g. "2026-W47" or "2026-11-21T05"
    enqueued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="enqueued")
    detail: Mapped[str | None] = mapped_column(Text)
