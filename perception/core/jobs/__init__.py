"""Background jobs.

A job is a function ``(session, **kwargs)`` registered with ``@job("name")``; like every service
it flushes and never commits. ``enqueue()`` writes a ``Job`` row in the caller's transaction (a
transactional outbox: the job exists exactly when the work that asked for it committed) and, once
that transaction has committed, dispatches it: to Redis (RQ) when PERCEPTION_REDIS_URL is set,
else to a background thread of the service, never inside the request. A dispatch that fails
(Redis down) loses nothing: the sweep sends the row again (perception.core.jobs.runner).

Where no request waits (a CLI command, a job asking for another), or with ``JOBS_BACKGROUND``
off (the test suite's rolled-back database, which another connection cannot see), a job without
Redis runs at once inside the caller's transaction, as before.

A job retries with back-off when it fails or its worker dies (perception.core.jobs.store); its
row says where it stands (queued, running with progress, done, failed with the reason, retried n
times), and ``latest_for(subject)`` finds it from the page where its result is expected.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import current_app, has_request_context
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.core.models.jobs import Job, JobStatus
from perception.core.phase import Periodic

JobFunc = Callable[..., Any]
JOBS: dict[str, JobFunc] = {}
# Who besides the user who asked may watch a job's state: holders of this permission (by name).
WATCHERS: dict[str, str] = {}


def job(name: str, *, watch: str | None = None) -> Callable[[JobFunc], JobFunc]:
    def register(func: JobFunc) -> JobFunc:
        if name in JOBS and JOBS[name] is not func:
            raise ValueError(f"job {name!r} registered twice")
        JOBS[name] = func
        if watch is not None:
            WATCHERS[name] = watch
        return func

    return register


def queue() -> Any:
    from perception.core.jobs.runner import redis_queue

    return redis_queue(current_app)


def in_background() -> bool:
    """Whether ``enqueue`` hands jobs to a worker or thread (else it runs them at once)."""
    if current_app.config.get("REDIS_URL"):
        return True
    return has_request_context() and bool(current_app.config.get("JOBS_BACKGROUND", True))


def enqueue(
    name: str,
    *,
    job_subject: str | None = None,
    job_requested_by: int | None = None,
    job_max_attempts: int | None = None,
    **kwargs: Any,
) -> str | None:
    """Ask for job ``name``. Returns the job's id when it runs in the background (the id is chosen
    here, so the caller can store or return it before the job exists), None when it ran now.

    ``job_subject`` names what the job produces, so the page that shows it finds the job's state
    (``latest_for``); ``job_requested_by`` is the user who asked (who may see and restart it).
    The other keyword arguments are the job's own. The job is dispatched once the caller's
    transaction has committed, so a worker never starts before the data it needs is there, and a
    rolled-back request asks for nothing.
    """
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}")
    from perception.core.extensions import orm

    session = orm()
    if not in_background():
        run_now(session, name, **kwargs)
        return None
    from perception.core.transaction import after_commit, commit_apart, request_transaction_writable

    job_id = uuid.uuid4().hex
    now = utcnow()
    row = Job(
        id=job_id,
        name=name,
        kwargs=kwargs,
        subject=job_subject,
        requested_by_id=job_requested_by,
        max_attempts=job_max_attempts or int(current_app.config["JOB_MAX_ATTEMPTS"]),
        status=JobStatus.QUEUED,
        attempts=0,
        due_at=now,
        dispatched_at=now,  # dispatched after commit; the sweep re-sends it if that is lost
        created_at=now,
    )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not request_transaction_writable():
        # A reading page (or an after-commit hook) asks for a chore: its own short transaction.
        commit_apart(lambda apart: apart.add(row))
        _dispatch_or_leave(app, job_id)
        return job_id
    session.add(row)
    session.flush()
    after_commit(lambda: _dispatch_or_leave(app, job_id))
    return job_id


def _dispatch_or_leave(app: Any, job_id: str) -> None:
    """After the commit: a dispatch that fails (Redis down) leaves the row queued for the sweep,
    and does not turn the caller's committed work into an error."""
    from perception.core.jobs.runner import dispatch

    try:
        dispatch(app, [job_id])
    except Exception:  # noqa: BLE001 - the row is committed; the sweep sends it again
        app.logger.warning(
            "job %s committed but not dispatched; the sweep will send it", job_id, exc_info=True
        )


def run_now(session: Session, name: str, **kwargs: Any) -> Any:
    return JOBS[name](session, **kwargs)


def latest_for(subject: str) -> Job | None:
    from perception.core.extensions import orm
    from perception.core.jobs.store import latest_for as latest

    return latest(orm(), subject)


# The platform's own periodic jobs; each phase lists its own in its phase().
PLATFORM_PERIODIC: tuple[Periodic, ...] = (
    Periodic("heartbeat", "hourly"),
    Periodic("purge_security_records", "hourly"),
    Periodic("deliver_due_webhooks", "hourly"),  # webhook retries not yet sent by a worker
)

# The platform's jobs register here, like a phase's do when its phase() imports them.
from perception.core import mail, webhooks  # noqa: E402,F401  (send_email; deliver_webhook, deliver_due_webhooks)
from perception.core.jobs import builtin  # noqa: E402,F401  (heartbeat)
