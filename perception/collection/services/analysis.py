"""What collection offers the analysis and review phases (read-only, frozen dataclasses):

- ``events_between(session, start, end, region_ids=None)``: dynamic-information entries (major
  events, system changes, supplier and personnel changes) whose event date lies in [start, end),
  from counted reports, for marking analysis timelines;
- ``completeness_by_region(session, first_week, last_week, now=None, region_ids=None)`` and
  ``services.board.completeness(...)`` for the per point x week cells;
- ``conformity(session, start, end, region_ids=None, source=None)``: feedback records and tickets
  against the standard in force, per region, service and source (meets / misses / not
  measurable, and the share meeting = meets / (meets + misses), the "feedback_conformity_share");
- ``callback_progress(...)`` and ``discrepancy_rates(...)`` (re-exported from the callback and
  sampling services).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.collection.models.fieldwork import StandardCheck
from perception.collection.models.reports import COUNTED_STATUSES, CollectionReport, EntryKind, ReportEntry
from perception.collection.services.board import (
    Cell,
    Completeness,
    RegionCompleteness,
    completeness,
    region_completeness,
)
from perception.collection.services.callbacks import CallbackProgress, callback_progress
from perception.collection.services.sampling_results import DiscrepancyRate, discrepancy_rates


@dataclass(frozen=True)
class CollectionEvent:
    entry_id: int
    report_id: int
    region_id: int
    collection_point_id: int
    customer_id: int | None
    service_id: int | None
    event_date: date
    category: str  # major_event | system_change | supplier_change | personnel_change | other
    description: str
    impact: str | None


def events_between(
    session: Session, start: date, end: date, region_ids: Iterable[int] | None = None
) -> list[CollectionEvent]:
    """Dynamic-information entries with start <= event_date < end, ordered by date."""
    stmt = (
        select(ReportEntry, CollectionReport.collection_point_id)
        .join(CollectionReport, CollectionReport.id == ReportEntry.report_id)
        .where(
            ReportEntry.kind == EntryKind.DYNAMIC.value,
            CollectionReport.status.in_([s.value for s in COUNTED_STATUSES]),
            ReportEntry.event_date >= start,
            ReportEntry.event_date < end,
            ReportEntry.duplicate_of_id.is_(None),
        )
        .order_by(ReportEntry.event_date, ReportEntry.id)
    )
    if region_ids is not None:
        stmt = stmt.where(ReportEntry.region_id.in_(list(region_ids)))
    return [
        CollectionEvent(
            entry_id=e.id,
            report_id=e.report_id,
            region_id=e.region_id,
            collection_point_id=point_id,
            customer_id=e.customer_id,
            service_id=e.service_id,
            event_date=e.event_date,  # type: ignore[arg-type]
            category=e.category or "other",
            description=e.text,
            impact=e.impact,
        )
        for e, point_id in session.execute(stmt)
    ]


def completeness_by_region(
    session: Session,
    first_week: date,
    last_week: date,
    *,
    now: datetime | None = None,
    region_ids: Iterable[int] | None = None,
) -> list[RegionCompleteness]:
    """Completeness rate per region over the ISO weeks [first_week, last_week] (see ``services.board``)."""
    return region_completeness(completeness(session, first_week, last_week, now=now, region_ids=region_ids))


@dataclass(frozen=True)
class Conformity:
    region_id: int
    service_id: int | None
    source: str  # feedback | ticket
    meets: int
    misses: int
    not_measurable: int
    share_meeting: float | None  # meets / (meets + misses)


def conformity(
    session: Session,
    start: date,
    end: date,
    region_ids: Iterable[int] | None = None,
    source: str | None = None,
) -> list[Conformity]:
    """StandardCheck results whose period starts in [start, end) (the record's week), grouped by
    region, service and source."""
    stmt = (
        select(
            StandardCheck.region_id,
            StandardCheck.service_id,
            StandardCheck.source,
            StandardCheck.result,
            func.count(),
        )
        .where(StandardCheck.period_start >= start, StandardCheck.period_start < end)
        .group_by(
            StandardCheck.region_id, StandardCheck.service_id, StandardCheck.source, StandardCheck.result
        )
    )
    if region_ids is not None:
        stmt = stmt.where(StandardCheck.region_id.in_(list(region_ids)))
    if source is not None:
        stmt = stmt.where(StandardCheck.source == source)
    tally: dict[tuple[int, int | None, str], dict[str, int]] = {}
    for region_id, service_id, src, result, n in session.execute(stmt):
        tally.setdefault((region_id, service_id, src), {})[result] = int(n)
    out = []
    for (region_id, service_id, src), counts in sorted(
        tally.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0, kv[0][2])
    ):
        meets, misses = counts.get("meets", 0), counts.get("misses", 0)
        out.append(
            Conformity(
                region_id,
                service_id,
                src,
                meets,
                misses,
                counts.get("not_measurable", 0),
                meets / (meets + misses) if meets + misses else None,
            )
        )
    return out


__all__ = [
    "Conformity",
    "conformity",
    "CallbackProgress",
    "Cell",
    "CollectionEvent",
    "Completeness",
    "DiscrepancyRate",
    "RegionCompleteness",
    "callback_progress",
    "completeness",
    "completeness_by_region",
    "discrepancy_rates",
    "events_between",
]
