"""Fixtures for the review tests: services, facts and KPI values written straight into the tables
the other phases fill, a planted watermelon, and reviews of 2026-H1 / 2026-H2."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

import pytest

from tests.facts import add_linked_kpi, insert_observations, kpi_value_writer

MONDAY = date(2026, 3, 2)  # ISO week 2026-W10, inside 2026-H1


@pytest.fixture
def catalog(db_session, org) -> dict[str, Any]:
    from perception.setup.models.catalog import Service

    desk = Service(code="DESK", name_zh="服务台", name_en="Service desk")
    net = Service(code="NET", name_zh="网络运维", name_en="Network operations")
    db_session.add_all([desk, net])
    db_session.flush()
    return {"DESK": desk, "NET": net}


@pytest.fixture
def observe(db_session) -> Callable[..., None]:
    """observe(region, service, kind, values, day=MONDAY, dimension=None, scale=(1, 5))."""
    counter = itertools.count(2)

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
        extra = {"dimension": dimension, "scale": scale}
        insert_observations(db_session, region, service, kind, values, day=day, source_ids=counter, **extra)

    return write


@pytest.fixture
def link_kpi(db_session) -> Callable[..., Any]:
    """A KPI standard linked to an experience standard (confirmed, in force from 2026-01-01) and
    the KPI definition measuring it."""
    fields = {"unit": "share", "window": "week", "procedure": "按流程处理"}

    def make(service: Any, code: str, kpi_target: float, exp_metric: str, exp_target: float) -> Any:
        return add_linked_kpi(db_session, service, code, kpi_target, exp_metric, exp_target, both=fields)

    return make


@pytest.fixture
def kpi_value(db_session) -> Callable[..., None]:
    return kpi_value_writer(db_session, MONDAY)


@pytest.fixture
def watermelon(db_session, org, catalog, observe, link_kpi, kpi_value) -> dict[str, Any]:
    """Service desk in Beijing (R1): KPI 97% of 1000 tickets a week against 95% (its own interval
    clears the target, issue 14) while CSAT is 48% against 85% over four weeks of 25 answers: an
    evidenced watermelon. Shanghai (R2) is fine on both."""
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    desk = catalog["DESK"]
    definition = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    for week in range(4):
        day = MONDAY + timedelta(weeks=week)
        kpi_value(definition, desk, r1, 0.97, 0.95, week=week, n=1000)
        observe(r1, desk, "csat", [5] * 12 + [2] * 13, day=day)
        kpi_value(definition, desk, r2, 0.96, 0.95, week=week)
        observe(r2, desk, "csat", [5] * 24 + [3], day=day)
    return {"r1": r1, "r2": r2, "desk": desk, "kpi": definition}


@pytest.fixture
def h1(db_session) -> Any:
    from perception.review.services.periods import ensure_review, parse_periods

    review, _ = ensure_review(db_session, date(2026, 3, 1), parse_periods("H1,H2"))
    return review
