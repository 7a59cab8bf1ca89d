"""Writers of facts straight into the tables the collecting and computing phases fill: experience
observations, KPI standards linked to experience standards, and KPI values. Shared by the analysis
and review fixtures, which keep their own call signatures around these."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

import sqlalchemy
from sqlalchemy import orm


def insert_observations(
    session: orm.Session,
    region: Any,
    service: Any,
    kind: str,
    values: Iterable[float],
    *,
    day: date,
    source_ids: Iterable[int],
    dimension: str | None = None,
    item: str | None = None,
    scale: tuple[float, float] = (1, 5),
    customer: Any = None,
    source: str = "survey",
) -> None:
    """One ExperienceObservation per value, observed on ``day`` (in the week starting on its
    Monday); each value takes the next of ``source_ids`` (too few is an error); ``item`` defaults
    to ``kind``."""
    from perception.core.models.facts import ExperienceObservation
    from perception.core.periods import week_start

    ids = iter(source_ids)
    rows = [
        {
            "source": source,
            "source_id": next(ids),
            "observed_on": day,
            "period_start": week_start(day),
            "region_id": region.id,
            "customer_id": customer.id if customer is not None else None,
            "service_id": service.id if service is not None else None,
            "tier_id": None,
            "kind": kind,
            "dimension": dimension,
            "servqual_dimension": None,
            "item": item or kind,
            "standard_code": None,
            "value": float(v),
            "scale_min": float(scale[0]),
            "scale_max": float(scale[1]),
        }
        for v in values
    ]
    session.execute(ExperienceObservation.__table__.insert(), rows)


def add_standard(
    session: orm.Session,
    service: Any,
    code: str,
    metric: str,
    measured_by: str,
    comparator: str,
    target: float,
    *,
    category: str,
    **version: Any,
) -> Any:
    """A ServiceStandard with one confirmed version in force since 2026-01-01; ``version`` adds
    fields of that StandardVersion (dimension, unit, window, ...)."""
    from perception.setup.models.standards import ServiceStandard, StandardVersion

    standard = ServiceStandard(code=code, service_id=service.id, category=category)
    session.add(standard)
    session.flush()
    session.add(
        StandardVersion(
            standard_id=standard.id,
            version=1,
            status="confirmed",
            statement_zh=f"{code} 目标 {target}",
            statement_en=f"{code} target {target}",
            metric=metric,
            measured_by=measured_by,
            comparator=comparator,
            target=target,
            effective_from=date(2026, 1, 1),
            **version,
        )
    )
    session.flush()
    return standard


def add_linked_kpi(
    session: orm.Session,
    service: Any,
    code: str,
    kpi_target: float,
    exp_metric: str,
    exp_target: float,
    *,
    kpi_comparator: str = ">=",
    experience: dict[str, Any] | None = None,
    both: dict[str, Any] | None = None,
) -> Any:
    """A KPI standard ``K-<code>`` linked to an experience standard ``E-<code>`` (a questionnaire
    metric at least ``exp_target``) and the KPI definition ``code`` measuring it; returns the
    definition. ``experience`` adds version fields to the experience standard, ``both`` to both."""
    from perception.kpi.models import KpiDefinition

    common = both or {}
    exp = add_standard(
        session,
        service,
        f"E-{code}",
        exp_metric,
        "questionnaire",
        ">=",
        exp_target,
        category="experience",
        **(experience or {}),
        **common,
    )
    kpi = add_standard(
        session,
        service,
        f"K-{code}",
        "response_within_target_share",
        "kpi",
        kpi_comparator,
        kpi_target,
        category="efficiency",
        **common,
    )
    kpi.experience_standard_id = exp.id
    definition = KpiDefinition(
        code=code, name_zh=f"{code} 指标", name_en=f"{code} KPI", unit="share", standard_id=kpi.id
    )
    session.add(definition)
    session.flush()
    return definition


def kpi_value_writer(session: orm.Session, first_monday: date) -> Callable[..., None]:
    """write(definition, service, region, value, target, week=0, n=100, comparator=">=") adds a
    computed KpiValue for the ``week``-th week from ``first_monday`` (all tiers), ``met`` judged
    by ``comparator``."""
    from perception.kpi.models import KpiValue

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
        monday = first_monday + timedelta(weeks=week)
        met = value >= target if comparator == ">=" else value <= target
        session.add(
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
        session.flush()

    return write


def assert_same_figures(got: Any, want: Any, *, rel: float = 1e-12, path: str = "") -> None:
    """Two pages' figures (nested dicts and lists) are the same: every non-float equal, every float
    within ``rel``. The pre-aggregate adds the same numbers in another order than the facts' query,
    so an interval bound may differ in its last bit (50.50489664517983 against ...984)."""
    import math

    if isinstance(want, float) and isinstance(got, float):
        assert math.isclose(got, want, rel_tol=rel, abs_tol=rel), f"{path}: {got!r} != {want!r}"
    elif isinstance(want, dict) and isinstance(got, dict):
        assert got.keys() == want.keys(), f"{path}: keys {sorted(got)} != {sorted(want)}"
        for key in want:
            assert_same_figures(got[key], want[key], rel=rel, path=f"{path}.{key}")
    elif isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        assert len(got) == len(want), f"{path}: {len(got)} items != {len(want)}"
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            assert_same_figures(a, b, rel=rel, path=f"{path}[{i}]")
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def analysed_facts(session: orm.Session) -> None:
    """On PostgreSQL, the statistics of the facts just loaded, committed: autovacuum gathers them
    within a minute of a load this size in a deployment, and without them the planner takes the
    fresh table for empty and loops over it (seconds per sample compared in these tests)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sqlalchemy.text("ANALYZE experience_observation"))
        session.commit()
