"""The batched exact tests of a change look (issue 19) give the p-values of the one-by-one tests
they replace: the one-by-one implementation before issue 19 is kept here as the reference
(random cases, ties, n at the minimum, all answers equal, empty categories, large n), scipy's
exact permutation test checks small cases, and a whole look keeps its p-values, BH q-values
(statsmodels) and flags."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from scoring.drift import MIN_N_BASELINE, MIN_N_RECENT, ScoredInput, detect_drops
from scoring.exact_tests import permutation_p_value, permutation_p_values, score_grid


# --- The one-by-one implementation before issue 19 (scoring/exact_tests.py at h15digest). ---
def _old_sum_pmf(counts, pos, n_draw):
    total = int(counts.sum())
    width = n_draw * int(pos.max(initial=0)) + 1
    table = np.zeros((n_draw + 1, width))
    table[0, 0] = 1.0
    p = n_draw / total
    reach = 0
    for k_total, v in zip(counts.tolist(), pos.tolist(), strict=True):
        if k_total == 0:
            continue
        k_max = min(int(k_total), n_draw)
        weights = stats.binom.pmf(np.arange(k_max + 1), int(k_total), p)
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


def _old_three(pooled, drawn, s):
    from scipy.special import gammaln

    def log_choose(k_total, k):
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


def _old_normal(pooled, s, drawn, tail_low):
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


def _old_tails(pooled, drawn, s, used, exact):
    if np.count_nonzero(used) == 2:
        _, hi_cat = np.flatnonzero(used)[np.argsort(s[used])]
        dist = stats.hypergeom(int(pooled.sum()), int(pooled[hi_cat]), int(drawn.sum()))
        k = int(drawn[hi_cat])
        return float(dist.cdf(k)), float(dist.sf(k - 1))
    if np.count_nonzero(used) == 3:
        return _old_three(pooled[used], drawn[used], s[used])
    grid = score_grid(s[used].tolist())
    if exact and grid is not None:
        pos = grid[0]
        pmf = _old_sum_pmf(pooled[used], pos, int(drawn.sum()))
        observed = int(np.dot(drawn[used], pos))
        return float(pmf[: observed + 1].sum()), float(pmf[observed:].sum())
    return _old_normal(pooled, s, drawn, True), _old_normal(pooled, s, drawn, False)


def _old_p(counts_a, counts_b, scores, alternative="less"):
    a = np.asarray(counts_a, dtype=np.int64)
    b = np.asarray(counts_b, dtype=np.int64)
    s = np.asarray(scores, dtype=float)
    n_a, n_b = int(a.sum()), int(b.sum())
    pooled = a + b
    used = pooled > 0
    if n_a == 0 or n_b == 0 or np.unique(s[used]).size < 2:
        return math.nan
    draw_b = n_b <= n_a
    low, high = _old_tails(pooled, b if draw_b else a, s, used, exact=min(n_a, n_b) <= 200)
    b_low, b_high = (low, high) if draw_b else (high, low)
    if alternative == "two-sided":
        return min(1.0, 2.0 * min(b_low, b_high))
    return min(1.0, b_low if alternative == "less" else b_high)


# --- Cases ---
SCORES = [
    (0.0, 1.0),  # CSAT top-2 box
    (-1.0, 0.0, 1.0),  # NPS
    (0.0, 25.0, 50.0, 75.0, 100.0),  # a dimension on 1-5, as the look scores it
    tuple(100.0 * i / 6 for i in range(7)),  # CES on 1-7
    (0.0, 25.0, 100.0 / 6, 100.0),  # 1-5 and 1-7 mixed: a grid of 100/12
    (0.0, 50.0, 100.0),  # three categories, not NPS
    (0.0, 1.0, 1.0),  # ties: two categories share a score
    (0.0, 1.0, 1.0, 2.0, 2.0),
    (0.0, 1.0, math.pi, 4.0),  # no grid: the normal approximation
]


def _cases(seed, count):
    rng = np.random.default_rng(seed)
    out = []
    for scores in SCORES:
        k = len(scores)
        for _ in range(count):
            n_a, n_b = int(rng.integers(0, 260)), int(rng.integers(0, 230))
            if rng.random() < 0.3:  # exactly the minimum n of a look
                n_a, n_b = MIN_N_BASELINE, MIN_N_RECENT
            shares = rng.dirichlet(np.ones(k))
            tilt = shares * rng.uniform(0.5, 1.5, k)
            a = rng.multinomial(n_a, shares)
            b = rng.multinomial(n_b, tilt / tilt.sum())
            if rng.random() < 0.25:  # an empty category
                j = int(rng.integers(k))
                a[j] = b[j] = 0
            out.append((a.tolist(), b.tolist(), scores))
    return out


EDGE = [
    ([0, 30, 0], [0, 20, 0], (-1.0, 0.0, 1.0)),  # every answer equal
    ([0, 0], [3, 1], (0.0, 1.0)),  # an empty sample
    ([30, 0, 0, 0, 0], [0, 0, 0, 0, 20], (0.0, 25.0, 50.0, 75.0, 100.0)),  # total separation
    ([0, 0, 0, 0, 30], [20, 0, 0, 0, 0], (0.0, 25.0, 50.0, 75.0, 100.0)),
    ([1, 2, 3, 4, 20], [5, 4, 3, 2, 6], (0.0, 25.0, 50.0, 75.0, 100.0)),
    ([0, 1], [1, 0], (0.0, 1.0)),  # n = 1 on each side
    ([10, 10, 10], [7, 7, 6], (-1.0, 0.0, 1.0)),
    ([5, 0, 25], [0, 20, 0], (-1.0, 0.0, 1.0)),  # the recent sample all in the middle
]


@pytest.mark.parametrize("alternative", ["less", "greater", "two-sided"])
def test_batched_p_values_equal_the_one_by_one_tests(alternative):
    cases = _cases(19, 25) + EDGE
    got = permutation_p_values(*zip(*cases, strict=True), alternative=alternative)
    for (a, b, s), p in zip(cases, got.tolist(), strict=True):
        want = _old_p(a, b, s, alternative)
        if math.isnan(want):
            assert math.isnan(p), (a, b, s)
        else:
            assert p == pytest.approx(want, rel=1e-9, abs=1e-15), (a, b, s)
        single = permutation_p_value(a, b, s, alternative=alternative)
        assert single == p or (math.isnan(single) and math.isnan(p))


@pytest.mark.parametrize("scores", [SCORES[2], SCORES[3], SCORES[4]])
def test_the_exact_programme_gives_the_same_numbers(scores):
    """Many comparisons of one score grid, sizes from the minimum n to EXACT_MAX_N mixed in one
    call: each p-value is its own table's number, to the last bits the matrix products of the
    programme (issue 19) add in another order."""
    rng = np.random.default_rng(len(scores))
    cases = []
    for n_b in [20, 21, 25, 33, 58, 90, 140, 200]:
        shares = rng.dirichlet(np.ones(len(scores)) * 2)
        cases.append(
            (rng.multinomial(2 * n_b, shares).tolist(), rng.multinomial(n_b, shares).tolist(), scores)
        )
    got = permutation_p_values(*zip(*cases, strict=True), alternative="less")
    assert got.tolist() == pytest.approx([_old_p(a, b, s) for a, b, s in cases], rel=1e-12, abs=0)


def test_small_cases_match_scipys_exact_permutation_test():
    rng = np.random.default_rng(7)
    for scores in [(-1.0, 0.0, 1.0), (1.0, 2.0, 3.0, 4.0, 5.0), (0.0, 50.0, 100.0)]:
        for _ in range(4):
            va, vb = rng.choice(scores, size=7), rng.choice(scores, size=5)
            counts = [[int(np.sum(v == s)) for s in scores] for v in (va, vb)]
            got = permutation_p_values([counts[0]], [counts[1]], [scores], alternative="less")[0]
            want = stats.permutation_test(
                (vb, va),
                lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
                permutation_type="independent",
                n_resamples=np.inf,
                alternative="less",
                vectorized=True,
            ).pvalue
            assert got == pytest.approx(want, rel=1e-9)


def test_three_categories_at_a_national_providers_size():
    """NPS of the whole organisation at a tenth of a national provider: the conditional sum over
    the drawn detractors gives the old (x, y) table's number."""
    a, b = [1300, 1780, 2680], [610, 870, 1300]
    for alternative in ("less", "greater", "two-sided"):
        got = permutation_p_values([a], [b], [(-1.0, 0.0, 1.0)], alternative=alternative)[0]
        assert got == pytest.approx(_old_p(a, b, (-1.0, 0.0, 1.0), alternative), rel=1e-9, abs=1e-15)
    drop = permutation_p_value([1300, 1780, 2680], [700, 870, 1210], (-1.0, 0.0, 1.0))
    assert drop == pytest.approx(_old_p([1300, 1780, 2680], [700, 870, 1210], (-1.0, 0.0, 1.0)), rel=1e-9)
    assert drop < 0.01


def test_bad_input_is_still_refused():
    with pytest.raises(ValueError):
        permutation_p_values([[1, 2]], [[1]], [(0.0, 1.0)])
    with pytest.raises(ValueError):
        permutation_p_values([[1, -2]], [[1, 1]], [(0.0, 1.0)])
    with pytest.raises(ValueError):
        permutation_p_values([[1, 2]], [[1, 1]], [])
    assert permutation_p_values([], [], []).size == 0


def test_a_look_keeps_its_p_values_q_values_and_flags():
    """A look of every measure's form, many units at and around the minimum n: each p-value is
    the one-by-one test's, the q-values statsmodels' Benjamini-Hochberg over them."""
    rng = np.random.default_rng(3)
    measures = {"csat": SCORES[0], "nps": SCORES[1], "response_speed": SCORES[2], "ces": SCORES[3]}
    items = []
    for u in range(120):
        for measure, scores in measures.items():
            n_a = int(rng.integers(MIN_N_BASELINE - 3, 3 * MIN_N_BASELINE))
            n_b = int(rng.integers(MIN_N_RECENT - 3, 3 * MIN_N_RECENT))
            shares = rng.dirichlet(np.ones(len(scores)) * 3)
            later = shares * (np.linspace(1.6, 0.4, len(scores)) if u % 7 == 0 else 1.0)
            items.append(
                ScoredInput(
                    ("region", u), measure, scores, tuple(rng.multinomial(n_a, shares).tolist()),
                    tuple(rng.multinomial(n_b, later / later.sum()).tolist()),
                    100.0 if measure == "nps" else 1.0,
                )
            )  # fmt: skip
    look = detect_drops(items)
    want = [
        _old_p(i.baseline, i.recent, i.scores)
        if sum(i.baseline) >= MIN_N_BASELINE and sum(i.recent) >= MIN_N_RECENT
        else math.nan
        for i in items
    ]
    tested = [j for j, p in enumerate(want) if not math.isnan(p)]
    q = multipletests([want[j] for j in tested], method="fdr_bh")[1]
    assert look.n_tested == len(tested) > 300
    for j, qj in zip(tested, q.tolist(), strict=True):
        test = look.tests[j]
        assert test.tested and test.p_value == pytest.approx(want[j], rel=1e-9, abs=1e-15)
        assert test.q_value == pytest.approx(qj, rel=1e-9, abs=1e-15)
        assert test.flagged == (qj <= 0.05)
    assert sum(t.flagged for t in look.tests) > 5
    for j, test in enumerate(look.tests):
        if j not in set(tested):
            assert not test.tested and not test.flagged and math.isnan(test.p_value)
