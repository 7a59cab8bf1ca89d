"""Which dimensions drive overall satisfaction: importance-performance analysis (IPA) with derived
importance, and key-driver analysis (relative weights or Shapley/LMG decomposition of R^2) with a
collinearity warning.

Missing dimensions (``missing="pairwise"``): respondents rate the dimensions that concern them, so
nobody may answer all six. Each correlation is then taken over the respondents who answered both of
its two items (pairwise-complete Pearson, what ``pandas.DataFrame.corr`` computes); a matrix so
assembled need not be positive semi-definite, so its negative eigenvalues are clipped to zero and it
is rescaled to a unit diagonal before the decomposition (Higham 2002, IMA J. Numer. Anal. 22:329, one
projection step). ``missing="listwise"`` keeps the respondents who answered everything.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scoring.results import JsonResult, Message

__all__ = [
    "IPA_QUADRANTS",
    "DriverWeight",
    "IpaPoint",
    "IpaResult",
    "KeyDriverResult",
    "importance_performance",
    "key_drivers",
    "pairwise_corr",
    "relative_weights",
    "shapley_r2",
]

FloatArray = NDArray[np.float64]

#: Martilla & James (1977) quadrant codes with Chinese and English labels.
IPA_QUADRANTS: dict[str, tuple[str, str]] = {
    "concentrate_here": ("重点改进", "Concentrate here"),
    "keep_up": ("继续保持", "Keep up the good work"),
    "low_priority": ("低优先级", "Low priority"),
    "possible_overkill": ("可能过度投入", "Possible overkill"),
}


@dataclass(frozen=True)
class IpaPoint(JsonResult):
    dimension: str
    importance: float
    performance: float
    n: int
    quadrant: str


@dataclass(frozen=True)
class IpaResult(JsonResult):
    points: tuple[IpaPoint, ...]
    importance_cut: float
    performance_cut: float
    method: str
    n: int


@dataclass(frozen=True)
class DriverWeight(JsonResult):
    dimension: str
    weight: float  # share of R^2 explained by the dimension (weights sum to R^2)
    share: float  # weight / R^2 (shares sum to 1)
    rank: int
    ci_low: float | None
    ci_high: float | None
    vif: float


@dataclass(frozen=True)
class KeyDriverResult(JsonResult):
    drivers: tuple[DriverWeight, ...]
    r_squared: float
    n: int  # respondents used (listwise: complete ones; pairwise: any with the overall and a dimension)
    method: str
    max_abs_correlation: float
    collinear: bool
    warnings: tuple[Message, ...]
    missing: str = "listwise"
    min_pair_n: int | None = None  # pairwise: the fewest respondents behind any one correlation
    n_boot: int = 0
    confidence: float | None = None


def pairwise_corr(data: ArrayLike) -> tuple[FloatArray, NDArray[np.int64]]:
    """Pearson correlations of the columns, each over the rows where both columns are present, and
    those counts. NaN where a pair has fewer than 2 rows or no variance."""
    a = np.asarray(data, dtype=float)
    present = ~np.isnan(a)
    k = a.shape[1]
    r = np.full((k, k), np.nan)
    ones = present.astype(float)  # counts in floating point are exact, and BLAS adds them
    n = (ones.T @ ones).astype(np.int64)
    # Pairs present on the same rows (most: respondents rate a questionnaire's dimensions together)
    # share their rows' selection and centred columns: the same arithmetic as one pair at a time,
    # done once per set of rows (the key drivers' bootstrap calls this hundreds of times).
    columns = np.ascontiguousarray(present.T)
    groups: dict[bytes, tuple[NDArray[np.bool_], list[tuple[int, int]]]] = {}
    for i in range(k):
        for j in range(i, k):
            if n[i, j] < 2:
                continue
            both = columns[i] & columns[j]
            groups.setdefault(both.tobytes(), (both, []))[1].append((i, j))
    for both, pairs in groups.values():
        rows = a[both]
        centred: dict[int, FloatArray] = {}
        squares: dict[int, float] = {}
        for c in sorted({c for pair in pairs for c in pair}):
            x = np.ascontiguousarray(rows[:, c])
            centred[c] = d = x - x.mean()
            squares[c] = float(d @ d)
        for i, j in pairs:
            di, dj = centred[i], centred[j]
            den = math.sqrt(squares[i] * squares[j])
            if den > 0:
                r[i, j] = r[j, i] = float(di @ dj) / den
    return r, n


def _nearest_correlation(r: FloatArray) -> FloatArray:
    """One eigenvalue-clipping projection to a PSD matrix with unit diagonal (module docstring)."""
    vals, vecs = np.linalg.eigh((r + r.T) / 2.0)
    if vals.min() >= 0:
        return r
    fixed = vecs @ np.diag(np.clip(vals, 1e-10, None)) @ vecs.T
    d = np.sqrt(np.diag(fixed))
    return np.asarray(fixed / np.outer(d, d), dtype=float)


def _pairwise(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray, int]:
    r, n = pairwise_corr(np.column_stack([x, y]))
    if np.isnan(r).any():
        raise ValueError("a pair of dimensions (or a dimension and the overall rating) has no usable answers")
    full = _nearest_correlation(r)
    return full[:-1, :-1], full[:-1, -1], int(n.min())


def _complete(ratings: ArrayLike, overall: ArrayLike, names: Sequence[str]) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(ratings, dtype=float)
    y = np.asarray(overall, dtype=float).reshape(-1)
    if x.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[1] != len(names):
        raise ValueError("ratings must be respondents x dimensions, overall one value per respondent")
    ok = ~np.isnan(x).any(axis=1) & ~np.isnan(y)
    if ok.sum() <= x.shape[1] + 1:
        raise ValueError("too few complete responses for the number of dimensions")
    return x[ok], y[ok]


def _answered(ratings: ArrayLike, overall: ArrayLike, names: Sequence[str]) -> tuple[FloatArray, FloatArray]:
    """Respondents with an overall rating and at least one dimension (pairwise mode)."""
    x = np.asarray(ratings, dtype=float)
    y = np.asarray(overall, dtype=float).reshape(-1)
    if x.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[1] != len(names):
        raise ValueError("ratings must be respondents x dimensions, overall one value per respondent")
    ok = ~np.isnan(y) & (~np.isnan(x)).any(axis=1)
    if ok.sum() < 3:
        raise ValueError("too few responses with an overall rating and a dimension")
    return x[ok], y[ok]


def _corr(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    full = np.atleast_2d(np.asarray(np.corrcoef(np.column_stack([x, y]), rowvar=False), dtype=float))
    return full[:-1, :-1], full[:-1, -1]


def importance_performance(
    ratings: ArrayLike,
    overall: ArrayLike,
    dimensions: Sequence[str],
    *,
    method: Literal["correlation", "regression"] = "correlation",
    crosshair: Literal["mean", "median"] = "mean",
    missing: Literal["listwise", "pairwise"] = "listwise",
) -> IpaResult:
    """Importance-performance analysis with derived importance.

    Performance = mean rating of each dimension (all answers). Importance, on complete responses:
    ``"correlation"``: Pearson r(x_d, overall); ``"regression"``: standardised OLS coefficients
    beta = R_xx^{-1} r_xy. Quadrants split at the mean (or median) importance and performance:
    high importance & low performance = concentrate_here; high & high = keep_up; low & low =
    low_priority; low importance & high performance = possible_overkill.
    Reference: Martilla & James (1977) J. Marketing 41(1):77-79; derived importance:
    Bacon (2003) Int. J. Market Research 45(1):55-71.
    """
    if method not in ("correlation", "regression"):
        raise ValueError(f"unknown method {method!r}")
    x_all = np.asarray(ratings, dtype=float)
    if missing == "pairwise":
        x, y = _answered(ratings, overall, dimensions)
        rxx, rxy, _ = _pairwise(x, y)
    else:
        x, y = _complete(ratings, overall, dimensions)
        rxx, rxy = _corr(x, y)
    importance = rxy if method == "correlation" else np.linalg.solve(rxx, rxy)
    performance = np.nanmean(x_all, axis=0)
    counts = (~np.isnan(x_all)).sum(axis=0)
    cut = np.mean if crosshair == "mean" else np.median
    i_cut, p_cut = float(cut(importance)), float(cut(performance))
    points = []
    for d, name in enumerate(dimensions):
        hi_i, hi_p = importance[d] >= i_cut, performance[d] >= p_cut
        quadrant = (
            ("keep_up" if hi_p else "concentrate_here")
            if hi_i
            else ("possible_overkill" if hi_p else "low_priority")
        )
        points.append(IpaPoint(name, float(importance[d]), float(performance[d]), int(counts[d]), quadrant))
    return IpaResult(tuple(points), i_cut, p_cut, method, int(x.shape[0]))


def relative_weights(rxx: FloatArray, rxy: FloatArray) -> FloatArray:
    """Johnson's relative weights from the predictor correlations R_xx and validities r_xy.

    R_xx = Q diag(l) Q^T, Lambda = Q diag(sqrt l) Q^T, beta = Lambda^{-1} r_xy,
    eps_j = sum_k Lambda_jk^2 beta_k^2; sum_j eps_j = R^2.
    Reference: Johnson (2000) Multivariate Behavioral Research 35(1):1-19.
    """
    vals, vecs = np.linalg.eigh(rxx)
    lam = vecs @ np.diag(np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T
    beta = np.linalg.lstsq(lam, rxy, rcond=None)[0]
    return np.asarray((lam**2) @ (beta**2), dtype=float)


def shapley_r2(rxx: FloatArray, rxy: FloatArray) -> FloatArray:
    """Shapley value (LMG) decomposition of R^2: each predictor's marginal R^2 gain averaged over
    all orderings, phi_j = sum_{S not containing j} |S|!(k-|S|-1)!/k! [R^2(S+j) - R^2(S)], with
    R^2(S) = r_S^T R_SS^{-1} r_S. Exact over all 2^k subsets (k <= 15).
    Reference: Lindeman, Merenda & Gold (1980); Grömping (2006) J. Stat. Software 17(1).
    """
    k = len(rxy)
    if k > 15:
        raise ValueError("Shapley decomposition is exact over 2^k subsets; use relative weights for k > 15")
    r2: dict[int, float] = {0: 0.0}
    for size in range(1, k + 1):
        for subset in itertools.combinations(range(k), size):
            idx = list(subset)
            r_s = rxy[idx]
            mask = sum(1 << j for j in subset)
            r2[mask] = float(r_s @ np.linalg.lstsq(rxx[np.ix_(idx, idx)], r_s, rcond=None)[0])
    phi = np.zeros(k)
    for mask, value in r2.items():
        size = bin(mask).count("1")
        for j in range(k):
            if not mask & (1 << j):
                weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
                phi[j] += weight * (r2[mask | (1 << j)] - value)
    return phi


def key_drivers(
    ratings: ArrayLike,
    overall: ArrayLike,
    dimensions: Sequence[str],
    *,
    method: Literal["relative_weights", "shapley"] = "relative_weights",
    missing: Literal["listwise", "pairwise"] = "listwise",
    n_boot: int = 0,
    confidence: float = 0.95,
    seed: int | None = 0,
    vif_threshold: float = 5.0,
    correlation_threshold: float = 0.8,
) -> KeyDriverResult:
    """Relative importance of each dimension for overall satisfaction (complete responses, or
    pairwise-complete correlations with ``missing="pairwise"``: see the module docstring).

    Weights split the R^2 of the linear regression of overall on the dimensions (see
    :func:`relative_weights`, :func:`shapley_r2`). ``n_boot`` > 0 adds percentile bootstrap
    intervals (Efron & Tibshirani 1993) of the weights. Collinearity: VIF_j = [R_xx^{-1}]_jj
    (Belsley, Kuh & Welsch 1980); a warning when any VIF > ``vif_threshold`` or any |r| between
    two dimensions > ``correlation_threshold``, because the split of shared variance is then
    not well identified.
    """
    if method not in ("relative_weights", "shapley"):
        raise ValueError(f"unknown method {method!r}")
    if missing not in ("listwise", "pairwise"):
        raise ValueError(f"unknown missing-data rule {missing!r}")
    pairwise = missing == "pairwise"
    if pairwise:
        x, y = _answered(ratings, overall, dimensions)
    else:
        x, y = _complete(ratings, overall, dimensions)

    def correlations(xs: FloatArray, ys: FloatArray) -> tuple[FloatArray, FloatArray]:
        if pairwise:
            bxx, bxy, _ = _pairwise(xs, ys)
            return bxx, bxy
        return _corr(xs, ys)

    decompose = relative_weights if method == "relative_weights" else shapley_r2
    min_pair = _pairwise(x, y)[2] if pairwise else None
    rxx, rxy = correlations(x, y)
    weights = decompose(rxx, rxy)
    r2 = float(rxy @ np.linalg.lstsq(rxx, rxy, rcond=None)[0])
    try:
        vif = np.diag(np.linalg.inv(rxx))
    except np.linalg.LinAlgError:
        vif = np.full(len(dimensions), np.inf)
    off = np.abs(rxx - np.eye(len(dimensions)))
    max_r = float(off.max()) if len(dimensions) > 1 else 0.0
    low = high = [None] * len(dimensions)
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        boots = []
        for _ in range(n_boot):
            take = rng.integers(0, x.shape[0], x.shape[0])
            try:
                with np.errstate(invalid="ignore", divide="ignore"):
                    bxx, bxy = correlations(x[take], y[take])
            except ValueError:  # a resample without a usable pair: skipped
                continue
            if np.all(np.isfinite(bxx)) and np.all(np.isfinite(bxy)):
                boots.append(decompose(bxx, bxy))
        if boots:
            a = 1.0 - confidence
            qs = np.quantile(np.array(boots), [a / 2.0, 1.0 - a / 2.0], axis=0)
            low, high = qs[0].tolist(), qs[1].tolist()
    order = np.argsort(-weights, kind="stable")
    rank = np.empty(len(dimensions), dtype=int)
    rank[order] = np.arange(1, len(dimensions) + 1)
    drivers = tuple(
        DriverWeight(
            dimension=name,
            weight=float(weights[j]),
            share=float(weights[j] / r2) if r2 > 0 else float("nan"),
            rank=int(rank[j]),
            ci_low=low[j],
            ci_high=high[j],
            vif=float(vif[j]),
        )
        for j, name in enumerate(dimensions)
    )
    collinear = bool(np.max(vif) > vif_threshold or max_r > correlation_threshold)
    warnings: tuple[Message, ...] = ()
    if collinear:
        warnings = (
            Message(
                "drivers_collinear",
                f"维度之间高度相关（最大相关系数 {max_r:.2f}，最大方差膨胀因子 {float(np.max(vif)):.1f}），"
                "各维度的相对重要性难以区分，请谨慎解读排序。",
                f"Dimensions are strongly collinear (max |r| {max_r:.2f}, max VIF {float(np.max(vif)):.1f}); "
                "their separate importance is poorly identified, so read the ranking with care.",
            ),
        )
    return KeyDriverResult(
        drivers,
        r2,
        int(x.shape[0]),
        method,
        max_r,
        collinear,
        warnings,
        missing=missing,
        min_pair_n=min_pair,
        n_boot=n_boot,
        confidence=confidence if n_boot > 0 else None,
    )
