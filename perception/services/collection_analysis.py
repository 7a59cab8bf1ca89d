"""What collection offers the analysis and review phases (read-only, frozen dataclasses):

- ``events_between(session, start, end, region_ids=None)``: dynamic-information entries (major
  events, system changes, supplier and personnel changes) whose event date lies in [start, end),
  from counted reports, for marking analysis timelines;
- ``completeness_by_region(session, first_week, last_week, now=None, region_ids=None)`` and
  ``collection_board.completeness(...)`` for the per point x week cells;
- ``callback_progress(...)`` and ``discrepancy_rates(...)`` (re-exported from the callback and
  sampling services).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.models.collection import COUNTED_STATUSES, CollectionReport, EntryKind, ReportEntry
from perception.services.collection_board import (
    Cell,
    Completeness,
    RegionCompleteness,
    completeness,
    region_completeness,
)
from perception.services.collection_callbacks import CallbackProgress, callback_progress
from perception.services.collection_sampling_results import DiscrepancyRate, discrepancy_rates


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
    """Completeness rate per region over the ISO weeks [first_week, last_week] (see collection_board)."""
    return region_completeness(completeness(session, first_week, last_week, now=now, region_ids=region_ids))


__all__ = [
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
