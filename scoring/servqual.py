"""SERVQUAL gap analysis: gap = perception - expectation, per item, per dimension and overall,
unweighted and weighted by the dimensions' stated importance (one common weight vector, or each
respondent's own 100-point allocation: ``weighted_servqual``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scoring.intervals import t_interval
from scoring.results import DEFAULT_MIN_N, JsonResult

__all__ = [
    "DimensionWeight",
    "GapEstimate",
    "ServqualResult",
    "WeightedServqual",
    "servqual_gaps",
    "weighted_servqual",
]


@dataclass(frozen=True)
class GapEstimate(JsonResult):
    """Mean perception, mean expectation and the mean paired gap P - E with its t interval."""

    name: str
    dimension: str
    n: int
    perception: float
    expectation: float
    gap: float
    ci_low: float
    ci_high: float
    low_sample: bool


@dataclass(frozen=True)
class ServqualResult(JsonResult):
    items: tuple[GapEstimate, ...]
    dimensions: tuple[GapEstimate, ...]
    overall_unweighted: GapEstimate
    overall_weighted: GapEstimate | None
    weights: tuple[tuple[str, float], ...]
    confidence: float


def _estimate(
    name: str,
    dimension: str,
    p: NDArray[np.float64],
    e: NDArray[np.float64],
    g: NDArray[np.float64],
    confidence: float,
    min_n: int,
) -> GapEstimate:
    ok = ~np.isnan(g)
    n = int(ok.sum())
    gap = float(g[ok].mean()) if n else float("nan")
    sd = float(g[ok].std(ddof=1)) if n >= 2 else float("nan")
    low, high = t_interval([gap], [sd], [n], confidence)
    return GapEstimate(
        name=name,
        dimension=dimension,
        n=n,
        perception=float(np.nanmean(p[ok])) if n else float("nan"),
        expectation=float(np.nanmean(e[ok])) if n else float("nan"),
        gap=gap,
        ci_low=float(low[0]),
        ci_high=float(high[0]),
        low_sample=n < min_n,
    )


def _row_weighted_mean(values: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-row weighted mean over the non-NaN columns (weights renormalised per row)."""
    ok = ~np.isnan(values)
    w = np.where(ok, weights[None, :], 0.0)
    total = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, (np.where(ok, values, 0.0) * w).sum(axis=1) / total, np.nan)


def servqual_gaps(
    perception: ArrayLike,
    expectation: ArrayLike,
    item_dimensions: Sequence[str],
    *,
    item_names: Sequence[str] | None = None,
    importance: Mapping[str, float] | None = None,
    confidence: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> ServqualResult:
    """SERVQUAL gaps from respondents x items matrices of perception and expectation ratings.

    Per respondent r and item i: G_ri = P_ri - E_ri (NaN if either is missing).
    Item gap = mean_r G_ri (paired t interval, as ``scipy.stats.ttest_rel``).
    Dimension gap: per respondent the mean of that dimension's item gaps, then the mean over
    respondents (t interval). Overall unweighted = per respondent the mean of the dimension gaps;
    overall weighted = per respondent sum_d w_d G_rd / sum_d w_d with w_d the stated importance
    (e.g. the mean of 100 points allocated over the dimensions); both then averaged over
    respondents with a t interval. With complete data these equal the mean of the dimension gaps
    and sum_d w_d gap_d / sum_d w_d.
    Reference: Parasuraman, Zeithaml & Berry (1988) J. Retailing 64(1):12-40; Zeithaml, Parasuraman
    & Berry (1990) Delivering Quality Service, Free Press, appendix A (weighted SERVQUAL score).
    """
    p = np.asarray(perception, dtype=float)
    e = np.asarray(expectation, dtype=float)
    if p.shape != e.shape or p.ndim != 2:
        raise ValueError("perception and expectation must be respondents x items matrices of one shape")
    m = p.shape[1]
    if len(item_dimensions) != m:
        raise ValueError("item_dimensions must name the dimension of every item")
    names = list(item_names) if item_names is not None else [f"item{i + 1}" for i in range(m)]
    g = p - e
    items = tuple(
        _estimate(names[i], item_dimensions[i], p[:, i], e[:, i], g[:, i], confidence, min_n)
        for i in range(m)
    )
    dims = list(dict.fromkeys(item_dimensions))
    dim_p, dim_e, dim_g = (np.empty((p.shape[0], len(dims))) for _ in range(3))
    for j, dim in enumerate(dims):
        cols = [i for i in range(m) if item_dimensions[i] == dim]
        equal = np.ones(len(cols))
        dim_p[:, j] = _row_weighted_mean(np.where(np.isnan(g[:, cols]), np.nan, p[:, cols]), equal)
        dim_e[:, j] = _row_weighted_mean(np.where(np.isnan(g[:, cols]), np.nan, e[:, cols]), equal)
        dim_g[:, j] = _row_weighted_mean(g[:, cols], equal)
    dimensions = tuple(
        _estimate(dim, dim, dim_p[:, j], dim_e[:, j], dim_g[:, j], confidence, min_n)
        for j, dim in enumerate(dims)
    )

    def overall(name: str, w: NDArray[np.float64]) -> GapEstimate:
        return _estimate(
            name,
            "overall",
            _row_weighted_mean(dim_p, w),
            _row_weighted_mean(dim_e, w),
            _row_weighted_mean(dim_g, w),
            confidence,
            min_n,
        )

    unweighted = overall("unweighted", np.ones(len(dims)))
    weighted = None
    weights: tuple[tuple[str, float], ...] = ()
    if importance is not None:
        missing = [d for d in dims if d not in importance]
        if missing or any(importance[d] < 0 for d in dims):
            raise ValueError(f"importance needs a non-negative weight for every dimension; missing {missing}")
        w = np.array([float(importance[d]) for d in dims])
        if w.sum() <= 0:
            raise ValueError("importance weights must not all be zero")
        weights = tuple(zip(dims, (w / w.sum()).tolist(), strict=True))
        weighted = overall("weighted", w)
    return ServqualResult(
        items=items,
        dimensions=dimensions,
        overall_unweighted=unweighted,
        overall_weighted=weighted,
        weights=weights,
        confidence=confidence,
    )


@dataclass(frozen=True)
class DimensionWeight(JsonResult):
    """The mean share of the 100 points respondents gave a dimension, with its t interval."""

    dimension: str
    n: int
    points: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class WeightedServqual(JsonResult):
    """The weighted SERVQUAL gap from each respondent's own importance weights.

    ``weighted`` and ``unweighted`` are over the same respondents (those who gave weights and at
    least one gap on a dimension they gave points to), so the two can be compared directly.
    ``left_out``: respondents with a gap who gave no weights, or no points to any dimension they
    rated; they are left out, never given imputed weights.
    """

    weighted: GapEstimate
    unweighted: GapEstimate
    weights: tuple[DimensionWeight, ...]
    left_out: int
    confidence: float


def weighted_servqual(
    perception: ArrayLike,
    expectation: ArrayLike,
    weights: ArrayLike,
    dimensions: Sequence[str],
    *,
    confidence: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> WeightedServqual:
    """Weighted SERVQUAL gap with each respondent's own weights (Zeithaml, Parasuraman & Berry 1990,
    appendix A: weighted score = sum_d (w_d / 100) * (P_d - E_d), w_d the points of 100 the
    respondent gave dimension d).

    ``perception``/``expectation``: respondents x dimensions, each cell the respondent's mean rating
    over the dimension's paired items (NaN: no pair answered). ``weights``: respondents x dimensions
    points (a row of NaN: the respondent gave no weights; a NaN in a row that has points counts 0).
    Per respondent r: WG_r = sum_d w_rd G_rd / sum_d w_rd over the dimensions d with a gap G_rd, i.e.
    the formula above when every dimension was rated, the weights renormalised over the rated ones
    otherwise. Rule for missing weights: respondents who gave none are left out and counted
    (``left_out``), never given the others' mean weights; so are respondents whose points all
    lie on dimensions they rated no pair of. The pooled gap is the mean of WG_r with a Student t
    interval over respondents (the weights are part of each respondent's observation). With equal
    weights WG_r is the respondent's unweighted gap (mean of the dimension gaps), so the weighted
    and unweighted estimates coincide. Mean weights per dimension: each respondent's points
    rescaled to a total of 100, averaged over the respondents who gave weights (t interval).
    """
    p = np.asarray(perception, dtype=float)
    e = np.asarray(expectation, dtype=float)
    w = np.asarray(weights, dtype=float)
    k = len(dimensions)
    if p.ndim != 2 or p.shape != e.shape or p.shape != w.shape or p.shape[1] != k:
        raise ValueError("perception, expectation and weights must be respondents x dimensions of one shape")
    if np.any(w[~np.isnan(w)] < 0):
        raise ValueError("importance weights must not be negative")
    gave = ~np.all(np.isnan(w), axis=1)
    w0 = np.where(np.isnan(w), 0.0, w)
    g = p - e
    has_gap = ~np.isnan(g)
    rated = has_gap.any(axis=1)
    used_w = np.where(has_gap, w0, 0.0)
    total = used_w.sum(axis=1)
    use = gave & rated & (total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = used_w / total[:, None]
        wg = np.where(use, (np.where(has_gap, g, 0.0) * share).sum(axis=1), np.nan)
        wp = np.where(use, (np.where(has_gap, p, 0.0) * share).sum(axis=1), np.nan)
        we = np.where(use, (np.where(has_gap, e, 0.0) * share).sum(axis=1), np.nan)
    equal = np.ones(k)
    ug = np.where(use, _row_weighted_mean(g, equal), np.nan)
    up = np.where(use, _row_weighted_mean(np.where(has_gap, p, np.nan), equal), np.nan)
    ue = np.where(use, _row_weighted_mean(np.where(has_gap, e, np.nan), equal), np.nan)
    weighted = _estimate("weighted", "overall", wp, we, wg, confidence, min_n)
    unweighted = _estimate("unweighted", "overall", up, ue, ug, confidence, min_n)
    row_total = w0.sum(axis=1)
    given = gave & (row_total > 0)
    points = 100.0 * w0[given] / row_total[given][:, None]
    n_w = int(given.sum())
    mean = points.mean(axis=0) if n_w else np.full(k, np.nan)
    sd = points.std(axis=0, ddof=1) if n_w >= 2 else np.full(k, np.nan)
    low, high = t_interval(mean, sd, np.full(k, n_w), confidence)
    dims = tuple(
        DimensionWeight(d, n_w, float(mean[j]), float(low[j]), float(high[j]))
        for j, d in enumerate(dimensions)
    )
    return WeightedServqual(
        weighted=weighted,
        unweighted=unweighted,
        weights=dims,
        left_out=int((rated & ~use).sum()),
        confidence=confidence,
    )
