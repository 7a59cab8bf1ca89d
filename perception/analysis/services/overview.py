"""The overview: composite perception index, CSAT and NPS with intervals and low-sample flags per
region and per service, their trend over weeks or months, the user-dynamic-information events on
the same timeline, and the regions whose latest period dropped significantly.

Public API (also used by the review phase): ``overview(session, filters, *, use_rollup=True)
-> OverviewView`` (``use_rollup``: the ANALYSIS_ROLLUP setting, see services.facts.aggregate).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.orm import Session

from perception.analysis.services.facts import (
    FactTable,
    aggregate,
    csat_measure,
    index_measure,
    kind_total,
    nps_measures,
    rollup,
)
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.names import Names, load_names
from perception.core.periods import iso_week_label, month_start
from scoring import GroupMeasure, detect_drop_shares
from scoring.results import to_jsonable

if TYPE_CHECKING:
    from perception.collection.services.analysis import CollectionEvent

OVERVIEW_KINDS = ("csat", "nps", "rating", "likert")


@dataclass(frozen=True)
class GroupRow:
    """CSAT, NPS and perception index of one group (a region, a service, or everything)."""

    group: str  # all | region | service
    id: int | None
    code: str
    name_zh: str
    name_en: str
    csat: GroupMeasure | None
    nps: GroupMeasure | None
    index: GroupMeasure | None

    @property
    def low_sample(self) -> bool:
        return any(m is not None and m.low_sample for m in (self.csat, self.nps, self.index))


@dataclass(frozen=True)
class TrendPoint:
    period: date  # first day of the week or month
    label: str
    csat: GroupMeasure | None
    nps: GroupMeasure | None
    index: GroupMeasure | None


@dataclass(frozen=True)
class DropFlag:
    """A region whose CSAT in the last period fell significantly below its earlier periods."""

    region_id: int
    region_code: str
    period: date
    baseline: float
    estimate: float
    n: int
    p_value: float


@dataclass(frozen=True)
class OverviewView:
    filters: AnalysisFilters
    total: GroupRow
    regions: tuple[GroupRow, ...]
    services: tuple[GroupRow, ...]
    trend: tuple[TrendPoint, ...]
    events: tuple[CollectionEvent, ...]
    drops: tuple[DropFlag, ...]

    def to_dict(self) -> dict[str, Any]:
        out = to_jsonable(
            {
                "total": self.total,
                "regions": self.regions,
                "services": self.services,
                "trend": self.trend,
                "events": self.events,
                "drops": self.drops,
            }
        )
        out["filters"] = self.filters.to_dict()
        return out


def period_of(day: date, grain: str) -> date:
    return month_start(day) if grain == "month" else day


def period_label(day: date, grain: str) -> str:
    return day.strftime("%Y-%m") if grain == "month" else iso_week_label(day)


def periods_in(filters: AnalysisFilters) -> list[date]:
    """Every week (or month) of the filter period, in order, including those without data."""
    out: list[date] = []
    day = filters.start
    while day < filters.end:
        p = period_of(day, filters.grain)
        if not out or out[-1] != p:
            out.append(p)
        day = date.fromordinal(day.toordinal() + 7)
    return out


def _rows(group: str, items: list[tuple[Any, Any]]) -> list[GroupRow]:
    """GroupRows for (named, parts) pairs; NPS intervals computed in one batch."""
    keyed = [((named.id,) if named is not None else (), parts) for named, parts in items]
    nps = nps_measures(keyed)
    return [
        GroupRow(
            group=group,
            id=named.id if named is not None else None,
            code=named.code if named is not None else "",
            name_zh=named.name_zh if named is not None else "全部",
            name_en=named.name_en if named is not None else "All",
            csat=csat_measure(parts, key),
            nps=nps[i],
            index=index_measure(parts, key),
        )
        for i, ((named, parts), (key, _)) in enumerate(zip(items, keyed, strict=True))
    ]


def group_rows(cells: FactTable, names: Names) -> tuple[GroupRow, tuple[GroupRow, ...], tuple[GroupRow, ...]]:
    total = rollup(cells).get((), {})
    by_region = rollup(cells, ("region",))
    by_service = rollup(cells, ("service",))
    regions = sorted(
        _rows("region", [(names.region(int(r)), parts) for r, parts in by_region.items()]),  # type: ignore[call-overload]
        key=lambda row: row.code,
    )
    services = sorted(
        _rows("service", [(names.service(sv), parts) for sv, parts in by_service.items()]),  # type: ignore[arg-type]
        key=lambda row: row.code,
    )
    return _rows("all", [(None, total)])[0], tuple(regions), tuple(services)


def trend_points(cells: FactTable, filters: AnalysisFilters) -> tuple[TrendPoint, ...]:
    grain = filters.grain
    by_period = rollup(cells, ("period",), grain=grain)
    periods = periods_in(filters)
    groups = [((p,), by_period.get(p, {})) for p in periods]
    nps = nps_measures(groups)
    return tuple(
        TrendPoint(
            period=p,
            label=period_label(p, grain),
            csat=csat_measure(parts, key),
            nps=nps[i],
            index=index_measure(parts, key),
        )
        for i, (p, (key, parts)) in enumerate(zip(periods, groups, strict=True))
    )


def drop_flags(
    cells: FactTable, filters: AnalysisFilters, names: Names, *, alpha: float = 0.05
) -> tuple[DropFlag, ...]:
    """Per region: is the last period's CSAT significantly below the pooled earlier periods?

    scoring.detect_drop_shares with every earlier period of the filter as the baseline (one-sided
    pooled two-proportion z test; a single later period, so no multiplicity adjustment applies).
    """
    periods = periods_in(filters)
    if len(periods) < 2:
        return ()
    index = {p: i for i, p in enumerate(periods)}
    by_region_period = rollup(cells, ("region", "period"), grain=filters.grain)
    series: dict[int, tuple[list[int], list[int]]] = {}
    for group, parts in by_region_period.items():
        region_id, p = cast(tuple[int, date], group)
        acc = kind_total(parts, "csat")
        if acc.n == 0 or p not in index:
            continue
        succ, n = series.setdefault(region_id, ([0] * len(periods), [0] * len(periods)))
        succ[index[p]] += acc.top2
        n[index[p]] += acc.n
    flags = []
    for region_id, (succ, n) in sorted(series.items()):
        if n[-1] == 0 or sum(n[:-1]) == 0:
            continue
        report = detect_drop_shares(succ, n, baseline_periods=len(periods) - 1, alpha=alpha, adjust="none")
        for check in report.checks:
            if check.significant_drop:
                flags.append(
                    DropFlag(
                        region_id=region_id,
                        region_code=names.region(region_id).code,
                        period=periods[check.period],
                        baseline=report.baseline,
                        estimate=check.estimate,
                        n=check.n,
                        p_value=check.p_value,
                    )
                )
    return tuple(flags)


def overview(session: Session, filters: AnalysisFilters, *, use_rollup: bool = True) -> OverviewView:
    """The overview page's data: one GROUP BY over the filtered facts, rolled up in memory."""
    cells = aggregate(session, filters, kinds=OVERVIEW_KINDS, use_rollup=use_rollup)
    names = load_names(session, customers=False)
    total, regions, services = group_rows(cells, names)
    from perception.collection.services.analysis import events_between

    events = events_between(
        session,
        filters.start,
        filters.end,
        sorted(filters.region_ids) if filters.region_ids is not None else None,
    )
    if filters.service_id is not None:
        events = [e for e in events if e.service_id in (None, filters.service_id)]
    if filters.customer_id is not None:
        events = [e for e in events if e.customer_id in (None, filters.customer_id)]
    return OverviewView(
        filters=filters,
        total=total,
        regions=regions,
        services=services,
        trend=trend_points(cells, filters),
        events=tuple(events),
        drops=drop_flags(cells, filters, names),
    )
