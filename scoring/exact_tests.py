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
continuity correction (the sample is then large enough for the central limit theorem). Three
categories (NPS) are exact at any n, over the drawn counts that carry probability (all but
1e-20 of it).
``permutation_p_values`` computes many comparisons at once (a change look's thousands), the same
numbers as one call each.
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

__all__ = ["EXACT_MAX_N", "benjamini_hochberg", "permutation_p_value", "permutation_p_values", "score_grid"]

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
    return float(permutation_p_values([counts_a], [counts_b], [scores], alternative=alternative)[0])


def permutation_p_values(
    counts_a: Sequence[ArrayLike],
    counts_b: Sequence[ArrayLike],
    scores: Sequence[ArrayLike],
    *,
    alternative: Alternative = "less",
) -> np.ndarray:
    """:func:`permutation_p_value` of many comparisons at once (item i: ``counts_a[i]``,
    ``counts_b[i]``, ``scores[i]``), the same tests and numbers: the comparisons are sorted by
    the form of their test and each form is computed for all of them together (Fisher's tails,
    the three-category tails and the normal tails in one call each) instead of several SciPy
    calls per comparison; the exact programme is one matrix product per category
    (:func:`_sum_pmf`), which was most of a national provider's look as shifted additions
    (1,165 programmes at a tenth of its size)."""
    m = len(counts_a)
    if not len(counts_b) == len(scores) == m:
        raise ValueError("one count vector per sample and one score vector per comparison")
    low = np.full(m, math.nan)
    high = np.full(m, math.nan)
    fisher: list[tuple[int, int, int, int, int]] = []  # (i, N, top count, drawn n, drawn top)
    three: list[tuple[int, list[int], list[int], list[float]]] = []
    programmes: dict[tuple[int, ...], list[tuple[int, list[int], list[int]]]] = {}
    normal: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    swapped = np.zeros(m, dtype=bool)  # a is the drawn sample: its low tail is b's high tail
    grids: dict[tuple[float, ...], tuple[int, ...] | None] = {}
    for i in range(m):
        a = [int(x) for x in np.asarray(counts_a[i], dtype=np.int64).reshape(-1).tolist()]
        b = [int(x) for x in np.asarray(counts_b[i], dtype=np.int64).reshape(-1).tolist()]
        s = [float(x) for x in np.asarray(scores[i], dtype=float).reshape(-1).tolist()]
        if not len(a) == len(b) == len(s) or min(a, default=0) < 0 or min(b, default=0) < 0:
            raise ValueError("counts and scores must have one entry per category, counts >= 0")
        n_a, n_b = sum(a), sum(b)
        used = [j for j in range(len(s)) if a[j] + b[j] > 0]
        if n_a == 0 or n_b == 0 or len({s[j] for j in used}) < 2:
            continue
        # The smaller sample is drawn; b's sum is low exactly when a's is high.
        draw_b = n_b <= n_a
        swapped[i] = not draw_b
        drawn = [(b if draw_b else a)[j] for j in used]
        pooled = [a[j] + b[j] for j in used]
        s_used = [s[j] for j in used]
        if len(used) == 2:  # Fisher's exact test: the hypergeometric tails
            hi_cat = 1 if s_used[1] > s_used[0] else 0
            fisher.append((i, sum(pooled), pooled[hi_cat], sum(drawn), drawn[hi_cat]))
        elif len(used) == 3:
            three.append((i, pooled, drawn, s_used))
        else:
            key = tuple(s_used)
            if key not in grids:
                grid = score_grid(s_used)
                grids[key] = None if grid is None else tuple(int(v) for v in grid[0].tolist())
            pos = grids[key]
            if min(n_a, n_b) <= EXACT_MAX_N and pos is not None:
                programmes.setdefault(pos, []).append((i, pooled, drawn))
            else:
                normal.append((i, np.asarray(pooled), np.asarray(s_used), np.asarray(drawn)))
    if fisher:
        _fisher_tails(fisher, low, high)
    if three:
        _three_category_batch(three, low, high)
    if programmes:
        from threadpoolctl import threadpool_limits

        # One limit for every programme: threadpool_limits looks up the loaded libraries each
        # time (10-15 ms), once per score grid before (issue 19). Why one thread: _programme_tails.
        with threadpool_limits(limits=1, user_api="blas"):
            for pos, items in programmes.items():
                _programme_tails(pos, items, low, high)
    if normal:
        _normal_tails(normal, low, high)
    b_low = np.where(swapped, high, low)
    b_high = np.where(swapped, low, high)
    with np.errstate(invalid="ignore"):
        if alternative == "two-sided":
            out = np.minimum(1.0, 2.0 * np.minimum(b_low, b_high))
        else:
            out = np.minimum(1.0, b_low if alternative == "less" else b_high)
    return out


def _fisher_tails(items: list[tuple[int, int, int, int, int]], low: np.ndarray, high: np.ndarray) -> None:
    """Fisher's tails P(top <= k) and P(top >= k) of the drawn sample, one vectorised call each."""
    from scipy import stats

    at, big_m, big_n, drawn_n, drawn_k = (np.array(col) for col in zip(*items, strict=True))
    low[at] = stats.hypergeom.cdf(drawn_k, big_m, big_n, drawn_n)
    high[at] = stats.hypergeom.sf(drawn_k - 1, big_m, big_n, drawn_n)


#: Largest probability of a drawn count the three-category tails leave out (Hoeffding's bound).
_THREE_OMITTED = 1e-20


def _three_category_batch(
    items: list[tuple[int, list[int], list[int], list[float]]], low: np.ndarray, high: np.ndarray
) -> None:
    """Exact tails for three categories (:func:`_three_category_tails`, the multivariate
    hypergeometric law of the drawn counts x, y, z), over the counts that carry probability only:
    an x (or z) farther than t = sqrt(n ln(2 / 1e-20) / 2) from its mean has at most 1e-20 of
    probability in all (Hoeffding 1963, Theorem 4, for sampling without replacement), so the table
    is that window of x by that window of z (y = n - x - z) instead of every x by every y: at a
    national provider's "all" unit 2.7 million cells instead of 390 million. The log-factorials
    come from one table; each cell is the same number as in the whole table."""
    from scipy.special import gammaln

    largest = max(sum(pooled) for _, pooled, _, _ in items)
    log_fact = gammaln(np.arange(largest + 1, dtype=float) + 1.0)  # log k!

    def log_choose(k_total: int, k: np.ndarray) -> np.ndarray:
        return log_fact[k_total] - log_fact[k] - log_fact[k_total - k]

    for i, pooled, drawn, s in items:
        k0, k1, k2 = pooled
        total, n = k0 + k1 + k2, sum(drawn)
        t = math.sqrt(n * math.log(2.0 / _THREE_OMITTED) / 2.0)

        def window(k: int, other: int, n: int = n, total: int = total, t: float = t) -> np.ndarray:
            mean = n * k / total
            lo = max(0, n - other, math.floor(mean - t))
            return np.arange(lo, min(k, n, math.ceil(mean + t)) + 1, dtype=np.int64)

        x = window(k0, k1 + k2)[:, None]
        z = window(k2, k0 + k1)[None, :]
        y = n - x - z
        ok = (y >= 0) & (y <= k1)
        y_in = np.clip(y, 0, k1)
        log_pmf = (
            log_choose(k0, x) + log_choose(k1, y_in) + log_choose(k2, z)
            - log_choose(total, np.asarray(n))
        )  # fmt: skip
        pmf = np.where(ok, np.exp(log_pmf), 0.0)
        score = x * s[0] + y * s[1] + z * s[2]
        observed = float(np.dot(drawn, s))
        tol = 1e-9 * max(1.0, max(abs(v) for v in s) * n)
        low[i] = float(pmf[score <= observed + tol].sum())
        high[i] = float(pmf[score >= observed - tol].sum())


def _programme_tails(
    pos: tuple[int, ...], items: list[tuple[int, list[int], list[int]]], low: np.ndarray, high: np.ndarray
) -> None:
    """The exact programme (see the module docstring) of each comparison sharing the score
    positions ``pos``: the tails of the drawn sample's score sum. The binomial weights of every
    comparison and category come from one SciPy call (a call each was most of the time).

    BLAS runs on one thread (permutation_p_values limits it around every programme): the products
    are small, and OpenBLAS threads waiting for a busy core spun for most of the CPU time (0.15 s
    became 0.7 s with two threads on a loaded machine; perception.analysis.services.text_run
    limits its solver the same way)."""
    from scipy import stats

    n_draw = np.array([sum(drawn) for _, _, drawn in items], dtype=np.int64)
    pooled = np.array([p for _, p, _ in items], dtype=np.int64)  # (comparisons, categories)
    k = np.arange(int(n_draw.max()) + 1)
    p = n_draw / pooled.sum(axis=1)
    weights = stats.binom.pmf(k[None, None, :], pooled[:, :, None], p[:, None, None])
    weights = np.where(k[None, None, :] <= np.minimum(pooled, n_draw[:, None])[:, :, None], weights, 0.0)
    # Draw counts below 1e-18 of the likeliest change no p-value beyond 1e-15: skipped.
    negligible = 1e-18 * weights.max(axis=2, keepdims=True, initial=0.0)
    weights = np.where(weights <= negligible, 0.0, weights)
    for at, (i, pooled_i, drawn) in enumerate(items):
        pmf = _sum_pmf(pos, pooled_i, int(n_draw[at]), weights[at])
        observed = int(np.dot(drawn, pos))
        low[i] = float(pmf[: observed + 1].sum())
        high[i] = float(pmf[observed:].sum())


def _sum_pmf(pos: tuple[int, ...], pooled: list[int], n: int, weights: np.ndarray) -> np.ndarray:
    """The law of the score sum (in grid positions 0..n max(pos)) of n answers drawn from the
    pooled ones: the programme's table of (answers drawn so far, score sum so far), category by
    category, each category's draw count j weighted by ``weights[category, j]`` (the binomial
    pmf at p = n / N, 0 from j > min(pooled, n) on).

    The table is kept flat, row after row (row = answers drawn, ``width`` sums a row): j more
    answers of score v move an entry j rows down and j v sums right, that is j (width + v) places
    on, and no entry leaves its row (a row m holds sums up to m max(pos) < width). Read as rows of
    width + v, the flat table's update is every row j rows down times the weight of j: one
    matrix product with the banded (Toeplitz) matrix of the weights, the arithmetic of a loop over
    j in one BLAS call, several times faster than the shifted additions it replaces (issue 19;
    the sums differ in their last bits only: every entry is a sum of non-negative terms).
    Only the rows that still reach row n are kept: a row below n minus what the later
    categories can add never does."""
    width = n * max(pos) + 1
    size = (n + 1) * width
    # Draws the categories after each one can still add.
    later = np.minimum(np.asarray(pooled, dtype=np.int64), n)[::-1].cumsum()[::-1].tolist()[1:] + [0]
    flat, flat_lo = np.ones(1), 0  # the table's entries from flat place flat_lo on (the rest are 0)
    for c, v in enumerate(pos):
        if pooled[c] == 0:  # a weight of 1 at no draw: the table unchanged
            continue
        k_max = min(pooled[c], n)
        stride = width + v
        in_lo, in_hi = flat_lo // stride, -(-(flat_lo + len(flat)) // stride)  # rows of the input
        out_lo = max(in_lo, max(0, n - later[c]) * width // stride)
        out_hi = min(in_hi + k_max, -(-size // stride))
        rows_in = np.zeros((in_hi - in_lo) * stride)
        rows_in[flat_lo - in_lo * stride : flat_lo - in_lo * stride + len(flat)] = flat
        band = _band(weights[c, : k_max + 1], out_lo - in_lo, out_hi - out_lo, in_hi - in_lo)
        out = (band @ rows_in.reshape(in_hi - in_lo, stride)).reshape(-1)
        flat_lo = out_lo * stride
        flat = out[: min(out_hi * stride, size) - flat_lo]
    row = flat[n * width - flat_lo : n * width - flat_lo + width]
    return row / row.sum()


def _band(w: np.ndarray, d0: int, rows: int, columns: int) -> np.ndarray:
    """The banded (Toeplitz) matrix B[i, j] = w[d0 + i - j] (0 outside w) of :func:`_sum_pmf`,
    as a window over one padded vector instead of a gather per entry (issue 19: building it
    entry by entry was a third of the programme)."""
    if rows <= 0 or columns <= 0:
        return np.zeros((max(rows, 0), max(columns, 0)))
    lo = d0 - (columns - 1)  # the shift of B[0, columns - 1]
    v = np.zeros(rows + columns - 1)
    start, stop = max(lo, 0), min(d0 + rows - 1, len(w) - 1)  # shifts both in B and in w
    if start <= stop:
        v[start - lo : stop - lo + 1] = w[start : stop + 1]
    # B[i] = v[i : i + columns] reversed: B[i, j] = v[i + columns - 1 - j], a view of v's buffer.
    view: np.ndarray = np.ndarray(
        (rows, columns), dtype=v.dtype, buffer=v, offset=(columns - 1) * v.itemsize,
        strides=(v.itemsize, -v.itemsize),
    )  # fmt: skip
    return np.ascontiguousarray(view)


def _normal_tails(
    items: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]], low: np.ndarray, high: np.ndarray
) -> None:
    """The normal approximation (:func:`_normal_z`) of many comparisons, the normal tails in one call each."""
    from scipy import stats

    at: list[int] = []
    z_low: list[float] = []
    z_high: list[float] = []
    for i, pooled, s, drawn in items:
        z = _normal_z(pooled, s, drawn)
        if z is None:
            low[i] = high[i] = 1.0
        else:
            at.append(i)
            z_low.append(z[0])
            z_high.append(z[1])
    if at:
        low[at] = stats.norm.cdf(np.array(z_low))
        high[at] = stats.norm.sf(np.array(z_high))


def _normal_z(pooled: np.ndarray, s: np.ndarray, drawn: np.ndarray) -> tuple[float, float] | None:
    """The z of the low and of the high tail in the normal approximation of the permutation
    distribution of the drawn sample's score sum, with its exact mean n mu and variance
    n (N - n) / (N - 1) sigma^2 (finite-population correction) and half a grid step of continuity
    correction; None when the variance is 0 (both tails are then 1)."""
    total, n = int(pooled.sum()), int(drawn.sum())
    mu = float(np.dot(pooled, s)) / total
    sigma2 = float(np.dot(pooled, (s - mu) ** 2)) / total
    var = n * (total - n) / (total - 1) * sigma2 if total > 1 else 0.0
    observed = float(np.dot(drawn, s))
    if var <= 0:
        return None
    diffs = np.diff(np.unique(s[pooled > 0]))
    half = float(diffs.min()) / 2.0 if diffs.size else 0.0
    return (observed + half - n * mu) / math.sqrt(var), (observed - half - n * mu) / math.sqrt(var)
