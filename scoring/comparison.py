"""Internal KPI versus experienced quality, per service x region (x tier) x period: the four
quadrants (both met, the "watermelon" KPI-met-but-experience-missed, KPI missed but experience
met, both missed), the size of the experience gap with its interval, and whether the verdict is
evidenced or still within sampling noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from scoring.attainment import is_met, margin
from scoring.intervals import t_interval, wilson_interval, z_quantile
from scoring.results import DEFAULT_MIN_N, JsonResult, Message

__all__ = [
    "QUADRANTS",
    "CellComparison",
    "ComparisonCell",
    "KpiExperienceReport",
    "compare_kpi_experience",
    "compare_one",
]

#: Quadrant codes with Chinese and English labels.
QUADRANTS: dict[str, tuple[str, str]] = {
    "both_met": ("KPI 与体验均达标", "KPI and experience both met"),
    "watermelon": ("西瓜效应：KPI 达标但体验未达标", "Watermelon: KPI met, experience missed"),
    "kpi_missed_experience_met": ("KPI 未达标但体验达标", "KPI missed, experience met"),
    "both_missed": ("KPI 与体验均未达标", "KPI and experience both missed"),
}


@dataclass(frozen=True)
class ComparisonCell:
    """Input for one service x region (x tier) x period.

    Experience is either a share (``experience_successes`` of ``experience_n``, e.g. CSAT top-2
    count; target on 0..1) or a mean (``experience_mean`` and ``experience_sd`` over
    ``experience_n`` answers; target on the rating scale).
    """

    service: str
    region: str
    period: Any
    kpi_value: float
    kpi_target: float
    kpi_comparator: str
    experience_target: float
    experience_n: int
    experience_successes: int | None = None
    experience_mean: float | None = None
    experience_sd: float | None = None
    experience_comparator: str = ">="
    tier: str | None = None


@dataclass(frozen=True)
class CellComparison(JsonResult):
    service: str
    region: str
    tier: str | None
    period: Any
    quadrant: str
    kpi_value: float
    kpi_target: float
    kpi_met: bool
    kpi_margin: float  # positive = better than the KPI target
    experience_kind: str  # "share" or "mean"
    experience_estimate: float
    experience_ci_low: float
    experience_ci_high: float
    experience_target: float
    experience_met: bool
    experience_gap: float  # positive = better than the experience target
    gap_ci_low: float
    gap_ci_high: float
    p_value: float  # two-sided test of experience = target (score test for shares, t test for means)
    n: int
    low_sample: bool
    evidenced: bool  # the interval excludes the target and n >= min_n
    watermelon_rank: int | None
    message: Message


@dataclass(frozen=True)
class KpiExperienceReport(JsonResult):
    cells: tuple[CellComparison, ...]
    watermelons: tuple[CellComparison, ...]  # ranked: evidenced first, then the largest shortfall
    quadrant_counts: tuple[tuple[str, int], ...]
    confidence: float
    min_n: int


def _experience(cell: ComparisonCell, confidence: float) -> tuple[str, float, float, float, float]:
    from scipy import stats

    n = cell.experience_n
    if n <= 0:
        raise ValueError(f"cell {cell.service}/{cell.region}/{cell.period} has no experience responses")
    target = cell.experience_target
    if cell.experience_successes is not None:
        x = cell.experience_successes
        if not 0 <= x <= n:
            raise ValueError("experience_successes must lie in 0..experience_n")
        if not 0.0 <= target <= 1.0:
            raise ValueError("a share's experience_target is a proportion in 0..1 (0.85, not 85)")
        lo, hi = wilson_interval([x], [n], confidence)
        p = x / n
        # Score test against the target share: the test that the Wilson interval inverts.
        se0 = math.sqrt(target * (1.0 - target) / n) if 0.0 < target < 1.0 else 0.0
        pv = float(2 * stats.norm.sf(abs(p - target) / se0)) if se0 > 0 else float(p == target)
        return "share", p, float(lo[0]), float(hi[0]), pv
    if cell.experience_mean is None or cell.experience_sd is None:
        raise ValueError("give experience_successes, or experience_mean and experience_sd")
    lo, hi = t_interval([cell.experience_mean], [cell.experience_sd], [n], confidence)
    if n >= 2 and cell.experience_sd > 0:
        t = (cell.experience_mean - target) / (cell.experience_sd / math.sqrt(n))
        pv = float(2 * stats.t.sf(abs(t), n - 1))
    else:
        pv = float("nan")
    return "mean", cell.experience_mean, float(lo[0]), float(hi[0]), pv


def _message(quadrant: str, evidenced: bool, n: int, gap: float, low: float, high: float) -> Message:
    zh, en = QUADRANTS[quadrant]
    if evidenced:
        return Message(
            f"{quadrant}_evidenced",
            f"{zh}（n={n}，差距 {gap:+.3g}，区间 [{low:+.3g}, {high:+.3g}]，证据充分）",
            f"{en} (n={n}, gap {gap:+.3g}, interval [{low:+.3g}, {high:+.3g}]; evidenced)",
        )
    return Message(
        f"{quadrant}_not_evidenced",
        f"{zh}（n={n}，差距 {gap:+.3g}，区间 [{low:+.3g}, {high:+.3g}] 包含目标或样本不足，尚无证据）",
        f"{en} (n={n}, gap {gap:+.3g}, interval [{low:+.3g}, {high:+.3g}] includes the target "
        "or the sample is too small; not yet evidenced)",
    )


def compare_one(
    cell: ComparisonCell, *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> CellComparison:
    """Classify one cell; see :func:`compare_kpi_experience`."""
    kpi_met = is_met(cell.kpi_value, cell.kpi_target, cell.kpi_comparator)
    kind, est, lo, hi, pv = _experience(cell, confidence)
    comp = cell.experience_comparator
    exp_met = is_met(est, cell.experience_target, comp)
    gap = margin(est, cell.experience_target, comp)
    g1, g2 = margin(lo, cell.experience_target, comp), margin(hi, cell.experience_target, comp)
    gap_lo, gap_hi = min(g1, g2), max(g1, g2)
    excludes = gap_lo > 0 or gap_hi < 0
    evidenced = bool(excludes and cell.experience_n >= min_n)
    quadrant = (
        ("both_met" if exp_met else "watermelon")
        if kpi_met
        else ("kpi_missed_experience_met" if exp_met else "both_missed")
    )
    return CellComparison(
        service=cell.service,
        region=cell.region,
        tier=cell.tier,
        period=cell.period,
        quadrant=quadrant,
        kpi_value=cell.kpi_value,
        kpi_target=cell.kpi_target,
        kpi_met=kpi_met,
        kpi_margin=margin(cell.kpi_value, cell.kpi_target, cell.kpi_comparator),
        experience_kind=kind,
        experience_estimate=est,
        experience_ci_low=lo,
        experience_ci_high=hi,
        experience_target=cell.experience_target,
        experience_met=exp_met,
        experience_gap=gap,
        gap_ci_low=gap_lo,
        gap_ci_high=gap_hi,
        p_value=pv,
        n=cell.experience_n,
        low_sample=cell.experience_n < min_n,
        evidenced=evidenced,
        watermelon_rank=None,
        message=_message(quadrant, evidenced, cell.experience_n, gap, gap_lo, gap_hi),
    )


def compare_kpi_experience(
    cells: Sequence[ComparisonCell], *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> KpiExperienceReport:
    """KPI attainment against its standard and experience against its target, per cell.

    KPI met: kpi_value (comparator) kpi_target; margin positive = better. Experience estimate:
    a share with its Wilson interval, or a mean with its t interval (``confidence``); met by the
    point estimate; gap = estimate - target (sign flipped for "<=" targets), its interval the
    estimate's interval shifted by the target. Evidenced: the interval excludes the target AND
    n >= ``min_n`` (so a watermelon seen in 6 responses is "not yet evidenced"). p_value: score
    test of the share against the target (the test the Wilson interval inverts; Wilson 1927) or
    one-sample t test of the mean. Watermelons are ranked evidenced first, then by the relative
    shortfall gap / |target| (largest first), then p-value.
    """
    z_quantile(confidence)
    compared = [compare_one(c, confidence=confidence, min_n=min_n) for c in cells]

    def key(c: CellComparison) -> tuple[bool, float, float]:
        rel = c.experience_gap / abs(c.experience_target) if c.experience_target else c.experience_gap
        return (not c.evidenced, rel, c.p_value if np.isfinite(c.p_value) else 1.0)

    melons = sorted((c for c in compared if c.quadrant == "watermelon"), key=key)
    rank = {id(c): i + 1 for i, c in enumerate(melons)}
    compared = [replace(c, watermelon_rank=rank[id(c)]) if id(c) in rank else c for c in compared]
    ranked = tuple(
        sorted((c for c in compared if c.quadrant == "watermelon"), key=lambda c: c.watermelon_rank or 0)
    )
    counts = tuple((q, sum(1 for c in compared if c.quadrant == q)) for q in QUADRANTS)
    return KpiExperienceReport(tuple(compared), ranked, counts, confidence, min_n)
