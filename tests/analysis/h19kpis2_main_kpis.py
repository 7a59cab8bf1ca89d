"""Internal KPI analysis: attainment per KPI and service (per region), the breaches, the trend.

Attainment is scoring.standard_attainment over the weekly values against the target stored with
each value (the standard version in force that week, resolved by the KPI phase). Trend: per KPI
and week the n-weighted mean value over the regions in scope, with the latest target.

A percentile KPI (P50/P90 of response or resolution time) is never averaged: pooled over regions,
tiers or services it is taken again from the pooled tickets (kpi_pooled.pooled_percentiles); a week
whose rows cannot be pooled from tickets (imported percentiles of several groups) shows no value.

Public API: ``kpi_analysis(session, filters) -> KpiAnalysisView``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.kpi_links import KpiRow, kpi_rows, pooled_target
from perception.analysis.services.names import load_names
from perception.analysis.services.overview import periods_in
from perception.kpi.models import KpiDefinition
from perception.kpi.services.pooled import PERCENTILE_KPIS, pooled_percentiles
from perception.setup.models.catalog import ServiceTier
from scoring import AttainmentResult, standard_attainment
from scoring.attainment import pooled_met
from scoring.results import to_jsonable

BREACH_LIMIT = 200


@dataclass(frozen=True)
class AttainmentRow:
    definition_id: int
    kpi_code: str
    kpi_name_zh: str
    kpi_name_en: str
    unit: str
    service_id: int
    service_code: str
    region_id: int | None  # None: the KPI over every region in scope
    region_code: str
    attainment: AttainmentResult


@dataclass(frozen=True)
class Breach:
    kpi_code: str
    service_code: str
    region_id: int
    region_code: str
    tier_code: str  # "" when the value is not per tier
    period: date
    value: float
    target: float | None
    comparator: str | None


@dataclass(frozen=True)
class KpiTrend:
    definition_id: int
    kpi_code: str
    kpi_name_zh: str
    kpi_name_en: str
    periods: tuple[date, ...]
    values: tuple[float, ...]  # nan where no value
    target: float | None
    comparator: str | None


@dataclass(frozen=True)
class KpiAnalysisView:
    filters: AnalysisFilters
    summary: tuple[AttainmentRow, ...]  # per KPI x service, all regions in scope pooled per week
    by_region: tuple[AttainmentRow, ...]
    breaches: tuple[Breach, ...]
    breach_count: int
    trends: tuple[KpiTrend, ...]

    def to_dict(self) -> dict[str, Any]:
        out = to_jsonable(
            {
                "summary": self.summary,
                "by_region": self.by_region,
                "breaches": self.breaches,
                "breach_count": self.breach_count,
                "trends": self.trends,
            }
        )
        out["filters"] = self.filters.to_dict()
        return out


def _pooled(
    rows: list[KpiRow], weeks: list[date], exact: dict[date, float] | None = None
) -> tuple[list[float | None], list[float | None], str, list[bool | None]]:
    """Per week the n-weighted mean value and the target of the rows (tiers pooled:
    analysis_kpi_links.pooled_target), neither depending on the order of the rows. ``exact``
    (a percentile KPI): the week's value pooled from the tickets, used whenever the week has more
    than one row; a week of several rows without one has no value (a mean of percentiles is not
    a percentile). Met per week: scoring.pooled_met over the rows, each tier and region judged
    against its own target (the rule the "standard missed" alert uses)."""
    by_week: dict[date, list[KpiRow]] = defaultdict(list)
    for r in rows:
        by_week[r.period].append(r)
    values: list[float | None] = []
    targets: list[float | None] = []
    mets: list[bool | None] = []
    comparator = next((r.comparator for r in rows if r.comparator), ">=")
    for w in weeks:
        group = by_week.get(w, [])
        mets.append(pooled_met(r.met for r in group))
        if not group:
            values.append(None)
            targets.append(None)
            continue
        if exact is not None and len(group) > 1:
            values.append(exact.get(w))
        else:
            weights = [float(r.n) if r.n else 1.0 for r in group]
            total = math.fsum(x * r.value for x, r in zip(weights, group, strict=True))
            values.append(total / math.fsum(weights))
        target, _ = pooled_target(group)
        targets.append(target)
    return values, targets, comparator, mets


def kpi_analysis(session: Session, filters: AnalysisFilters) -> KpiAnalysisView:
    names = load_names(session, customers=False)
    rows = kpi_rows(session, filters)
    definitions = {d.id: d for d in session.scalars(select(KpiDefinition))}
    weeks = [p for p in periods_in(AnalysisFilters(start=filters.start, end=filters.end))]
    cells: dict[tuple[int, int, int], list[KpiRow]] = defaultdict(list)
    pooled: dict[tuple[int, int], list[KpiRow]] = defaultdict(list)
    per_kpi: dict[int, list[KpiRow]] = defaultdict(list)
    for r in rows:
        cells[(r.definition_id, r.service_id, r.region_id)].append(r)
        pooled[(r.definition_id, r.service_id)].append(r)
        per_kpi[r.definition_id].append(r)

    percentile_codes = {d_id for d_id, d in definitions.items() if d.code in PERCENTILE_KPIS}
    by_keep: dict[tuple[str, ...], dict[tuple[object, ...], dict[date, float]]] = {}

    def exact(d_id: int, keep: tuple[str, ...], ids: tuple[int, ...]) -> dict[date, float] | None:
        """The percentile KPI's weekly values pooled from the tickets (None: not a percentile)."""
        if d_id not in percentile_codes:
            return None
        if keep not in by_keep:
            index: dict[tuple[object, ...], dict[date, float]] = defaultdict(dict)
            for key, (value, _) in pooled_percentiles(
                session,
                filters.start,
                filters.end,
                keep,
                region_ids=filters.region_ids,
                service_id=filters.service_id,
                tier_id=filters.tier_id,
            ).items():
                index[key[:-1]][key[-1]] = value  # type: ignore[index]
            by_keep[keep] = index
        return by_keep[keep].get((definitions[d_id].code, *ids), {})

    def row(d_id: int, s_id: int, region_id: int | None, group: list[KpiRow]) -> AttainmentRow:
        d = definitions[d_id]
        keep, ids = (
            (("service",), (s_id,)) if region_id is None else (("service", "region"), (s_id, region_id))
        )
        # The tickets are needed only for a week of several rows (issue 19: at 100 regions x 50
        # services, pooling every cell costs more than the rest of the page).
        several = len({r.period for r in group}) < len(group)
        values, targets, comparator, mets = _pooled(group, weeks, exact(d_id, keep, ids) if several else None)
        result = standard_attainment(
            [w.isoformat() for w in weeks],
            [float("nan") if v is None else v for v in values],
            comparator,
            [float("nan") if t is None else t for t in targets],
            mets,
        )
        return AttainmentRow(
            definition_id=d_id,
            kpi_code=d.code,
            kpi_name_zh=d.name_zh,
            kpi_name_en=d.name_en,
            unit=d.unit,
            service_id=s_id,
            service_code=names.service(s_id).code,
            region_id=region_id,
            region_code=names.region(region_id).code if region_id is not None else "",
            attainment=result,
        )

    summary = tuple(row(d, s, None, g) for (d, s), g in sorted(pooled.items()) if d in definitions)
    by_region = tuple(
        sorted(
            (row(d, s, r, g) for (d, s, r), g in cells.items() if d in definitions),
            key=lambda a: (a.kpi_code, a.service_code, a.region_code),
        )
    )
    tiers: dict[int, str] = {i: c for i, c in session.execute(select(ServiceTier.id, ServiceTier.code))}
    missed = sorted((r for r in rows if r.met is False), key=lambda r: (r.period, r.region_id), reverse=True)
    breaches = tuple(
        Breach(
            kpi_code=definitions[r.definition_id].code
            if r.definition_id in definitions
            else str(r.definition_id),
            service_code=names.service(r.service_id).code,
            region_id=r.region_id,
            region_code=names.region(r.region_id).code,
            tier_code=tiers.get(r.tier_id, "") if r.tier_id is not None else "",
            period=r.period,
            value=r.value,
            target=r.target,
            comparator=r.comparator,
        )
        for r in missed[:BREACH_LIMIT]
    )
    trends = []
    for d_id, group in sorted(per_kpi.items()):
        if d_id not in definitions:
            continue
        d = definitions[d_id]
        values, targets, comparator, _ = _pooled(group, weeks, exact(d_id, (), ()))
        known = [t for t in targets if t is not None]
        trends.append(
            KpiTrend(
                definition_id=d_id,
                kpi_code=d.code,
                kpi_name_zh=d.name_zh,
                kpi_name_en=d.name_en,
                periods=tuple(weeks),
                values=tuple(float("nan") if v is None else v for v in values),
                target=known[-1] if known else None,
                comparator=comparator,
            )
        )
    return KpiAnalysisView(filters, summary, by_region, breaches, len(missed), tuple(trends))
