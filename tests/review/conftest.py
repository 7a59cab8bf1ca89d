"""Fixtures for the review tests: services, facts and KPI values written straight into the tables
the other phases fill, a planted watermelon, and reviews of 2026-H1 / 2026-H2."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

import pytest

MONDAY = date(2026, 3, 2)  # ISO week 2026-W10, inside 2026-H1


@pytest.fixture
def catalog(db_session, org) -> dict[str, Any]:
    from perception.models.catalog import Service

    desk = Service(code="DESK", name_zh="服务台", name_en="Service desk")
    net = Service(code="NET", name_zh="网络运维", name_en="Network operations")
    db_session.add_all([desk, net])
    db_session.flush()
    return {"DESK": desk, "NET": net}


@pytest.fixture
def observe(db_session) -> Callable[..., None]:
    """observe(region, service, kind, values, day=MONDAY, dimension=None, scale=(1, 5))."""
    from perception.models.facts import ExperienceObservation
    from perception.periods import week_start

    counter = {"next": 1}

    def write(
        region: Any,
        service: Any,
        kind: str,
        values: Iterable[float],
        *,
        day: date = MONDAY,
        dimension: str | None = None,
        scale: tuple[float, float] = (1, 5),
    ) -> None:
        rows = []
        for v in values:
            counter["next"] += 1
            rows.append(
                {
                    "source": "survey",
                    "source_id": counter["next"],
                    "observed_on": day,
                    "period_start": week_start(day),
                    "region_id": region.id,
                    "customer_id": None,
                    "service_id": service.id if service is not None else None,
                    "tier_id": None,
                    "kind": kind,
                    "dimension": dimension,
                    "servqual_dimension": None,
                    "item": kind,
                    "standard_code": None,
                    "value": float(v),
                    "scale_min": float(scale[0]),
                    "scale_max": float(scale[1]),
                }
            )
        db_session.execute(ExperienceObservation.__table__.insert(), rows)

    return write


@pytest.fixture
def link_kpi(db_session) -> Callable[..., Any]:
    """A KPI standard linked to an experience standard (confirmed, in force from 2026-01-01) and
    the KPI definition measuring it."""
    from perception.models.kpi import KpiDefinition
    from perception.models.setup import ServiceStandard, StandardVersion

    def make(service: Any, code: str, kpi_target: float, exp_metric: str, exp_target: float) -> Any:
        def standard(std_code: str, metric: str, measured_by: str, target: float, category: str) -> Any:
            s = ServiceStandard(code=std_code, service_id=service.id, category=category)
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
                    comparator=">=",
                    target=target,
                    unit="share",
                    window="week",
                    procedure="按流程处理",
                    effective_from=date(2026, 1, 1),
                )
            )
            db_session.flush()
            return s

        exp = standard(f"E-{code}", exp_metric, "questionnaire", exp_target, "experience")
        kpi = standard(f"K-{code}", "response_within_target_share", "kpi", kpi_target, "efficiency")
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
        definition: Any, service: Any, region: Any, value: float, target: float, *, week: int = 0
    ) -> None:
        monday = MONDAY + timedelta(weeks=week)
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
                n=100,
                target=target,
                comparator=">=",
                met=value >= target,
                provenance="computed",
            )
        )
        db_session.flush()

    return write


@pytest.fixture
def watermelon(db_session, org, catalog, observe, link_kpi, kpi_value) -> dict[str, Any]:
    """Service desk in Beijing (R1): KPI 97% against 95% while CSAT is 48% against 85% over four
    weeks of 25 answers: an evidenced watermelon. Shanghai (R2) is fine on both."""
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    desk = catalog["DESK"]
    definition = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    for week in range(4):
        day = MONDAY + timedelta(weeks=week)
        kpi_value(definition, desk, r1, 0.97, 0.95, week=week)
        observe(r1, desk, "csat", [5] * 12 + [2] * 13, day=day)
        kpi_value(definition, desk, r2, 0.96, 0.95, week=week)
        observe(r2, desk, "csat", [5] * 24 + [3], day=day)
    return {"r1": r1, "r2": r2, "desk": desk, "kpi": definition}


@pytest.fixture
def h1(db_session) -> Any:
    from perception.services.review_periods import ensure_review, parse_periods

    review, _ = ensure_review(db_session, date(2026, 3, 1), parse_periods("H1,H2"))
    return review
