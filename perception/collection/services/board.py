"""Deadlines and completeness of the weekly reports: the organiser's board and the rate per region.

The deadline rule: the report for the ISO week starting Monday ``W`` is due on the collection
point's ``report_due_weekday`` (ISO 1 = Monday .. 7 = Sunday) at ``report_due_time`` of the
FOLLOWING week, read as wall-clock time in the region's time zone (``Region.timezone``), and
stored/compared as naive UTC. A wall-clock time that does not exist on a daylight-saving change
day is read with Python's ``zoneinfo`` fold=0 rule (the offset before the change).

The completeness of a (point, week) cell at a moment ``now``:
- submitted: first submitted at or before the deadline;
- late: first submitted after the deadline (lateness = hours between the two);
- missing: never submitted and the deadline has passed (lateness = hours overdue so far);
- draft: a report exists, never submitted, deadline still ahead;
- not started: no report, deadline still ahead.
The FIRST submission decides: a report returned by the organiser and resubmitted later is not
made late by the organiser's return.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.collection.models.reports import CollectionReport
from perception.core.models.base import utcnow
from perception.core.models.org import CollectionPoint, Region
from perception.core.periods import week_start as monday_of


class Completeness(enum.StrEnum):
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    LATE = "late"
    MISSING = "missing"


DONE = (Completeness.SUBMITTED, Completeness.LATE)


def report_deadline(week_start: date, due_weekday: int, due_time: time, timezone: str) -> datetime:
    """Naive-UTC deadline of the report for the ISO week starting ``week_start`` (see module doc)."""
    if not 1 <= due_weekday <= 7:
        raise ValueError(f"due weekday must be 1..7, got {due_weekday}")
    local_day = monday_of(week_start) + timedelta(days=7 + due_weekday - 1)
    local = datetime.combine(local_day, due_time, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC).replace(tzinfo=None)


def point_deadline(point: CollectionPoint, region: Region, week_start: date) -> datetime:
    return report_deadline(week_start, point.report_due_weekday, point.report_due_time, region.timezone)


def classify(
    deadline: datetime, now: datetime, exists: bool, first_submitted_at: datetime | None
) -> tuple[Completeness, float | None]:
    """The state of one cell and its lateness in hours (late: after the deadline; missing: overdue)."""
    if first_submitted_at is not None:
        if first_submitted_at <= deadline:
            return Completeness.SUBMITTED, None
        return Completeness.LATE, round((first_submitted_at - deadline).total_seconds() / 3600, 2)
    if now > deadline:
        return Completeness.MISSING, round((now - deadline).total_seconds() / 3600, 2)
    return (Completeness.DRAFT if exists else Completeness.NOT_STARTED), None


@dataclass(frozen=True)
class Cell:
    collection_point_id: int
    region_id: int
    week_start: date
    deadline: datetime  # naive UTC
    state: Completeness
    lateness_hours: float | None
    report_id: int | None
    status: str | None  # the report's workflow status
    first_submitted_at: datetime | None

    @property
    def counted(self) -> bool:
        """Whether the cell enters completeness rates: its deadline passed, or it was submitted."""
        return self.state in (Completeness.SUBMITTED, Completeness.LATE, Completeness.MISSING)


def weeks_between(first: date, last: date) -> list[date]:
    """Mondays of every ISO week from the week of ``first`` to the week of ``last``, inclusive."""
    start, end = monday_of(first), monday_of(last)
    return [start + timedelta(weeks=i) for i in range((end - start).days // 7 + 1)]


def completeness(
    session: Session,
    first_week: date,
    last_week: date,
    *,
    now: datetime | None = None,
    region_ids: Iterable[int] | None = None,
    point_ids: Iterable[int] | None = None,
) -> list[Cell]:
    """One Cell per active collection point and ISO week in [first_week, last_week] (inclusive),
    from the week the point became active (``active_from``) on."""
    now = now or utcnow()
    weeks = weeks_between(first_week, last_week)
    if not weeks:
        return []
    stmt = (
        select(CollectionPoint, Region)
        .join(Region, Region.id == CollectionPoint.region_id)
        .where(CollectionPoint.active.is_(True))
        .order_by(Region.code, CollectionPoint.code)
    )
    if region_ids is not None:
        stmt = stmt.where(CollectionPoint.region_id.in_(list(region_ids)))
    if point_ids is not None:
        stmt = stmt.where(CollectionPoint.id.in_(list(point_ids)))
    points = session.execute(stmt).all()
    reports = session.execute(
        select(
            CollectionReport.collection_point_id,
            CollectionReport.week_start,
            CollectionReport.id,
            CollectionReport.status,
            CollectionReport.first_submitted_at,
        ).where(
            CollectionReport.collection_point_id.in_([p.id for p, _ in points]),
            CollectionReport.week_start.between(weeks[0], weeks[-1]),
        )
    ).all()
    by_key = {(r[0], r[1]): r for r in reports}
    cells: list[Cell] = []
    for point, region in points:
        for week in weeks:
            if point.active_from is not None and week + timedelta(days=6) < point.active_from:
                continue  # the point did not report yet that week: nothing to miss
            deadline = point_deadline(point, region, week)
            row = by_key.get((point.id, week))
            state, hours = classify(deadline, now, row is not None, row[4] if row else None)
            cells.append(
                Cell(
                    collection_point_id=point.id,
                    region_id=region.id,
                    week_start=week,
                    deadline=deadline,
                    state=state,
                    lateness_hours=hours,
                    report_id=row[2] if row else None,
                    status=row[3] if row else None,
                    first_submitted_at=row[4] if row else None,
                )
            )
    return cells


@dataclass(frozen=True)
class RegionCompleteness:
    """Completeness of one region over a period. rate = (on time + late) / counted cells;
    on_time_rate = on time / counted; counted = cells whose deadline passed or that were submitted."""

    region_id: int
    counted: int
    on_time: int
    late: int
    missing: int
    rate: float | None
    on_time_rate: float | None
    mean_lateness_hours: float | None  # over late reports only


def region_completeness(cells: Sequence[Cell]) -> list[RegionCompleteness]:
    out: list[RegionCompleteness] = []
    for region_id in sorted({c.region_id for c in cells}):
        mine = [c for c in cells if c.region_id == region_id and c.counted]
        on_time = sum(c.state == Completeness.SUBMITTED for c in mine)
        late_hours = [c.lateness_hours or 0.0 for c in mine if c.state == Completeness.LATE]
        missing = sum(c.state == Completeness.MISSING for c in mine)
        n = len(mine)
        out.append(
            RegionCompleteness(
                region_id=region_id,
                counted=n,
                on_time=on_time,
                late=len(late_hours),
                missing=missing,
                rate=(on_time + len(late_hours)) / n if n else None,
                on_time_rate=on_time / n if n else None,
                mean_lateness_hours=round(sum(late_hours) / len(late_hours), 2) if late_hours else None,
            )
        )
    return out
