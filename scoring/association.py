"""Does KPI move with experience? Spearman rank correlation with its interval (across regions
and over time) and a lead/lag check of whether a KPI change precedes an experience change.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scoring.comparison import CellComparison, ClassifiedCells
from scoring.results import JsonResult, Message

__all__ = [
    "GrangerTest",
    "KpiExperienceCorrelations",
    "LagCorrelation",
    "LeadLagResult",
    "RankCorrelation",
    "granger_f_test",
    "kpi_experience_correlations",
    "lead_lag",
    "rank_correlation",
    "rank_correlations",
]


@dataclass(frozen=True)
class RankCorrelation(JsonResult):
    rho: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    n: int
    low_sample: bool  # n < 10: the interval is wide and the normal approximation rough


def _paired(kpi: ArrayLike, experience: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The two series as floats, the points where either is missing left out."""
    x = np.asarray(kpi, dtype=float).reshape(-1)
    y = np.asarray(experience, dtype=float).reshape(-1)
    if x.shape != y.shape:
        raise ValueError("kpi and experience must have the same length")
    ok = ~np.isnan(x) & ~np.isnan(y)
    return x[ok], y[ok]


def rank_correlation(kpi: ArrayLike, experience: ArrayLike, *, confidence: float = 0.95) -> RankCorrelation:
    """Spearman's rho between KPI and experience (pairs with a NaN dropped).

    rho = Pearson correlation of the mid-ranks; p from t = rho sqrt((n-2)/(1-rho^2)) with n-2 df
    (as ``scipy.stats.spearmanr``). Interval: Fisher z with the Bonett & Wright (2000,
    Psychometrika 65:23-28) variance (1 + rho^2/2)/(n - 3): tanh(atanh(rho) ± z sqrt(var)).
    """
    from scipy import stats

    x, y = _paired(kpi, experience)
    n = x.size
    nan = float("nan")
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return RankCorrelation(nan, nan, nan, confidence, nan, int(n), True)
    rho = float(np.corrcoef(stats.rankdata(x), stats.rankdata(y))[0, 1])
    rho = max(-1.0, min(1.0, rho))
    if abs(rho) < 1.0:
        t = rho * math.sqrt((n - 2) / (1.0 - rho * rho))
        p = float(2 * stats.t.sf(abs(t), n - 2))
    else:
        p = 0.0
    if n > 3 and abs(rho) < 1.0:
        half = float(stats.norm.ppf(0.5 + confidence / 2)) * math.sqrt((1 + rho * rho / 2) / (n - 3))
        lo, hi = math.tanh(math.atanh(rho) - half), math.tanh(math.atanh(rho) + half)
    else:
        lo, hi = (rho, rho) if abs(rho) == 1.0 else (-1.0, 1.0)
    return RankCorrelation(rho, lo, hi, confidence, p, int(n), n < 10)


def rank_correlations(
    pairs: Sequence[tuple[ArrayLike, ArrayLike]], *, confidence: float = 0.95
) -> list[RankCorrelation]:
    """rank_correlation of many (kpi, experience) pairs at once, the same numbers (to rounding):
    the pairs of one length after dropping NaNs are ranked, correlated and tested as one matrix
    (one scipy call per length and statistic, not per pair: ~2,500 series per page at national
    scale, issue 19)."""
    from scipy import stats

    nan = float("nan")
    out: list[RankCorrelation | None] = [None] * len(pairs)
    by_length: dict[int, list[tuple[int, NDArray[np.float64], NDArray[np.float64]]]] = defaultdict(list)
    for i, (kpi, experience) in enumerate(pairs):
        x, y = _paired(kpi, experience)
        if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
            out[i] = RankCorrelation(nan, nan, nan, confidence, nan, int(x.size), True)
        else:
            by_length[x.size].append((i, x, y))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    for n, group in by_length.items():
        rx = stats.rankdata(np.array([g[1] for g in group]), axis=1)
        ry = stats.rankdata(np.array([g[2] for g in group]), axis=1)
        dx = rx - rx.mean(axis=1, keepdims=True)
        dy = ry - ry.mean(axis=1, keepdims=True)
        # np.corrcoef's arithmetic: the covariance over the product of the standard deviations.
        cov = np.einsum("ij,ij->i", dx, dy) / (n - 1)
        sx = np.sqrt(np.einsum("ij,ij->i", dx, dx) / (n - 1))
        sy = np.sqrt(np.einsum("ij,ij->i", dy, dy) / (n - 1))
        rho = np.clip(cov / sx / sy, -1.0, 1.0)
        inner = np.abs(rho) < 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            t = rho * np.sqrt((n - 2) / (1.0 - rho * rho))
            p = np.where(inner, 2 * stats.t.sf(np.abs(t), n - 2), 0.0)
            if n > 3:
                half = z * np.sqrt((1 + rho * rho / 2) / (n - 3))
                lo = np.where(inner, np.tanh(np.arctanh(rho) - half), rho)
                hi = np.where(inner, np.tanh(np.arctanh(rho) + half), rho)
            else:
                lo = np.where(inner, -1.0, rho)
                hi = np.where(inner, 1.0, rho)
        for j, (i, _, _) in enumerate(group):
            out[i] = RankCorrelation(
                float(rho[j]), float(lo[j]), float(hi[j]), confidence, float(p[j]), int(n), n < 10
            )
    return [r for r in out if r is not None]


@dataclass(frozen=True)
class KpiExperienceCorrelations(JsonResult):
    #: per (service, tier, period): correlation across regions of KPI margin vs experience gap
    across_regions: tuple[tuple[tuple[Any, ...], RankCorrelation], ...]
    #: per (service, region, tier): correlation over periods of KPI margin vs experience gap
    over_time: tuple[tuple[tuple[Any, ...], RankCorrelation], ...]


def kpi_experience_correlations(
    cells: Sequence[CellComparison],
    *,
    confidence: float = 0.95,
    min_points: int = 3,
    over_time: bool = True,
) -> KpiExperienceCorrelations:
    """Spearman correlation of KPI margin with experience gap, across regions within each
    (service, tier, period), and over periods within each (service, region, tier). Margins and
    gaps are signed so that positive = better than target, hence a healthy system correlates
    positively. Groups with fewer than ``min_points`` cells are skipped. ``over_time=False``: the
    correlations across regions only (``over_time`` empty; grouping 10,000 cells a second way
    costs a national page tens of milliseconds)."""
    across: dict[tuple[Any, ...], list[CellComparison]] = defaultdict(list)
    over: dict[tuple[Any, ...], list[CellComparison]] = defaultdict(list)
    for c in cells:
        across[(c.service, c.tier, c.period)].append(c)
    if over_time:
        for c in cells:
            over[(c.service, c.region, c.tier)].append(c)

    def corr(
        groups: dict[tuple[Any, ...], list[CellComparison]],
    ) -> tuple[tuple[tuple[Any, ...], RankCorrelation], ...]:
        kept = [(k, v) for k, v in groups.items() if len(v) >= min_points]
        series = [([c.kpi_margin for c in v], [c.experience_gap for c in v]) for _, v in kept]
        return tuple(zip([k for k, _ in kept], rank_correlations(series, confidence=confidence), strict=True))

    return KpiExperienceCorrelations(corr(across), corr(over))


def correlations_across_regions(
    classified: ClassifiedCells, *, confidence: float = 0.95, min_points: int = 3
) -> KpiExperienceCorrelations:
    """kpi_experience_correlations(..., over_time=False) of every classified cell, its margins and
    gaps read from the arrays (no CellComparison per cell: issue 19)."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, c in enumerate(classified.cells):
        groups[(c.service, c.tier, c.period)].append(i)
    margins, gaps = classified.kpi_margin.tolist(), classified.experience_gap.tolist()
    kept = [(k, v) for k, v in groups.items() if len(v) >= min_points]
    series = [([margins[i] for i in v], [gaps[i] for i in v]) for _, v in kept]
    across = tuple(zip([k for k, _ in kept], rank_correlations(series, confidence=confidence), strict=True))
    return KpiExperienceCorrelations(across, ())


@dataclass(frozen=True)
class LagCorrelation(JsonResult):
    lag: int  # > 0: KPI change at t goes with experience change at t + lag (KPI leads)
    correlation: float
    n: int
    p_value: float


@dataclass(frozen=True)
class GrangerTest(JsonResult):
    order: int
    f_statistic: float
    p_value: float
    df_num: int
    df_den: int


@dataclass(frozen=True)
class LeadLagResult(JsonResult):
    differenced: bool
    correlations: tuple[LagCorrelation, ...]
    kpi_to_experience: tuple[GrangerTest, ...]
    experience_to_kpi: tuple[GrangerTest, ...]
    best_lag: int | None
    kpi_leads: bool
    alpha: float
    message: Message


def _lagged(x: NDArray[np.float64], p: int) -> NDArray[np.float64]:
    """Columns x_{t-1}, ..., x_{t-p} for t = p .. T-1."""
    return np.column_stack([x[p - j : len(x) - j] for j in range(1, p + 1)])


def granger_f_test(target: ArrayLike, cause: ArrayLike, order: int) -> GrangerTest:
    """F test that ``order`` lags of ``cause`` add to ``order`` lags of ``target`` (and a constant).

    Restricted: y_t = c + sum_j a_j y_{t-j}; full adds sum_j b_j x_{t-j}; on t = p..T-1,
    F = ((RSS_r - RSS_f)/p) / (RSS_f/(T - p - 2p - 1)). Reference: Granger (1969) Econometrica
    37:424-438; same as the ``ssr_ftest`` of ``statsmodels.tsa.stattools.grangercausalitytests``.
    """
    from scipy import stats

    y = np.asarray(target, dtype=float)
    x = np.asarray(cause, dtype=float)
    p = order
    m = len(y) - p
    df_den = m - 2 * p - 1
    if p < 1 or df_den < 1:
        return GrangerTest(p, float("nan"), float("nan"), p, max(df_den, 0))
    yy = y[p:]
    restricted = np.column_stack([np.ones(m), _lagged(y, p)])
    full = np.column_stack([restricted, _lagged(x, p)])
    rss_r = float(np.sum((yy - restricted @ np.linalg.lstsq(restricted, yy, rcond=None)[0]) ** 2))
    rss_f = float(np.sum((yy - full @ np.linalg.lstsq(full, yy, rcond=None)[0]) ** 2))
    if rss_f <= 0:
        return GrangerTest(p, float("inf"), 0.0, p, df_den)
    f = (rss_r - rss_f) / p / (rss_f / df_den)
    return GrangerTest(p, float(f), float(stats.f.sf(f, p, df_den)), p, df_den)


def lead_lag(
    kpi_series: ArrayLike,
    experience_series: ArrayLike,
    *,
    max_lag: int = 4,
    difference: bool = True,
    alpha: float = 0.05,
) -> LeadLagResult:
    """Does a KPI change precede an experience change?

    Both series are per period, aligned, without gaps. With ``difference`` (default) first
    differences are used, so shared trends do not pass for a lead. Cross-correlation at lag k:
    r_k = corr(dKPI_t, dEXP_{t+k}) over the overlapping periods, p-value from the Pearson t test
    (``scipy.stats.pearsonr``). Granger F tests in both directions for orders 1..max_lag
    (:func:`granger_f_test`). ``kpi_leads`` when some KPI->experience Granger test has p < alpha
    and the strongest significant cross-correlation sits at a positive lag. Reference: Box,
    Jenkins & Reinsel (2008) Time Series Analysis, ch. 11 (cross-correlation); Granger (1969).
    """
    from scipy import stats

    k = np.asarray(kpi_series, dtype=float).reshape(-1)
    e = np.asarray(experience_series, dtype=float).reshape(-1)
    if k.shape != e.shape or np.isnan(k).any() or np.isnan(e).any():
        raise ValueError("the series must be aligned, of equal length and without gaps")
    if difference:
        k, e = np.diff(k), np.diff(e)
    t = len(k)
    corrs = []
    for lag in range(-max_lag, max_lag + 1):
        a, b = (k[: t - lag], e[lag:]) if lag >= 0 else (k[-lag:], e[: t + lag])
        if len(a) >= 3 and np.ptp(a) > 0 and np.ptp(b) > 0:
            res = stats.pearsonr(a, b)
            corrs.append(LagCorrelation(lag, float(res.statistic), len(a), float(res.pvalue)))
        else:
            corrs.append(LagCorrelation(lag, float("nan"), len(a), float("nan")))
    k_to_e = tuple(granger_f_test(e, k, p) for p in range(1, max_lag + 1))
    e_to_k = tuple(granger_f_test(k, e, p) for p in range(1, max_lag + 1))
    significant = [c for c in corrs if np.isfinite(c.p_value) and c.p_value < alpha]
    best = max(significant, key=lambda c: abs(c.correlation)).lag if significant else None
    granger = any(np.isfinite(g.p_value) and g.p_value < alpha for g in k_to_e)
    leads = bool(granger and best is not None and best > 0)
    if leads:
        msg = Message(
            "kpi_leads_experience",
            f"KPI 的变化领先体验约 {best} 个周期。",
            f"KPI changes lead experience changes by about {best} period(s).",
        )
    elif significant:
        msg = Message(
            "kpi_experience_related_no_lead",
            f"KPI 与体验相关（最强滞后 {best}），但未发现 KPI 领先。",
            f"KPI and experience are related (strongest lag {best}) but no KPI lead was found.",
        )
    else:
        msg = Message(
            "kpi_experience_unrelated",
            "未发现 KPI 变化与体验变化之间的显著关系。",
            "No significant relation between KPI changes and experience changes was found.",
        )
    return LeadLagResult(difference, tuple(corrs), k_to_e, e_to_k, best, leads, alpha, msg)
