"""Jobs that belong to the platform rather than a phase."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from perception.core.jobs import job


@job("heartbeat")
def heartbeat(session: Session, **_: Any) -> bool:
    """Proves the scheduler and workers are alive; the ScheduledRun row is the evidence."""
    return session.execute(text("SELECT 1")).scalar() == 1
