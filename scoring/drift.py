"""Change detection over many cells at once: did a measure fall in the recent complete periods
against the baseline periods before them, for every region, service and region x service cell?

One look tests every (unit, measure) whose samples reach the minimum n on both sides with the
exact permutation test of :mod:`scoring.exact_tests` (one-sided: H1 "lower than the baseline"),
then controls the false discovery rate across everything tested in that look with
Benjamini-Hochberg. A measure flags only when its BH-adjusted p-value (q) is at most ``alpha``.
Under "nothing changed anywhere" a rejection is a false discovery, so FDR control at 5% keeps the
share of looks that flag anything at or below 5% (the rate ``bench/bench_drift.py`` measures).

Measures and their scores: ``csat`` top-2 box 1/0 (Fisher's exact test), ``nps`` promoter +1,
passive 0, detractor -1 (shown x 100), ``ces`` and each dimension the rating itself. The
perception index mixes dimensions answered by overlapping respondents, which per-category counts
do not identify; its drop is tested with a one-sided z on the index difference with the
conservative standard error sum_d w_d s_d / sqrt(n_d) per period (exact for perfectly correlated
dimensions, larger otherwise) and needs every dimension at the minimum n on both sides.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from scoring.exact_tests import benjamini_hochberg, permutation_p_value
from scoring.results import JsonResult

__all__ = [
    "MIN_N_BASELINE",
    "MIN_N_RECENT",
    "ChangeLook",
    "ChangeTest",
    "DimensionSample",
    "IndexInput",
    "ScoredInput",
    "detect_drops",
]

#: Fewest answers in the recent periods for a measure to be tested (stated on every page).
MIN_N_RECENT = 20
#: Fewest answers in the baseline periods.
MIN_N_BASELINE = 30


@dataclass(frozen=True)
class ScoredInput:
    """One unit's answers to one measure: counts per category in the baseline and recent periods."""

    unit: Hashable  # e.g. ("region", 3), ("service", 2), ("cell", 2, 3), ("all",)
    measure: str  # csat | nps | ces | dimension code
    scores: tuple[float, ...]
    baseline: tuple[int, ...]
    recent: tuple[int, ...]
    display_factor: float = 1.0  # 100 for NPS (shown on -100..100)


@dataclass(frozen=True)
class DimensionSample:
    """Sums of one dimension's ratings rescaled to 0..100 in one period."""

    n: int
    total: float
    total_sq: float

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else math.nan

    @property
    def sd(self) -> float:
        if self.n < 2:
            return math.nan
        return math.sqrt(max(0.0, (self.total_sq - self.total**2 / self.n) / (self.n - 1)))


@dataclass(frozen=True)
class IndexInput:
    unit: Hashable
    baseline: dict[str, DimensionSample] = field(default_factory=dict)
    recent: dict[str, DimensionSample] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeTest(JsonResult):
    unit: Hashable
    measure: str
    baseline_estimate: float
    recent_estimate: float
    n_baseline: int
    n_recent: int
    difference: float  # recent - baseline, on the display scale
    tested: bool
    reason: str  # "" when tested; "low_n" / "no_variation" otherwise
    method: str
    p_value: float  # one-sided, unadjusted (NaN when not tested)
    q_value: float  # Benjamini-Hochberg across the look (NaN when not tested)
    flagged: bool


@dataclass(frozen=True)
class ChangeLook(JsonResult):
    tests: tuple[ChangeTest, ...]
    alpha: float
    min_n_recent: int
    min_n_baseline: int
    correction: str
    n_tested: int

    @property
    def flags(self) -> tuple[ChangeTest, ...]:
        return tuple(t for t in self.tests if t.flagged)

    @property
    def any_flag(self) -> bool:
        return any(t.flagged for t in self.tests)


def _mean(counts: np.ndarray, scores: np.ndarray) -> float:
    n = counts.sum()
    return float(np.dot(counts, scores) / n) if n else math.nan


def _fisher_batch(items: Sequence[ScoredInput], min_recent: int, min_base: int) -> dict[int, float]:
    """The one-sided p-values of every two-category input that will be tested (CSAT's top-2 box),
    from ONE vectorised call of the hypergeometric tails: the same numbers as
    :func:`scoring.exact_tests.permutation_p_value` computes one by one (its Fisher branch), at
    a fraction of the cost when a look holds thousands of region x service cells."""
    from scipy import stats

    at: list[int] = []
    big_m: list[int] = []
    big_n: list[int] = []
    drawn_n: list[int] = []
    drawn_k: list[int] = []
    from_b: list[bool] = []
    for i, item in enumerate(items):
        # Most cells of a large look are below the minimum n: sorted out without NumPy.
        if sum(item.baseline) < min_base or sum(item.recent) < min_recent:
            continue
        if sum(1 for x, y in zip(item.baseline, item.recent, strict=False) if x + y > 0) != 2:
            continue
        a = np.asarray(item.baseline, dtype=np.int64).reshape(-1)
        b = np.asarray(item.recent, dtype=np.int64).reshape(-1)
        s = np.asarray(item.scores, dtype=float).reshape(-1)
        if not a.shape == b.shape == s.shape or np.any(a < 0) or np.any(b < 0):
            continue  # permutation_p_value says what is wrong
        n_a, n_b = int(a.sum()), int(b.sum())
        if n_a < min_base or n_b < min_recent or n_a == 0 or n_b == 0:
            continue
        pooled = a + b
        used = pooled > 0
        if np.count_nonzero(used) != 2 or np.unique(s[used]).size < 2:
            continue
        draw_b = n_b <= n_a
        drawn = b if draw_b else a
        _, hi_cat = np.flatnonzero(used)[np.argsort(s[used])]
        at.append(i)
        big_m.append(int(pooled.sum()))
        big_n.append(int(pooled[hi_cat]))
        drawn_n.append(int(drawn.sum()))
        drawn_k.append(int(drawn[hi_cat]))
        from_b.append(draw_b)
    if not at:
        return {}
    k = np.array(drawn_k)
    low = stats.hypergeom.cdf(k, big_m, big_n, drawn_n)
    high = stats.hypergeom.sf(k - 1, big_m, big_n, drawn_n)
    return {
        i: min(1.0, float(low[j] if from_b[j] else high[j])) for j, i in enumerate(at)
    }  # b's sum is low exactly when a's is high


def _scored(
    item: ScoredInput, min_recent: int, min_base: int, known: float | None = None
) -> tuple[ChangeTest, float]:
    s = np.asarray(item.scores, dtype=float)
    a, b = np.asarray(item.baseline, dtype=np.int64), np.asarray(item.recent, dtype=np.int64)
    ea, eb = _mean(a, s) * item.display_factor, _mean(b, s) * item.display_factor
    method = "fisher_exact" if s.size == 2 else "exact_permutation"
    reason, p = "", math.nan
    if a.sum() < min_base or b.sum() < min_recent:
        reason = "low_n"
    else:
        p = known if known is not None else permutation_p_value(a, b, s, alternative="less")
        if math.isnan(p):
            reason = "no_variation"
    test = ChangeTest(
        item.unit, item.measure, ea, eb, int(a.sum()), int(b.sum()), eb - ea, not reason, reason, method,
        p, math.nan, False,
    )  # fmt: skip
    return test, p


def _index(item: IndexInput, min_recent: int, min_base: int) -> tuple[ChangeTest, float]:
    from scipy import stats

    dims = sorted(set(item.baseline) | set(item.recent))
    weight = 1.0 / len(dims) if dims else math.nan

    def summary(side: dict[str, DimensionSample]) -> tuple[float, float, int]:
        present = [side.get(d) for d in dims]
        if any(x is None or x.n == 0 for x in present):  # a dimension unanswered on this side
            return math.nan, math.nan, 0
        ok = [x for x in present if x is not None]
        estimate = sum(weight * x.mean for x in ok)
        se = sum(weight * x.sd / math.sqrt(x.n) for x in ok) if all(x.n >= 2 for x in ok) else math.nan
        return estimate, se, min(x.n for x in ok)

    ea, sa, na = summary(item.baseline)
    eb, sb, nb = summary(item.recent)
    reason, p = "", math.nan
    if not dims or na < min_base or nb < min_recent:
        reason = "low_n"
    elif not sa + sb > 0:
        reason = "no_variation"
    else:
        p = float(stats.norm.cdf((eb - ea) / math.hypot(sa, sb)))
    test = ChangeTest(
        item.unit, "index", ea, eb, na, nb, eb - ea, not reason, reason, "conservative_z", p, math.nan, False
    )
    return test, p


def detect_drops(
    scored: Sequence[ScoredInput],
    indices: Sequence[IndexInput] = (),
    *,
    alpha: float = 0.05,
    min_n_recent: int = MIN_N_RECENT,
    min_n_baseline: int = MIN_N_BASELINE,
) -> ChangeLook:
    """Test every input for a drop and flag those with BH q <= alpha (see the module docstring).
    ``n`` of the index is its smallest dimension's n."""
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must lie in (0, 1)")
    fisher = _fisher_batch(scored, min_n_recent, min_n_baseline)
    rows = [_scored(item, min_n_recent, min_n_baseline, fisher.get(i)) for i, item in enumerate(scored)]
    rows += [_index(i, min_n_recent, min_n_baseline) for i in indices]
    q = benjamini_hochberg([p for _, p in rows]) if rows else np.zeros(0)
    tests = []
    for (test, _), qv in zip(rows, q.tolist(), strict=True):
        flagged = bool(test.tested and qv <= alpha)
        tests.append(replace(test, q_value=qv, flagged=flagged))
    return ChangeLook(
        tuple(tests), alpha, min_n_recent, min_n_baseline, "benjamini_hochberg", sum(t.tested for t in tests)
    )
