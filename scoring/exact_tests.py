"""Exact (conditional permutation) tests of a change in a scored category distribution, and the
Benjamini-Hochberg false-discovery-rate adjustment.

Every experience measure the product compares between two periods is the mean of a score given
to answer categories: CSAT is the mean of 1 (top-2 box) / 0, NPS of +1 (promoter) / 0 / -1
(detractor), CES and a dimension of the rating itself. Under "nothing changed" the two periods'
answers are exchangeable, so conditional on the pooled category counts the later period's score
sum follows the distribution of a sample of n_b drawn without replacement from the pooled
answers (a multivariate hypergeometric sum). Its tail is the exact permutation p-value: the test
never rejects more often than the nominal level at any n (asymptotic z tests do: the NPS z test's
false-positive rate was 11.6% at n = 5). With two categories this is Fisher's exact test.

The sum's distribution comes from a dynamic programme over categories; each category's draw
count is weighted by the binomial pmf at p = n_b / N (an exponential tilting that leaves the
conditional law on "n_b drawn in all" unchanged and keeps every number a probability, so nothing
overflows). It is exact while the smaller sample has at most ``EXACT_MAX_N`` answers; above that
the permutation distribution's exact mean and variance give a normal approximation with a
continuity correction (the sample is then large enough for the central limit theorem).
References: Fisher (1935); Good (2005) Permutation, Parametric and Bootstrap Tests of Hypotheses,
ch. 3; Benjamini & Hochberg (1995) JRSS B 57:289-300. Checked against scipy.stats.fisher_exact,
scipy.stats.permutation_test and statsmodels.stats.multitest.multipletests(method="fdr_bh").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["EXACT_MAX_N", "benjamini_hochberg", "permutation_p_value", "score_grid"]

#: Largest smaller-sample size for the exact programme (its cost grows as n^2 x categories).
EXACT_MAX_N = 200

Alternative = Literal["less", "greater", "two-sided"]


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values): p_(i) m / i, made monotone from the top,
    capped at 1; rejecting q <= alpha controls the false discovery rate at alpha (independent or
    positively dependent tests). NaN stays NaN and does not count in m. Same numbers as
    ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]``."""
    p = np.asarray(p_values, dtype=float).reshape(-1)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    q = p[ok]
    order = np.argsort(q, kind="stable")
    scaled = q[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    tmp = np.empty(m)
    tmp[order] = adjusted
    out[ok] = tmp
    return out


def score_grid(scores: Sequence[float], max_steps: int = 120) -> tuple[np.ndarray, float, float] | None:
    """Integer positions of ``scores`` on the finest common grid: (positions, origin, step) with
    score = origin + step * position, or None when no grid of at most ``max_steps`` fits (the
    exact programme needs integer sums). 1-5 ratings -> step 1; 1-5 and 1-7 both rescaled to
    0..100 -> step 100/12."""
    s = np.asarray(scores, dtype=float)
    if s.size == 0:
        return np.zeros(0, dtype=int), 0.0, 1.0
    lo, hi = float(s.min()), float(s.max())
    if hi == lo:
        return np.zeros(s.size, dtype=int), lo, 1.0
    frac = (s - lo) / (hi - lo)
    for steps in range(1, max_steps + 1):
        pos = frac * steps
        if np.all(np.abs(pos - np.round(pos)) < 1e-9):
            return np.round(pos).astype(int), lo, (hi - lo) / steps
    return None


def _sum_pmf(counts: np.ndarray, pos: np.ndarray, n_draw: int) -> np.ndarray:
    """P(sum of positions = s), s = 0..n_draw * max(pos), for n_draw answers drawn without
    replacement from ``counts`` answers per category (multivariate hypergeometric sum)."""
    from scipy import stats

    total = int(counts.sum())
    width = n_draw * int(pos.max(initial=0)) + 1
    table = np.zeros((n_draw + 1, width))
    table[0, 0] = 1.0
    p = n_draw / total
    reach = 0  # rows above the answers seen so far are still zero
    for k_total, v in zip(counts.tolist(), pos.tolist(), strict=True):
        if k_total == 0:
            continue
        k_max = min(int(k_total), n_draw)
        weights = stats.binom.pmf(np.arange(k_max + 1), int(k_total), p)
        # Draw counts below 1e-18 of the likeliest change no p-value beyond 1e-15: skipped.
        negligible = 1e-18 * float(weights.max())
        new = np.zeros_like(table)
        rows = min(reach, n_draw) + 1
        for k in range(k_max + 1):
            w = weights[k]
            if w <= negligible:
                continue
            shift = k * int(v)
            top = min(rows, n_draw + 1 - k)
            new[k : k + top, shift:] += w * table[:top, : width - shift]
        table = new
        reach += int(k_total)
    row = table[n_draw]
    return row / row.sum()


def permutation_p_value(
    counts_a: ArrayLike,
    counts_b: ArrayLike,
    scores: ArrayLike,
    *,
    alternative: Alternative = "less",
) -> float:
    """Exact permutation p-value for mean score of b minus mean score of a.

    ``counts_a``/``counts_b``: answers per category in each sample; ``scores``: the score of each
    category. ``alternative="less"``: H1 "b is lower than a" (a drop when b is the later period);
    "two-sided" is 2 x min(one-sided), capped at 1 (as scipy.stats.permutation_test). NaN when a
    sample is empty or every answer has the same score (nothing can differ).
    """
    a = np.asarray(counts_a, dtype=np.int64).reshape(-1)
    b = np.asarray(counts_b, dtype=np.int64).reshape(-1)
    s = np.asarray(scores, dtype=float).reshape(-1)
    if not a.shape == b.shape == s.shape or np.any(a < 0) or np.any(b < 0):
        raise ValueError("counts and scores must have one entry per category, counts >= 0")
    n_a, n_b = int(a.sum()), int(b.sum())
    pooled = a + b
    used = pooled > 0
    if n_a == 0 or n_b == 0 or np.unique(s[used]).size < 2:
        return math.nan
    # The smaller sample is drawn; b's sum is low exactly when a's is high.
    draw_b = n_b <= n_a
    drawn = b if draw_b else a
    low, high = _tails(pooled, drawn, s, used, exact=min(n_a, n_b) <= EXACT_MAX_N)
    b_low, b_high = (low, high) if draw_b else (high, low)
    if alternative == "two-sided":
        return min(1.0, 2.0 * min(b_low, b_high))
    return min(1.0, b_low if alternative == "less" else b_high)


def _tails(
    pooled: np.ndarray, drawn: np.ndarray, s: np.ndarray, used: np.ndarray, *, exact: bool
) -> tuple[float, float]:
    """P(sum <= observed) and P(sum >= observed) for the drawn sample's score sum."""
    from scipy import stats

    if np.count_nonzero(used) == 2:  # Fisher's exact test: the hypergeometric tails
        _, hi_cat = np.flatnonzero(used)[np.argsort(s[used])]
        dist = stats.hypergeom(int(pooled.sum()), int(pooled[hi_cat]), int(drawn.sum()))
        k = int(drawn[hi_cat])
        return float(dist.cdf(k)), float(dist.sf(k - 1))
    if np.count_nonzero(used) == 3:  # NPS: every (top, middle) draw count at once
        return _three_category_tails(pooled[used], drawn[used], s[used])
    grid = score_grid(s[used].tolist())
    if exact and grid is not None:
        pos = grid[0]
        pmf = _sum_pmf(pooled[used], pos, int(drawn.sum()))
        observed = int(np.dot(drawn[used], pos))
        return float(pmf[: observed + 1].sum()), float(pmf[observed:].sum())
    return _normal_tail(pooled, s, drawn, True), _normal_tail(pooled, s, drawn, False)


def _three_category_tails(pooled: np.ndarray, drawn: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """Exact tail for three categories: the multivariate hypergeometric law of the draw counts
    (x of the first category, then y of the second among the rest), every (x, y) at once."""
    from scipy.special import gammaln

    def log_choose(k_total: float, k: np.ndarray) -> np.ndarray:
        return gammaln(k_total + 1) - gammaln(k + 1) - gammaln(k_total - k + 1)

    total, n = int(pooled.sum()), int(drawn.sum())
    x = np.arange(min(int(pooled[0]), n) + 1, dtype=float)[:, None]
    y = np.arange(min(int(pooled[1]), n) + 1, dtype=float)[None, :]
    z = n - x - y
    ok = (z >= 0) & (z <= pooled[2])
    log_pmf = (
        log_choose(pooled[0], x) + log_choose(pooled[1], y) + log_choose(pooled[2], np.clip(z, 0, pooled[2]))
        - log_choose(total, np.asarray(float(n)))
    )  # fmt: skip
    pmf = np.where(ok, np.exp(log_pmf), 0.0)
    score = x * s[0] + y * s[1] + z * s[2]
    observed = float(np.dot(drawn, s))
    tol = 1e-9 * max(1.0, float(np.abs(s).max()) * n)
    return float(pmf[score <= observed + tol].sum()), float(pmf[score >= observed - tol].sum())


def _normal_tail(pooled: np.ndarray, s: np.ndarray, drawn: np.ndarray, tail_low: bool) -> float:
    """Normal approximation of the permutation distribution of the drawn sample's score sum with
    its exact mean n mu and variance n (N - n) / (N - 1) sigma^2 (finite-population correction),
    half a grid step of continuity correction."""
    from scipy import stats

    total, n = int(pooled.sum()), int(drawn.sum())
    mu = float(np.dot(pooled, s)) / total
    sigma2 = float(np.dot(pooled, (s - mu) ** 2)) / total
    var = n * (total - n) / (total - 1) * sigma2 if total > 1 else 0.0
    observed = float(np.dot(drawn, s))
    if var <= 0:
        return 1.0
    diffs = np.diff(np.unique(s[pooled > 0]))
    half = float(diffs.min()) / 2.0 if diffs.size else 0.0
    z = (
        (observed + half - n * mu) / math.sqrt(var)
        if tail_low
        else (observed - half - n * mu) / math.sqrt(var)
    )
    return float(stats.norm.cdf(z) if tail_low else stats.norm.sf(z))
