"""Fixtures for the analysis tests: services and tiers, and writers of analysis facts
(ExperienceObservation, TextEntry) straight into the tables the collecting phases fill."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

import pytest

MONDAY = date(2026, 3, 2)  # ISO week 2026-W10


@pytest.fixture
def catalog(db_session, org) -> dict[str, Any]:
    from perception.models.catalog import Service, ServiceTier

    desk = Service(code="DESK", name_zh="服务台", name_en="Service desk")
    net = Service(code="NET", name_zh="网络运维", name_en="Network operations")
    gold = ServiceTier(code="GOLD", name_zh="金牌", name_en="Gold", rank=1)
    db_session.add_all([desk, net, gold])
    db_session.flush()
    return {"DESK": desk, "NET": net, "GOLD": gold}


@pytest.fixture
def observe(db_session) -> Callable[..., None]:
    """observe(region, service, kind, values, week=0, dimension=None, scale=(1, 5), source_start=...)
    writes one observation per value (each its own respondent unless ``respondents`` is given)."""
    from perception.models.facts import ExperienceObservation

    counter = {"next": 1}

    def write(
        region: Any,
        service: Any,
        kind: str,
        values: Iterable[float],
        *,
        week: int = 0,
        dimension: str | None = None,
        scale: tuple[float, float] = (1, 5),
        respondents: Iterable[int] | None = None,
        customer: Any = None,
        source: str = "survey",
    ) -> None:
        monday = MONDAY + timedelta(weeks=week)
        values = list(values)
        ids = list(respondents) if respondents is not None else None
        rows = []
        for i, v in enumerate(values):
            if ids is None:
                sid = counter["next"]
                counter["next"] += 1
            else:
                sid = ids[i]
            rows.append(
                {
                    "source": source,
                    "source_id": sid,
                    "observed_on": monday,
                    "period_start": monday,
                    "region_id": region.id,
                    "customer_id": customer.id if customer is not None else None,
                    "service_id": service.id if service is not None else None,
                    "tier_id": None,
                    "kind": kind,
                    "dimension": dimension,
                    "servqual_dimension": None,
                    "item": dimension or kind,
                    "standard_code": None,
                    "value": float(v),
                    "scale_min": float(scale[0]),
                    "scale_max": float(scale[1]),
                }
            )
        db_session.execute(ExperienceObservation.__table__.insert(), rows)

    return write


@pytest.fixture
def period_args() -> dict[str, str]:
    return {"from": "2026-W10", "to": "2026-W13"}


@pytest.fixture
def link_kpi(db_session) -> Callable[..., Any]:
    """link_kpi(service, code, kpi_target, exp_metric, exp_target, dimension=None) creates a KPI
    standard linked to an experience standard (both confirmed, in force since 2026-01-01) and a
    KPI definition measuring it; returns the definition."""
    from perception.models.kpi import KpiDefinition
    from perception.models.setup import ServiceStandard, StandardVersion

    def make(
        service: Any,
        code: str,
        kpi_target: float,
        exp_metric: str,
        exp_target: float,
        *,
        dimension: str | None = None,
        kpi_comparator: str = ">=",
    ) -> Any:
        def standard(std_code: str, metric: str, measured_by: str, comparator: str, target: float, **kw: Any):
            s = ServiceStandard(
                code=std_code, service_id=service.id, category=kw.pop("category", "efficiency")
            )
            db_session.add(s)
            db_session.flush()
            db_session.add(
                StandardVersion(
                    standard_id=s.id,
                    version=1,
                    status="confirmed",
                    statement_zh=f"{std_code} 目标 {target}",
                    statement_en=f"{std_code} target {target}",
                    metric=metric,
                    measured_by=measured_by,
                    comparator=comparator,
                    target=target,
                    effective_from=date(2026, 1, 1),
                    **kw,
                )
            )
            db_session.flush()
            return s

        exp = standard(
            f"E-{code}",
            exp_metric,
            "questionnaire",
            ">=",
            exp_target,
            dimension=dimension,
            category="experience",
        )
        kpi = standard(f"K-{code}", "response_within_target_share", "kpi", kpi_comparator, kpi_target)
        kpi.experience_standard_id = exp.id
        definition = KpiDefinition(
            code=code, name_zh=f"{code} 指标", name_en=f"{code} KPI", unit="share", standard_id=kpi.id
        )
        db_session.add(definition)
        db_session.flush()
        return definition

    return make


@pytest.fixture
def kpi_value(db_session) -> Callable[..., None]:
    from perception.models.kpi import KpiValue

    def write(
        definition: Any,
        service: Any,
        region: Any,
        value: float,
        target: float,
        *,
        week: int = 0,
        n: int = 100,
        comparator: str = ">=",
    ) -> None:
        monday = MONDAY + timedelta(weeks=week)
        met = value >= target if comparator == ">=" else value <= target
        db_session.add(
            KpiValue(
                definition_id=definition.id,
                service_id=service.id,
                region_id=region.id,
                tier_id=None,
                tier_key=0,
                granularity="week",
                period_start=monday,
                period_end=monday + timedelta(days=7),
                value=value,
                n=n,
                target=target,
                comparator=comparator,
                met=met,
                provenance="computed",
            )
        )
        db_session.flush()

    return write


@pytest.fixture
def three_regions(db_session, org):
    from perception.models.org import CustomerOrg, Region

    r3 = Region(code="R3", name_zh="广东", name_en="Guangdong")
    db_session.add(r3)
    db_session.flush()
    regions = {"R1": org["R1"]["region"], "R2": org["R2"]["region"], "R3": r3}
    customers = {}
    for code, region in regions.items():
        for i in range(2):
            c = CustomerOrg(
                code=f"{code}-K{i}",
                name_zh=f"{region.name_zh}客户{i}",
                name_en=f"{code} customer {i}",
                region_id=region.id,
            )
            db_session.add(c)
            db_session.flush()
            customers[(code, i)] = c
    return regions, customers


@pytest.fixture
def write_texts(db_session, three_regions):
    from perception.models.facts import TextEntry

    regions, customers = three_regions
    counter = {"id": 1000}

    def write(items, *, week=0, kind="requirement"):
        monday = MONDAY + timedelta(weeks=week)
        ids = []
        for region_code, ci, text in items:
            counter["id"] += 1
            entry = TextEntry(
                source="feedback",
                source_id=counter["id"],
                kind=kind,
                observed_on=monday,
                period_start=monday,
                region_id=regions[region_code].id,
                customer_id=customers[(region_code, ci)].id,
                text=text,
            )
            db_session.add(entry)
            db_session.flush()
            ids.append(entry.id)
        return ids

    return write
