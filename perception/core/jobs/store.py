"""The job rows' life: claim, finish, fail and retry with back-off, and the sweep that recovers
jobs whose dispatch or worker was lost. Each function takes a session and flushes; the runner and
the sweep own the transactions (perception.core.jobs.runner).

Every change of state is one conditional UPDATE, so two workers, or a worker and the sweep of
another node, can never both own a job: only the one whose UPDATE matched goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from perception.core.jobs.progress import read_file_beat, uses_files
from perception.core.models.jobs import Job, JobStatus

LOST = "The worker stopped during attempt {n} (killed or restarted)."


@dataclass(frozen=True)
class Timing:
    """How jobs are retried and watched (JOB_* settings)."""

    lease_seconds: float = 60.0
    retry_base_seconds: float = 10.0
    redispatch_seconds: float = 60.0
    keep_finished_seconds: float = 7 * 86400.0

    def backoff(self, attempts: int) -> timedelta:
        """After the n-th failed attempt wait base * 2^(n-1): 10 s, 20 s, 40 s, ..."""
        return timedelta(seconds=self.retry_base_seconds * 2 ** max(attempts - 1, 0))


def timing(app: Flask) -> Timing:
    return Timing(
        lease_seconds=float(app.config["JOB_LEASE_SECONDS"]),
        retry_base_seconds=float(app.config["JOB_RETRY_BASE_SECONDS"]),
        redispatch_seconds=float(app.config["JOB_REDISPATCH_SECONDS"]),
        keep_finished_seconds=float(app.config["JOB_KEEP_FINISHED_SECONDS"]),
    )


def _change(session: Session, *where: Any, **values: Any) -> bool:
    stmt = update(Job).where(*where).values(**values).execution_options(synchronize_session=False)
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def claim(session: Session, job_id: str, now: datetime, lease_seconds: float) -> Job | None:
    """Make the job ours (queued and due -> running, one more attempt); None when it is not
    waiting (already running elsewhere, done, or not due yet)."""
    owned = _change(
        session,
        Job.id == job_id,
        Job.status == JobStatus.QUEUED,
        Job.due_at <= now + timedelta(seconds=1),
        status=JobStatus.RUNNING,
        attempts=Job.attempts + 1,
        started_at=now,
        lease_until=now + timedelta(seconds=lease_seconds),
        step=None,
        done=0,
        total=0,
    )
    if not owned:
        return None
    session.expire_all()
    return session.get(Job, job_id)


def finish(
    session: Session, job_id: str, now: datetime, result: Any, progress: tuple[str | None, int, int]
) -> None:
    """In the job's own transaction: done exactly when its work commits (with its last progress)."""
    step, done, total = progress
    _change(
        session,
        Job.id == job_id,
        status=JobStatus.DONE,
        finished_at=now,
        lease_until=None,
        result=result,
        step=step,
        done=done,
        total=total,
    )


def fail(session: Session, job_id: str, now: datetime, reason: str, rules: Timing) -> Job | None:
    """An attempt failed: queue the job again after its back-off, or fail it for good once it has
    had ``max_attempts``. Returns the job."""
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        return None
    job.error = reason[:4000]
    job.lease_until = None
    if job.attempts >= job.max_attempts:
        job.status = JobStatus.FAILED
        job.finished_at = now
    else:
        job.status = JobStatus.QUEUED
        job.due_at = now + rules.backoff(job.attempts)
        job.dispatched_at = None
    session.flush()
    return job


def _lost(app: Flask, engine: Engine, job: Job, now: datetime, rules: Timing) -> bool:
    """A running job whose lease ran out; on SQLite its beat file may have renewed it."""
    if job.lease_until is not None and job.lease_until >= now:
        return False
    if uses_files(engine):
        beat = read_file_beat(app, job.id)
        if beat is not None and beat.at + timedelta(seconds=rules.lease_seconds) >= now:
            return False
    return True


def sweep(session: Session, app: Flask, engine: Engine, now: datetime, rules: Timing) -> list[str]:
    """Recover lost jobs; returns the ids to dispatch once this transaction has committed.

    - A running job whose worker stopped renewing its lease failed that attempt: it is queued
      again with back-off (or failed for good after its last attempt).
    - A queued job that is due and was not dispatched lately is dispatched: its back-off is over
      (``dispatched_at`` is None), or its dispatch after commit was lost (Redis was down, the
      process that held it in a thread ended) ``redispatch_seconds`` ago.
    """
    running = session.scalars(select(Job).where(Job.status == JobStatus.RUNNING, Job.lease_until < now)).all()
    for job in running:
        if _lost(app, engine, job, now, rules):
            lease_until = job.lease_until
            still_ours = _change(
                session,
                Job.id == job.id,
                Job.status == JobStatus.RUNNING,
                Job.lease_until == lease_until,
                lease_until=None,
            )
            if still_ours:
                fail(session, job.id, now, LOST.format(n=job.attempts), rules)
    quiet_since = now - timedelta(seconds=rules.redispatch_seconds)
    due = session.scalars(
        select(Job.id).where(
            Job.status == JobStatus.QUEUED,
            Job.due_at <= now,
            or_(Job.dispatched_at.is_(None), Job.dispatched_at <= quiet_since),
        )
    ).all()
    if due:
        _change(session, Job.id.in_(due), dispatched_at=now)
    # Finished jobs are kept a while for the pages that show them, then forgotten (their
    # arguments may name people; the audit log is the lasting record).
    session.execute(
        delete(Job).where(
            Job.status.in_((JobStatus.DONE, JobStatus.FAILED)),
            Job.finished_at < now - timedelta(seconds=rules.keep_finished_seconds),
        )
    )
    return list(due)


def latest_for(session: Session, subject: str) -> Job | None:
    """The newest job that produces ``subject``: its state is shown where its result is expected."""
    return session.scalar(
        select(Job).where(Job.subject == subject).order_by(Job.created_at.desc(), Job.id.desc()).limit(1)
    )
