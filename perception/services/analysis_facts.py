"""Set-based aggregation of ExperienceObservation for the dashboards.

ONE GROUP BY over the facts table at the finest grain a page needs (period x region x service x
kind x dimension) returns additive statistics per cell: n, sum and sum of squares of the value,
the same of the value rescaled to 0..100, the top-2-box count and the NPS promoter/detractor
counts. Everything a page shows (by region, by service, by week or month, overall) is an exact
roll-up of those sums, so a page costs one scan of the filtered facts, never a row per response
in Python. Estimates and intervals then come from scoring (share_from_counts, nps_from_counts,
mean_from_stats).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from scipy import stats as sps
from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from perception.models.facts import ExperienceObservation as Obs
from perception.services.analysis_filters import AnalysisFilters, where_facts
from scoring import (
    DEFAULT_MIN_N,
    FEEDBACK_DIMENSIONS,
    GroupMeasure,
    mean_from_stats,
    nps_from_counts,
    share_from_counts,
)

DIMENSION_CODES = tuple(code for code, _, _ in FEEDBACK_DIMENSIONS)
#: Kinds that carry a rating of one of the six dimensions (single rating questions, report
#: feedback entries, rows of a Likert matrix tagged with a dimension).
DIMENSION_KINDS = ("rating", "likert")
INDEX_KINDS = DIMENSION_KINDS


@dataclass
class Acc:
    """Additive statistics of one group of observations."""

    n: int = 0
    s: float = 0.0
    ss: float = 0.0
    y: float = 0.0  # sum of values rescaled to 0..100
    yy: float = 0.0
    top2: int = 0
    promoters: int = 0
    detractors: int = 0

    def add(self, other: Acc) -> None:
        self.n += other.n
        self.s += other.s
        self.ss += other.ss
        self.y += other.y
        self.yy += other.yy
        self.top2 += other.top2
        self.promoters += other.promoters
        self.detractors += other.detractors

    @property
    def mean(self) -> float:
        return self.s / self.n if self.n else math.nan

    @property
    def sd(self) -> float:
        return _sd(self.n, self.s, self.ss)

    @property
    def y_mean(self) -> float:
        return self.y / self.n if self.n else math.nan

    @property
    def y_sd(self) -> float:
        return _sd(self.n, self.y, self.yy)


def _sd(n: int, s: float, ss: float) -> float:
    if n < 2:
        return math.nan
    var = (ss - s * s / n) / (n - 1)
    return math.sqrt(max(var, 0.0))


@dataclass(frozen=True)
class FactCell:
    period: date
    region_id: int
    service_id: int | None
    kind: str
    dimension: str | None
    acc: Acc


def aggregate(
    session: Session,
    filters: AnalysisFilters,
    *,
    kinds: Sequence[str] | None = None,
    extra_where: Iterable[Any] = (),
) -> list[FactCell]:
    """One GROUP BY over the filtered facts: (period, region, service, kind, dimension) -> Acc."""
    rescaled = 100.0 * (Obs.value - Obs.scale_min) / func.nullif(Obs.scale_max - Obs.scale_min, 0)
    stmt = (
        select(
            Obs.period_start,
            Obs.region_id,
            Obs.service_id,
            Obs.kind,
            Obs.dimension,
            func.count(),
            func.sum(Obs.value),
            func.sum(Obs.value * Obs.value),
            func.sum(cast(rescaled, Float)),
            func.sum(cast(rescaled * rescaled, Float)),
            func.sum(case((Obs.value >= Obs.scale_max - 1, 1), else_=0)),
            func.sum(case((Obs.value >= 9, 1), else_=0)),
            func.sum(case((Obs.value <= 6, 1), else_=0)),
        )
        .where(*where_facts(Obs, filters), *extra_where)
        .group_by(Obs.period_start, Obs.region_id, Obs.service_id, Obs.kind, Obs.dimension)
    )
    if kinds is not None:
        stmt = stmt.where(Obs.kind.in_(list(kinds)))
    out = []
    for period, region, service, kind, dim, n, s, ss, y, yy, top2, prom, detr in session.execute(stmt):
        acc = Acc(int(n), float(s or 0), float(ss or 0), float(y or 0), float(yy or 0))
        acc.top2, acc.promoters, acc.detractors = int(top2 or 0), int(prom or 0), int(detr or 0)
        out.append(FactCell(period, region, service, kind, dim, acc))
    return out


def rollup(
    cells: Iterable[FactCell], key: Callable[[FactCell], Hashable | None]
) -> dict[Hashable, dict[tuple[str, str | None], Acc]]:
    """Sum the cells per ``key(cell)`` (None skips the cell) and per (kind, dimension)."""
    out: dict[Hashable, dict[tuple[str, str | None], Acc]] = defaultdict(lambda: defaultdict(Acc))
    for cell in cells:
        k = key(cell)
        if k is None:
            continue
        out[k][(cell.kind, cell.dimension)].add(cell.acc)
    return out


def kind_total(parts: Mapping[tuple[str, str | None], Acc], kind: str) -> Acc:
    total = Acc()
    for (k, _), acc in parts.items():
        if k == kind:
            total.add(acc)
    return total


def dimension_acc(parts: Mapping[tuple[str, str | None], Acc], dimension: str | None) -> Acc:
    """All ratings of one feedback dimension, whatever question kind carried them."""
    total = Acc()
    for kind in DIMENSION_KINDS:
        part = parts.get((kind, dimension))
        if part is not None:
            total.add(part)
    return total


def csat_measure(
    parts: Mapping[tuple[str, str | None], Acc], key: tuple[Any, ...] = ()
) -> GroupMeasure | None:
    """CSAT = top-2-box share of the ``csat`` answers, Wilson interval (scoring.share_from_counts)."""
    acc = kind_total(parts, "csat")
    if acc.n == 0:
        return None
    return share_from_counts(acc.top2, acc.n, key=key, measure="csat")


def nps_measure(
    parts: Mapping[tuple[str, str | None], Acc], key: tuple[Any, ...] = ()
) -> GroupMeasure | None:
    """NPS from promoter/passive/detractor counts of the ``nps`` answers (scoring.nps_from_counts)."""
    acc = kind_total(parts, "nps")
    if acc.n == 0:
        return None
    passives = acc.n - acc.promoters - acc.detractors
    return nps_from_counts(acc.promoters, passives, acc.detractors, key=key)


def dimension_measure(acc: Acc, key: tuple[Any, ...] = (), measure: str = "mean") -> GroupMeasure | None:
    """Mean rating with its t interval from (n, sum, sum of squares) (scoring.mean_from_stats)."""
    if acc.n == 0:
        return None
    return mean_from_stats(acc.mean, acc.sd, acc.n, key=key, measure=measure)


def index_measure(
    parts: Mapping[tuple[str, str | None], Acc],
    key: tuple[Any, ...] = (),
    *,
    weights: Mapping[str, float] | None = None,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> GroupMeasure | None:
    """Composite perception index 0..100 from per-dimension sums of the rescaled ratings.

    Estimate (as scoring.perception_index_by_group): I = sum_d w'_d m_d, m_d the mean of
    y = 100 (x - low)/(high - low) over the answers to dimension d, w' the weights normalised over
    the dimensions with data. Interval: I ± t_{k-1} * SE with SE = sum_d w'_d s_d / sqrt(n_d),
    k = min_d n_d. This SE is the upper bound of sqrt(Var(sum_d w'_d m_d)) reached when the
    dimension means are perfectly correlated (Minkowski's inequality for standard deviations),
    so the interval is conservative: the exact linearisation variance needs per-respondent
    cross-products, which additive sums do not carry. n is the largest n_d (a lower bound on the
    respondents). Reference: Wolter (2007) Introduction to Variance Estimation, ch. 6.
    """
    dims = {d: acc for d in DIMENSION_CODES if (acc := dimension_acc(parts, d)).n > 0}
    if not dims:
        return None
    raw = {d: float((weights or {}).get(d, 1.0)) for d in dims}
    total_w = sum(raw.values())
    if total_w <= 0:
        return None
    w = {d: v / total_w for d, v in raw.items()}
    estimate = sum(w[d] * acc.y_mean for d, acc in dims.items())
    n_min = min(acc.n for acc in dims.values())
    n_max = max(acc.n for acc in dims.values())
    if n_min >= 2:
        se = sum(w[d] * acc.y_sd / math.sqrt(acc.n) for d, acc in dims.items())
        q = float(sps.t.ppf(0.5 + confidence / 2.0, n_min - 1))
        low, high = max(0.0, estimate - q * se), min(100.0, estimate + q * se)
    else:
        low = high = math.nan
    return GroupMeasure(
        key=key,
        measure="perception_index",
        n=n_max,
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        method="dimension_sums_conservative_t",
        low_sample=n_max < min_n,
    )
