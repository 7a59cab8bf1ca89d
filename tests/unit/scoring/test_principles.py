"""The five-principle check: a worked passing and failing case for each principle."""

from dataclasses import replace

import pytest

from scoring.principles import PRINCIPLES, StandardSpec, check_principles

GOOD = StandardSpec(
    code="PHONE-01",
    statement_zh="96% 的来电在铃响 3 声内接听",
    statement_en="96% of calls are answered within 3 rings",
    metric="calls answered within 3 rings",
    measured_by="kpi",
    comparator=">=",
    target=96.0,
    unit="%",
    window="month",
    time_limit_minutes=0.25,
    procedure="Hotline roster with two agents on standby; overflow to the second-line queue",
    customer_need="Users reach a person quickly when a system is down",
    need_confirmed_by_customer=True,
)
HISTORY = [96.4, 97.1, 95.8, 96.9, 97.3, 96.2, 96.0, 97.0]


def test_good_standard_passes_all_five():
    report = check_principles(GOOD, HISTORY)
    assert report.passed
    assert [r.principle for r in report.results] == list(PRINCIPLES)
    assert all(r.reason_zh and r.reason_en for r in report.results)
    assert report.result("feasible").code == "feasible_ok"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"statement_zh": "尽快接听来电", "statement_en": "Answer calls promptly"}, "explicit_vague"),
        ({"statement_zh": "接听来电", "statement_en": "Calls are answered"}, "explicit_no_quantity"),
        ({"target": None}, "explicit_no_target"),
        ({"unit": None}, "explicit_no_unit"),
        ({"comparator": "=="}, "explicit_no_comparator"),
    ],
)
def test_explicit_fails(change, code):
    result = check_principles(replace(GOOD, **change)).result("explicit")
    assert not result.passed and result.code == code


def test_explicit_accepts_chinese_numerals():
    spec = replace(GOOD, statement_zh="来电在铃响三声内接听", statement_en="Calls are answered")
    assert check_principles(spec).result("explicit").passed


def test_vague_word_named_in_reason():
    r = check_principles(replace(GOOD, statement_zh="及时响应", statement_en="Respond promptly")).result(
        "explicit"
    )
    assert "及时" in r.reason_zh and "promptly" in r.reason_en


@pytest.mark.parametrize(
    ("change", "code"),
    [({"measured_by": "gut_feeling"}, "measurable_no_source"), ({"target": None}, "measurable_no_target")],
)
def test_measurable_fails(change, code):
    result = check_principles(replace(GOOD, **change)).result("measurable")
    assert not result.passed and result.code == code


def test_measurable_passes_for_each_source():
    for source in ("kpi", "phone_callback", "sampling_comparison", "questionnaire", "feedback_record"):
        assert check_principles(replace(GOOD, measured_by=source)).result("measurable").passed


def test_feasible_fails_without_procedure():
    result = check_principles(replace(GOOD, procedure="  ")).result("feasible")
    assert not result.passed and result.code == "feasible_no_procedure"


def test_feasible_flags_unreachable_target_with_actionable_reason():
    spec = replace(GOOD, target=99.9)
    history = [95.0, 96.2, 97.1, 96.0, 95.5, 96.8, 97.0, 96.4]
    result = check_principles(spec, history).result("feasible")
    assert not result.passed and result.code == "feasible_unreachable"
    assert result.reason_en == (
        "Target 99.9% was never reached in the last 8 periods (best 97.1%); lower it or change the process."
    )
    assert "99.9%" in result.reason_zh and "97.1%" in result.reason_zh


def test_feasible_flags_too_weak_target():
    # Target 80%: every period beats it by >= 15.8 points; the wide margin is
    # max(2 x SD (about 1.3), 10% of 80 = 8) = 8.
    result = check_principles(replace(GOOD, target=80.0), HISTORY).result("feasible")
    assert not result.passed and result.code == "feasible_too_weak"
    assert "95.8%" in result.reason_en  # suggests raising towards the worst period


def test_feasible_lower_is_better_and_short_history():
    spec = replace(GOOD, comparator="<=", target=30.0, unit="min", statement_en="Respond within 30 minutes")
    assert check_principles(spec, [28, 31, 29, 33, 27]).result("feasible").passed
    assert check_principles(spec, [35, 36, 34, 38]).result("feasible").code == "feasible_unreachable"
    # Issue 14: a short history is still history (two periods over 30 minutes: unreachable), and no
    # history never passes ("fewer than 4 measured periods" once passed an unreachable rule).
    short = check_principles(spec, [35, 36]).result("feasible")
    assert not short.passed and short.code == "feasible_unreachable"
    assert check_principles(spec, [29]).result("feasible").code == "feasible_ok"
    for none in (None, [], [float("nan")]):
        empty = check_principles(spec, none).result("feasible")
        assert not empty.passed and empty.code == "feasible_no_history" and "history" in empty.reason_en


def test_timely_needs_window_and_time_limit_for_time_based_metrics():
    assert check_principles(replace(GOOD, window=None)).result("timely").code == "timely_no_window"
    no_limit = check_principles(replace(GOOD, time_limit_minutes=None)).result("timely")
    assert not no_limit.passed and no_limit.code == "timely_no_time_limit"
    not_time_based = replace(
        GOOD,
        metric="training materials rated useful",
        statement_zh="90% 的学员认为培训资料有用",
        statement_en="90% of trainees rate the materials useful",
        time_limit_minutes=None,
    )
    assert check_principles(not_time_based).result("timely").passed


def test_aligned_needs_a_confirmed_customer_need():
    assert check_principles(replace(GOOD, customer_need=None)).result("aligned").code == "aligned_no_need"
    unconfirmed = check_principles(replace(GOOD, need_confirmed_by_customer=False))
    assert unconfirmed.result("aligned").code == "aligned_not_confirmed"
    assert not unconfirmed.passed
