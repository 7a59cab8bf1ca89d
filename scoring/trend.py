"""Trend of a measure over periods: the slope per period with its interval, and detection of a
significant drop of a period against a baseline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from scoring.results import JsonResult

__all__ = [
    "DropCheck",
    "DropReport",
    "TrendResult",
    "detect_drop_means",
    "detect_drop_shares",
    "holm",
    "trend_slope",
]


@dataclass(frozen=True)
class TrendResult(JsonResult):
    slope: float  # change per period
    intercept: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    n_periods: int
    significant: bool


def trend_slope(
    values: ArrayLike,
    *,
    periods: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    confidence: float = 0.95,
) -> TrendResult:
    """Least-squares slope of ``values`` against the period number (0, 1, 2, ... or ``periods``).

    b = sum w (t - t_w)(y - y_w) / sum w (t - t_w)^2, SE(b) = sqrt(s^2 / sum w (t - t_w)^2),
    s^2 = sum w e^2 / (m - 2); interval b ± t_{m-2} SE; two-sided p from t = b / SE.
    ``weights`` (e.g. responses per period, or 1/variance) give weighted least squares.
    NaN periods are skipped. Reference: Draper & Smith (1998) Applied Regression Analysis ch. 1, 9;
    ``scipy.stats.linregress`` and ``statsmodels`` WLS.
    """
    from scipy import stats

    y = np.asarray(values, dtype=float).reshape(-1)
    t = np.arange(y.size, dtype=float) if periods is None else np.asarray(periods, dtype=float).reshape(-1)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    if t.shape != y.shape or w.shape != y.shape:
        raise ValueError("values, periods and weights must have the same length")
    ok = ~np.isnan(y) & ~np.isnan(t) & (w > 0)
    y, t, w = y[ok], t[ok], w[ok]
    m = y.size
    if m < 3:
        raise ValueError("a trend needs at least three periods with data")
    tw, yw = np.average(t, weights=w), np.average(y, weights=w)
    sxx = float(np.sum(w * (t - tw) ** 2))
    if sxx <= 0:
        raise ValueError("periods must not all be equal")
    slope = float(np.sum(w * (t - tw) * (y - yw)) / sxx)
    intercept = float(yw - slope * tw)
    resid = y - intercept - slope * t
    s2 = float(np.sum(w * resid**2)) / (m - 2)
    se = math.sqrt(s2 / sxx)
    q = float(stats.t.ppf(0.5 + confidence / 2.0, m - 2))
    no_spread = 1.0 if slope == 0 else 0.0
    p = float(2.0 * stats.t.sf(abs(slope / se), m - 2)) if se > 0 else no_spread
    return TrendResult(
        slope, intercept, slope - q * se, slope + q * se, confidence, p, m, p < 1.0 - confidence
    )


@dataclass(frozen=True)
class DropCheck(JsonResult):
    period: int  # position in the series
    estimate: float
    n: int
    difference: float  # estimate - baseline
    statistic: float
    p_value: float  # one-sided, H1: lower than baseline (adjusted when the report says so)
    significant_drop: bool


@dataclass(frozen=True)
class DropReport(JsonResult):
    baseline: float
    baseline_n: int
    baseline_periods: tuple[int, ...]
    checks: tuple[DropCheck, ...]
    alpha: float
    adjustment: str
    any_drop: bool


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values: p_(i) * (m - i + 1), made monotone, capped at 1.
    Reference: Holm (1979) Scand. J. Statistics 6:65-70."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    m = p.size
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out = np.empty(m)
    out[order] = adjusted
    return out.tolist()


def _report(
    baseline: float,
    baseline_n: int,
    base_idx: list[int],
    rows: list[tuple[int, float, int, float, float]],
    alpha: float,
    adjust: Literal["none", "holm"],
) -> DropReport:
    from scipy import stats

    raw = [float(stats.norm.cdf(z)) if not math.isnan(z) else float("nan") for *_, z in rows]
    pvals = holm(raw) if adjust == "holm" and rows else raw
    checks = tuple(
        DropCheck(idx, est, n, diff, z, p, bool(p < alpha))
        for (idx, est, n, diff, z), p in zip(rows, pvals, strict=True)
    )
    return DropReport(
        baseline, baseline_n, tuple(base_idx), checks, alpha, adjust, any(c.significant_drop for c in checks)
    )


def _split(length: int, baseline_periods: int | Sequence[int]) -> tuple[list[int], list[int]]:
    base = list(range(baseline_periods)) if isinstance(baseline_periods, int) else list(baseline_periods)
    if not base or min(base) < 0 or max(base) >= length:
        raise ValueError("baseline_periods must name at least one existing period")
    return base, [i for i in range(length) if i not in set(base)]


def detect_drop_shares(
    successes: Sequence[int],
    n: Sequence[int],
    *,
    baseline_periods: int | Sequence[int] = 4,
    alpha: float = 0.05,
    adjust: Literal["none", "holm"] = "holm",
) -> DropReport:
    """Does a share (e.g. CSAT) in a later period fall significantly below the pooled baseline?

    Baseline p0 = sum of baseline successes / sum of baseline n. For each later period a one-sided
    pooled two-proportion z test, z = (p_t - p0) / sqrt(p(1-p)(1/n_t + 1/n_0)), p = pooled share,
    p-value = Phi(z); Holm-adjusted over the checked periods by default (several periods are
    looked at, so raw p-values would raise false alarms). Reference: Fleiss, Levin & Paik (2003)
    Statistical Methods for Rates and Proportions, sec. 4.3; Holm (1979).
    """
    x, m = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    if x.shape != m.shape or np.any(x < 0) or np.any(x > m):
        raise ValueError("need 0 <= successes <= n per period")
    base, later = _split(x.size, baseline_periods)
    x0, n0 = float(x[base].sum()), float(m[base].sum())
    if n0 <= 0:
        raise ValueError("the baseline has no responses")
    p0 = x0 / n0
    rows = []
    for i in later:
        if m[i] <= 0:
            continue
        pt = x[i] / m[i]
        pooled = (x[i] + x0) / (m[i] + n0)
        se = math.sqrt(pooled * (1 - pooled) * (1 / m[i] + 1 / n0))
        z = (pt - p0) / se if se > 0 else 0.0
        rows.append((i, float(pt), int(m[i]), float(pt - p0), float(z)))
    return _report(p0, int(n0), base, rows, alpha, adjust)


def detect_drop_means(
    means: Sequence[float],
    sds: Sequence[float],
    n: Sequence[int],
    *,
    baseline_periods: int | Sequence[int] = 4,
    alpha: float = 0.05,
    adjust: Literal["none", "holm"] = "holm",
) -> DropReport:
    """Does a mean score in a later period fall significantly below the baseline mean?

    The baseline mean and SD pool the baseline periods (pooled total variance from the per-period
    means, SDs and n). Per later period z = (m_t - m_0) / sqrt(s_t^2/n_t + s_0^2/n_0) with
    one-sided p = Phi(z) (large-sample Welch statistic); Holm-adjusted by default.
    Reference: Welch (1947); Holm (1979).
    """
    mu, sd, m = (np.asarray(a, dtype=float) for a in (means, sds, n))
    if not mu.shape == sd.shape == m.shape:
        raise ValueError("means, sds and n must have the same length")
    base, later = _split(mu.size, baseline_periods)
    n0 = float(m[base].sum())
    mean0 = float(np.sum(m[base] * mu[base]) / n0)
    ss0 = float(np.sum((m[base] - 1) * sd[base] ** 2 + m[base] * (mu[base] - mean0) ** 2))
    var0 = ss0 / (n0 - 1)
    rows = []
    for i in later:
        if m[i] < 2:
            continue
        se = math.sqrt(sd[i] ** 2 / m[i] + var0 / n0)
        z = (mu[i] - mean0) / se if se > 0 else 0.0
        rows.append((i, float(mu[i]), int(m[i]), float(mu[i] - mean0), float(z)))
    return _report(mean0, int(n0), base, rows, alpha, adjust)
