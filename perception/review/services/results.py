"""Measured results of improvement items: the baseline and the after-completion value of a metric,
computed from the data with the proper measure, interval and change test from ``scoring``.

A metric is a ``MetricScope``: what (``ImprovementMetric``) and where (service, region, feedback
dimension, KPI code). For a window ``[start, end)`` the sample is aggregated in SQL:

- ``csat_share``: ExperienceObservation rows of kind ``csat``; a success is a top-2 answer,
  value > scale_max - 2 (4-5 on 1..5, as ``scoring.csat_by_group``). Change: pooled
  two-proportion z test with Newcombe's interval (``scoring.compare_shares``).
- ``nps``: kind ``nps`` on 0..10, promoters >= 9, detractors <= 6. Change: ``scoring.compare_nps``.
- ``rating_mean``: kind ``rating`` (optionally one feedback dimension), mean and SD from
  count / sum / sum of squares. Change: Welch's t test (``scoring.compare_means_from_stats``).
- ``kpi_value``: the weekly KpiValue rows of one KPI definition, each week one observation;
  mean/SD and Welch's t test as above. Direction from the definition (lower is better for times).
- ``kpi_attainment``: share of weekly KpiValue rows that met their target; ``compare_shares``.

The result of a completed item compares its baseline window with the ``measure_weeks`` weeks
that start on ``completed_on`` (observed_on dates for observations, period_start for weekly
KPI values). Until those weeks are over the result is "measuring" (computed with the data so
far); it becomes "measured" when the window is complete. Results are never typed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.core.models.facts import ExperienceObservation
from perception.review.models import ImprovementItem, ImprovementMetric, ImprovementStatus
from scoring import (
    ChangeResult,
    compare_means_from_stats,
    compare_nps,
    compare_shares,
    mean_from_stats,
    nps_from_counts,
    share_from_counts,
)

SHARE_METRICS = (ImprovementMetric.CSAT_SHARE, ImprovementMetric.KPI_ATTAINMENT)
MEAN_METRICS = (ImprovementMetric.RATING_MEAN, ImprovementMetric.KPI_VALUE)


@dataclass(frozen=True)
class MetricScope:
    metric: str
    service_id: int | None = None
    region_id: int | None = None
    dimension: str | None = None
    kpi_code: str | None = None

    @classmethod
    def of(cls, item: ImprovementItem) -> MetricScope | None:
        if not item.metric:
            return None
        return cls(
            item.metric, item.metric_service_id, item.region_id, item.metric_dimension, item.metric_kpi_code
        )


@dataclass(frozen=True)
class Sample:
    """Aggregates of one window: n plus what the measure needs (successes, NPS counts, mean/SD)."""

    n: int
    successes: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    mean: float | None = None
    sd: float | None = None

    def estimate(self, metric: str) -> dict[str, Any]:
        """Point estimate with its 95% interval (Wilson, NPS score or Student t)."""
        if self.n == 0:
            return {"estimate": None, "ci_low": None, "ci_high": None, "n": 0}
        if metric in SHARE_METRICS:
            m = share_from_counts(self.successes, self.n)
        elif metric == ImprovementMetric.NPS:
            m = nps_from_counts(self.promoters, self.passives, self.detractors)
        elif self.n >= 2 and self.mean is not None and self.sd is not None:
            m = mean_from_stats(self.mean, self.sd, self.n)
        else:
            return {"estimate": self.mean, "ci_low": None, "ci_high": None, "n": self.n}
        return {
            "estimate": m.estimate,
            "ci_low": _finite(m.ci_low),
            "ci_high": _finite(m.ci_high),
            "n": self.n,
        }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _mean_sd(n: int, total: float | None, squares: float | None) -> tuple[float | None, float | None]:
    if n == 0 or total is None:
        return None, None
    mean = total / n
    if n < 2 or squares is None:
        return mean, None
    variance = max((squares - n * mean * mean) / (n - 1), 0.0)
    return mean, math.sqrt(variance)


def _observation_sample(session: Session, scope: MetricScope, start: date, end: date) -> Sample:
    obs = ExperienceObservation
    kinds: dict[str, str] = {ImprovementMetric.CSAT_SHARE: "csat", ImprovementMetric.NPS: "nps"}
    kind = kinds.get(scope.metric, "rating")
    value = cast(obs.value, Float)
    stmt = select(
        func.count(obs.id),
        func.sum(case((obs.value > obs.scale_max - 2, 1), else_=0)),
        func.sum(case((obs.value >= 9, 1), else_=0)),
        func.sum(case((obs.value <= 6, 1), else_=0)),
        func.sum(value),
        func.sum(value * value),
    ).where(obs.kind == kind, obs.observed_on >= start, obs.observed_on < end)
    if scope.service_id is not None:
        stmt = stmt.where(obs.service_id == scope.service_id)
    if scope.region_id is not None:
        stmt = stmt.where(obs.region_id == scope.region_id)
    if scope.dimension:
        stmt = stmt.where(obs.dimension == scope.dimension)
    n, top, promoters, detractors, total, squares = session.execute(stmt).one()
    n = int(n or 0)
    mean, sd = _mean_sd(n, total, squares)
    return Sample(
        n=n,
        successes=int(top or 0),
        promoters=int(promoters or 0),
        passives=n - int(promoters or 0) - int(detractors or 0),
        detractors=int(detractors or 0),
        mean=mean,
        sd=sd,
    )


def _kpi_sample(session: Session, scope: MetricScope, start: date, end: date) -> Sample:
    from perception.kpi.models import KpiDefinition, KpiValue

    value = cast(KpiValue.value, Float)
    stmt = (
        select(
            func.count(KpiValue.value),
            func.sum(value),
            func.sum(value * value),
            func.count(KpiValue.met),
            func.sum(case((KpiValue.met.is_(True), 1), else_=0)),
        )
        .join(KpiDefinition, KpiDefinition.id == KpiValue.definition_id)
        .where(
            KpiDefinition.code == scope.kpi_code,
            KpiValue.granularity == "week",
            KpiValue.period_start >= start,
            KpiValue.period_start < end,
        )
    )
    if scope.service_id is not None:
        stmt = stmt.where(KpiValue.service_id == scope.service_id)
    if scope.region_id is not None:
        stmt = stmt.where(KpiValue.region_id == scope.region_id)
    n_values, total, squares, n_judged, n_met = session.execute(stmt).one()
    if scope.metric == ImprovementMetric.KPI_ATTAINMENT:
        return Sample(n=int(n_judged or 0), successes=int(n_met or 0))
    n = int(n_values or 0)
    mean, sd = _mean_sd(n, total, squares)
    return Sample(n=n, mean=mean, sd=sd)


def sample(session: Session, scope: MetricScope, start: date, end: date) -> Sample:
    """The metric's aggregates over ``[start, end)``."""
    if scope.metric in (ImprovementMetric.KPI_VALUE, ImprovementMetric.KPI_ATTAINMENT):
        return _kpi_sample(session, scope, start, end)
    if scope.metric not in tuple(ImprovementMetric):
        raise ValueError(f"unknown metric {scope.metric!r}")
    return _observation_sample(session, scope, start, end)


def higher_is_better(session: Session, scope: MetricScope) -> bool:
    if scope.metric != ImprovementMetric.KPI_VALUE:
        return True
    from perception.kpi.models import KpiDefinition

    direction = session.scalar(select(KpiDefinition.direction).where(KpiDefinition.code == scope.kpi_code))
    return direction != "lower"


def compare(metric: str, before: Sample, after: Sample) -> ChangeResult | None:
    """The change before -> after with the metric's test; None when a sample is too small."""
    if metric in SHARE_METRICS:
        if before.n == 0 or after.n == 0:
            return None
        return compare_shares(before.successes, before.n, after.successes, after.n, measure=metric)
    if metric == ImprovementMetric.NPS:
        if before.n == 0 or after.n == 0:
            return None
        return compare_nps(
            (before.promoters, before.passives, before.detractors),
            (after.promoters, after.passives, after.detractors),
        )
    if before.n < 2 or after.n < 2 or before.sd is None or after.sd is None:
        return None
    return compare_means_from_stats(
        before.mean or 0.0, before.sd, before.n, after.mean or 0.0, after.sd, after.n, measure=metric
    )


def default_baseline_window(today: date, weeks: int) -> tuple[date, date]:
    """The ``weeks`` full ISO weeks before the week of ``today``."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks), monday


def compute_baseline(session: Session, item: ImprovementItem) -> None:
    """Set the item's baseline value and n from the data of its baseline window."""
    scope = MetricScope.of(item)
    if scope is None or item.baseline_from is None or item.baseline_to is None:
        item.baseline_value = item.baseline_n = None
        return
    base = sample(session, scope, item.baseline_from, item.baseline_to)
    item.baseline_value = base.estimate(scope.metric)["estimate"]
    item.baseline_n = base.n


def _message(metric: str, change: ChangeResult, better: bool, target_met: bool | None) -> dict[str, str]:
    share = metric in SHARE_METRICS

    def fmt(v: float) -> str:
        return f"{v * 100:.1f}%" if share else f"{v:.2f}"

    def diff(v: float) -> str:
        return f"{v * 100:+.1f} pp" if share else f"{v:+.2f}"

    ci = f"{diff(change.ci_low)} … {diff(change.ci_high)}"
    head = (
        f"{fmt(change.estimate_a)} → {fmt(change.estimate_b)} "
        f"({diff(change.difference)}, 95% CI {ci}, p = {change.p_value:.3g})"
    )
    if change.significant:
        zh_verdict, en_verdict = (
            ("显著改善", "a significant improvement")
            if better
            else ("显著变差", "a significant deterioration")
        )
    else:
        zh_verdict, en_verdict = "变化不显著", "no significant change"
    zh_target = en_target = ""
    if target_met is not None:
        zh_target = "；已达到目标" if target_met else "；未达到目标"
        en_target = "; target met" if target_met else "; target not met"
    return {"zh": f"{head}：{zh_verdict}{zh_target}", "en": f"{head}: {en_verdict}{en_target}"}


def measure_result(session: Session, item: ImprovementItem, today: date) -> dict[str, Any]:
    """The item's measured result as JSON (see the module docstring for the rules)."""
    scope = MetricScope.of(item)
    out: dict[str, Any] = {
        "metric": item.metric,
        "computed_on": today.isoformat(),
        "target": item.target_value,
    }
    if scope is None or item.baseline_from is None or item.baseline_to is None:
        return out | {"status": "no_metric"}
    if item.status != ImprovementStatus.COMPLETED or item.completed_on is None:
        return out | {"status": "not_completed"}
    after_start = item.completed_on
    after_end = after_start + timedelta(weeks=item.measure_weeks)
    before = sample(session, scope, item.baseline_from, item.baseline_to)
    after = sample(session, scope, after_start, min(after_end, today + timedelta(days=1)))
    higher = higher_is_better(session, scope)
    out |= {
        "baseline": {"from": item.baseline_from.isoformat(), "to": item.baseline_to.isoformat()}
        | before.estimate(scope.metric),
        "after": {"from": after_start.isoformat(), "to": after_end.isoformat()}
        | after.estimate(scope.metric),
        "higher_is_better": higher,
        "window_complete": today >= after_end,
    }
    change = compare(scope.metric, before, after)
    if change is None:
        return out | {
            "status": "insufficient_data",
            "message": {
                "zh": "基线或完成后的数据不足，无法比较",
                "en": "Not enough data before or after to compare.",
            },
        }
    better = (change.difference > 0) == higher and change.difference != 0
    target_met = None
    if item.target_value is not None:
        target_met = (
            change.estimate_b >= item.target_value if higher else change.estimate_b <= item.target_value
        )
    out |= {
        "status": "measured" if out["window_complete"] else "measuring",
        "change": change.to_dict(),
        "improved": bool(change.significant and better),
        "worsened": bool(change.significant and not better),
        "target_met": target_met,
        "message": _message(scope.metric, change, better, target_met),
    }
    return out


def refresh_result(session: Session, item: ImprovementItem, today: date) -> dict[str, Any]:
    """Recompute and store the item's result."""
    item.result = measure_result(session, item, today)
    item.result_computed_at = utcnow()
    session.flush()
    return item.result


def refresh_pending_results(session: Session, today: date) -> int:
    """Recompute every completed item whose result is missing or still measuring (daily job)."""
    count = 0
    items = session.scalars(
        select(ImprovementItem).where(ImprovementItem.status == ImprovementStatus.COMPLETED)
    )
    for item in items:
        status = (item.result or {}).get("status")
        if status in (None, "measuring", "insufficient_data", "not_completed"):
            refresh_result(session, item, today)
            count += 1
    return count
