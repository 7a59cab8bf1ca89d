"""The SLA attainment page's figures, kept while their data stay the same (issue 19).

The page measures every ticket of its period (load_frame: the SELECT, each SLA's covered hours,
each ticket's target): 5 months of a national provider are ~2,000,000 tickets, a year ~5,000,000.
Its figures depend on the tickets, the standards and versions their targets come from, the SLAs
(covered hours, holidays, make-up days, which customer and service they cover), the subscriptions
(tiers) and the names shown: the write counter ``ATTAINMENT`` (kpi.services.data_version) goes up
with every committed write to any of them. A result is kept (perception.core.kept: in the process
and in the database, for every worker) under its period, scope and breach limit with the counter
it was computed at, and served while the counter is the same and it is younger than ``MAX_AGE``:
an unanswered ticket turns overdue by waiting, without any write, so the figures are never older
than that, and the page says when they were computed.

A regional team's scope is part of the key: a result is never shown to another scope.

Public API: ``kept_attainment(session, start, end, region_ids=..., limit=...) -> KeptAttainment``;
``default_period(today)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from perception.core.kept import Kept
from perception.core.models.base import utcnow
from perception.kpi.services.data_version import ATTAINMENT, read_version
from perception.kpi.services.sla import Breach, StandardAttainment, attainment_and_breaches

MAX_AGE = timedelta(minutes=10)
KEPT = 16  # entries per process (period x scope x limit)


@dataclass(frozen=True)
class KeptAttainment:
    rows: tuple[StandardAttainment, ...]
    breaches: tuple[Breach, ...]
    computed_at: datetime  # naive UTC: the "as of" of the overdue tickets


KEPT_RESULTS: Kept[KeptAttainment] = Kept("kpi_attainment", KeptAttainment, max_age=MAX_AGE, entries=KEPT)


def default_period(today: date) -> tuple[date, date]:
    """The page's period when none is asked for (and the one the hourly job computes ahead): the
    four months before this one and this one, [first day, first day of next month)."""
    start = date(today.year, today.month, 1)
    month = start.month - 4
    first = date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return first, date(today.year + (today.month // 12), today.month % 12 + 1, 1)


def kept_attainment(
    session: Session,
    start: date,
    end: date,
    *,
    granularity: str = "month",
    region_ids: frozenset[int] | None = None,
    limit: int | None = 500,
    now: datetime | None = None,
    younger_than: timedelta | None = None,
) -> KeptAttainment:
    """attainment_and_breaches of the period and scope, computed afresh when its data changed or
    the kept result is older than MAX_AGE (module docstring), or than ``younger_than`` (the job
    that computes the default view again before it expires)."""
    at = now or utcnow()

    def compute() -> KeptAttainment:
        rows, listed = attainment_and_breaches(
            session, start, end, granularity=granularity, region_ids=region_ids, limit=limit, as_of=at
        )
        return KeptAttainment(tuple(rows), tuple(listed), at)

    params = {"start": start, "end": end, "granularity": granularity, "scope": region_ids, "limit": limit}
    return KEPT_RESULTS.get(
        session, params, read_version(session, ATTAINMENT), compute, now=at, younger_than=younger_than
    )


def forget_all() -> None:
    """Drop every result kept in this process (tests)."""
    KEPT_RESULTS.forget()
