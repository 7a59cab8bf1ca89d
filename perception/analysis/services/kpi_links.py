"""Which experience target each internal KPI is compared with, and the KPI values of a period.

A KPI definition measures a KPI standard (``KpiDefinition.standard_id``, or the standard of the
value's service whose version in force has the definition's metric). That standard points to its
experience counterpart (``ServiceStandard.experience_standard_id``, setup phase); the counterpart's
version in force at the end of the period gives the experience metric, dimension, comparator and
target. KPI values are few (service x region x tier x week), so they are read as rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.analysis.services.filters import AnalysisFilters
from perception.kpi.models import Granularity, KpiDefinition, KpiValue
from perception.setup.models.standards import ServiceStandard, StandardVersion
from perception.setup.services.standards import is_experience, standards_in_force, versions_in_force

#: Experience metrics the comparison can measure from ExperienceObservation.
SUPPORTED_EXPERIENCE = ("csat_share", "csat_mean", "nps", "ces_mean", "dimension_rating_mean")
SHARE_METRICS = ("csat_share",)


@dataclass(frozen=True)
class ExperienceTarget:
    standard_code: str
    metric: str
    dimension: str | None
    comparator: str
    target: float  # shares on 0..1, NPS on -100..100, means on the rating scale


@dataclass(frozen=True)
class KpiLink:
    definition_id: int
    kpi_code: str
    kpi_name_zh: str
    kpi_name_en: str
    service_id: int
    kpi_standard_code: str | None
    experience: ExperienceTarget | None
    reason: str | None  # why there is no experience target (None when there is one)


class KpiRow(NamedTuple):
    """One KPI value (a NamedTuple: a national provider's year is millions of rows, and a tuple is
    built several times faster than a frozen dataclass; the fields read the same)."""

    definition_id: int
    service_id: int
    region_id: int
    tier_id: int | None
    period: date
    value: float
    n: int | None
    target: float | None
    comparator: str | None
    met: bool | None


def _kpi_where(filters: AnalysisFilters, granularity: str) -> list[Any]:
    clauses: list[Any] = [
        KpiValue.granularity == granularity,
        KpiValue.period_start >= filters.start,
        KpiValue.period_start < filters.end,
        KpiValue.value.is_not(None),
    ]
    if filters.region_ids is not None:
        clauses.append(KpiValue.region_id.in_(sorted(filters.region_ids)))
    if filters.service_id is not None:
        clauses.append(KpiValue.service_id == filters.service_id)
    if filters.tier_id is not None:
        clauses.append(KpiValue.tier_id == filters.tier_id)
    return clauses


def kpi_rows(
    session: Session,
    filters: AnalysisFilters,
    *,
    granularity: str = Granularity.WEEK,
    definition_ids: Collection[int] | None = None,
    service_ids: Collection[int] | None = None,
) -> list[KpiRow]:
    """KPI values of the filter period (weekly by default), restricted like the facts, and to
    ``definition_ids`` and ``service_ids`` when given."""
    stmt = select(
        KpiValue.definition_id,
        KpiValue.service_id,
        KpiValue.region_id,
        KpiValue.tier_id,
        KpiValue.period_start,
        KpiValue.value,
        KpiValue.n,
        KpiValue.target,
        KpiValue.comparator,
        KpiValue.met,
    ).where(*_kpi_where(filters, granularity))
    if definition_ids is not None:
        stmt = stmt.where(KpiValue.definition_id.in_(sorted(definition_ids)))
    if service_ids is not None:
        stmt = stmt.where(KpiValue.service_id.in_(sorted(service_ids)))
    # A fixed order (PostgreSQL returns unordered rows in whatever order the heap holds them): the
    # callers pool tiers and weeks, and a pooled sum or a tie must not depend on that order.
    stmt = stmt.order_by(
        KpiValue.definition_id,
        KpiValue.service_id,
        KpiValue.region_id,
        KpiValue.period_start,
        KpiValue.tier_key,
        KpiValue.id,
    )
    # Through the connection (Core): plain column rows need none of the ORM's loading, ~30 % of
    # the CPU time of a year's rows at national scale.
    make = KpiRow._make
    return [make(row) for row in session.connection().execute(stmt)]


def kpi_pairs(
    session: Session, filters: AnalysisFilters, *, granularity: str = Granularity.WEEK
) -> list[tuple[int, int, int]]:
    """(definition, service, first region) of every KPI that has values in the filter period, in
    that order: which KPIs a comparison must account for, without reading their values (a
    national provider's year holds millions; only the KPIs with an experience target need them)."""
    stmt = (
        select(KpiValue.definition_id, KpiValue.service_id, func.min(KpiValue.region_id))
        .where(*_kpi_where(filters, granularity))
        .group_by(KpiValue.definition_id, KpiValue.service_id)
        .order_by(KpiValue.definition_id, KpiValue.service_id)
    )
    return [(int(d), int(s), int(r)) for d, s, r in session.execute(stmt)]


def pooled_target(rows: Iterable[KpiRow]) -> tuple[float | None, str | None]:
    """The target and comparator of one week's rows with their tiers pooled: the strictest of the
    tiers' targets (the highest for ">=" / ">", the lowest for "<=" / "<"), so a week whose tiers
    have different targets (e.g. 95% for Platinum, 90% for Silver) is judged the same way whatever
    order the rows come in. (None, None) when no row has a target."""
    known = sorted(
        (r.comparator, -r.target if r.comparator in (">=", ">") else r.target)
        for r in rows
        if r.target is not None and r.comparator is not None
    )
    if not known:
        return None, None
    comparator, key = known[0]
    return (-key if comparator in (">=", ">") else key), comparator


def _normalise_target(version: StandardVersion) -> float:
    target = float(version.target)  # type: ignore[arg-type]
    if version.metric in SHARE_METRICS and (target > 1.0 or (version.unit or "") in ("percent", "%")):
        return target / 100.0
    return target


def _experience(version: StandardVersion | None) -> tuple[ExperienceTarget | None, str | None]:
    if version is None:
        return None, "no_experience_standard"
    if version.metric not in SUPPORTED_EXPERIENCE:
        return None, f"unsupported_experience_metric:{version.metric}"
    if version.target is None or version.comparator is None:
        return None, "experience_target_missing"
    if version.metric == "dimension_rating_mean" and not version.dimension:
        return None, "experience_dimension_missing"
    return (
        ExperienceTarget(
            standard_code=version.standard.code,
            metric=version.metric,
            dimension=version.dimension,
            comparator=version.comparator,
            target=_normalise_target(version),
        ),
        None,
    )


def _kpi_standard(
    definition: KpiDefinition,
    service_id: int,
    named: dict[int, ServiceStandard],
    in_force: dict[int, list[StandardVersion]],
) -> ServiceStandard | None:
    """The KPI standard a definition measures for a service: the one it names, else the service's
    general KPI standard in force (by code) whose metric is the definition's and that has an
    experience counterpart. ``named``: standards by id; ``in_force``: versions by service id."""
    if definition.standard_id is not None:
        return named.get(definition.standard_id)
    if not definition.metric:
        return None
    for version in in_force.get(service_id, []):
        standard = version.standard
        if (
            version.metric == definition.metric
            and not is_experience(version)
            and standard.customer_id is None
            and standard.experience_standard_id is not None
        ):
            return standard
    return None


def kpi_links(session: Session, pairs: Iterable[tuple[int, int]], on: date) -> dict[tuple[int, int], KpiLink]:
    """For each (definition_id, service_id): the KPI standard and its experience target on ``on``.

    A fixed number of queries whatever the number of pairs: the definitions, the standards they
    name, the versions in force of every active standard, and the experience counterparts."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    definition_ids = sorted({d for d, _ in wanted})
    definitions = {
        d.id: d for d in session.scalars(select(KpiDefinition).where(KpiDefinition.id.in_(definition_ids)))
    }
    named_ids = sorted({d.standard_id for d in definitions.values() if d.standard_id is not None})
    named = (
        {s.id: s for s in session.scalars(select(ServiceStandard).where(ServiceStandard.id.in_(named_ids)))}
        if named_ids
        else {}
    )
    in_force: dict[int, list[StandardVersion]] = {}
    if any(d.standard_id is None and d.metric for d in definitions.values()):
        for version in standards_in_force(session, on):  # ordered by standard code
            in_force.setdefault(version.standard.service_id, []).append(version)
    standards = {
        (definition_id, service_id): _kpi_standard(definitions[definition_id], service_id, named, in_force)
        for definition_id, service_id in wanted
        if definition_id in definitions
    }
    counterparts = versions_in_force(
        session,
        (
            s.experience_standard_id
            for s in standards.values()
            if s is not None and s.experience_standard_id is not None
        ),
        on,
    )
    out: dict[tuple[int, int], KpiLink] = {}
    for (definition_id, service_id), standard in standards.items():
        definition = definitions[definition_id]
        target: ExperienceTarget | None
        reason: str | None
        if standard is None:
            target, reason = None, "no_kpi_standard"
        else:
            exp_id = standard.experience_standard_id
            target, reason = _experience(counterparts.get(exp_id) if exp_id is not None else None)
        out[(definition_id, service_id)] = KpiLink(
            definition_id=definition_id,
            kpi_code=definition.code,
            kpi_name_zh=definition.name_zh,
            kpi_name_en=definition.name_en,
            service_id=service_id,
            kpi_standard_code=standard.code if standard is not None else None,
            experience=target,
            reason=reason,
        )
    return out
