"""KPI versus experience: quadrants, gap intervals (Wilson / t), evidence and the watermelon rank.
The test p-values are checked against statsmodels' score test and scipy's one-sample t test."""

import json

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from scoring.comparison import ComparisonCell, compare_kpi_experience


def cell(region, kpi, successes, n, *, target=0.85, period="2024-05", **kw):
    return ComparisonCell(
        service="incident",
        region=region,
        period=period,
        kpi_value=kpi,
        kpi_target=95.0,
        kpi_comparator=">=",
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
    _, p = proportions_ztest(150, 200, value=0.85, prop_var=0.85)
    assert c.p_value == pytest.approx(p)
    assert c.evidenced and c.kpi_margin == pytest.approx(2.0)


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
    assert [c.region for c in report.watermelons] == ["severe", "mild", "small_big_gap"]
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
