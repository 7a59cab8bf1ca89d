"""The job a service-desk event leaves behind: recompute the weekly KPIs of the changed ticket's weeks
in its region (the daily job recomputes everything anyway; this makes the change visible now)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from perception.core.clock import current_clock
from perception.core.jobs import job
from perception.core.periods import week_start
from perception.kpi.services.compute import compute_kpis


@job("compute_ticket_kpis")
def compute_ticket_kpis(session: Session, region_id: int, opened_at: str, **_: Any) -> int:
    now = current_clock().now()
    start = week_start(datetime.fromisoformat(opened_at).date())
    end = week_start(current_clock().today()) + timedelta(weeks=1)
    return compute_kpis(session, start, end, region_ids=frozenset({int(region_id)}), as_of=now).values
