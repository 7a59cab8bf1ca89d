"""Reading KPI values: the public query the pages, the API, analysis and review use.

``kpi_values(session, KpiQuery(...))`` returns one ``KpiAttainment`` per stored value (KPI x service
x region x tier x period) with its target, comparator and ``met`` as resolved when it was stored,
whatever its provenance (computed from tickets or imported). ``attainment_summary`` rolls them up
per KPI x service x region x tier over the periods (periods measured, met, share met, latest value),
which is what "are the KPIs met for this service in this region" asks.

Also registers the setup phase's measured-history provider: the weekly values of the KPI measuring
a standard (its metric on its service, n-weighted over regions) feed the "feasible" principle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from perception.core.models.org import Region
from perception.kpi.models import Granularity, KpiDefinition, KpiValue
from perception.kpi.services.feasibility import REPLAYED_METRICS
from perception.setup.models.catalog import Service, ServiceTier
from perception.setup.models.standards import StandardVersion
from perception.setup.services.standards import ReplayScope, register_history_provider


@dataclass(frozen=True)
class KpiQuery:
    start: date | None = None  # period_start >= start
    end: date | None = None  # period_start < end
    granularity: str = Granularity.WEEK
    region_ids: frozenset[int] | None = None  # the user's scope; None = every region
    region_id: int | None = None
    service_id: int | None = None
    tier_id: int | None = None
    kpi_codes: Sequence[str] = field(default=())
    with_target_only: bool = False


@dataclass(frozen=True)
class KpiAttainment:
    value_id: int
    kpi_code: str
    kpi_name_zh: str
    kpi_name_en: str
    unit: str
    direction: str
    service_id: int
    service_code: str
    region_id: int
    region_code: str
    tier_id: int | None
    tier_code: str | None
    granularity: str
    period_start: date
    period_end: date
    value: float | None
    n: int | None
    target: float | None
    comparator: str | None
    met: bool | None
    provenance: str


def _stmt(q: KpiQuery) -> Select:  # type: ignore[type-arg]
    tier = aliased(ServiceTier)
    stmt = (
        select(KpiValue, KpiDefinition, Service.code, Region.code, tier.code)
        .join(KpiDefinition, KpiDefinition.id == KpiValue.definition_id)
        .join(Service, Service.id == KpiValue.service_id)
        .join(Region, Region.id == KpiValue.region_id)
        .outerjoin(tier, tier.id == KpiValue.tier_id)
        .where(KpiValue.granularity == q.granularity)
    )
    if q.start is not None:
        stmt = stmt.where(KpiValue.period_start >= q.start)
    if q.end is not None:
        stmt = stmt.where(KpiValue.period_start < q.end)
    if q.region_ids is not None:
        stmt = stmt.where(KpiValue.region_id.in_(sorted(q.region_ids)))
    for column, wanted in (
        (KpiValue.region_id, q.region_id),
        (KpiValue.service_id, q.service_id),
        (KpiValue.tier_id, q.tier_id),
    ):
        if wanted is not None:
            stmt = stmt.where(column == wanted)
    if q.kpi_codes:
        stmt = stmt.where(KpiDefinition.code.in_([c.upper() for c in q.kpi_codes]))
    if q.with_target_only:
        stmt = stmt.where(KpiValue.target.is_not(None))
    return stmt


def count_values(session: Session, q: KpiQuery) -> int:
    return int(session.scalar(select(func.count()).select_from(_stmt(q).subquery())) or 0)


def kpi_values(
    session: Session, q: KpiQuery, *, limit: int | None = None, offset: int = 0
) -> list[KpiAttainment]:
    """Stored KPI values matching ``q``, newest period first, then KPI, service, region, tier."""
    stmt = _stmt(q).order_by(
        KpiValue.period_start.desc(), KpiDefinition.code, Service.code, Region.code, KpiValue.tier_key
    )
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    out = []
    for value, definition, service_code, region_code, tier_code in session.execute(stmt):
        out.append(
            KpiAttainment(
                value_id=value.id,
                kpi_code=definition.code,
                kpi_name_zh=definition.name_zh,
                kpi_name_en=definition.name_en,
                unit=definition.unit,
                direction=definition.direction,
                service_id=value.service_id,
                service_code=service_code,
                region_id=value.region_id,
                region_code=region_code,
                tier_id=value.tier_id,
                tier_code=tier_code,
                granularity=value.granularity,
                period_start=value.period_start,
                period_end=value.period_end,
                value=value.value,
                n=value.n,
                target=value.target,
                comparator=value.comparator,
                met=value.met,
                provenance=value.provenance,
            )
        )
    return out


@dataclass(frozen=True)
class AttainmentSummary:
    kpi_code: str
    kpi_name_zh: str
    kpi_name_en: str
    unit: str
    service_code: str
    region_code: str
    tier_code: str | None
    periods: int  # periods with a value and a target
    met: int
    share_met: float | None
    latest_period: date
    latest_value: float | None
    latest_target: float | None
    latest_met: bool | None


def attainment_summary(session: Session, q: KpiQuery) -> list[AttainmentSummary]:
    """Per KPI x service x region x tier over the query's periods (only values with a target)."""
    groups: dict[tuple[str, str, str, str | None], list[KpiAttainment]] = {}
    for row in kpi_values(session, KpiQuery(**{**q.__dict__, "with_target_only": True})):
        groups.setdefault((row.kpi_code, row.service_code, row.region_code, row.tier_code), []).append(row)
    out = []
    for (code, service, region, tier), rows in sorted(
        groups.items(), key=lambda kv: tuple(str(k) for k in kv[0])
    ):
        judged = [r for r in rows if r.met is not None]
        met = sum(1 for r in judged if r.met)
        latest = rows[0]  # newest first
        out.append(
            AttainmentSummary(
                kpi_code=code,
                kpi_name_zh=latest.kpi_name_zh,
                kpi_name_en=latest.kpi_name_en,
                unit=latest.unit,
                service_code=service,
                region_code=region,
                tier_code=tier,
                periods=len(judged),
                met=met,
                share_met=met / len(judged) if judged else None,
                latest_period=latest.period_start,
                latest_value=latest.value,
                latest_target=latest.target,
                latest_met=latest.met,
            )
        )
    return out


@register_history_provider
def measured_history(
    session: Session, version: StandardVersion, scope: ReplayScope | None = None
) -> list[float] | None:
    """Weekly values (oldest first) of the KPI with this version's metric on its service, in the
    version's unit (shares are stored in %; a ratio target gets ratios). None for a version bound to
    one priority: the weekly KPI mixes every priority, so it would not measure that standard. None for
    a metric the tickets measure: kpi_feasibility replays the rule itself on them (issue 14: the
    weekly KPI measures the limit in force, not the proposed one). ``scope``: the weeks of its period;
    None for one customer's view (KPI values are not kept per customer)."""
    standard = version.standard
    if version.priority is not None or version.metric in REPLAYED_METRICS:
        return None
    if scope is not None and scope.customer_id is not None:
        return None  # KPI values are kept per region and tier, not per customer
    stmt = (
        select(
            KpiValue.period_start,
            func.sum(KpiValue.value * func.coalesce(KpiValue.n, 1)) / func.sum(func.coalesce(KpiValue.n, 1)),
        )
        .join(KpiDefinition, KpiDefinition.id == KpiValue.definition_id)
        .where(
            KpiDefinition.metric == version.metric,
            KpiValue.service_id == standard.service_id,
            KpiValue.granularity == Granularity.WEEK,
            KpiValue.value.is_not(None),
        )
        .group_by(KpiValue.period_start)
        .order_by(KpiValue.period_start)
    )
    if standard.tier_id is not None:
        stmt = stmt.where(KpiValue.tier_id == standard.tier_id)
    if scope is not None:  # the weeks whose Monday lies in the scope
        stmt = stmt.where(KpiValue.period_start >= scope.start, KpiValue.period_start < scope.end)
    values = [float(v) for _, v in session.execute(stmt) if v is not None]
    ratio = version.unit not in ("%", "％") and version.target is not None and version.target <= 1.0
    if version.metric.endswith(("_share", "_rate")) and ratio:
        values = [v / 100.0 for v in values]
    return values or None
