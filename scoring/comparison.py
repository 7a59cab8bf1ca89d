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

from scoring.attainment import COMPARATORS, is_met, margin, pooled_met
from scoring.intervals import t_interval, wilson_interval, z_quantile
from scoring.results import DEFAULT_MIN_N, JsonResult, Message

__all__ = [
    "QUADRANTS",
    "CellComparison",
    "ClassifiedCells",
    "ComparisonCell",
    "KpiGroup",
    "KpiGroupResult",
    "KpiExperienceReport",
    "binomtest_two_sided",
    "classify_kpi_experience",
    "compare_cells",
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
class KpiGroup:
    """One group pooled into a cell's KPI (a tier), judged against its own target."""

    label: str
    value: float
    target: float
    comparator: str
    n: int | None = None  # tickets behind a share value (its Wilson interval); None: no interval


@dataclass(frozen=True)
class KpiGroupResult(JsonResult):
    """A pooled group's verdict: met against its own target, and its Wilson interval when it has one."""

    label: str
    value: float
    target: float
    comparator: str
    met: bool
    margin: float  # positive = better than the group's own target
    n: int | None
    ci_low: float
    ci_high: float
    evidenced: bool  # the group's interval lies on the met side of its own target


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
    #: Tickets behind a share KPI (value and target on 0..1): its Wilson interval is the KPI's
    #: evidence. None (or a KPI that is not a share): the KPI side cannot be evidenced.
    kpi_n: int | None = None
    kpi_share_scale: float = 1.0  # 100 when the KPI share is given in percent
    #: The rating scale of a mean (e.g. (1, 5)): its interval and test then use the largest
    #: variance a bounded answer can have and never collapse (30 identical answers).
    experience_scale: tuple[float, float] | None = None
    #: NPS counts (with ``experience_n`` answers and the target on -100..100): the NPS is then
    #: judged with the score interval and score test used everywhere else for NPS (Tango 1998,
    #: scoring.intervals.nps_interval), not a t or bounded-mean interval.
    experience_promoters: int | None = None
    experience_detractors: int | None = None
    #: The groups (tiers) pooled into the KPI, each with its own target. Given, the KPI is met only
    #: when every group met its own target (scoring.attainment.pooled_met, the rule of the KPI page
    #: and the "standard missed" alert), its margin is the worst group's and its evidence needs every
    #: group's interval on the met side; ``kpi_value``/``kpi_target`` stay the pooled value and the
    #: strictest target, shown beside the groups. Empty: kpi_value against kpi_target.
    kpi_groups: tuple[KpiGroup, ...] = ()


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
    kpi_ci_low: float = math.nan  # Wilson interval of a share KPI (NaN: no interval)
    kpi_ci_high: float = math.nan
    kpi_evidenced: bool = False  # the KPI interval lies on the met side of its target
    q_value: float = math.nan  # Benjamini-Hochberg across every cell compared at once
    reason: str = ""  # why a watermelon is a candidate, not evidenced (low_n, kpi_interval, ...)
    kpi_groups: tuple[KpiGroupResult, ...] = ()  # the pooled groups' own verdicts (ComparisonCell.kpi_groups)

    @property
    def kpi_breaches(self) -> tuple[KpiGroupResult, ...]:
        """The pooled groups that missed their own target (the tier-level breaches)."""
        return tuple(g for g in self.kpi_groups if not g.met)


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
        # Exact binomial test against the target share (never above nominal at small n).
        pv = float(stats.binomtest(x, n, target).pvalue) if 0.0 < target < 1.0 else float(x / n == target)
        return "share", x / n, float(lo[0]), float(hi[0]), pv
    if cell.experience_promoters is not None and cell.experience_detractors is not None:
        return _nps_score(cell, confidence)
    if cell.experience_mean is None or cell.experience_sd is None:
        raise ValueError("give experience_successes, or experience_mean and experience_sd")
    if cell.experience_scale is not None:
        return _bounded_mean(cell, confidence)
    lo, hi = t_interval([cell.experience_mean], [cell.experience_sd], [n], confidence)
    if n >= 2 and cell.experience_sd > 0:
        t = (cell.experience_mean - target) / (cell.experience_sd / math.sqrt(n))
        pv = float(2 * stats.t.sf(abs(t), n - 1))
    else:
        pv = float("nan")
    return "mean", cell.experience_mean, float(lo[0]), float(hi[0]), pv


def _nps_score(cell: ComparisonCell, confidence: float) -> tuple[str, float, float, float, float]:
    """NPS (-100..100) from promoter and detractor counts: the score interval of
    scoring.intervals.nps_interval and the score test it inverts, T(d0) against N(0, 1)
    (Tango 1998; Rocks 2016), so a cell's interval excludes the target exactly when p < 1 - confidence."""
    from scipy import stats

    from scoring.intervals import _tango_statistic, nps_interval

    n, b, c = cell.experience_n, cell.experience_promoters, cell.experience_detractors
    assert b is not None and c is not None
    if not (b >= 0 and c >= 0 and b + c <= n):
        raise ValueError("promoters and detractors must be counts within experience_n")
    if not -100.0 <= cell.experience_target <= 100.0:
        raise ValueError("an NPS target lies in -100..100")
    lo, hi = nps_interval([b], [c], [n], confidence)
    d0 = cell.experience_target / 100.0
    arr = np.array([float(b)]), np.array([float(c)]), np.array([float(n)]), np.array([d0])
    t = float(_tango_statistic(*arr)[0])
    pv = float(2 * stats.norm.sf(abs(t))) if abs(d0) < 1.0 else float((b - c) / n == d0)
    return "nps", 100.0 * (b - c) / n, 100.0 * float(lo[0]), 100.0 * float(hi[0]), pv


def _bounded_mean(cell: ComparisonCell, confidence: float) -> tuple[str, float, float, float, float]:
    """A mean on a bounded scale [lo, hi]: rescaled to 0..1, no answer distribution with mean m
    has a variance above m (1 - m) (Bhatia & Davis 2000), so the Wilson interval and the score test
    with that variance hold for any answers and never collapse to a point (30 identical answers
    do not evidence a 0.01 shortfall)."""
    from scipy import stats

    assert cell.experience_scale is not None and cell.experience_mean is not None
    lo_s, hi_s = cell.experience_scale
    if not hi_s > lo_s:
        raise ValueError("experience_scale must be (low, high) with high > low")
    n, span = cell.experience_n, hi_s - lo_s
    m = min(max((cell.experience_mean - lo_s) / span, 0.0), 1.0)
    low, high = wilson_interval([m * n], [n], confidence)
    t0 = (cell.experience_target - lo_s) / span
    se0 = math.sqrt(t0 * (1.0 - t0) / n) if 0.0 < t0 < 1.0 else 0.0
    pv = float(2 * stats.norm.sf(abs(m - t0) / se0)) if se0 > 0 else float(m == t0)
    return "mean", cell.experience_mean, lo_s + span * float(low[0]), lo_s + span * float(high[0]), pv


def _share_interval(
    value: float, target: float, comparator: str, n: int | None, scale: float, confidence: float
) -> tuple[float, float, bool]:
    """Wilson interval of a share KPI from its ``n`` tickets, and whether it lies on the met side."""
    v, t = value / scale, target / scale
    if n is None or n <= 0 or not (0.0 <= v <= 1.0 and 0.0 <= t <= 1.0):
        return math.nan, math.nan, False
    lo, hi = wilson_interval([round(v * n)], [n], confidence)
    low, high = scale * float(lo[0]), scale * float(hi[0])
    worst = low if comparator in (">=", ">") else high
    return low, high, is_met(worst, target, comparator)


def _kpi_interval(cell: ComparisonCell, confidence: float) -> tuple[float, float, bool]:
    """Wilson interval of a share KPI from its tickets, and whether it lies on the met side."""
    return _share_interval(
        cell.kpi_value, cell.kpi_target, cell.kpi_comparator, cell.kpi_n, cell.kpi_share_scale, confidence
    )


def _kpi_groups(cell: ComparisonCell, confidence: float) -> tuple[KpiGroupResult, ...]:
    out = []
    for g in cell.kpi_groups:
        lo, hi, evidenced = _share_interval(
            g.value, g.target, g.comparator, g.n, cell.kpi_share_scale, confidence
        )
        met = is_met(g.value, g.target, g.comparator)
        out.append(
            KpiGroupResult(
                g.label,
                g.value,
                g.target,
                g.comparator,
                met,
                margin(g.value, g.target, g.comparator),
                g.n,
                lo,
                hi,
                evidenced,
            )  # fmt: skip
        )
    return tuple(out)


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
    groups = _kpi_groups(cell, confidence)
    kpi_met = (
        bool(pooled_met(g.met for g in groups))
        if groups
        else is_met(cell.kpi_value, cell.kpi_target, cell.kpi_comparator)
    )
    kpi_margin = (
        min(g.margin for g in groups)
        if groups
        else margin(cell.kpi_value, cell.kpi_target, cell.kpi_comparator)
    )
    kind, est, lo, hi, pv = _experience(cell, confidence)
    kpi_lo, kpi_hi, kpi_evidenced = _kpi_interval(cell, confidence)
    if groups:  # each group's own interval on the met side of its own target
        kpi_evidenced = all(g.evidenced for g in groups)
    return _classified(
        cell, kind, (est, lo, hi, pv), (kpi_met, kpi_margin, kpi_lo, kpi_hi, kpi_evidenced), groups, min_n
    )


def _classified(
    cell: ComparisonCell,
    kind: str,
    experience: tuple[float, float, float, float],
    kpi: tuple[bool, float, float, float, bool],
    groups: tuple[KpiGroupResult, ...],
    min_n: int,
) -> CellComparison:
    """A cell's comparison from its experience (estimate, interval, p-value) and KPI side (met,
    margin, interval, evidenced): the gap to the experience target with its interval, the quadrant
    and the message. One place for compare_one and the vectorised compare_cells."""
    est, lo, hi, pv = experience
    kpi_met, kpi_margin, kpi_lo, kpi_hi, kpi_evidenced = kpi
    comp, target = cell.experience_comparator, cell.experience_target
    exp_met = is_met(est, target, comp)
    gap = margin(est, target, comp)
    g1, g2 = margin(lo, target, comp), margin(hi, target, comp)
    gap_lo, gap_hi = min(g1, g2), max(g1, g2)
    evidenced = bool((gap_lo > 0 or gap_hi < 0) and cell.experience_n >= min_n)
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
        kpi_margin=kpi_margin,
        experience_kind=kind,
        experience_estimate=est,
        experience_ci_low=lo,
        experience_ci_high=hi,
        experience_target=target,
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
        kpi_ci_low=kpi_lo,
        kpi_ci_high=kpi_hi,
        kpi_evidenced=kpi_evidenced,
        q_value=pv,
        kpi_groups=groups,
    )


def _judged(c: CellComparison, q: float, alpha: float, min_n: int) -> CellComparison:
    """Evidenced under the multiplicity rule: n >= min_n, the experience interval excludes the
    target, its BH-adjusted p-value <= alpha, and for a watermelon the KPI's own interval on the
    met side. Otherwise a candidate with its reason."""
    if c.n < min_n:
        reason = "low_n"
    elif not (c.gap_ci_low > 0 or c.gap_ci_high < 0):
        reason = "interval_includes_target"
    elif not q <= alpha:
        reason = "not_significant_after_correction"
    elif c.quadrant == "watermelon" and not c.kpi_evidenced:
        reason = "kpi_interval_includes_target" if c.kpi_ci_low == c.kpi_ci_low else "kpi_without_interval"
    else:
        reason = ""
    evidenced = not reason
    message = c.message if evidenced == c.evidenced else _message(
        c.quadrant, evidenced, c.n, c.experience_gap, c.gap_ci_low, c.gap_ci_high
    )  # fmt: skip
    return replace(c, q_value=q, evidenced=evidenced, reason=reason, message=message)


def _measurement(cell: ComparisonCell) -> tuple[Any, ...]:
    """What one experience test measures: the cell (service before any ":KPI" suffix, region,
    tier, period) and the experience figures with their target."""
    return (
        cell.service.split(":")[0], cell.region, cell.tier, cell.period, cell.experience_n,
        cell.experience_successes, cell.experience_mean, cell.experience_sd, cell.experience_scale,
        cell.experience_target, cell.experience_comparator, cell.experience_promoters,
        cell.experience_detractors,
    )  # fmt: skip


def compare_kpi_experience(
    cells: Sequence[ComparisonCell], *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> KpiExperienceReport:
    """KPI attainment against its standard and experience against its target, per cell.

    KPI met: kpi_value (comparator) kpi_target; margin positive = better. A cell pooling groups
    (``kpi_groups``, e.g. tiers with their own targets) is met only when every group met its own
    target, and its margin is the worst group's (scoring.attainment.pooled_met). Experience estimate:
    a share with its Wilson interval, or a mean with its t interval (``confidence``); met by the
    point estimate; gap = estimate - target (sign flipped for "<=" targets), its interval the
    estimate's interval shifted by the target. Evidenced: the interval excludes the target AND
    n >= ``min_n`` (so a watermelon seen in 6 responses is "not yet evidenced"). p_value: score
    test of the share against the target (the test the Wilson interval inverts; Wilson 1927) or
    one-sample t test of the mean. Watermelons are ranked evidenced first, then by the relative
    shortfall gap / |target| (largest first), then p-value.

    Issue 14: shares are tested with the exact binomial test, means on a known scale with the
    bounded-variance score test (:func:`_bounded_mean`), Benjamini-Hochberg across all cells
    compared at once (``q_value``), and a watermelon is evidenced only when its KPI's own Wilson
    interval (``kpi_n`` tickets) is on the met side too; otherwise ``reason`` says why not.
    """
    return classify_kpi_experience(cells, confidence=confidence, min_n=min_n).report()


@dataclass(frozen=True)
class ClassifiedCells:
    """compare_kpi_experience of every cell as arrays, one entry per cell in the order given: what a
    page counts and sorts across all cells (quadrant, evidence, gaps, the watermelons' rank) without
    a result per cell; ``results`` builds the CellComparison (with its message) of the cells a page
    shows, the same object compare_kpi_experience gives for that cell."""

    cells: Sequence[ComparisonCell]
    compared: _Compared
    judged: _Judged
    confidence: float
    min_n: int

    @property
    def quadrant(self) -> np.ndarray:
        """Each cell's quadrant code (an array of str)."""
        return self.compared.quadrant

    @property
    def evidenced(self) -> np.ndarray:
        """Evidenced under the multiplicity rule (CellComparison.evidenced)."""
        return self.judged.evidenced

    @property
    def watermelons(self) -> list[int]:
        """The watermelons' cell positions in rank order (evidenced first, the largest shortfall)."""
        return self.judged.melons

    @property
    def kpi_margin(self) -> np.ndarray:
        """CellComparison.kpi_margin of each cell."""
        return self.compared.kpi_margin

    @property
    def experience_gap(self) -> np.ndarray:
        """CellComparison.experience_gap of each cell."""
        return self.compared.gap

    @property
    def quadrant_counts(self) -> tuple[tuple[str, int], ...]:
        return tuple((q, int(np.count_nonzero(self.compared.quadrant == q))) for q in QUADRANTS)

    def results(self, positions: Sequence[int]) -> list[CellComparison]:
        """The CellComparison of the cells at ``positions``, in that order."""
        return _results(self.cells, self.compared, self.judged, self.min_n, positions)

    def report(self) -> KpiExperienceReport:
        """Every cell's result: compare_kpi_experience."""
        compared = self.results(range(len(self.cells)))
        ranked = tuple(compared[i] for i in self.judged.melons)
        return KpiExperienceReport(tuple(compared), ranked, self.quadrant_counts, self.confidence, self.min_n)


def classify_kpi_experience(
    cells: Sequence[ComparisonCell], *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> ClassifiedCells:
    """compare_kpi_experience's numbers for every cell as arrays (ClassifiedCells), each statistic
    computed over all cells at once; a result object is built only for the cells asked for (issue
    19: building 10,000 results and their messages was the largest cost of the page's first load,
    which shows fifty)."""
    z_quantile(confidence)
    arrays = _compared(cells, confidence, min_n)
    judged = _judged_arrays(cells, arrays, 1.0 - confidence, min_n)
    return ClassifiedCells(cells, arrays, judged, confidence, min_n)


# --- Vectorised over all cells at once (issue 19) ----------------------------------------------
# A national provider compares ~5,000 cells per page; one scipy call per cell per statistic cost
# ~30 s. The functions below compute the same numbers as compare_one and _judged with one array
# call per statistic over every cell (tests/unit/scoring/test_comparison_vectorised.py checks
# them against the per-cell code and against scipy.stats.binomtest).


def binomtest_two_sided(successes: Any, n: Any, p: Any) -> np.ndarray:
    """Two-sided exact binomial test p-values, one per entry: the same numbers as
    ``scipy.stats.binomtest(k, n, p).pvalue`` (scipy's minlike method: the probability of every
    outcome no likelier than k, with the same relative tolerance 1e-7 and the same search for the
    other tail), with one array call per step instead of one call per test. Needs 0 < p < 1."""
    from scipy.stats import binom

    k = np.asarray(successes, dtype=float).reshape(-1)
    m = np.asarray(n, dtype=float).reshape(-1)
    pr = np.asarray(p, dtype=float).reshape(-1)
    out = np.ones(k.shape)
    if k.size == 0:
        return out
    d = binom.pmf(k, m, pr)
    rerr = 1 + 1e-7
    centre = pr * m
    lower = k < centre  # the other tail lies above the mode
    upper = k > centre
    # scipy's _binary_search_for_binom_tst on a(x) = sign * pmf(x), in both directions at once.
    sign = np.where(lower, -1.0, 1.0)
    target = sign * d * rerr
    lo = np.where(lower, np.ceil(centre), 0.0)
    hi = np.where(lower, m, np.floor(centre))
    done = ~(lower | upper)
    found = np.zeros(k.shape)
    active = ~done & (lo < hi)
    while active.any():
        mid = lo + np.floor((hi - lo) / 2)
        val = sign * binom.pmf(mid, m, pr)
        below = active & (val < target)
        above = active & (val > target)
        equal = active & ~below & ~above
        lo = np.where(below, mid + 1, lo)
        hi = np.where(above, mid - 1, hi)
        found = np.where(equal, mid, found)
        done = done | equal
        active = ~done & (lo < hi)
    searched = lower | upper
    at_lo = sign * binom.pmf(lo, m, pr) <= target
    ix = np.where(done & searched, found, np.where(at_lo, lo, lo - 1))
    with np.errstate(invalid="ignore"):
        y_low = m - ix + (d * rerr == binom.pmf(ix, m, pr)).astype(float)
        p_low = binom.cdf(k, m, pr) + binom.sf(m - y_low, m, pr)
        y_up = ix + 1
        p_up = binom.cdf(y_up - 1, m, pr) + binom.sf(k - 1, m, pr)
    out = np.where(lower, p_low, np.where(upper, p_up, 1.0))
    return np.minimum(1.0, out)


def _experience_arrays(
    cells: Sequence[ComparisonCell], confidence: float
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(kind, estimate, interval low, interval high, p-value) of every cell, as _experience gives
    them one cell at a time, with one array call per kind and statistic."""
    from scipy import stats

    from scoring.intervals import _tango_statistic, nps_interval

    size = len(cells)
    kinds = [""] * size
    est, low, high, pv = (np.full(size, np.nan) for _ in range(4))
    share: list[int] = []
    nps: list[int] = []
    bounded: list[int] = []
    tmean: list[int] = []
    for i, cell in enumerate(cells):  # the checks of _experience, in its order
        size_n, goal = cell.experience_n, cell.experience_target
        if size_n <= 0:
            raise ValueError(f"cell {cell.service}/{cell.region}/{cell.period} has no experience responses")
        if cell.experience_successes is not None:
            if not 0 <= cell.experience_successes <= size_n:
                raise ValueError("experience_successes must lie in 0..experience_n")
            if not 0.0 <= goal <= 1.0:
                raise ValueError("a share's experience_target is a proportion in 0..1 (0.85, not 85)")
            share.append(i)
        elif cell.experience_promoters is not None and cell.experience_detractors is not None:
            pro, det = cell.experience_promoters, cell.experience_detractors
            if not (pro >= 0 and det >= 0 and pro + det <= size_n):
                raise ValueError("promoters and detractors must be counts within experience_n")
            if not -100.0 <= goal <= 100.0:
                raise ValueError("an NPS target lies in -100..100")
            nps.append(i)
        elif cell.experience_mean is None or cell.experience_sd is None:
            raise ValueError("give experience_successes, or experience_mean and experience_sd")
        elif cell.experience_scale is not None:
            low_s, high_s = cell.experience_scale
            if not high_s > low_s:
                raise ValueError("experience_scale must be (low, high) with high > low")
            bounded.append(i)
        else:
            tmean.append(i)

    def col(idx: list[int], get: Any) -> np.ndarray:
        return np.array([get(cells[i]) for i in idx], dtype=float)

    if share:
        x = col(share, lambda c: c.experience_successes)
        n = col(share, lambda c: c.experience_n)
        t = col(share, lambda c: c.experience_target)
        lo, hi = wilson_interval(x, n, confidence)
        inner = (t > 0.0) & (t < 1.0)
        p = (x / n == t).astype(float)
        if inner.any():
            p[inner] = binomtest_two_sided(x[inner], n[inner], t[inner])
        est[share], low[share], high[share], pv[share] = x / n, lo, hi, p
        for i in share:
            kinds[i] = "share"
    if nps:
        b = col(nps, lambda c: c.experience_promoters)
        c_ = col(nps, lambda c: c.experience_detractors)
        n = col(nps, lambda c: c.experience_n)
        d0 = col(nps, lambda c: c.experience_target) / 100.0
        lo, hi = nps_interval(b, c_, n, confidence)
        t = _tango_statistic(b, c_, n, d0)
        p = np.where(np.abs(d0) < 1.0, 2 * stats.norm.sf(np.abs(t)), ((b - c_) / n == d0).astype(float))
        est[nps], low[nps], high[nps], pv[nps] = 100.0 * (b - c_) / n, 100.0 * lo, 100.0 * hi, p
        for i in nps:
            kinds[i] = "nps"
    if bounded:
        lo_s = col(bounded, lambda c: c.experience_scale[0])
        span = col(bounded, lambda c: c.experience_scale[1]) - lo_s
        n = col(bounded, lambda c: c.experience_n)
        mean = col(bounded, lambda c: c.experience_mean)
        m = np.minimum(np.maximum((mean - lo_s) / span, 0.0), 1.0)
        lo, hi = wilson_interval(m * n, n, confidence)
        t0 = (col(bounded, lambda c: c.experience_target) - lo_s) / span
        inside = (t0 > 0.0) & (t0 < 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            se0 = np.where(inside, np.sqrt(np.where(inside, t0 * (1.0 - t0), 0.0) / n), 0.0)
            p = np.where(se0 > 0, 2 * stats.norm.sf(np.abs(m - t0) / se0), (m == t0).astype(float))
        est[bounded], low[bounded], high[bounded], pv[bounded] = mean, lo_s + span * lo, lo_s + span * hi, p
        for i in bounded:
            kinds[i] = "mean"
    if tmean:
        mean = col(tmean, lambda c: c.experience_mean)
        sd = col(tmean, lambda c: c.experience_sd)
        n = col(tmean, lambda c: c.experience_n)
        lo, hi = t_interval(mean, sd, n, confidence)
        ok = (n >= 2) & (sd > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = (mean - col(tmean, lambda c: c.experience_target)) / (sd / np.sqrt(n))
            p = np.where(ok, 2 * stats.t.sf(np.abs(t), np.where(ok, n - 1, 1.0)), np.nan)
        est[tmean], low[tmean], high[tmean], pv[tmean] = mean, lo, hi, p
        for i in tmean:
            kinds[i] = "mean"
    return kinds, est, low, high, pv


def _comparator_sides(comparators: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(higher is better, strict) per comparator, as attainment.margin and is_met read them."""
    comp = np.array(comparators, dtype=object).reshape(-1)
    known = np.isin(comp, COMPARATORS)
    if not known.all():
        bad = comp[~known][0]
        raise ValueError(f"comparator must be one of {COMPARATORS}, got {bad!r}")
    return np.isin(comp, (">=", ">")), np.isin(comp, (">", "<"))


def _margins(value: np.ndarray, target: np.ndarray, higher: np.ndarray) -> np.ndarray:
    """attainment.margin of every entry: positive = better than the target."""
    return np.where(higher, value - target, target - value)


def _met(margins: np.ndarray, strict: np.ndarray) -> np.ndarray:
    """attainment.is_met of every entry from its margin."""
    return np.where(strict, margins > 0, margins >= 0)


def _share_arrays(
    value: np.ndarray,
    target: np.ndarray,
    n: np.ndarray,
    scale: np.ndarray,
    higher: np.ndarray,
    strict: np.ndarray,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_share_interval of every entry (``n`` NaN for None): the Wilson interval of a share KPI
    from its tickets (NaN when it has none) and whether it lies on the met side of its target."""
    low, high = np.full(value.shape, np.nan), np.full(value.shape, np.nan)
    evidenced = np.zeros(value.shape, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        v, t = value / scale, target / scale
        ok = (n > 0) & (v >= 0.0) & (v <= 1.0) & (t >= 0.0) & (t <= 1.0)
    if ok.any():
        # Python's round() and np.round both round half to even.
        lo, hi = wilson_interval(np.round(v[ok] * n[ok]), n[ok], confidence)
        low[ok], high[ok] = scale[ok] * lo, scale[ok] * hi
        worst = np.where(higher[ok], low[ok], high[ok])
        evidenced[ok] = _met(_margins(worst, target[ok], higher[ok]), strict[ok])
    return low, high, evidenced


@dataclass(frozen=True)
class _Compared:
    """compare_one of every cell as arrays (one entry per cell), before the BH judgement."""

    kind: list[str]
    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p_value: np.ndarray
    kpi_met: np.ndarray
    kpi_margin: np.ndarray
    kpi_low: np.ndarray
    kpi_high: np.ndarray
    kpi_evidenced: np.ndarray
    groups: list[tuple[KpiGroupResult, ...]]
    experience_met: np.ndarray
    gap: np.ndarray
    gap_low: np.ndarray
    gap_high: np.ndarray
    evidenced: np.ndarray  # the interval excludes the target and n >= min_n
    quadrant: np.ndarray  # of str


def _kpi_arrays(
    cells: Sequence[ComparisonCell], confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[KpiGroupResult, ...]]]:
    """The KPI side of every cell (met, margin, interval, evidenced, the pooled groups' verdicts),
    as compare_one gives it one cell at a time."""
    nan = math.nan
    size = len(cells)
    columns = np.array(
        [(c.kpi_value, c.kpi_target, nan if c.kpi_n is None else c.kpi_n, c.kpi_share_scale) for c in cells],
        dtype=float,
    ).reshape(size, 4)
    value, target, n, scale = columns.T
    higher, strict = _comparator_sides([c.kpi_comparator for c in cells])
    margins = _margins(value, target, higher)
    met = _met(margins, strict)
    low, high, evidenced = _share_arrays(value, target, n, scale, higher, strict, confidence)
    owners = [i for i, c in enumerate(cells) for _ in c.kpi_groups]
    groups: list[tuple[KpiGroupResult, ...]] = [()] * size
    if owners:
        flat = [g for c in cells for g in c.kpi_groups]
        g_columns = np.array([(g.value, g.target, nan if g.n is None else g.n) for g in flat], dtype=float)
        g_value, g_target, g_n = g_columns.T
        g_higher, g_strict = _comparator_sides([g.comparator for g in flat])
        g_margin = _margins(g_value, g_target, g_higher)
        g_met = _met(g_margin, g_strict)
        g_low, g_high, g_ev = _share_arrays(
            g_value, g_target, g_n, scale[owners], g_higher, g_strict, confidence
        )
        by_cell: dict[int, list[KpiGroupResult]] = {}
        for j, (g, i) in enumerate(zip(flat, owners, strict=True)):
            by_cell.setdefault(i, []).append(
                KpiGroupResult(
                    g.label,
                    g.value,
                    g.target,
                    g.comparator,
                    bool(g_met[j]),
                    float(g_margin[j]),
                    g.n,
                    float(g_low[j]),
                    float(g_high[j]),
                    bool(g_ev[j]),
                )  # fmt: skip
            )
        for i, results in by_cell.items():
            groups[i] = tuple(results)
            # The pooling rule (attainment.pooled_met): met when every group met its own target;
            # the worst group's margin; evidenced when every group's interval is on the met side.
            met[i] = bool(pooled_met(g.met for g in results))
            margins[i] = min(g.margin for g in results)
            evidenced[i] = all(g.evidenced for g in results)
    return met, margins, low, high, evidenced, groups


def _compared(cells: Sequence[ComparisonCell], confidence: float, min_n: int) -> _Compared:
    """compare_one's numbers for every cell with one array call per statistic (_classified's
    gap, interval, evidence and quadrant likewise)."""
    kinds, est, low, high, pv = _experience_arrays(cells, confidence)
    kpi_met, kpi_margin, kpi_low, kpi_high, kpi_evidenced, groups = _kpi_arrays(cells, confidence)
    target = np.array([c.experience_target for c in cells], dtype=float)
    n = np.array([c.experience_n for c in cells], dtype=float)
    higher, strict = _comparator_sides([c.experience_comparator for c in cells])
    gap = _margins(est, target, higher)
    exp_met = _met(gap, strict)
    g1, g2 = _margins(low, target, higher), _margins(high, target, higher)
    # min() and max() of two floats, as Python takes them (the first unless the second is
    # strictly smaller or larger), so a NaN limit gives what the per-cell code gives.
    gap_low, gap_high = np.where(g2 < g1, g2, g1), np.where(g2 > g1, g2, g1)
    evidenced = ((gap_low > 0) | (gap_high < 0)) & (n >= min_n)
    quadrant = np.where(
        kpi_met,
        np.where(exp_met, "both_met", "watermelon"),
        np.where(exp_met, "kpi_missed_experience_met", "both_missed"),
    ).astype(object)
    return _Compared(
        kinds, est, low, high, pv, kpi_met, kpi_margin, kpi_low, kpi_high, kpi_evidenced, groups, exp_met,
        gap, gap_low, gap_high, evidenced, quadrant,
    )  # fmt: skip


@dataclass(frozen=True)
class _Judged:
    """_judged of every cell: the BH q-value, evidenced under the multiplicity rule and the reason
    when not, and the watermelons' cell indexes in rank order."""

    q_value: np.ndarray
    evidenced: np.ndarray
    reason: np.ndarray  # of str, "" when evidenced
    melons: list[int]


def _judged_arrays(cells: Sequence[ComparisonCell], a: _Compared, alpha: float, min_n: int) -> _Judged:
    from scoring.exact_tests import benjamini_hochberg

    # The family is the distinct experience measurements: KPIs of one cell that share one
    # experience number are one test, not one per KPI ("29 listed, 22 distinct").
    family: dict[tuple[Any, ...], int] = {}
    slot = np.array([family.setdefault(_measurement(c), len(family)) for c in cells], dtype=np.int64)
    p_once = np.ones(len(family))
    p_once[slot] = a.p_value  # one p-value per measurement (its KPIs share it)
    q = benjamini_hochberg(p_once)[slot] if family else np.zeros(0)
    n = np.array([c.experience_n for c in cells], dtype=float)
    excludes = (a.gap_low > 0) | (a.gap_high < 0)
    with np.errstate(invalid="ignore"):
        significant = q <= alpha
    melon = a.quadrant == "watermelon"
    reason = np.select(
        [
            n < min_n,
            ~excludes,
            ~significant,
            melon & ~a.kpi_evidenced & ~np.isnan(a.kpi_low),
            melon & ~a.kpi_evidenced,
        ],
        [
            "low_n",
            "interval_includes_target",
            "not_significant_after_correction",
            "kpi_interval_includes_target",
            "kpi_without_interval",
        ],
        "",
    ).astype(object)
    evidenced = reason == ""
    # Ranked evidenced first, then the largest relative shortfall, then the p-value (Python's
    # stable sort on the per-cell code's key, so ties keep the cells' order).
    gap, target, p = a.gap.tolist(), [c.experience_target for c in cells], a.p_value.tolist()
    ev = evidenced.tolist()

    def key(i: int) -> tuple[bool, float, float]:
        rel = gap[i] / abs(target[i]) if target[i] else gap[i]
        return (not ev[i], rel, p[i] if math.isfinite(p[i]) else 1.0)

    melons = sorted(np.flatnonzero(melon).tolist(), key=key)
    return _Judged(q, evidenced, reason, melons)


def _results(
    cells: Sequence[ComparisonCell], a: _Compared, j: _Judged, min_n: int, positions: Sequence[int]
) -> list[CellComparison]:
    """The CellComparison of the cells at ``positions``, each built once from the arrays."""
    at = np.asarray(positions, dtype=np.int64).reshape(-1)
    rank = {i: r + 1 for r, i in enumerate(j.melons)}
    est, low, high = a.estimate[at].tolist(), a.low[at].tolist(), a.high[at].tolist()
    pv = a.p_value[at].tolist()
    kpi_met, kpi_margin = a.kpi_met[at].tolist(), a.kpi_margin[at].tolist()
    kpi_low, kpi_high, kpi_ev = a.kpi_low[at].tolist(), a.kpi_high[at].tolist(), a.kpi_evidenced[at].tolist()
    exp_met, gap, gap_low, gap_high = (
        a.experience_met[at].tolist(),
        a.gap[at].tolist(),
        a.gap_low[at].tolist(),
        a.gap_high[at].tolist(),
    )
    q, evidenced, reason = j.q_value[at].tolist(), j.evidenced[at].tolist(), j.reason[at].tolist()
    quadrants = a.quadrant[at].tolist()
    out = []
    for k, i in enumerate(at.tolist()):
        cell = cells[i]
        quadrant = str(quadrants[k])
        out.append(
            CellComparison(
                service=cell.service,
                region=cell.region,
                tier=cell.tier,
                period=cell.period,
                quadrant=quadrant,
                kpi_value=cell.kpi_value,
                kpi_target=cell.kpi_target,
                kpi_met=kpi_met[k],
                kpi_margin=kpi_margin[k],
                experience_kind=a.kind[i],
                experience_estimate=est[k],
                experience_ci_low=low[k],
                experience_ci_high=high[k],
                experience_target=cell.experience_target,
                experience_met=exp_met[k],
                experience_gap=gap[k],
                gap_ci_low=gap_low[k],
                gap_ci_high=gap_high[k],
                p_value=pv[k],
                n=cell.experience_n,
                low_sample=cell.experience_n < min_n,
                evidenced=evidenced[k],
                watermelon_rank=rank.get(i),
                message=_message(quadrant, evidenced[k], cell.experience_n, gap[k], gap_low[k], gap_high[k]),
                kpi_ci_low=kpi_low[k],
                kpi_ci_high=kpi_high[k],
                kpi_evidenced=kpi_ev[k],
                q_value=q[k],
                reason=reason[k],
                kpi_groups=a.groups[i],
            )
        )
    return out


def compare_cells(
    cells: Sequence[ComparisonCell], *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> list[CellComparison]:
    """compare_one of every cell (q_value still the raw p-value, not yet judged), with the
    intervals and tests computed over all cells at once."""
    arrays = _compared(cells, confidence, min_n)
    unjudged = _Judged(arrays.p_value, arrays.evidenced, np.full(len(cells), "", dtype=object), [])
    return _results(cells, arrays, unjudged, min_n, range(len(cells)))
