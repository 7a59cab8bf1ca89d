"""Adapter from the setup phase's standards and SLAs to what KPI computation needs, vectorised.

Reads (never writes) perception.setup.models.standards through the setup phase's rules: a version is in force
on day d when confirmed/superseded and effective_from <= d < effective_to; among applicable
standards the most specific wins (customer > tier > general, as setup_standards.applicable_standards),
and here also a priority-specific version over one for every priority. SLAs come from
setup_sla.sla_for / calendar_for_sla.

Per ticket (opened on local day d, with service, tier, customer, priority):
- response time limit: ``time_limit_minutes`` of a ``response_within_target_share`` version (its
  ``target`` is the required share, in %), else ``target`` minutes of a ``first_response_minutes``
  version (required share 100 %: every ticket must meet a per-ticket standard);
- resolution alike with ``resolution_within_target_share`` / ``resolution_minutes``.
Per group value (imported or computed KPIs without ticket targets): the version in force on the
period's first day of the standard the KPI definition names, or of the most specific standard for
the service/tier with the definition's metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.kpi.services.arrays import distinct_rows
from perception.setup.models.standards import (
    IN_FORCE_STATUSES,
    ServiceStandard,
    StandardVersion,
)
from scoring.attainment import COMPARATORS, is_met

PRIORITIES = ("", "P1", "P2", "P3", "P4")  # the codes kpi_ticket_fetch returns
RESPONSE = ("response_within_target_share", "first_response_minutes")
RESOLUTION = ("resolution_within_target_share", "resolution_minutes")
_FAR = date(9999, 12, 31)


@dataclass(frozen=True)
class VersionRow:
    version_id: int
    standard_id: int
    standard_code: str
    service_id: int
    tier_id: int | None
    customer_id: int | None
    metric: str
    priority: str | None
    comparator: str
    target: float | None
    unit: str | None
    time_limit_minutes: float | None
    start: date
    end: date  # exclusive

    @property
    def rank(self) -> int:
        """Specificity: customer 4, tier 2, priority 1 (setup's order, then priority)."""
        return (
            4 * (self.customer_id is not None) + 2 * (self.tier_id is not None) + (self.priority is not None)
        )

    def limit_and_share(self) -> tuple[float, float] | None:
        """(time limit in seconds, required share in %) for a per-ticket time standard."""
        if self.metric.endswith("_share"):
            if self.time_limit_minutes is None or self.target is None:
                return None
            return self.time_limit_minutes * 60.0, share_percent(self.target, self.unit)
        if self.target is None:
            return None
        return self.target * 60.0, 100.0


def met_or_none(value: float | None, target: float | None, comparator: str | None) -> bool | None:
    """``value comparator target`` (scoring.attainment.is_met); None when anything is missing."""
    if value is None or target is None or comparator not in COMPARATORS or np.isnan(value):
        return None
    return is_met(value, target, comparator)


def share_percent(target: float, unit: str | None) -> float:
    """Shares are compared in percent; a target written as a fraction (0.95, no % unit) is scaled."""
    if unit in ("%", "％") or target > 1.0:
        return target
    return target * 100.0


@dataclass(frozen=True)
class TicketTargets:
    """Per-ticket arrays (NaN / -1 where no standard applies)."""

    response_limit_s: NDArray[np.float64]
    response_share: NDArray[np.float64]
    response_version: NDArray[np.int64]
    resolution_limit_s: NDArray[np.float64]
    resolution_share: NDArray[np.float64]
    resolution_version: NDArray[np.int64]


def _targets(floats: dict[str, NDArray[np.float64]], ints: dict[str, NDArray[np.int64]]) -> TicketTargets:
    return TicketTargets(
        response_limit_s=floats["response_limit_s"],
        response_share=floats["response_share"],
        response_version=ints["response_version"],
        resolution_limit_s=floats["resolution_limit_s"],
        resolution_share=floats["resolution_share"],
        resolution_version=ints["resolution_version"],
    )


class TargetBook:
    """Every version ever in force, loaded once (standards are few; tickets are many)."""

    def __init__(self, rows: list[VersionRow]) -> None:
        self.rows = rows
        self.by_service: dict[int, list[VersionRow]] = {}
        for row in rows:
            self.by_service.setdefault(row.service_id, []).append(row)

    @classmethod
    def load(cls, session: Session) -> TargetBook:
        stmt = (
            select(StandardVersion, ServiceStandard)
            .join(ServiceStandard, StandardVersion.standard_id == ServiceStandard.id)
            .where(
                ServiceStandard.active.is_(True),
                StandardVersion.status.in_(IN_FORCE_STATUSES),
                StandardVersion.effective_from.is_not(None),
            )
        )
        rows = [
            VersionRow(
                version_id=v.id,
                standard_id=s.id,
                standard_code=s.code,
                service_id=s.service_id,
                tier_id=s.tier_id,
                customer_id=s.customer_id,
                metric=v.metric,
                priority=v.priority,
                comparator=v.comparator,
                target=v.target,
                unit=v.unit,
                time_limit_minutes=v.time_limit_minutes,
                start=v.effective_from,
                end=v.effective_to or _FAR,
            )
            for v, s in session.execute(stmt)
            if v.effective_from is not None
        ]
        return cls(rows)

    def candidates(
        self,
        metrics: tuple[str, ...],
        service_id: int,
        tier_id: int | None,
        customer_id: int | None,
        priority: str | None,
    ) -> list[VersionRow]:
        """Applicable versions (any date), least specific first, share standards after per-ticket ones."""
        found = [
            r
            for r in self.by_service.get(service_id, ())
            if r.metric in metrics
            and (r.tier_id is None or r.tier_id == tier_id)
            and (r.customer_id is None or r.customer_id == customer_id)
            and (r.priority is None or r.priority == priority)
        ]
        return sorted(found, key=lambda r: (r.rank, metrics.index(r.metric) * -1, r.start))

    def ticket_targets(
        self,
        service: NDArray[np.int64],
        tier: NDArray[np.int64],
        customer: NDArray[np.int64],
        priority: NDArray[np.int64],
        day: NDArray[np.datetime64],
    ) -> TicketTargets:
        """Targets for N tickets (tier/customer -1 = none; ``priority`` a code of
        kpi_ticket_fetch.PRIORITIES; ``day`` = local opened date)."""
        n = service.size
        out: dict[str, NDArray[np.float64]] = {
            key: np.full(n, np.nan)
            for key in ("response_limit_s", "response_share", "resolution_limit_s", "resolution_share")
        }
        versions: dict[str, NDArray[np.int64]] = {
            "response_version": np.full(n, -1, np.int64),
            "resolution_version": np.full(n, -1, np.int64),
        }
        if n == 0 or not self.rows:
            return _targets(out, versions)
        # Issue 19: a tier, customer or priority no version of the ticket's service names selects
        # the same versions as none, so those tickets share one group (a national provider's
        # 1,000 customers x 4 priorities x 50 services were 200,000 groups, 26 s for 5 months).
        tier = self._named(service, tier, "tier_id", -1)
        customer = self._named(service, customer, "customer_id", -1)
        priority = self._named(service, priority, "priority", 0)
        (services, tiers, customers, priorities), inverse = distinct_rows(service, tier, customer, priority)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(services.size + 1))
        days = day.astype("datetime64[D]")
        for k in range(services.size):
            idx = order[bounds[k] : bounds[k + 1]]
            tr, cu = int(tiers[k]), int(customers[k])
            name = PRIORITIES[int(priorities[k])] or None
            for kind, metrics in (("response", RESPONSE), ("resolution", RESOLUTION)):
                for row in self.candidates(
                    metrics, int(services[k]), tr if tr >= 0 else None, cu if cu >= 0 else None, name
                ):
                    pair = row.limit_and_share()
                    if pair is None:
                        continue
                    d = days[idx]
                    hit = idx[(d >= np.datetime64(row.start, "D")) & (d < np.datetime64(row.end, "D"))]
                    out[f"{kind}_limit_s"][hit], out[f"{kind}_share"][hit] = pair
                    versions[f"{kind}_version"][hit] = row.version_id
        return _targets(out, versions)

    def _named(
        self, service: NDArray[np.int64], values: NDArray[np.int64], attr: str, none: int
    ) -> NDArray[np.int64]:
        """``values`` where a version of the same service names that tier / customer / priority
        (``attr``; priorities as kpi_ticket_fetch codes), ``none`` elsewhere."""
        named: set[tuple[int, int]] = set()
        for r in self.rows:
            value = getattr(r, attr)
            if value is None:
                continue
            if attr == "priority":
                if value not in PRIORITIES or not value:
                    continue
                value = PRIORITIES.index(value)
            named.add((r.service_id, int(value)))
        if not named:
            return np.full(values.size, none, dtype=np.int64)
        pairs = np.array(sorted(named), dtype=np.int64)
        shift = np.int64(1) << np.int64(32)
        known = np.isin(service * shift + values, pairs[:, 0] * shift + pairs[:, 1])
        return np.where(known, values, np.int64(none))

    def group_target(
        self,
        metric: str | None,
        standard_id: int | None,
        service_id: int,
        tier_id: int | None,
        on: date,
    ) -> VersionRow | None:
        """The version a group-level value is judged against (see module docstring)."""
        if standard_id is not None:
            rows = [r for r in self.rows if r.standard_id == standard_id]
        elif metric is not None:
            rows = [
                r
                for r in self.by_service.get(service_id, ())
                if r.metric == metric
                and r.customer_id is None
                and (r.tier_id is None or r.tier_id == tier_id)
            ]
        else:
            return None
        in_force = [r for r in rows if r.start <= on < r.end]
        return max(in_force, key=lambda r: (r.rank, r.start), default=None)
