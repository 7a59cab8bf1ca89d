"""Background jobs of the KPI phase and the recomputation they share with the pages and the CLI.

``compute_kpis`` recomputes the weekly ticket KPIs of the last ``weeks`` weeks (the current,
partial week included) so the KPI values follow ticket imports; it runs daily from
perception.core.jobs.schedule, after an import from the web page, or from ``perception kpi compute``.
``refresh_kpi_cumulative`` rebuilds the running sums of the weekly KPI values (hourly) when a write
other than a computation or an import left them stale (perception.kpi.services.kpi_cumulative);
``refresh_kpi_week_sums`` likewise their weekly sums over the regions (kpi_week_sums).
``check_escalations`` fires due SLA escalations and closes recovered ones (perception.kpi.services.
escalation); hourly from the schedule, or ``perception kpi escalate`` from cron.

A job is an entry point like a view or a CLI command: it takes the organisation's clock from the
settings (``current_clock()``) and hands it to the operations, which never read the settings.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from perception.core.clock import Clock, current_clock
from perception.core.jobs import job
from perception.core.periods import week_start
from perception.kpi.services.compute import ComputeSummary, compute_kpis
from perception.kpi.services.escalation import check_escalations, mark_recovered
from perception.kpi.services.kpi_cumulative import refresh_cumulative
from perception.kpi.services.kpi_week_sums import refresh_week_sums


def recent_weeks(today: date, weeks: int) -> tuple[date, date]:
    """[Monday ``weeks`` weeks before this week, next Monday)."""
    this_week = week_start(today)
    return this_week - timedelta(weeks=weeks), this_week + timedelta(weeks=1)


def recompute_recent(
    session: Session, weeks: int = 26, *, clock: Clock, region_ids: frozenset[int] | None = None
) -> ComputeSummary:
    """Recompute the last ``weeks`` weeks up to the organisation's current week, as of now."""
    start, end = recent_weeks(clock.today(), weeks)
    return compute_kpis(session, start, end, region_ids=region_ids, as_of=clock.now())


def _moment(now: str | None) -> datetime | None:
    """A job argument's ISO moment as naive UTC (the form stored and compared)."""
    if not now:
        return None
    moment = datetime.fromisoformat(now)
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


@job("compute_kpis")
def compute_kpis_job(session: Session, weeks: int = 26, now: str | None = None, **_: Any) -> int:
    clock = current_clock()
    moment = _moment(now)
    if moment is not None:
        clock = replace(clock, fixed_now=moment)
    return recompute_recent(session, int(weeks), clock=clock).values


@job("refresh_kpi_cumulative")
def refresh_kpi_cumulative_job(session: Session, **_: Any) -> int | None:
    """Rebuild the weekly KPI values' running sums when stale; the rows written, or None."""
    return refresh_cumulative(session)


@job("refresh_kpi_week_sums")
def refresh_kpi_week_sums_job(session: Session, **_: Any) -> int | None:
    """Group the weekly KPI values over the regions again when stale; the rows written, or None."""
    return refresh_week_sums(session)


@job("check_escalations")
def check_escalations_job(session: Session, now: str | None = None, **_: Any) -> int:
    """Fire due escalations, then close the recovered ones. Returns the number fired."""
    moment = _moment(now) or current_clock().now()
    fired = check_escalations(session, moment)
    mark_recovered(session, moment)
    return len(fired)
