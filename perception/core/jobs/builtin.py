"""Jobs that belong to the platform rather than a phase."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from perception.core.jobs import job


@job("heartbeat")
def heartbeat(session: Session, **_: Any) -> bool:
    """Proves the scheduler and workers are alive; the ScheduledRun row is the evidence."""
    return session.execute(text("SELECT 1")).scalar() == 1


@job("purge_security_records")
def purge_security_records(session: Session, **_: Any) -> int:
    """Forget ended sessions and stale throttle windows; neither is needed a day later."""
    from perception.core import sessions, throttle
    from perception.core.models.base import utcnow

    now = utcnow()
    return sessions.purge(session, now) + throttle.purge(session, now - timedelta(days=1))


@job("probe")
def probe(session: Session, steps: int = 5, seconds: float = 1.0, **_: Any) -> dict[str, Any]:
    """Proves a worker runs jobs end to end: ``steps`` steps of ``seconds`` each, reporting progress
    (``perception jobs probe``; the fault tests kill a worker in the middle of one)."""
    import time

    from perception.core.jobs.progress import report

    for done in range(steps):
        report("probe", done, steps)
        time.sleep(seconds)
    report("probe", steps, steps)
    return {"steps": steps, "database": session.execute(text("SELECT 1")).scalar() == 1}
