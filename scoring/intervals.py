"""Confidence intervals for shares, net scores and means, vectorised over groups.

Every function takes NumPy arrays (one entry per group) so that grouped measures over millions of
responses cost a handful of array operations. Shares are on the 0..1 scale; the NPS functions work
on the -1..1 scale (callers multiply by 100 for display).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "NpsMethod",
    "bootstrap_interval",
    "nps_interval",
    "t_interval",
    "wilson_interval",
    "z_quantile",
]

FloatArray = NDArray[np.float64]
NpsMethod = Literal["score", "wald", "adjusted_wald"]


def z_quantile(confidence: float) -> float:
    """Two-sided standard-normal quantile z_{1-alpha/2} for ``confidence`` = 1 - alpha."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    return _z_quantile(confidence)


@functools.lru_cache(maxsize=64)
def _z_quantile(confidence: float) -> float:
    """scipy's quantile, once per confidence: a page of some hundred Wilson intervals asked
    scipy for the same number each time (half a millisecond a call, issue 19)."""
    from scipy import stats

    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(
    successes: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for a binomial share.

    centre = (p + z^2/(2n)) / (1 + z^2/n),
    half   = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2)).
    Reference: Wilson (1927) JASA 22:209-212; Newcombe (1998) Stat Med 17:857-872, method 3;
    same as ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
    Groups with n = 0 get NaN limits. The interval always contains p and lies in [0, 1].
    """
    x = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    z = z_quantile(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / m
        denom = 1.0 + z * z / m
        centre = (p + z * z / (2.0 * m)) / denom
        half = z / denom * np.sqrt(p * (1.0 - p) / m + z * z / (4.0 * m * m))
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    # Rounding can push a limit a hair past p at p = 0 or 1; the interval must contain p.
    return np.minimum(low, p), np.maximum(high, p)


def _tango_statistic(b: FloatArray, c: FloatArray, n: FloatArray, d: FloatArray) -> FloatArray:
    """Score statistic T(d) = (b - c - n d) / sqrt(n (2 q~ + d (1 - d))), q~ the constrained MLE."""
    big_b = -b - c + (2.0 * n - b + c) * d
    big_c = -c * d * (1.0 - d)
    q = (np.sqrt(np.maximum(big_b * big_b - 8.0 * n * big_c, 0.0)) - big_b) / (4.0 * n)
    var = n * (2.0 * q + d * (1.0 - d))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (b - c - n * d) / np.sqrt(var)
    return np.where(var > 0.0, t, 0.0)


def _nps_score_interval(
    b: FloatArray, c: FloatArray, n: FloatArray, z: float
) -> tuple[FloatArray, FloatArray]:
    est = (b - c) / n
    # T(d) decreases in d: lower limit solves T = z on [-1, est], upper solves T = -z on [est, 1].
    lo_a, lo_b = np.full_like(est, -1.0), est.copy()
    up_a, up_b = est.copy(), np.full_like(est, 1.0)
    for _ in range(48):  # bisection: 2^-48 (~4e-15) is far below any displayed precision
        mid = 0.5 * (lo_a + lo_b)
        above = _tango_statistic(b, c, n, mid) > z
        lo_a = np.where(above, mid, lo_a)
        lo_b = np.where(above, lo_b, mid)
        mid = 0.5 * (up_a + up_b)
        above = _tango_statistic(b, c, n, mid) > -z
        up_a = np.where(above, mid, up_a)
        up_b = np.where(above, up_b, mid)
    return 0.5 * (lo_a + lo_b), 0.5 * (up_a + up_b)


def nps_interval(
    promoters: ArrayLike,
    detractors: ArrayLike,
    n: ArrayLike,
    confidence: float = 0.95,
    method: NpsMethod = "score",
) -> tuple[FloatArray, FloatArray]:
    """Interval for NPS = p+ - p- (on -1..1), a difference of two shares of ONE multinomial sample.

    Var(p+ - p-) = (p+ + p- - (p+ - p-)^2) / n (multinomial covariance -p+ p- / n).

    - ``"wald"``: d ± z sqrt(Var). Collapses to zero width when everyone is a promoter.
    - ``"adjusted_wald"``: Wald after adding 3/4 promoter, 3/4 detractor and 3/2 passive
      (n + 3), as recommended by Rocks (2016); the interval is then widened to include d.
    - ``"score"`` (default): the score interval, the set of d with |T(d)| <= z, T as in Tango (1998)
      for paired differences (the same trinomial structure), which Rocks (2016) found among the best
      performers; it never collapses and always contains d.

    References: Rocks, B. (2016) "Interval estimation for the Net Promoter Score", The American
    Statistician 70(4):365-372; Tango, T. (1998) Stat Med 17:891-908; Fagerland, Lydersen & Laake
    (2017) Statistical Analysis of Contingency Tables, ch. 8.
    """
    b = np.asarray(promoters, dtype=float)
    c = np.asarray(detractors, dtype=float)
    m = np.asarray(n, dtype=float)
    z = z_quantile(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = (b - c) / m
        if method == "score":
            low, high = _nps_score_interval(b, c, m, z)
        elif method in ("wald", "adjusted_wald"):
            if method == "adjusted_wald":
                b, c, m = b + 0.75, c + 0.75, m + 3.0
            pp, pd = b / m, c / m
            centre = pp - pd
            half = z * np.sqrt(np.maximum(pp + pd - centre * centre, 0.0) / m)
            low, high = centre - half, centre + half
        else:
            raise ValueError(f"unknown NPS interval method {method!r}")
    low = np.clip(np.minimum(low, est), -1.0, 1.0)
    high = np.clip(np.maximum(high, est), -1.0, 1.0)
    bad = ~(np.asarray(n, dtype=float) > 0)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def t_interval(
    mean: ArrayLike, sd: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Student t interval for a mean: mean ± t_{1-alpha/2, n-1} * sd / sqrt(n).

    ``sd`` is the sample standard deviation (ddof = 1). Groups with n < 2 get NaN limits.
    Reference: any statistics text, e.g. Rice (2007) Mathematical Statistics, sec. 7.3;
    ``scipy.stats.t.interval(confidence, n - 1, loc=mean, scale=sem)``.
    """
    from scipy import stats

    mu = np.asarray(mean, dtype=float)
    s = np.asarray(sd, dtype=float)
    m = np.asarray(n, dtype=float)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(m >= 2, m - 1.0, np.nan)
        q = stats.t.ppf(0.5 + confidence / 2.0, df)
        half = q * s / np.sqrt(m)
    return mu - half, mu + half


def bootstrap_interval(
    data: ArrayLike,
    statistic: Callable[[FloatArray], float],
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int | None = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval for a statistic with no closed-form interval.

    Rows of ``data`` (respondents) are resampled with replacement ``n_resamples`` times; the limits
    are the (1-c)/2 and (1+c)/2 quantiles of the resampled statistic. Reference: Efron & Tibshirani
    (1993) An Introduction to the Bootstrap, ch. 13. A fixed ``seed`` keeps reports reproducible.
    """
    arr = np.asarray(data, dtype=float)
    if arr.shape[0] < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.shape[0], size=(n_resamples, arr.shape[0]))
    values = np.array([statistic(arr[row]) for row in idx], dtype=float)
    alpha = 1.0 - confidence
    low, high = np.nanquantile(values, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)
