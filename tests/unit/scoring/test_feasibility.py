"""scoring.feasibility: replayed shares and the supported limit, checked against numpy (inverse-ECDF
quantile, numpy method="inverted_cdf") and hand-worked edge cases (n = 0, 1, all equal, open tickets)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scoring.feasibility import ReplayedHistory, format_minutes, period_values, replay_time_share
from scoring.principles import check_principles


def test_shares_and_supported_limit_match_numpy():
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 5, 400)
    minutes = rng.gamma(2.0, 40.0, 400)
    periods, supported = replay_time_share(codes, list("abcde"), minutes * 60, np.zeros(400), 3600.0, 90.0)
    for p, g in zip(periods, range(5), strict=True):
        x = minutes[codes == g]
        assert p.n == x.size and p.value == pytest.approx(100.0 * np.mean(x <= 60.0))
    expected = min(np.percentile(minutes[codes == g], 90, method="inverted_cdf") for g in range(5))
    assert supported / 60 == pytest.approx(expected)


def test_open_tickets_and_edge_cases():
    nan = float("nan")
    # Period 0: one within (30 min), one open for 2 h (overdue: measured, missed), one open for 10
    # min (not measured yet). Period 1: no ticket. Period 2: one ticket exactly on the limit.
    d = [1800.0, nan, nan, 3600.0]
    e = [0.0, 7200.0, 600.0, 0.0]
    periods, supported = replay_time_share([0, 0, 0, 2], ["w0", "w1", "w2"], d, e, 3600.0, 50.0)
    assert [(p.period, p.value, p.n) for p in periods] == [("w0", 50.0, 2), ("w2", 100.0, 1)]
    assert supported == 1800.0  # 50 % of w0's two: the first; w2: 3600
    # 100 % required with an overdue open ticket in every period: no finite limit is supported.
    assert replay_time_share([0], ["w0"], [nan], [7200.0], 3600.0, 100.0) == (
        (replay_time_share([0], ["w0"], [nan], [7200.0], 3600.0, 100.0)[0]),
        None,
    )
    assert replay_time_share([], [], [], [], 60.0, 99.0) == ((), None)
    same = replay_time_share([0] * 4, ["w"], [60.0] * 4, [0.0] * 4, 60.0, 99.0)
    assert same[0][0].value == 100.0 and same[1] == 60.0
    with pytest.raises(ValueError):
        replay_time_share([0], ["w"], [1.0], [0.0], 60.0, 0.0)
    with pytest.raises(ValueError):
        replay_time_share([3], ["w"], [1.0], [0.0], 60.0, 50.0)
    rates = period_values([0, 0, 1, 1, 1], ["a", "b"], [1, 0, 1, 1, 0], [True, True, True, False, True])
    assert [(p.value, p.n) for p in rates] == [(50.0, 2), (50.0, 2)]
    assert period_values([0], ["a"], [1], [False]) == ()


def test_best_median_latest_and_formatting():
    from scoring.feasibility import PeriodValue

    values = tuple(PeriodValue(f"w{i}", v, 10 + i) for i, v in enumerate([40, 44, 31, 38]))
    h = ReplayedHistory("z", "e", values, 99.0, ">=", "%", 60.0, 276.0)
    assert (h.best().value, h.median().value, h.latest().value) == (44, 38, 38)
    empty = ReplayedHistory("z", "e", (), 99.0, ">=", "%")
    assert empty.best() is None and empty.median() is None and empty.latest() is None
    assert (
        format_minutes(60) == "60 min"
        and format_minutes(276) == "4.6 h"
        and format_minutes(276, "zh") == "4.6小时"
    )
    assert format_minutes(3 * 1440) == "3 d" and format_minutes(math.inf) == "∞"


def test_the_check_states_best_median_latest_and_what_history_supports():
    from dataclasses import replace

    from scoring.feasibility import PeriodValue
    from tests.unit.scoring.test_principles import GOOD

    spec = replace(GOOD, target=99.0)
    values = (PeriodValue("2026-03-02", 44.0, 120), PeriodValue("2026-03-09", 31.0, 98))
    h = ReplayedHistory("DESK 的工单", "DESK's tickets", values, 99.0, ">=", "%", 60.0, 276.0)
    r = check_principles(spec, h).result("feasible")
    assert r.code == "feasible_unreachable"
    assert "best 44% (n=120, 2026-03-02), median 31% (n=98, 2026-03-09)" in r.reason_en
    assert "44% within 60 min, or 99% within 4.6 h" in r.reason_en and "4.6小时" in r.reason_zh
    ok = check_principles(replace(spec, target=40.0), replace(h, target=40.0)).result("feasible")
    assert ok.passed and "met in 1 of 2 periods" in ok.reason_en
    none = check_principles(spec, replace(h, periods=())).result("feasible")
    assert not none.passed and none.code == "feasible_no_history" and "DESK's tickets" in none.reason_en


def test_supported_thresholds_edge_cases():
    """The thresholds the history supports (the review's column, the check's sentence): none without
    history; one period; a rate replay states its best period's value; all-equal periods."""
    from scoring.feasibility import PeriodValue, ReplayedHistory, supported_thresholds

    empty = ReplayedHistory("无", "none", (), 99.0, ">=", "%", limit_minutes=60.0)
    assert supported_thresholds(empty) == () and supported_thresholds(empty, "zh") == ()
    one = ReplayedHistory("a", "a", (PeriodValue("2026-03-02", 44.0, 50),), 99.0, ">=", "%", 60.0, None)
    assert supported_thresholds(one) == ("44% within 60 min",)  # no period reached 99 %: no limit
    timed = ReplayedHistory("a", "a", one.periods, 99.0, ">=", "%", 60.0, 205.0)
    assert supported_thresholds(timed, "zh") == ("44%内60分钟", "99%内3.4小时")
    same = tuple(PeriodValue(f"w{i}", 4.2, 30) for i in range(3))
    assert supported_thresholds(ReplayedHistory("a", "a", same, 4.5, ">=", "")) == (">= 4.2",)
    reopen = (PeriodValue("w0", 6.0, 40), PeriodValue("w1", 3.0, 40))
    assert supported_thresholds(ReplayedHistory("a", "a", reopen, 2.0, "<=", "%")) == ("<= 3%",)
