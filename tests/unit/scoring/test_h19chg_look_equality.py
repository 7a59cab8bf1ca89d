"""A change look computed the issue-19 way (means of every input a column at a time, the exact
programme as matrix products, one ChangeTest per input) gives the look of the one-by-one path it
replaces: the same tests, reasons, methods, n and estimates (to the bit), the same p-values and
Benjamini-Hochberg q-values (to 1e-12; statsmodels for the correction) and the same flags, on
varied data: cells under the minimum n, ties, zero-variance cells, three-category tables, the
exact programme from the minimum n to its limit, the normal approximation above it, and a
look of many cells for the correction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from scoring.drift import MIN_N_BASELINE, MIN_N_RECENT, DimensionSample, IndexInput, ScoredInput, detect_drops
from tests.unit.scoring.test_batched_exact_tests import _old_p

DIMENSION = (0.0, 25.0, 50.0, 75.0, 100.0)
CES = tuple(100.0 * i / 6 for i in range(7))
FORMS = {
    "csat": ((0.0, 1.0), 1.0),
    "nps": ((-1.0, 0.0, 1.0), 100.0),
    "ces": (CES, 1.0),
    "response_speed": (DIMENSION, 1.0),
    "fault_handling": ((0.0, 25.0, 100.0 / 6, 100.0), 1.0),  # 1-5 and 1-7 mixed: a grid of 100/12
    "ties": ((0.0, 1.0, 1.0, 2.0, 2.0), 1.0),
    "no_grid": ((0.0, 1.0, math.pi, 4.0), 1.0),
}


# --- The one-by-one look before issue 19 (scoring/drift.py at main, 4e6cfb2) ---
def _old_mean(counts, scores):
    n = sum(counts)
    return sum(c * s for c, s in zip(counts, scores, strict=True)) / n if n else math.nan


def _old_test(item):
    """(tested, reason, method, n_a, n_b, estimate a, estimate b, p) of one input."""
    a, b = item.baseline, item.recent
    n_a, n_b = sum(a), sum(b)
    ea = _old_mean(a, item.scores) * item.display_factor
    eb = _old_mean(b, item.scores) * item.display_factor
    method = "fisher_exact" if len(item.scores) == 2 else "exact_permutation"
    if not (n_a >= MIN_N_BASELINE and n_b >= MIN_N_RECENT):
        return False, "low_n", method, n_a, n_b, ea, eb, math.nan
    p = _old_p(a, b, item.scores)
    if math.isnan(p):
        return False, "no_variation", method, n_a, n_b, ea, eb, math.nan
    return True, "", method, n_a, n_b, ea, eb, p


def _old_index(item):
    """(tested, reason, n_a, n_b, estimate a, estimate b, p) of one unit's index."""
    dims = sorted(set(item.baseline) | set(item.recent))
    weight = 1.0 / len(dims) if dims else math.nan

    def summary(side):
        present = [side.get(d) for d in dims]
        if any(x is None or x.n == 0 for x in present):
            return math.nan, math.nan, 0
        ok = [x for x in present if x is not None]
        estimate = sum(weight * x.mean for x in ok)
        se = sum(weight * x.sd / math.sqrt(x.n) for x in ok) if all(x.n >= 2 for x in ok) else math.nan
        return estimate, se, min(x.n for x in ok)

    ea, sa, na = summary(item.baseline)
    eb, sb, nb = summary(item.recent)
    if not dims or na < MIN_N_BASELINE or nb < MIN_N_RECENT:
        return False, "low_n", na, nb, ea, eb, math.nan
    if not sa + sb > 0:
        return False, "no_variation", na, nb, ea, eb, math.nan
    return True, "", na, nb, ea, eb, float(stats.norm.cdf((eb - ea) / math.hypot(sa, sb)))


def _inputs(seed, units):
    rng = np.random.default_rng(seed)
    items = []
    for u in range(units):
        for measure, (scores, factor) in FORMS.items():
            k = len(scores)
            shape = rng.random()
            if shape < 0.3:  # around the minimum n
                n_a = int(rng.integers(MIN_N_BASELINE - 4, MIN_N_BASELINE + 10))
                n_b = int(rng.integers(MIN_N_RECENT - 4, MIN_N_RECENT + 10))
            elif shape < 0.45:  # small cells, far under it
                n_a, n_b = int(rng.integers(0, 8)), int(rng.integers(0, 6))
            elif shape < 0.55:  # above the exact programme's limit: the normal approximation
                n_a, n_b = int(rng.integers(400, 900)), int(rng.integers(205, 400))
            else:
                n_a, n_b = int(rng.integers(30, 260)), int(rng.integers(20, 210))
            shares = rng.dirichlet(np.ones(k) * 2)
            later = shares * (np.linspace(1.7, 0.3, k) if u % 5 == 0 else 1.0)
            a = rng.multinomial(n_a, shares)
            b = rng.multinomial(n_b, later / later.sum())
            if rng.random() < 0.1:  # zero variance: every answer in one category
                j = int(rng.integers(k))
                a, b = np.eye(k, dtype=int)[j] * n_a, np.eye(k, dtype=int)[j] * n_b
            elif rng.random() < 0.2:  # an empty category
                j = int(rng.integers(k))
                a[j] = b[j] = 0
            items.append(
                ScoredInput(("cell", u, u % 7), measure, scores, tuple(a.tolist()), tuple(b.tolist()), factor)
            )
    return items


def _indices(seed, units):
    rng = np.random.default_rng(seed)

    def side(n, mean, sd):
        return DimensionSample(n, n * mean, (n - 1) * sd**2 + n * mean**2)

    out = []
    for u in range(units):
        dims = ["response_speed", "fault_handling", "staff_attitude", "communication"][: 1 + u % 4]
        base = {
            d: side(int(rng.integers(20, 90)), float(rng.uniform(50, 90)), float(rng.uniform(0, 25)))
            for d in dims
        }
        recent = {
            d: side(int(rng.integers(10, 60)), float(rng.uniform(40, 90)), float(rng.uniform(0, 25)))
            for d in dims
        }
        if u % 11 == 0:  # zero variance on both sides
            base = {d: side(40, 75.0, 0.0) for d in dims}
            recent = {d: side(30, 75.0, 0.0) for d in dims}
        if u % 13 == 0:  # a dimension unanswered recently
            recent.pop(dims[0])
        if u % 17 == 0:  # a dimension answered by one person: no standard deviation
            recent[dims[-1]] = side(1, 80.0, 0.0)
        if u % 19 == 0:  # a dimension present with no answers
            base[dims[-1]] = DimensionSample(0, 0.0, 0.0)
        out.append(IndexInput(("region", u), base, recent))
    return out


@pytest.mark.parametrize("seed", [19, 20])
def test_a_look_equals_the_one_by_one_look(seed):
    """Index units too: one to four dimensions, zero variance, a dimension unanswered on one
    side, answered by one person, present with no answers."""
    items = _inputs(seed, 60)
    indices = _indices(seed, 80)
    look = detect_drops(items, indices)
    old = [_old_test(item) for item in items]
    old_index = [_old_index(item) for item in indices]
    p_all = [o[7] for o in old] + [o[6] for o in old_index]
    tested = [j for j, p in enumerate(p_all) if not math.isnan(p)]
    q = multipletests([p_all[j] for j in tested], method="fdr_bh")[1]
    q_all = [math.nan] * len(p_all)
    for j, qj in zip(tested, q.tolist(), strict=True):
        q_all[j] = qj
    assert len(look.tests) == len(items) + len(indices)
    assert look.n_tested == len(tested) > 250
    reasons = set()
    for j, (item, test) in enumerate(zip(items, look.tests, strict=False)):
        ok, reason, method, n_a, n_b, ea, eb, p = old[j]
        reasons.add(reason)
        assert (test.unit, test.measure) == (item.unit, item.measure)
        assert (test.tested, test.reason, test.method, test.n_baseline, test.n_recent) == (
            ok,
            reason,
            method,
            n_a,
            n_b,
        )
        for got, want in (
            (test.baseline_estimate, ea),
            (test.recent_estimate, eb),
            (test.difference, eb - ea),
        ):
            assert got == want or (math.isnan(got) and math.isnan(want))
        if ok:
            # abs: the three-category tails leave out at most 1e-20 of probability (a window of
            # the drawn counts, before this change too); the reference sums the whole table.
            assert test.p_value == pytest.approx(p, rel=1e-12, abs=1e-18)
            assert test.q_value == pytest.approx(q_all[j], rel=1e-12, abs=1e-18)
            assert test.flagged == (q_all[j] <= 0.05)
        else:
            assert math.isnan(test.p_value) and math.isnan(test.q_value) and not test.flagged
    assert reasons == {"", "low_n", "no_variation"}
    for j, (item, test) in enumerate(zip(indices, look.tests[len(items) :], strict=True), start=len(items)):
        ok, reason, n_a, n_b, ea, eb, p = old_index[j - len(items)]
        assert (test.unit, test.measure, test.method) == (item.unit, "index", "conservative_z")
        assert (test.tested, test.reason, test.n_baseline, test.n_recent) == (ok, reason, n_a, n_b)
        for got, want in ((test.baseline_estimate, ea), (test.recent_estimate, eb)):
            assert got == want or (math.isnan(got) and math.isnan(want))
        if ok:
            assert test.p_value == pytest.approx(p, rel=1e-12, abs=0)
            assert test.q_value == pytest.approx(q_all[j], rel=1e-12, abs=0)
            assert test.flagged == (q_all[j] <= 0.05)
        else:
            assert math.isnan(test.p_value) and not test.flagged
    assert {t.reason for t in look.tests[len(items) :]} == {"", "low_n", "no_variation"}
    assert sum(t.flagged for t in look.tests) > 5


def test_the_exact_programme_up_to_its_limit_and_at_tiny_p_values():
    """Every size from the minimum n to EXACT_MAX_N, including drops whose p-values are far
    below any alpha: the same numbers to 1e-12 of themselves."""
    rng = np.random.default_rng(12)
    cases = []
    for scores in (DIMENSION, CES, FORMS["fault_handling"][0]):
        for n_b in (20, 21, 37, 64, 99, 150, 200):
            shares = rng.dirichlet(np.ones(len(scores)) * 3)
            worse = shares * np.linspace(2.5, 0.2, len(scores))
            cases.append(
                (rng.multinomial(2 * n_b, shares), rng.multinomial(n_b, worse / worse.sum()), scores)
            )
    look = detect_drops(
        [
            ScoredInput(("region", j), "m", s, tuple(a.tolist()), tuple(b.tolist()))
            for j, (a, b, s) in enumerate(cases)
        ]
    )
    p = [t.p_value for t in look.tests]
    assert min(p) < 1e-12
    assert p == pytest.approx([_old_p(a.tolist(), b.tolist(), s) for a, b, s in cases], rel=1e-12, abs=0)
