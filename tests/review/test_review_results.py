"""Measured results of improvement items, computed from observations inserted here and checked
against hand computation and independent libraries (statsmodels, scipy)."""

from __future__ import annotations

import math
from datetime import date

import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from perception.review.models import ImprovementStatus
from perception.review.services import register as review_register
from perception.review.services.errors import ReviewError
from perception.review.services.results import measure_result

BASELINE = (date(2026, 1, 5), date(2026, 3, 2))
COMPLETED = date(2026, 3, 2)  # the 8 weeks after: [2026-03-02, 2026-04-27)


@pytest.fixture
def csat_world(db_session, org, catalog, observe):
    r1, r2, desk, net = org["R1"]["region"], org["R2"]["region"], catalog["DESK"], catalog["NET"]
    observe(r1, desk, "csat", [5] * 14 + [4] * 10 + [3] * 6 + [1] * 10, day=date(2026, 2, 2))  # 24 of 40
    observe(r1, desk, "csat", [5] * 30 + [4] * 10 + [2] * 10, day=date(2026, 3, 9))  # 40 of 50
    # Out of scope: another region, another service, outside the windows. Counted, they would move the result.
    observe(r2, desk, "csat", [1] * 30, day=date(2026, 3, 9))
    observe(r1, net, "csat", [1] * 30, day=date(2026, 2, 2))
    observe(r1, desk, "csat", [1] * 30, day=date(2026, 4, 27))
    observe(r1, desk, "csat", [1] * 30, day=date(2026, 1, 4))
    return {"r1": r1, "desk": desk}


def _item(db_session, world, **kw):
    data = review_register.ItemInput(
        title="缩短备件到货时间",
        metric="csat_share",
        metric_service_id=world["desk"].id,
        region_id=world["r1"].id,
        baseline_from=BASELINE[0],
        baseline_to=BASELINE[1],
        target_value=0.75,
        **kw,
    )
    return review_register.create_item(db_session, data, today=date(2026, 2, 20))


def test_completed_item_result_is_computed_from_the_data(db_session, csat_world):
    item = _item(db_session, csat_world)
    assert item.baseline_value == pytest.approx(24 / 40) and item.baseline_n == 40
    assert item.result["status"] == "not_completed"
    review_register.set_status(
        db_session, item, ImprovementStatus.COMPLETED, today=date(2026, 5, 4), completed_on=COMPLETED
    )
    result = item.result
    assert result["status"] == "measured" and result["window_complete"]
    change = result["change"]
    # Hand computation: pooled p = 64/90, SE0 = sqrt(p(1-p)(1/40 + 1/50)), z = (0.8 - 0.6) / SE0.
    pooled = 64 / 90
    z = 0.2 / math.sqrt(pooled * (1 - pooled) * (1 / 40 + 1 / 50))
    assert change["statistic"] == pytest.approx(z) == pytest.approx(2.0801, abs=1e-4)
    z_sm, p_sm = proportions_ztest([40, 24], [50, 40])  # statsmodels, pooled variance
    assert change["statistic"] == pytest.approx(z_sm) and p_sm < 0.05
    # Issue 14: the p-value is Fisher's exact test (two-sided: twice the smaller tail), whose
    # false-positive rate never exceeds 5%; here it does not call 60% -> 80% (n = 40, 50) a change.
    from scipy import stats

    tails = [stats.fisher_exact([[40, 10], [24, 16]], alternative=a).pvalue for a in ("less", "greater")]
    assert change["p_value"] == pytest.approx(min(1.0, 2 * min(tails))) and change["p_value"] > 0.05
    low, high = confint_proportions_2indep(40, 50, 24, 40, method="newcomb", compare="diff")
    assert (change["ci_low"], change["ci_high"]) == pytest.approx((low, high))
    assert result["after"]["n"] == 50 and result["after"]["estimate"] == pytest.approx(0.8)
    assert not result["improved"] and result["target_met"] and not result["worsened"]
    assert "变化不显著" in result["message"]["zh"] and "no significant change" in result["message"]["en"]


def test_result_is_measuring_until_the_weeks_after_completion_are_over(db_session, csat_world):
    item = _item(db_session, csat_world)
    review_register.set_status(
        db_session, item, ImprovementStatus.COMPLETED, today=date(2026, 4, 1), completed_on=COMPLETED
    )
    assert item.result["status"] == "measuring" and not item.result["window_complete"]
    assert measure_result(db_session, item, date(2026, 4, 27))["status"] == "measured"


def test_result_cannot_be_typed_in(db_session, csat_world):
    with pytest.raises(ReviewError) as raised:
        review_register.parse_item({"title": "x", "result": {"status": "measured"}})
    assert raised.value.field == "result"


def test_mean_rating_uses_welch_t(db_session, org, catalog, observe):
    r1, desk = org["R1"]["region"], catalog["DESK"]
    before = [3, 4, 2, 3, 3, 4, 2, 3, 3, 2]
    after = [4, 5, 4, 4, 5, 3, 4, 5, 4, 4, 5]
    observe(r1, desk, "rating", before, day=date(2026, 2, 2), dimension="response_speed")
    observe(r1, desk, "rating", after, day=date(2026, 3, 9), dimension="response_speed")
    observe(r1, desk, "rating", [1] * 20, day=date(2026, 3, 9), dimension="staff_attitude")  # other dimension
    data = review_register.ItemInput(
        title="响应提速",
        metric="rating_mean",
        metric_service_id=desk.id,
        metric_dimension="response_speed",
        baseline_from=BASELINE[0],
        baseline_to=BASELINE[1],
        status="completed",
        completed_on=COMPLETED,
    )
    item = review_register.create_item(db_session, data, today=date(2026, 5, 4))
    change = item.result["change"]
    reference = stats.ttest_ind(after, before, equal_var=False)
    assert change["test"] == "welch_t"
    assert change["statistic"] == pytest.approx(reference.statistic)
    assert change["p_value"] == pytest.approx(reference.pvalue)
    assert change["difference"] == pytest.approx(sum(after) / len(after) - sum(before) / len(before))


def test_nps_result_on_the_nps_scale(db_session, org, catalog, observe):
    r1, desk = org["R1"]["region"], catalog["DESK"]
    observe(r1, desk, "nps", [10] * 10 + [8] * 5 + [3] * 15, day=date(2026, 2, 2), scale=(0, 10))
    observe(r1, desk, "nps", [10] * 20 + [7] * 5 + [5] * 5, day=date(2026, 3, 9), scale=(0, 10))
    data = review_register.ItemInput(
        title="NPS",
        metric="nps",
        metric_service_id=desk.id,
        baseline_from=BASELINE[0],
        baseline_to=BASELINE[1],
        status="completed",
        completed_on=COMPLETED,
        target_value=40.0,
    )
    item = review_register.create_item(db_session, data, today=date(2026, 5, 4))
    # Hand: before (10 - 15) / 30 = -16.7; after (20 - 5) / 30 = +50.
    assert item.baseline_value == pytest.approx(100 * (10 - 15) / 30)
    assert item.result["change"]["estimate_b"] == pytest.approx(50.0)
    assert item.result["target_met"] is True


def test_no_data_after_completion_says_so(db_session, org, catalog):
    data = review_register.ItemInput(
        title="x",
        metric="csat_share",
        baseline_from=BASELINE[0],
        baseline_to=BASELINE[1],
        status="completed",
        completed_on=COMPLETED,
    )
    item = review_register.create_item(db_session, data, today=date(2026, 5, 4))
    assert item.result["status"] == "insufficient_data"
    assert item.baseline_n == 0
