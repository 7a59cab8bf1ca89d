"""Bookkeeping for background jobs.

- ``ScheduledRun``: one row per (periodic job, time slot) makes each slot run once across nodes.
- ``Job``: the outbox and the state of every background job. The row is written in the same
  transaction as the work that asks for it and dispatched (to Redis, or to a thread of the
  service) once that transaction commits; a job whose dispatch failed (Redis down) or whose worker
  died (its lease ran out) is dispatched again by the sweep, with back-off, up to ``max_attempts``.
  The page where a job's result is expected reads its state here, whichever node ran it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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


class JobStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker (again, after a failed attempt: ``due_at`` says when)
    RUNNING = "running"  # a worker holds it until ``lease_until`` (renewed while it runs)
    DONE = "done"
    FAILED = "failed"  # every attempt failed; ``error`` says why


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_due_at", "status", "due_at"),)

    # Chosen by ``enqueue`` before the row is written, so the caller can store or return it at once.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the job produces, where a page looks for it (e.g. "review_pdf:7:zh"); None for chores.
    subject: Mapped[str | None] = mapped_column(String(120), index=True)
    status: Mapped[str] = mapped_column(String(12), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # attempts started so far
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    due_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # not to start before
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)  # last re-dispatch by the sweep
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    step: Mapped[str | None] = mapped_column(String(80))  # progress: the step under way
    done: Mapped[int] = mapped_column(Integer, default=0)  # progress: steps finished ...
    total: Mapped[int] = mapped_column(Integer, default=0)  # ... of this many (0: not known)
    error: Mapped[str | None] = mapped_column(Text)  # why the last attempt failed
    result: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def retries(self) -> int:
        """How many times the job was started again after a failed or lost attempt."""
        return max(self.attempts - 1, 0)

    @property
    def active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)
