"""KPI versus experience: quadrants, gap intervals (Wilson / t), evidence and the watermelon rank.
The test p-values are checked against statsmodels' score test and scipy's one-sample t test."""

import json

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from scoring.comparison import ComparisonCell, compare_kpi_experience


def cell(region, kpi, successes, n, *, target=0.85, period="2024-05", kpi_n=2000, **kw):
    """A share KPI (e.g. 97 -> 0.97 of ``kpi_n`` tickets resolved in time) against 95%."""
    return ComparisonCell(
        service="incident",
        region=region,
        period=period,
        kpi_value=kpi / 100,
        kpi_target=0.95,
        kpi_comparator=">=",
        kpi_n=kpi_n,
        experience_target=target,
        experience_n=n,
        experience_successes=successes,
        **kw,
    )


def test_four_quadrants():
    report = compare_kpi_experience(
        [cell("a", 97, 180, 200), cell("b", 97, 120, 200), cell("c", 90, 190, 200), cell("d", 90, 100, 200)]
    )
    assert [c.quadrant for c in report.cells] == [
        "both_met",
        "watermelon",
        "kpi_missed_experience_met",
        "both_missed",
    ]
    assert dict(report.quadrant_counts) == {
        "both_met": 1,
        "watermelon": 1,
        "kpi_missed_experience_met": 1,
        "both_missed": 1,
    }


def test_gap_interval_and_p_value_against_statsmodels():
    c = compare_kpi_experience([cell("b", 97, 150, 200)]).cells[0]
    low, high = proportion_confint(150, 200, method="wilson")
    assert c.experience_gap == pytest.approx(0.75 - 0.85)
    assert (c.gap_ci_low, c.gap_ci_high) == pytest.approx((low - 0.85, high - 0.85))
    assert c.p_value == pytest.approx(stats.binomtest(150, 200, 0.85).pvalue)  # exact (issue 14)
    assert c.evidenced and c.kpi_margin == pytest.approx(0.02)
    kpi_low, kpi_high = proportion_confint(1940, 2000, method="wilson")
    assert (c.kpi_ci_low, c.kpi_ci_high) == pytest.approx((kpi_low, kpi_high)) and c.kpi_evidenced


def test_watermelon_with_six_responses_is_not_evidenced():
    c = compare_kpi_experience([cell("tiny", 99, 3, 6)]).cells[0]
    assert c.quadrant == "watermelon"
    assert not c.evidenced and c.low_sample
    assert c.message.code == "watermelon_not_evidenced"
    assert "n=6" in c.message.en and "n=6" in c.message.zh


def test_watermelon_ranking_evidence_first_then_shortfall():
    report = compare_kpi_experience(
        [
            cell("small_big_gap", 99, 2, 6),  # largest shortfall but n = 6: not evidenced
            cell("mild", 97, 160, 200),  # 0.80 vs 0.85
            cell("severe", 97, 120, 200),  # 0.60 vs 0.85
            cell("fine", 97, 190, 200),
        ]
    )
    # "mild" (80% of 200 vs 85%): its interval reaches the target, a candidate like n = 6.
    assert [c.region for c in report.watermelons] == ["severe", "small_big_gap", "mild"]
    assert [c.evidenced for c in report.watermelons] == [True, False, False]
    assert [c.watermelon_rank for c in report.watermelons] == [1, 2, 3]
    assert next(c for c in report.cells if c.region == "fine").watermelon_rank is None
    json.loads(report.to_json())


def test_mean_experience_and_lower_is_better_kpi():
    rng = np.random.default_rng(3)
    answers = rng.normal(3.7, 0.9, 45)
    c = ComparisonCell(
        service="desk",
        region="west",
        tier="gold",
        period=3,
        kpi_value=25.0,
        kpi_target=30.0,
        kpi_comparator="<=",
        experience_target=4.0,
        experience_n=answers.size,
        experience_mean=float(answers.mean()),
        experience_sd=float(answers.std(ddof=1)),
    )
    out = compare_kpi_experience([c]).cells[0]
    assert out.kpi_met and out.kpi_margin == pytest.approx(5.0)
    # A time KPI has no interval from its value alone: the watermelon stays a candidate.
    assert out.quadrant == "watermelon" and not out.evidenced and out.reason == "kpi_without_interval"
    assert out.experience_kind == "mean"
    assert out.p_value == pytest.approx(stats.ttest_1samp(answers, 4.0).pvalue)
    ci = stats.ttest_1samp(answers, 4.0).confidence_interval()
    assert (out.gap_ci_low, out.gap_ci_high) == pytest.approx((ci.low - 4.0, ci.high - 4.0))


def test_invalid_cells_are_rejected():
    with pytest.raises(ValueError):
        compare_kpi_experience([cell("x", 97, 5, 0)])
    with pytest.raises(ValueError):
        compare_kpi_experience([cell("x", 97, 5, 10, target=85)])  # percent instead of proportion
    with pytest.raises(ValueError):
        compare_kpi_experience(
            [ComparisonCell("s", "r", 1, 1.0, 1.0, ">=", 0.8, 10)]  # neither successes nor mean
        )


def test_quoted_kpi_side_is_not_exact():
    """Issue 14: "the first evidenced watermelon rests on 38 tickets (97.4% against 95%, Wilson
    86.5-99.5%)" - the KPI side has its own interval and that one includes the target."""
    c = compare_kpi_experience([cell("w", 100 * 37 / 38, 40, 100, kpi_n=38)]).cells[0]
    low, high = proportion_confint(37, 38, method="wilson")
    assert (c.kpi_ci_low, c.kpi_ci_high) == pytest.approx((low, high))
    assert round(100 * low, 1) == 86.5 and round(100 * high, 1) == 99.5
    assert c.quadrant == "watermelon" and not c.evidenced and c.reason == "kpi_interval_includes_target"


def test_quoted_n_1_and_zero_width_cells_are_not_evidenced():
    one = compare_kpi_experience([cell("one", 99, 0, 1)]).cells[0]
    assert one.quadrant == "watermelon" and not one.evidenced and one.reason == "low_n"
    # 30 identical answers of 4.19 against a 4.2 target: the t interval has zero width.
    same = ComparisonCell(
        service="desk", region="r", period=1, kpi_value=0.99, kpi_target=0.95, kpi_comparator=">=",
        kpi_n=5000, experience_target=4.2, experience_n=30, experience_mean=4.19, experience_sd=0.0,
        experience_scale=(1.0, 5.0),
    )  # fmt: skip
    out = compare_kpi_experience([same]).cells[0]
    assert out.quadrant == "watermelon" and not out.evidenced
    assert out.experience_ci_high - out.experience_ci_low > 0.5
    # The bound: Wilson on the rescaled mean, i.e. statsmodels' Wilson at the same share.
    low, high = proportion_confint(30 * 3.19 / 4, 30, method="wilson")
    assert (out.experience_ci_low, out.experience_ci_high) == pytest.approx((1 + 4 * low, 1 + 4 * high))


def test_benjamini_hochberg_across_the_cells_compared_at_once():
    """Issue 14: with a correction across 60 cells only the planted cell remains evidenced."""
    cells = [cell(f"r{i}", 97, 80, 100) for i in range(59)]  # 80% vs 85%: p ~ 0.16 each
    cells += [cell("borderline", 97, 156, 200), cell("planted", 97, 40, 100)]  # raw p = 0.0074
    report = compare_kpi_experience(cells)
    p = [c.p_value for c in report.cells]
    assert [c.q_value for c in report.cells] == pytest.approx(multipletests(p, method="fdr_bh")[1])
    evidenced = [c.region for c in report.watermelons if c.evidenced]
    assert evidenced == ["planted"]
    assert (
        next(c for c in report.cells if c.region == "borderline").reason == "not_significant_after_correction"
    )


def test_pooled_tiers_are_met_only_when_every_tier_met_its_own_target():
    """Issue 14: Gold 93 % of 100 against its own 95 %, Silver 99 % of 300 against 90 %: the pooled
    97.5 % beats the strictest target, but the cell is missed (scoring.pooled_met), by Gold's margin;
    each tier's interval is statsmodels' Wilson interval of its own tickets."""
    from scoring.comparison import KpiGroup

    groups = (KpiGroup("GOLD", 0.93, 0.95, ">=", 100), KpiGroup("SILVER", 0.99, 0.90, ">=", 300))
    missed = compare_kpi_experience([cell("a", 97.5, 120, 200, kpi_n=400, kpi_groups=groups)]).cells[0]
    assert not missed.kpi_met and missed.quadrant == "both_missed" and not missed.kpi_evidenced
    assert missed.kpi_margin == pytest.approx(-0.02)
    assert [(g.label, g.met) for g in missed.kpi_breaches] == [("GOLD", False)]
    low, high = proportion_confint(93, 100, method="wilson")
    gold = missed.kpi_groups[0]
    assert (gold.ci_low, gold.ci_high) == pytest.approx((low, high)) and not gold.evidenced
    # Both tiers beat their own targets while the pooled value is below the strictest: met.
    both = (KpiGroup("GOLD", 0.99, 0.95, ">=", 1000), KpiGroup("SILVER", 0.93, 0.90, ">=", 3000))
    met = compare_kpi_experience([cell("b", 94.5, 120, 200, kpi_n=4000, kpi_groups=both)]).cells[0]
    assert met.kpi_met and met.quadrant == "watermelon" and met.kpi_breaches == ()
    assert met.kpi_margin == pytest.approx(0.03)
    silver_low, _ = proportion_confint(2790, 3000, method="wilson")
    assert silver_low > 0.90 and met.kpi_evidenced  # every tier's own interval on the met side
    # A tier without tickets has no interval: the KPI side cannot be evidenced.
    blind = (KpiGroup("GOLD", 0.99, 0.95, ">="), KpiGroup("SILVER", 0.93, 0.90, ">=", 3000))
    assert not compare_kpi_experience([cell("c", 94.5, 120, 200, kpi_groups=blind)]).cells[0].kpi_evidenced
