"""The overview: composite perception index, CSAT and NPS with intervals and low-sample flags per
region and per service, their trend over weeks or months, the user-dynamic-information events on
the same timeline, and the measures that dropped in the last complete weeks (services.changes).

The figures (every row, the trend, the collectors' index) are kept while the facts and names are
unchanged (issue 19): under the write counter of the manager's headline
(perception.kpi.services.data_version.HEADLINE), in the process and in the database for every
worker (perception.core.kept), keyed by the filters (which carry the user's scope); figures over
the transaction's own uncommitted answers are kept for that transaction alone. The events on the
timeline are read on every load (another phase's table, one small query). The page shows the
change look's summary (services.changes.ChangeSummary, kept apart: ``whole_look=False``); the API
the whole look. On PostgreSQL the look is computed beside the figures, in a thread and a
transaction of its own (core.transaction.computed_beside), unless the caller's transaction has
written answers it must count; the figures' three groupings read the facts in one statement
(services.facts.aggregate_each).

Public API (also used by the review phase): ``overview(session, filters, *, use_rollup=True,
today=None, whole_look=True) -> OverviewView`` (``use_rollup``: the ANALYSIS_ROLLUP setting, see
services.facts.aggregate); ``forget_kept()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from perception.analysis.services.changes import ChangeSummary, ChangeView, change_summary, change_view
from perception.analysis.services.facts import (
    FactTable,
    aggregate,
    aggregate_each,
    csat_measure,
    dimension_measure,
    index_measure,
    kind_total,
    nps_measures,
    rollup,
)
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.names import Names, load_names
from perception.analysis.services.perception_index import index_by, index_by_groups
from perception.core.kept import Kept
from perception.core.models.base import utcnow
from perception.core.periods import iso_week_label, month_start
from scoring import GroupMeasure
from scoring.index import PerceptionIndex
from scoring.results import to_jsonable

if TYPE_CHECKING:
    from perception.collection.services.analysis import CollectionEvent

OVERVIEW_KINDS = ("csat", "nps", "ces", "rating", "likert")


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
    ces: GroupMeasure | None = None  # mean on the CES scale (1..7 agreement "easy to handle")
    #: The customers' index with its dimensions and weights (``index`` is its measure).
    index_detail: PerceptionIndex | None = None

    @property
    def low_sample(self) -> bool:
        return any(m is not None and m.low_sample for m in (self.csat, self.nps, self.index, self.ces))


@dataclass(frozen=True)
class TrendPoint:
    period: date  # first day of the week or month
    label: str
    csat: GroupMeasure | None
    nps: GroupMeasure | None
    index: GroupMeasure | None


@dataclass(frozen=True)
class OverviewView:
    filters: AnalysisFilters
    total: GroupRow
    regions: tuple[GroupRow, ...]
    services: tuple[GroupRow, ...]
    trend: tuple[TrendPoint, ...]
    events: tuple[CollectionEvent, ...]
    #: The whole look (the API), or what the page shows of it (``whole_look=False``).
    changes: ChangeView | ChangeSummary
    #: The collectors' weekly-report ratings as an index of their own, shown apart (never mixed in).
    reports_index: PerceptionIndex | None = None
    #: When the figures were computed (UTC): they are kept until the answers or the names change.
    computed_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        changes = self.changes
        out = to_jsonable(
            {
                "total": self.total,
                "regions": self.regions,
                "services": self.services,
                "trend": self.trend,
                "events": self.events,
                "changes": {"window": changes.window, "look": changes.look}
                if isinstance(changes, ChangeView)
                else {"window": changes.window, "flags": [row.test for row in changes.flags]},
                "reports_index": self.reports_index,
            }
        )
        out["filters"] = self.filters.to_dict()
        return out


@dataclass(frozen=True)
class OverviewFigures:
    """The overview's figures, as kept (module docstring): everything but the events and the look."""

    total: GroupRow
    regions: tuple[GroupRow, ...]
    services: tuple[GroupRow, ...]
    trend: tuple[TrendPoint, ...]
    reports_index: PerceptionIndex | None
    computed_at: datetime


def ces_measure(parts: Any, key: tuple[Any, ...] = ()) -> GroupMeasure | None:
    """Customer effort: mean of the ``ces`` answers with its t interval (facts.dimension_measure)."""
    return dimension_measure(kind_total(parts, "ces"), key, measure="ces")


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


def _index(
    indices: Mapping[Any, PerceptionIndex] | None, label: Any, parts: Any, key: tuple[Any, ...]
) -> tuple[GroupMeasure | None, PerceptionIndex | None]:
    """The customers' index of a group (services.perception_index) when given, else the
    facts-sums index (a conservative interval; used where no session is at hand)."""
    if indices is None:
        return index_measure(parts, key), None
    found = indices.get(label)
    return (found.measure, found) if found is not None else (None, None)


def _rows(
    group: str, items: list[tuple[Any, Any]], indices: Mapping[Any, PerceptionIndex] | None = None
) -> list[GroupRow]:
    """GroupRows for (named, parts) pairs; NPS intervals computed in one batch."""
    keyed = [((named.id,) if named is not None else (), parts) for named, parts in items]
    nps = nps_measures(keyed)
    out = []
    for i, ((named, parts), (key, _)) in enumerate(zip(items, keyed, strict=True)):
        label = () if named is None else named.id
        index, detail = _index(indices, label, parts, key)
        out.append(
            GroupRow(
                group=group,
                id=named.id if named is not None else None,
                code=named.code if named is not None else "",
                name_zh=named.name_zh if named is not None else "全部",
                name_en=named.name_en if named is not None else "All",
                csat=csat_measure(parts, key),
                nps=nps[i],
                index=index,
                ces=ces_measure(parts, key),
                index_detail=detail,
            )
        )
    return out


def group_rows(
    cells: FactTable,
    names: Names,
    indices: Mapping[str, Mapping[Any, PerceptionIndex]] | None = None,
    services: FactTable | None = None,
) -> tuple[GroupRow, tuple[GroupRow, ...], tuple[GroupRow, ...]]:
    """``indices``: the customers' index per group ("all", "region", "service"), from
    services.perception_index.index_by. ``cells`` grouped by region and service, or by region
    alone with ``services`` grouped by service (the overview: two small GROUP BYs)."""
    total = rollup(cells).get((), {})
    by_region = rollup(cells, ("region",))
    by_service = rollup(services if services is not None else cells, ("service",))
    pick = (lambda name: indices.get(name, {})) if indices is not None else (lambda name: None)
    regions = sorted(
        _rows("region", [(names.region(int(r)), parts) for r, parts in by_region.items()], pick("region")),  # type: ignore[call-overload]
        key=lambda row: row.code,
    )
    services_rows = sorted(
        _rows("service", [(names.service(sv), parts) for sv, parts in by_service.items()], pick("service")),  # type: ignore[arg-type]
        key=lambda row: row.code,
    )
    return _rows("all", [(None, total)], pick("all"))[0], tuple(regions), tuple(services_rows)


def trend_points(
    cells: FactTable, filters: AnalysisFilters, indices: Mapping[Any, PerceptionIndex] | None = None
) -> tuple[TrendPoint, ...]:
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
            index=_index(indices, p, parts, key)[0],
        )
        for i, (p, (key, parts)) in enumerate(zip(periods, groups, strict=True))
    )


def headline(session: Session, filters: AnalysisFilters) -> tuple[GroupRow, tuple[TrendPoint, ...]]:
    """The overview's total row and trend alone, from the same GROUP BY: what the review's
    scorecard shows. Without the per-region and per-service rows, the events and the change
    look, which took half of a warm review page's time (twice: the period and the one before)."""
    weeks = aggregate(session, filters, kinds=OVERVIEW_KINDS, by=("period",))
    total = _rows("all", [(None, rollup(weeks).get((), {}))])[0]
    return total, trend_points(weeks, filters)


def overview_figures(
    session: Session, filters: AnalysisFilters, *, use_rollup: bool = True
) -> OverviewFigures:
    """The figures computed now: one GROUP BY per grouping over the filtered facts (or their
    weekly sums), rolled up in memory, and the customers' and collectors' indices."""
    # Small GROUP BYs (per region, per service, per period) instead of one per region x service x
    # period: the rows a page reads stay some thousands however long the period; per region and
    # per service apart (issue 19), not per region x service (45,000 rows at a national
    # provider's size, read from every region x service x tier cell's weeks): the pre-aggregate
    # keeps levels summed over services and over regions.
    computed_at = utcnow()
    groupings = [("region",), ("service",), ("period",)]
    cells, per_service, weeks = aggregate_each(
        session, filters, groupings, kinds=OVERVIEW_KINDS, use_rollup=use_rollup
    )
    names = load_names(session, customers=False)
    everything, by_region, by_service, by_period = index_by_groups(
        session, filters, ((), ("region",), ("service",), ("period",)), grain=filters.grain,
        use_rollup=use_rollup,
    )  # fmt: skip
    indices = {"all": everything, "region": by_region, "service": by_service}
    total, regions, services = group_rows(cells, names, indices, per_service)
    return OverviewFigures(
        total=total,
        regions=regions,
        services=services,
        trend=trend_points(weeks, filters, by_period),
        reports_index=index_by(session, filters, voice="reports", use_rollup=use_rollup).get(()),
        computed_at=computed_at,
    )


#: Figures kept per process (module docstring): a national provider's are some 150 rows.
KEPT_FIGURES = 16
_kept: Kept[OverviewFigures] = Kept(
    "analysis_overview", OverviewFigures, entries=KEPT_FIGURES, own_writes=True
)


def kept_figures(session: Session, filters: AnalysisFilters, *, use_rollup: bool = True) -> OverviewFigures:
    """``overview_figures``, kept while the facts and names are unchanged (module docstring). The
    weekly sums give the figures of the facts (services.facts.aggregate); which of the two is read
    is in the key all the same (figures kept from the facts are computed again from the sums once
    they are rebuilt), so a comparison of the two paths compares two computations."""
    from perception.analysis.services.rollup import rollup_reading
    from perception.kpi.services.data_version import HEADLINE, read_version

    figures = _kept.get(
        session,
        {"filters": filters, "rollup": use_rollup and rollup_reading(session).usable},
        read_version(session, HEADLINE),
        lambda: overview_figures(session, filters, use_rollup=use_rollup),
    )
    return _period_keys(figures)


def _period_keys(figures: OverviewFigures) -> OverviewFigures:
    """The trend's measures keyed by their period's date again: a stored row keeps a measure's key
    as JSON (an untyped tuple), so a date comes back as its ISO text."""
    points = figures.trend
    if all(isinstance(m.key[0], date) for p in points for m in (p.csat, p.nps, p.index) if m is not None):
        return figures

    def keyed(m: GroupMeasure | None, period: date) -> GroupMeasure | None:
        return None if m is None else replace(m, key=(period,))

    trend = tuple(
        replace(p, csat=keyed(p.csat, p.period), nps=keyed(p.nps, p.period), index=keyed(p.index, p.period))
        for p in points
    )
    return replace(figures, trend=trend)


def forget_kept() -> None:
    """Drop the figures and looks kept in this process (tests, benchmarks); stored rows stay."""
    from perception.analysis.services import changes

    _kept.forget()
    changes.forget_kept()


def overview(
    session: Session,
    filters: AnalysisFilters,
    *,
    use_rollup: bool = True,
    today: date | None = None,
    whole_look: bool = True,
) -> OverviewView:
    """The overview page's data: the figures (kept), the events on the timeline, and the change
    look (services.changes) of the filter's last complete weeks, whole or its summary; ``today``
    (the organisation's clock) decides which week is unfinished, None trusts the filter's end."""
    from perception.collection.services.analysis import events_between
    from perception.core.transaction import computed_beside
    from perception.kpi.services.data_version import has_pending_writes

    # The look beside the figures (core.transaction.computed_beside): each waits on the database
    # while the other computes.
    look = computed_beside(
        session,
        lambda own: (change_view if whole_look else change_summary)(own, filters, today=today),
        alone=not has_pending_writes(session),
    )
    figures = kept_figures(session, filters, use_rollup=use_rollup)

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
        total=figures.total,
        regions=figures.regions,
        services=figures.services,
        trend=figures.trend,
        events=tuple(events),
        changes=look(),
        reports_index=figures.reports_index,
        computed_at=figures.computed_at,
    )
