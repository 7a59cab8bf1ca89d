"""Feedback record vs standard (反馈记录与标准对比): each feedback entry and each closed ticket is
compared with the confirmed standards in force for its service, customer (and so tier) and date,
and the result (meets / misses / not measurable) is stored as a StandardCheck row.

Which standards apply: ``setup_standards.applicable_standards(session, on, service_id,
customer_id)`` (customer-specific over tier over general, versions in force on ``on``); without
a customer, the general standards of the service in force (``standards_in_force``).

One record against one standard version (scoring.attainment.is_met does the comparison):
- feedback rating r (1..5): ``dimension_rating_mean`` and ``csat_mean`` are met when
  r (comparator) target; ``csat_share`` (share of 4-5) is met by r >= 4. A version naming a
  dimension applies only to entries of that dimension;
- ticket: ``first_response_minutes`` / ``resolution_minutes`` compare the elapsed minutes
  opened -> first response / resolved with the target; the ``*_within_target_share``
  metrics are met when those minutes are <= the version's ``time_limit_minutes``. Versions with a
  priority apply only to tickets of that priority. Minutes are counted in the covered hours of the
  SLA that applies to the ticket (its business calendar, holidays excluded), as the KPI phase
  counts them; wall-clock minutes only when no SLA applies.
The record's result: misses if any applicable standard is missed, else meets if at least one is
met, else not measurable (no standard applies, or the record lacks what it needs). The row keeps
the deciding standard (first missed, else first met) and ``detail`` lists every comparison.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from perception.collection.models.fieldwork import CheckResult, StandardCheck
from perception.collection.models.reports import CollectionReport, EntryKind
from perception.core.jobs import job
from perception.core.models.base import utcnow
from perception.kpi.models import Ticket
from perception.setup.models.catalog import Subscription
from perception.setup.models.standards import ServiceStandard, StandardVersion
from perception.setup.services import standards as setup_standards
from perception.setup.services.sla import SlaChooser
from scoring.attainment import is_met
from scoring.calendar import BusinessCalendar, business_seconds

FEEDBACK = "feedback"
TICKET = "ticket"
RATING_METRICS = ("dimension_rating_mean", "csat_mean", "csat_share")
TICKET_METRICS = {
    "first_response_minutes": "response",
    "resolution_minutes": "resolution",
    "response_within_target_share": "response",
    "resolution_within_target_share": "resolution",
}
CLOSED = ("resolved", "closed")


class Standards:
    """Applicable versions per (date, service, customer), cached for a batch of records.

    The versions in force only change on the dates where some version of the service's standards
    starts or ends, so the cache key is the period between two such dates (found by bisection),
    not the date itself: a year of tickets costs one lookup per service, customer and period.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[tuple[int, int, int | None], list[StandardVersion]] = {}
        self.changes: dict[int, list[date]] = {}

    def _period(self, on: date, service_id: int) -> int:
        if service_id not in self.changes:
            rows = self.session.execute(
                select(StandardVersion.effective_from, StandardVersion.effective_to)
                .join(ServiceStandard, ServiceStandard.id == StandardVersion.standard_id)
                .where(ServiceStandard.service_id == service_id)
            ).all()
            self.changes[service_id] = sorted({d for row in rows for d in row if d is not None})
        return bisect_right(self.changes[service_id], on)

    def get(self, on: date, service_id: int | None, customer_id: int | None) -> list[StandardVersion]:
        if service_id is None:
            return []
        key = (self._period(on, service_id), service_id, customer_id)
        if key not in self.cache:
            if customer_id is not None:
                found = setup_standards.applicable_standards(self.session, on, service_id, customer_id)
            else:
                found = [
                    v
                    for v in setup_standards.standards_in_force(self.session, on, service_id=service_id)
                    if v.standard.customer_id is None and v.standard.tier_id is None
                ]
            self.cache[key] = found
        return self.cache[key]


def _compare(
    version: StandardVersion, value: float | None, target: float | None, comparator: str
) -> dict[str, Any]:
    met = None if value is None or target is None else is_met(value, target, comparator)
    return {
        "version_id": version.id,
        "code": version.standard.code,
        "metric": version.metric,
        "value": value,
        "target": target,
        "comparator": comparator,
        "met": met,
    }


def rating_comparisons(
    versions: Iterable[StandardVersion], rating: int, dimension: str | None
) -> list[dict[str, Any]]:
    """A version with a dimension applies only to entries of that dimension; without one, to all."""
    out = []
    for v in versions:
        if v.metric not in RATING_METRICS or (v.dimension is not None and v.dimension != dimension):
            continue
        if v.metric == "dimension_rating_mean" and v.dimension is None:
            continue
        if v.metric == "csat_share":
            out.append(_compare(v, float(rating), 4.0, ">="))
        else:
            out.append(_compare(v, float(rating), v.target, v.comparator))
    return out


def _minutes(
    start: datetime | None, end: datetime | None, calendar: BusinessCalendar | None = None
) -> float | None:
    if start is None or end is None:
        return None
    if calendar is not None:
        return business_seconds(calendar, start, end) / 60.0
    return (end - start).total_seconds() / 60.0


def ticket_comparisons(
    versions: Iterable[StandardVersion], ticket: Ticket, calendar: BusinessCalendar | None = None
) -> list[dict[str, Any]]:
    out = []
    for v in versions:
        phase = TICKET_METRICS.get(v.metric)
        if phase is None or (v.priority and v.priority != ticket.priority):
            continue
        end = ticket.first_response_at if phase == "response" else ticket.resolved_at or ticket.closed_at
        minutes = _minutes(ticket.opened_at, end, calendar)
        if v.metric.endswith("_minutes"):
            out.append(_compare(v, minutes, v.target, v.comparator))
        else:
            out.append(_compare(v, minutes, v.time_limit_minutes, "<="))
    return out


def decide(comparisons: list[dict[str, Any]]) -> tuple[CheckResult, dict[str, Any] | None]:
    missed = [c for c in comparisons if c["met"] is False]
    met = [c for c in comparisons if c["met"] is True]
    if missed:
        return CheckResult.MISSES, missed[0]
    if met:
        return CheckResult.MEETS, met[0]
    return CheckResult.NOT_MEASURABLE, None


def _row(
    source: str, source_id: int, on: date, comparisons: list[dict[str, Any]], **where: Any
) -> dict[str, Any]:
    result, deciding = decide(comparisons)
    return {
        "source": source,
        "source_id": source_id,
        "checked_on": on,
        "period_start": on - timedelta(days=on.weekday()),
        "result": result.value,
        "standard_version_id": deciding["version_id"] if deciding else None,
        "standard_code": deciding["code"] if deciding else None,
        "metric": deciding["metric"] if deciding else None,
        "value": deciding["value"] if deciding else None,
        "target": deciding["target"] if deciding else None,
        "comparator": deciding["comparator"] if deciding else None,
        "detail": comparisons,
        "checked_at": utcnow(),
        **where,
    }


def forget(session: Session, source: str, ids: Iterable[int]) -> None:
    ids = list(ids)
    if ids:
        session.execute(
            delete(StandardCheck).where(StandardCheck.source == source, StandardCheck.source_id.in_(ids)),
            execution_options={"synchronize_session": False},
        )


def _store(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        forget(session, rows[0]["source"], [r["source_id"] for r in rows])
        session.execute(insert(StandardCheck), rows)
        session.flush()


def check_feedback_entries(
    session: Session, report: CollectionReport, standards: Standards | None = None
) -> dict[int, StandardCheck]:
    """Check every feedback entry of ``report`` (on the report's week) and store the results."""
    standards = standards or Standards(session)
    customers = {e.customer_id for e in report.entries if e.customer_id is not None}
    tiers = {
        (c, s): t
        for c, s, t in session.execute(
            select(Subscription.customer_id, Subscription.service_id, Subscription.tier_id).where(
                Subscription.customer_id.in_(customers)
            )
        )
    }
    rows = []
    for e in report.entries:
        if e.kind != EntryKind.FEEDBACK or e.rating is None:
            continue
        versions = standards.get(report.week_start, e.service_id, e.customer_id)
        rows.append(
            _row(
                FEEDBACK,
                e.id,
                report.week_start,
                rating_comparisons(versions, e.rating, e.dimension),
                region_id=report.region_id,
                customer_id=e.customer_id,
                service_id=e.service_id,
                tier_id=tiers.get((e.customer_id or 0, e.service_id or 0)),
            )
        )
    _store(session, rows)
    if not rows:
        return {}
    checks = session.scalars(
        select(StandardCheck).where(
            StandardCheck.source == FEEDBACK, StandardCheck.source_id.in_([r["source_id"] for r in rows])
        )
    )
    return {c.source_id: c for c in checks}


def check_tickets(session: Session, tickets: Iterable[Ticket], standards: Standards | None = None) -> int:
    """Check closed tickets against the standards in force on their opening date; returns the count."""
    standards = standards or Standards(session)
    tickets = list(tickets)
    slas = SlaChooser(session, {(t.service_id, t.customer_id) for t in tickets})

    rows = []
    for t in tickets:
        on = t.opened_at.date()
        rows.append(
            _row(
                TICKET,
                t.id,
                on,
                ticket_comparisons(
                    standards.get(on, t.service_id, t.customer_id),
                    t,
                    slas.calendar_for(t.service_id, t.customer_id, on),
                ),
                region_id=t.region_id,
                customer_id=t.customer_id,
                service_id=t.service_id,
                tier_id=t.tier_id,
            )
        )
    for start in range(0, len(rows), 1000):
        _store(session, rows[start : start + 1000])
    return len(rows)


def unchecked_closed_tickets(
    session: Session, since: datetime | None = None, limit: int = 20000
) -> list[Ticket]:
    checked = select(StandardCheck.source_id).where(StandardCheck.source == TICKET)
    stmt = select(Ticket).where(Ticket.status.in_(CLOSED), Ticket.id.not_in(checked))
    if since is not None:
        stmt = stmt.where(func.coalesce(Ticket.closed_at, Ticket.resolved_at) >= since)
    return list(session.scalars(stmt.order_by(Ticket.id).limit(limit)))


def ticket_on_time(check: StandardCheck | None) -> bool | None:
    """Whether the ticket met its resolution standards (None when none could be judged)."""
    if check is None or not check.detail:
        return None
    judged = [
        c["met"]
        for c in check.detail
        if TICKET_METRICS.get(c["metric"]) == "resolution" and c["met"] is not None
    ]
    return all(judged) if judged else None


@job("standard_checks")
def standard_checks_job(session: Session, now: str | None = None, **_: Any) -> int:
    """Daily: check the tickets closed in the last 14 days that have no check yet."""
    moment = datetime.fromisoformat(now) if now else utcnow()
    return check_tickets(session, unchecked_closed_tickets(session, since=moment - timedelta(days=14)))


__all__ = [
    "FEEDBACK",
    "TICKET",
    "check_feedback_entries",
    "check_tickets",
    "decide",
    "forget",
    "rating_comparisons",
    "ticket_comparisons",
    "ticket_on_time",
    "unchecked_closed_tickets",
]
