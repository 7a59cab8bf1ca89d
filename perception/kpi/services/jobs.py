"""Background jobs of the KPI phase (the escalation job lives with its logic in kpi_escalation).

``compute_kpis`` recomputes the weekly ticket KPIs of the last ``weeks`` weeks (the current,
partial week included) so the KPI values follow ticket imports; it runs daily from
perception.core.jobs.schedule, after an import from the web page, or from ``perception kpi compute``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from perception.core.jobs import job
from perception.core.models.base import utcnow
from perception.core.periods import week_start
from perception.kpi.services.compute import ComputeSummary, compute_kpis


def recent_weeks(today: date, weeks: int) -> tuple[date, date]:
    """[Monday ``weeks`` weeks before this week, next Monday)."""
    this_week = week_start(today)
    return this_week - timedelta(weeks=weeks), this_week + timedelta(weeks=1)


def recompute_recent(
    session: Session, weeks: int = 26, now: datetime | None = None, region_ids: frozenset[int] | None = None
) -> ComputeSummary:
    moment = now or utcnow()
    start, end = recent_weeks(moment.date(), weeks)
    return compute_kpis(session, start, end, region_ids=region_ids, as_of=moment)


@job("compute_kpis")
def compute_kpis_job(session: Session, weeks: int = 26, now: str | None = None, **_: Any) -> int:
    moment = datetime.fromisoformat(now).replace(tzinfo=None) if now else None
    return recompute_recent(session, int(weeks), moment).values
