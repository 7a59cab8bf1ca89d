"""scoring.drift.detect_drops against independent references (scipy's Fisher test, statsmodels'
Benjamini-Hochberg, a hand-computed index z), its minimum-n rule and edge cases, and the
simulation of issue 14: stable organisations rarely flag, a planted drop is found."""

from __future__ import annotations

import math

import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from scoring.drift import DimensionSample, IndexInput, ScoredInput, detect_drops
from scoring.drift_power import simulate_rates


def _csat(unit, base, recent):
    """base/recent: (top-2 count, n)."""
    return ScoredInput(
        unit, "csat", (0.0, 1.0), (base[1] - base[0], base[0]), (recent[1] - recent[0], recent[0])
    )


def test_flags_only_after_benjamini_hochberg_across_the_look():
    inputs = [
        _csat(("region", 1), (72, 80), (16, 40)),  # a real drop
        _csat(("region", 2), (60, 80), (23, 40)),  # 75% -> 58%: raw p = 0.041, q = 0.062
        _csat(("region", 3), (60, 80), (30, 40)),
        _csat(("region", 4), (60, 80), (3, 6)),  # too few recent answers
    ]
    look = detect_drops(inputs)
    fisher = [
        stats.fisher_exact([[r[0], r[1] - r[0]], [b[0], b[1] - b[0]]], alternative="less").pvalue
        for b, r in (((72, 80), (16, 40)), ((60, 80), (23, 40)), ((60, 80), (30, 40)))
    ]
    assert [t.p_value for t in look.tests[:3]] == pytest.approx(fisher)
    assert [t.q_value for t in look.tests[:3]] == pytest.approx(multipletests(fisher, method="fdr_bh")[1])
    assert fisher[1] < 0.05
    assert [t.unit for t in look.flags] == [("region", 1)]
    low = look.tests[3]
    assert not low.tested and low.reason == "low_n" and math.isnan(low.p_value) and not low.flagged
    assert look.n_tested == 3 and look.correction == "benjamini_hochberg"
    assert (look.min_n_recent, look.min_n_baseline) == (20, 30)


def test_edge_cases_empty_single_and_all_equal():
    assert detect_drops([]).tests == () and not detect_drops([]).any_flag
    look = detect_drops([_csat(("all",), (0, 0), (0, 0)), _csat(("region", 1), (40, 40), (25, 25))])
    assert [t.reason for t in look.tests] == ["low_n", "no_variation"]
    assert math.isnan(look.tests[0].baseline_estimate)
    assert look.tests[1].recent_estimate == 1.0 and look.n_tested == 0
    one = detect_drops([_csat(("region", 1), (1, 1), (0, 1))], min_n_recent=1, min_n_baseline=1)
    assert one.tests[0].p_value == pytest.approx(0.5) and not one.any_flag


def test_nps_is_tested_on_its_three_categories_and_shown_x100():
    # The planted collapse: +53 to -38 in four weeks in one region.
    base, recent = (8, 40, 72), (30, 18, 12)  # detractor, passive, promoter
    look = detect_drops([ScoredInput(("region", 1), "nps", (-1.0, 0.0, 1.0), base, recent, 100.0)])
    t = look.tests[0]
    assert t.baseline_estimate == pytest.approx(100 * (72 - 8) / 120)
    assert t.recent_estimate == pytest.approx(100 * (12 - 30) / 60)
    assert t.method == "exact_permutation" and t.flagged


def test_index_uses_the_conservative_standard_error():
    def side(n, mean, sd):
        return DimensionSample(n, n * mean, (n - 1) * sd**2 + n * mean**2)

    base = {"response_speed": side(40, 75.0, 20.0), "fault_handling": side(50, 70.0, 25.0)}
    recent = {"response_speed": side(30, 60.0, 22.0), "fault_handling": side(35, 62.0, 24.0)}
    t = detect_drops([], [IndexInput(("region", 1), base, recent)]).tests[0]
    se_a = 0.5 * 20 / math.sqrt(40) + 0.5 * 25 / math.sqrt(50)
    se_b = 0.5 * 22 / math.sqrt(30) + 0.5 * 24 / math.sqrt(35)
    z = (0.5 * 60 + 0.5 * 62 - 0.5 * 75 - 0.5 * 70) / math.hypot(se_a, se_b)
    assert t.p_value == pytest.approx(stats.norm.cdf(z))
    assert (t.n_baseline, t.n_recent) == (40, 30)  # the smallest dimension
    missing = detect_drops([], [IndexInput(("region", 2), base, {"response_speed": side(30, 60.0, 22.0)})])
    assert missing.tests[0].reason == "low_n"


def test_simulated_stable_organisations_rarely_flag_and_planted_drops_are_found():
    """Issue 14's simulation, fewer organisations than the bench's 200 (bench/bench_drift.py):
    the stable rate must be consistent with at most 5% (its one-sided 95% Clopper-Pearson lower
    bound below 5%) and each planted drop's rate with at least 80% (upper bound above 80%)."""
    stable = simulate_rates(40, seed=14)
    assert stable.ci_low < 0.05 and stable.rate <= 0.075, stable
    for planted in ("csat", "nps", "ces"):
        found = simulate_rates(15, seed=15, planted=planted)
        assert found.ci_high > 0.80 and found.rate >= 0.7, found


def test_many_csat_cells_get_the_p_values_of_the_one_by_one_test():
    """A look over thousands of cells computes CSAT's Fisher tails in one vectorised call: each
    p-value equals scipy's one-sided Fisher exact test of that cell and the one-by-one path."""
    import numpy as np
    from scipy.stats import fisher_exact

    from scoring.exact_tests import permutation_p_value

    rng = np.random.default_rng(5)
    items = []
    for i in range(300):
        base_top, recent_top = int(rng.integers(0, 60)), int(rng.integers(0, 40))
        base_n, recent_n = base_top + int(rng.integers(0, 30)), recent_top + int(rng.integers(0, 20))
        items.append(_csat(("cell", i, 0), (base_top, base_n), (recent_top, recent_n)))
    items.append(
        ScoredInput(("cell", 999, 0), "csat", (0.0, 1.0), (0, 40), (0, 25))
    )  # all top-2: no variation
    look = detect_drops(items)
    tested = 0
    for item, test in zip(items, look.tests, strict=True):
        if not test.tested:
            assert test.reason in ("low_n", "no_variation")
            continue
        tested += 1
        (a0, a1), (b0, b1) = item.baseline, item.recent
        # H1: the recent share of top-2 is lower: recent row has fewer top-2 than expected.
        _, want = fisher_exact([[b1, b0], [a1, a0]], alternative="less")
        assert test.p_value == pytest.approx(want, rel=1e-9, abs=1e-15)
        assert test.p_value == permutation_p_value(
            item.baseline, item.recent, item.scores, alternative="less"
        )
    assert tested > 100
    assert look.tests[-1].reason == "no_variation"
