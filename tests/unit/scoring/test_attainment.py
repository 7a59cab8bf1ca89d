"""Standard attainment on worked examples (targets change when a new version comes into force)."""

import math

import pytest

from scoring.attainment import is_met, margin, standard_attainment


def test_attainment_with_version_change():
    # "96% of calls answered by the 2nd ring"; version 2 (from March) raises the target to 97%.
    r = standard_attainment(
        ["2024-01", "2024-02", "2024-03", "2024-04"], [96.5, 95.0, 97.2, 96.8], ">=", [96.0, 96.0, 97.0, 97.0]
    )
    assert [p.met for p in r.periods] == [True, False, True, False]
    assert [p.margin for p in r.periods] == pytest.approx([0.5, -1.0, 0.2, -0.2])
    assert r.share_met == 0.5 and r.n_measured == 4 and r.n_met == 2
    assert r.worst_margin == pytest.approx(-1.0) and r.best_margin == pytest.approx(0.5)
    assert r.mean_margin == pytest.approx((0.5 - 1.0 + 0.2 - 0.2) / 4)
    assert r.periods[0].relative_margin == pytest.approx(0.5 / 96.0)


def test_lower_is_better_and_missing_periods():
    # "respond within 30 minutes on average": value <= 30
    r = standard_attainment([1, 2, 3], [25.0, None, 31.0], "<=", 30.0)
    assert [p.met for p in r.periods] == [True, None, False]
    assert r.periods[0].margin == pytest.approx(5.0)
    assert r.periods[2].margin == pytest.approx(-1.0)
    assert r.n_measured == 2 and r.share_met == 0.5


def test_strict_comparators_and_no_data():
    assert not is_met(30.0, 30.0, "<") and is_met(30.0, 30.0, "<=")
    assert margin(8.0, 10.0, ">") == -2.0
    r = standard_attainment([1], [math.nan], ">=", [None])
    assert r.share_met is None and r.mean_margin is None
    with pytest.raises(ValueError):
        standard_attainment([1], [1.0], "==", 1.0)
