"""Change between two periods or two groups: difference, interval, significance test and the
minimum detectable change (MDC) for the sample sizes at hand.

Convention: ``difference = b - a`` (b is the later period or the group compared against a).
Shares are on 0..1, NPS on -100..100, means on the rating scale. The MDC is the smallest true
difference that a two-sided test at ``alpha`` detects with probability ``power``:
MDC = (z_{1-alpha/2} + z_{power}) * SE, with SE evaluated under the observed (pooled) data.
Reference for the MDC: Cohen (1988) Statistical Power Analysis, ch. 2 and 6; Chow, Shao & Wang
(2008) Sample Size Calculations in Clinical Research, sec. 3.2 and 4.2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scoring.exact_tests import permutation_p_value
from scoring.intervals import nps_interval, wilson_interval, z_quantile
from scoring.results import DEFAULT_MIN_N, JsonResult

__all__ = [
    "ChangeResult",
    "compare_means",
    "compare_means_from_stats",
    "compare_nps",
    "compare_shares",
    "min_detectable_change_mean",
    "min_detectable_change_share",
]


@dataclass(frozen=True)
class ChangeResult(JsonResult):
    """Difference b - a with interval, test and minimum detectable change."""

    measure: str
    estimate_a: float
    estimate_b: float
    n_a: int
    n_b: int
    difference: float
    ci_low: float
    ci_high: float
    confidence: float
    test: str
    statistic: float
    p_value: float
    significant: bool
    alpha: float
    power: float
    min_detectable_change: float
    low_sample: bool


def _two_sided_p(z: float) -> float:
    from scipy import stats

    return float(2.0 * stats.norm.sf(abs(z))) if math.isfinite(z) else float("nan")


def _exact_p(counts_a: tuple[int, ...], counts_b: tuple[int, ...], scores: tuple[float, ...]) -> float:
    """Two-sided exact permutation p-value; 1 when every answer has the same score."""
    p = permutation_p_value(counts_a, counts_b, scores, alternative="two-sided")
    return 1.0 if math.isnan(p) else p


def _mover(
    est_a: float, low_a: float, high_a: float, est_b: float, low_b: float, high_b: float
) -> tuple[float, float]:
    """MOVER limits for est_b - est_a from each estimate's own interval (Zou & Donner 2008)."""
    d = est_b - est_a
    low = d - math.sqrt((est_b - low_b) ** 2 + (high_a - est_a) ** 2)
    high = d + math.sqrt((high_b - est_b) ** 2 + (est_a - low_a) ** 2)
    return low, high


def _check(alpha: float, power: float) -> tuple[float, float]:
    from scipy import stats

    if not 0.0 < alpha < 1.0 or not 0.0 < power < 1.0:
        raise ValueError("alpha and power must lie in (0, 1)")
    return z_quantile(1.0 - alpha), float(stats.norm.ppf(power))


def compare_shares(
    successes_a: int,
    n_a: int,
    successes_b: int,
    n_b: int,
    *,
    measure: str = "share",
    alpha: float = 0.05,
    power: float = 0.8,
    min_n: int = DEFAULT_MIN_N,
) -> ChangeResult:
    """Change in a share (e.g. CSAT) between two independent samples.

    Test: Fisher's exact test (the conditional permutation test of scoring.exact_tests; two-sided
    p = 2 x the smaller one-sided tail, capped at 1), whose false-positive rate never exceeds alpha
    at any n (the pooled z test's did: "81.6% -> 50%, p = 0.028" at n = 6). ``statistic`` is
    still the pooled z, z = (p_b - p_a) / sqrt(p(1-p)(1/n_a + 1/n_b)), for reference.
    Interval: Newcombe's hybrid score interval (Newcombe 1998, Stat Med 17:873-890, method 10),
    i.e. MOVER with Wilson limits.
    MDC = (z_{1-alpha/2} + z_power) sqrt(p(1-p)(1/n_a + 1/n_b)).
    """
    if n_a <= 0 or n_b <= 0 or not (0 <= successes_a <= n_a and 0 <= successes_b <= n_b):
        raise ValueError("need n > 0 and 0 <= successes <= n in both samples")
    za, zb = _check(alpha, power)
    pa, pb = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se0 = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
    z = (pb - pa) / se0 if se0 > 0 else (0.0 if pa == pb else math.copysign(math.inf, pb - pa))
    la, ha = wilson_interval([successes_a], [n_a], 1.0 - alpha)
    lb, hb = wilson_interval([successes_b], [n_b], 1.0 - alpha)
    low, high = _mover(pa, float(la[0]), float(ha[0]), pb, float(lb[0]), float(hb[0]))
    p_value = _exact_p((n_a - successes_a, successes_a), (n_b - successes_b, successes_b), (0.0, 1.0))
    return ChangeResult(
        measure=measure,
        estimate_a=pa,
        estimate_b=pb,
        n_a=n_a,
        n_b=n_b,
        difference=pb - pa,
        ci_low=low,
        ci_high=high,
        confidence=1.0 - alpha,
        test="fisher_exact",
        statistic=z,
        p_value=p_value,
        significant=p_value < alpha,
        alpha=alpha,
        power=power,
        min_detectable_change=(za + zb) * se0,
        low_sample=min(n_a, n_b) < min_n,
    )


def compare_means_from_stats(
    mean_a: float,
    sd_a: float,
    n_a: int,
    mean_b: float,
    sd_b: float,
    n_b: int,
    *,
    measure: str = "mean",
    alpha: float = 0.05,
    power: float = 0.8,
    min_n: int = DEFAULT_MIN_N,
) -> ChangeResult:
    """Change in a mean (CES, dimension score) between two samples: Welch's t test.

    t = (m_b - m_a) / SE, SE = sqrt(s_a^2/n_a + s_b^2/n_b), Welch-Satterthwaite df
    = SE^4 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1)); interval diff ± t_{df} SE.
    Reference: Welch (1947) Biometrika 34:28-35; ``scipy.stats.ttest_ind(equal_var=False)``.
    MDC = (z_{1-alpha/2} + z_power) * SE (normal approximation, as statsmodels NormalIndPower).
    """
    from scipy import stats

    if n_a < 2 or n_b < 2:
        raise ValueError("each sample needs n >= 2 for a t test")
    za, zb = _check(alpha, power)
    va, vb = sd_a**2 / n_a, sd_b**2 / n_b
    se = math.sqrt(va + vb)
    diff = mean_b - mean_a
    if se > 0:
        df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
        t = diff / se
        p_value = float(2.0 * stats.t.sf(abs(t), df))
        q = float(stats.t.ppf(1.0 - alpha / 2.0, df))
    else:
        t = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        p_value, q = (1.0 if diff == 0 else 0.0), 0.0
    return ChangeResult(
        measure=measure,
        estimate_a=mean_a,
        estimate_b=mean_b,
        n_a=n_a,
        n_b=n_b,
        difference=diff,
        ci_low=diff - q * se,
        ci_high=diff + q * se,
        confidence=1.0 - alpha,
        test="welch_t",
        statistic=t,
        p_value=p_value,
        significant=p_value < alpha,
        alpha=alpha,
        power=power,
        min_detectable_change=(za + zb) * se,
        low_sample=min(n_a, n_b) < min_n,
    )


def compare_means(
    sample_a: Sequence[float] | np.ndarray,
    sample_b: Sequence[float] | np.ndarray,
    *,
    measure: str = "mean",
    alpha: float = 0.05,
    power: float = 0.8,
    min_n: int = DEFAULT_MIN_N,
) -> ChangeResult:
    """Welch comparison from raw samples (NaN dropped); see :func:`compare_means_from_stats`."""
    a = np.asarray(sample_a, dtype=float)
    b = np.asarray(sample_b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    return compare_means_from_stats(
        float(a.mean()),
        float(a.std(ddof=1)),
        a.size,
        float(b.mean()),
        float(b.std(ddof=1)),
        b.size,
        measure=measure,
        alpha=alpha,
        power=power,
        min_n=min_n,
    )


def compare_nps(
    counts_a: tuple[int, int, int],
    counts_b: tuple[int, int, int],
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    min_n: int = DEFAULT_MIN_N,
) -> ChangeResult:
    """Change in NPS between two independent samples; counts are (promoters, passives, detractors).

    Each NPS d = p+ - p- has Var = (p+ + p- - d^2)/n (one multinomial sample); the samples are
    independent, so z = (d_b - d_a) / sqrt(V_a + V_b) (Rocks 2016, The American Statistician
    70(4), sec. 5) is reported as ``statistic``; the p-value is the exact permutation test of the
    scores +1/0/-1 (scoring.exact_tests, two-sided), because the z test's false-positive rate at
    nominal 5% was 11.6% at n = 5 and one promoter against one detractor gave p = 0.
    Interval: MOVER (Zou & Donner 2008, Stat Med 27:1693-1702) from each NPS's score interval.
    MDC uses V from the pooled category shares. Reported on -100..100.
    """
    za, zb = _check(alpha, power)
    (pa_, oa, da_), (pb_, ob, db_) = counts_a, counts_b
    na, nb = pa_ + oa + da_, pb_ + ob + db_
    if na <= 0 or nb <= 0 or min(*counts_a, *counts_b) < 0:
        raise ValueError("NPS counts must be non-negative with n > 0 in both samples")

    def var(prom: float, det: float, n: float) -> float:
        d = (prom - det) / n
        return (prom / n + det / n - d * d) / n

    est_a, est_b = (pa_ - da_) / na, (pb_ - db_) / nb
    se = math.sqrt(var(pa_, da_, na) + var(pb_, db_, nb))
    diff = est_b - est_a
    z = diff / se if se > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
    p_value = _exact_p((da_, oa, pa_), (db_, ob, pb_), (-1.0, 0.0, 1.0))
    lows, highs = nps_interval([pa_, pb_], [da_, db_], [na, nb], 1.0 - alpha)
    low, high = _mover(est_a, float(lows[0]), float(highs[0]), est_b, float(lows[1]), float(highs[1]))
    pp, pdet = (pa_ + pb_) / (na + nb), (da_ + db_) / (na + nb)
    v_pooled = pp + pdet - (pp - pdet) ** 2
    mdc = (za + zb) * math.sqrt(v_pooled * (1.0 / na + 1.0 / nb))
    return ChangeResult(
        measure="nps",
        estimate_a=100.0 * est_a,
        estimate_b=100.0 * est_b,
        n_a=na,
        n_b=nb,
        difference=100.0 * diff,
        ci_low=100.0 * low,
        ci_high=100.0 * high,
        confidence=1.0 - alpha,
        test="exact_permutation",
        statistic=z,
        p_value=p_value,
        significant=p_value < alpha,
        alpha=alpha,
        power=power,
        min_detectable_change=100.0 * mdc,
        low_sample=min(na, nb) < min_n,
    )


def min_detectable_change_share(
    share: float, n_a: int, n_b: int, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest difference in a share (0..1) detectable between samples of n_a and n_b when the
    share is about ``share``: (z_{1-alpha/2} + z_power) sqrt(p(1-p)(1/n_a + 1/n_b)). For planning
    (e.g. "with 40 answers per region a 25-point CSAT drop goes unnoticed"). Reference: Chow, Shao
    & Wang (2008) sec. 4.2; statsmodels ``NormalIndPower``."""
    za, zb = _check(alpha, power)
    if n_a <= 0 or n_b <= 0 or not 0.0 <= share <= 1.0:
        raise ValueError("need n > 0 and a share in 0..1")
    return (za + zb) * math.sqrt(share * (1.0 - share) * (1.0 / n_a + 1.0 / n_b))


def min_detectable_change_mean(
    sd: float, n_a: int, n_b: int, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest difference in a mean detectable between samples of n_a and n_b with common SD
    ``sd``: (z_{1-alpha/2} + z_power) sd sqrt(1/n_a + 1/n_b) (Cohen 1988, ch. 2)."""
    za, zb = _check(alpha, power)
    if n_a <= 0 or n_b <= 0 or sd < 0:
        raise ValueError("need n > 0 and sd >= 0")
    return (za + zb) * sd * math.sqrt(1.0 / n_a + 1.0 / n_b)
