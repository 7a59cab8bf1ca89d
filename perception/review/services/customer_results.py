"""One customer's experience results over a span of days: CSAT and NPS for the whole span and per
calendar month (the trend), and the organisation's open complaints. What a customer
representative sees of results: computed from their organisation's observations only.

The measures are the analysis phase's (perception.analysis.services.facts: CSAT = top-2-box
share with a Wilson interval, NPS from promoter/passive/detractor counts), read from the facts
themselves: the weekly roll-up has no customer column.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.analysis.services.facts import aggregate, csat_measure, nps_measure
from perception.analysis.services.filters import AnalysisFilters
from perception.surveys.models import FollowUpReason, FollowUpStatus, FollowUpTask
from scoring.results import GroupMeasure


@dataclass(frozen=True)
class MonthResult:
    month: date  # first day of the month
    csat: GroupMeasure | None
    nps: GroupMeasure | None


def csat_change(months: list[MonthResult]) -> float | None:
    """Percentage points between the first and the last month with CSAT answers."""
    shares = [m.csat.estimate for m in months if m.csat is not None]
    return None if len(shares) < 2 else round(100 * (shares[-1] - shares[0]), 1)


def nps_change(months: list[MonthResult]) -> float | None:
    """NPS points between the first and the last month with NPS answers."""
    scores = [m.nps.estimate for m in months if m.nps is not None]
    return None if len(scores) < 2 else round(scores[-1] - scores[0], 1)


@dataclass(frozen=True)
class ServiceExperience:
    """One service's results for the customer (a tile of the portal)."""

    service_id: int
    csat: GroupMeasure | None
    nps: GroupMeasure | None
    months: list[MonthResult]

    @property
    def csat_change(self) -> float | None:
        return csat_change(self.months)

    @property
    def nps_change(self) -> float | None:
        return nps_change(self.months)


@dataclass(frozen=True)
class CustomerResults:
    start: date
    end: date  # exclusive
    csat: GroupMeasure | None
    nps: GroupMeasure | None
    months: list[MonthResult]
    open_complaints: int
    open_followups: int
    by_service: dict[int, ServiceExperience] = field(default_factory=dict)

    @property
    def csat_change(self) -> float | None:
        return csat_change(self.months)

    @property
    def nps_change(self) -> float | None:
        return nps_change(self.months)


def _months(rolled: dict[Any, Any]) -> list[MonthResult]:
    return [
        MonthResult(cast(date, month), csat_measure(parts), nps_measure(parts))
        for month, parts in sorted(rolled.items(), key=lambda kv: str(kv[0]))
    ]


def customer_results(session: Session, customer_id: int, start: date, end: date) -> CustomerResults:
    filters = AnalysisFilters(start=start, end=end, customer_id=customer_id, grain="month")
    table = aggregate(session, filters, kinds=("csat", "nps"), use_rollup=False)
    total = table.rollup(()).get((), {})
    months = _months(table.rollup(("period",), grain="month"))
    # Per service from the same rows: the portal's tiles cost no query of their own.
    per_month: dict[int, dict[Any, Any]] = defaultdict(dict)
    for key, parts in table.rollup(("service", "period"), grain="month").items():
        service, month = cast(tuple[int | None, date], key)
        if service is not None:
            per_month[service][month] = parts
    by_service: dict[int, ServiceExperience] = {}
    for key, parts in table.rollup(("service",)).items():
        if key is not None:
            service_id = cast(int, key)
            by_service[service_id] = ServiceExperience(
                service_id, csat_measure(parts), nps_measure(parts), _months(per_month.get(service_id, {}))
            )
    open_tasks = select(FollowUpTask.reasons).where(
        FollowUpTask.customer_id == customer_id, FollowUpTask.status != FollowUpStatus.DONE
    )
    reasons = list(session.scalars(open_tasks))
    return CustomerResults(
        start=start,
        end=end,
        csat=csat_measure(total),
        nps=nps_measure(total),
        months=months,
        open_complaints=sum(1 for r in reasons if FollowUpReason.COMPLAINT in r.split(",")),
        open_followups=len(reasons),
        by_service=by_service,
    )
