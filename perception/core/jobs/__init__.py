"""Background jobs.

A job is a function ``(session, **kwargs)`` registered with ``@job("name")``; like every service
it flushes and never commits. ``enqueue()`` sends it to Redis (RQ) when PERCEPTION_REDIS_URL is
set, where a worker runs it in its own transaction; otherwise it runs in-process, inside the
caller's transaction, so the embedded default needs no server and a failure rolls back together
with the request that asked for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from perception.core.phase import Periodic

JobFunc = Callable[..., Any]
JOBS: dict[str, JobFunc] = {}


def job(name: str) -> Callable[[JobFunc], JobFunc]:
    def register(func: JobFunc) -> JobFunc:
        if name in JOBS and JOBS[name] is not func:
            raise ValueError(f"job {name!r} registered twice")
        JOBS[name] = func
        return func

    return register


def queue() -> Any:
    from redis import Redis
    from rq import Queue

    conn = Redis.from_url(current_app.config["REDIS_URL"])
    return Queue(current_app.config["RQ_QUEUE"], connection=conn)


def enqueue(name: str, **kwargs: Any) -> str | None:
    """Run job ``name``: on the Redis queue if configured (returns the RQ job id), else now.

    On Redis the job is sent once the caller's transaction has committed (an after-commit hook),
    so a worker never starts before the data it needs is there, and a rolled-back request sends
    nothing. The id is chosen here, so the caller can store it before the job exists.
    """
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}")
    if current_app.config.get("REDIS_URL"):
        from perception.core.transaction import after_commit

        job_id = uuid.uuid4().hex
        send = queue().enqueue
        after_commit(
            lambda: send("perception.core.jobs.worker.run_job", name, kwargs, job_timeout=1800, job_id=job_id)
        )
        return job_id
    from perception.core.extensions import orm

    JOBS[name](orm(), **kwargs)
    return None


def run_now(session: Session, name: str, **kwargs: Any) -> Any:
    return JOBS[name](session, **kwargs)


# The platform's own periodic jobs; each phase lists its own in its phase().
PLATFORM_PERIODIC: tuple[Periodic, ...] = (
    Periodic("heartbeat", "hourly"),
    Periodic("purge_security_records", "hourly"),
    Periodic("deliver_due_webhooks", "hourly"),  # webhook retries not yet sent by a worker
)

# The platform's jobs register here, like a phase's do when its phase() imports them.
from perception.core import mail, webhooks  # noqa: E402,F401  (send_email; deliver_webhook, deliver_due_webhooks)
from perception.core.jobs import builtin  # noqa: E402,F401  (heartbeat)
