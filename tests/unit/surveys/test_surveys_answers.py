"""Answer validation (every message code), normalisation and the scoring hooks."""

from __future__ import annotations

from datetime import date

import pytest

from surveys import (
    AnswersError,
    FeedbackDimension,
    ScoredItem,
    ScoreKind,
    ServqualDimension,
    check_answer,
    extract_scores,
    load_definition,
    normalise_answers,
    validate_answers,
)

VALID = {
    "csat": 4,
    "nps": 9,
    "ces": 6,
    "speed": 5,
    "matrix": {"polite": 4, "skilled": 5},
    "reliable": {"expectation": 7, "perception": 5},
    "channel": "web",
    "comment": "fine",
    "users": 12,
    "share": 0.25,
    "visit": "2024-03-05",
}


# Importance asked the version-1 way: five number questions with a page total.
NUMBER_IMPORTANCE = {
    "schema_version": 1,
    "id": "importance",
    "version": "1",
    "title": {"zh": "重要程度", "en": "Importance"},
    "pages": [
        {
            "id": "importance",
            "totals": [{"questions": [f"imp_{d.value}" for d in ServqualDimension], "equals": 100}],
            "questions": [
                {
                    "id": f"imp_{d.value}",
                    "type": "number",
                    "servqual_dimension": d.value,
                    "required": True,
                    "min": 0,
                    "max": 100,
                    "text": {"zh": d.value, "en": d.value},
                }
                for d in ServqualDimension
            ],
        }
    ],
}


def codes(errors):
    return {key: [m.code for m in found] for key, found in errors.items()}


def test_valid_answers_have_no_errors(questionnaire):
    assert validate_answers(questionnaire, VALID) == {}


def test_every_message_is_bilingual(questionnaire):
    errors = validate_answers(questionnaire, {"csat": 9, "nps": "x", "users": 0.5, "visit": "soon", "zz": 1})
    assert errors
    for found in errors.values():
        for message in found:
            assert message.zh and message.en and message.zh != message.en


@pytest.mark.parametrize(
    ("change", "key", "code"),
    [
        ({"csat": None}, "csat", "required"),
        ({"csat": "  "}, "csat", "required"),
        ({"csat": 6}, "csat", "out_of_range"),
        ({"csat": 0}, "csat", "out_of_range"),
        ({"csat": True}, "csat", "out_of_range"),
        ({"csat": 3.5}, "csat", "out_of_range"),
        ({"nps": 11}, "nps", "out_of_range"),
        ({"nps": -1}, "nps", "out_of_range"),
        ({"ces": 8}, "ces", "out_of_range"),
        ({"speed": "five"}, "speed", "out_of_range"),
        ({"matrix": None}, "matrix", "required"),
        ({"matrix": {"polite": 4}}, "matrix.skilled", "required"),
        ({"matrix": {"polite": 4, "skilled": 6}}, "matrix.skilled", "out_of_range"),
        ({"matrix": {"polite": 4, "skilled": 5, "extra": 3}}, "matrix.extra", "unknown_item"),
        ({"matrix": [4, 5]}, "matrix", "invalid_format"),
        ({"reliable": None}, "reliable", "required"),
        ({"reliable": {"expectation": 7}}, "reliable.perception", "pair_incomplete"),
        ({"reliable": {"perception": 7}}, "reliable.expectation", "pair_incomplete"),
        ({"reliable": {"expectation": 8, "perception": 7}}, "reliable.expectation", "out_of_range"),
        ({"reliable": {"expectation": 7, "perception": 7, "gap": 0}}, "reliable.gap", "unknown_item"),
        ({"reliable": "7/7"}, "reliable", "invalid_format"),
        ({"channel": "fax"}, "channel", "not_a_choice"),
        ({"channel": ["web"]}, "channel", "not_a_choice"),
        ({"channel": "other"}, "channel.other", "other_text_required"),
        ({"channel": "other", "channel.other": "  "}, "channel.other", "other_text_required"),
        ({"channel": "other", "channel.other": "x" * 501}, "channel.other", "too_long"),
        ({"channel": "other", "channel.other": 5}, "channel.other", "not_text"),
        ({"comment": "x" * 21}, "comment", "too_long"),
        ({"comment": 42}, "comment", "not_text"),
        ({"users": "many"}, "users", "not_a_number"),
        ({"users": float("nan")}, "users", "not_a_number"),
        ({"users": True}, "users", "not_a_number"),
        ({"users": 2.5}, "users", "not_an_integer"),
        ({"users": 0}, "users", "out_of_range"),
        ({"users": "501"}, "users", "out_of_range"),
        ({"share": 1.5}, "share", "out_of_range"),
        ({"visit": "2024-02-30"}, "visit", "not_a_date"),
        ({"visit": "5 March"}, "visit", "not_a_date"),
        ({"visit": "20240305"}, "visit", "not_a_date"),
        ({"visit": "2023-12-31"}, "visit", "out_of_range"),
        ({"visit": date(2025, 1, 1)}, "visit", "out_of_range"),
        ({"mystery": 1}, "mystery", "unknown_question"),
        ({"csat.other": "x"}, "csat.other", "unknown_question"),
    ],
)
def test_each_validation_error(questionnaire, change, key, code):
    answers = {**VALID, **change}
    found = codes(validate_answers(questionnaire, answers))
    assert code in found.get(key, []), found
    assert set(found) == {key}, found  # nothing else is reported


def test_low_score_makes_the_follow_up_required(questionnaire):
    low = {**VALID, "csat": 2}
    assert codes(validate_answers(questionnaire, low)) == {"why_low": ["required"]}
    assert validate_answers(questionnaire, {**low, "why_low": ["slow"]}) == {}
    assert codes(validate_answers(questionnaire, {**low, "why_low": ["slow", "rude", "broken"]})) == {
        "why_low": ["too_many_selected"]
    }
    assert codes(validate_answers(questionnaire, {**low, "why_low": ["slow", "other"]})) == {
        "why_low.other": ["other_text_required"]
    }
    assert codes(validate_answers(questionnaire, {**low, "why_low": ["slow", "fast"]})) == {
        "why_low": ["not_a_choice"]
    }
    assert codes(validate_answers(questionnaire, {**low, "why_low": "slow"})) == {
        "why_low": ["invalid_format"]
    }


def test_hidden_questions_are_not_required_and_not_checked(questionnaire):
    # csat 4 hides why_low: even garbage there is ignored
    assert validate_answers(questionnaire, {**VALID, "why_low": ["nonsense"]}) == {}
    # page 3 is shown only for channel == phone, and its question is required then
    assert codes(validate_answers(questionnaire, {**VALID, "channel": "phone"})) == {
        "phone_wait": ["required"]
    }


def test_page_scope(questionnaire):
    answers = {"csat": 5}
    assert validate_answers(questionnaire, answers, page=0) == {}
    assert set(validate_answers(questionnaire, answers, page=1)) == {"matrix", "reliable"}
    assert set(validate_answers(questionnaire, answers)) == {"matrix", "reliable"}


def test_min_selected():
    from surveys import load_definition

    raw = {
        "schema_version": 1,
        "id": "m",
        "version": "1",
        "title": {"zh": "多选", "en": "Multi"},
        "pages": [
            {
                "id": "p",
                "questions": [
                    {
                        "id": "pick",
                        "type": "multiple_choice",
                        "text": {"zh": "选", "en": "Pick"},
                        "min_selected": 2,
                        "choices": [{"value": v, "text": {"zh": v, "en": v}} for v in "abc"],
                    }
                ],
            }
        ],
    }
    questionnaire = load_definition(raw)
    assert codes(validate_answers(questionnaire, {"pick": ["a"]})) == {"pick": ["too_few_selected"]}
    assert validate_answers(questionnaire, {"pick": []}) == {}  # optional and unanswered
    assert validate_answers(questionnaire, {"pick": ["a", "c"]}) == {}


def test_page_totals():
    servqual = load_definition(NUMBER_IMPORTANCE)
    page = 0
    shares = {"imp_tangibles": 10, "imp_reliability": 30, "imp_responsiveness": 20, "imp_assurance": 20}
    errors = validate_answers(servqual, {**shares, "imp_empathy": 10}, page=page)
    assert codes(errors) == {"imp_empathy": ["total_mismatch"]}
    assert "100" in errors["imp_empathy"][0].zh and "90" in errors["imp_empathy"][0].en
    assert validate_answers(servqual, {**shares, "imp_empathy": 20}, page=page) == {}
    assert set(validate_answers(servqual, {}, page=page)) == set(shares) | {
        "imp_empathy"
    }  # required, no total


def test_normalise_coerces_and_drops(questionnaire):
    raw = {
        "csat": "5",
        "why_low": ["slow"],  # hidden by csat 5
        "nps": " 10 ",
        "ces": "",
        "matrix": {"polite": "4", "skilled": ""},
        "channel": "web",
        "channel.other": "left over",  # "other" not chosen
        "comment": "  spaced  ",
        "users": "12",
        "share": "0.5",
        "visit": date(2024, 3, 5),
        "mystery": "x",
    }
    assert normalise_answers(questionnaire, raw) == {
        "csat": 5,
        "nps": 10,
        "matrix": {"polite": 4},
        "channel": "web",
        "comment": "spaced",
        "users": 12,
        "share": 0.5,
        "visit": "2024-03-05",
    }


def test_normalise_keeps_other_text_and_choice_order(questionnaire):
    raw = {"csat": 1, "why_low": ["other", "slow", "slow"], "why_low.other": " 没人接电话 "}
    clean = normalise_answers(questionnaire, raw)
    assert clean["why_low"] == ["slow", "other"] and clean["why_low.other"] == "没人接电话"


def test_normalise_rejects_values_it_cannot_coerce(questionnaire):
    with pytest.raises(AnswersError) as caught:
        normalise_answers(questionnaire, {"csat": 7, "users": "many"})
    assert set(caught.value.errors) == {"csat", "users"}
    assert isinstance(caught.value, ValueError)


def test_normalise_does_not_require(questionnaire):
    assert normalise_answers(questionnaire, {}) == {}


def test_check_answer_directly(questionnaire):
    checked = check_answer(questionnaire.question("nps"), "0", required=True)
    assert checked.value == 0 and checked.errors == {}


def test_extract_scores(questionnaire):
    answers = {**VALID, "why_low": ["slow"]}
    items = extract_scores(questionnaire, answers)
    fault, staff, quality, reliability = (
        FeedbackDimension.FAULT_HANDLING,
        FeedbackDimension.STAFF_ATTITUDE,
        FeedbackDimension.DELIVERABLE_QUALITY,
        ServqualDimension.RELIABILITY,
    )
    assert items == [
        ScoredItem("csat", ScoreKind.CSAT, 4, 1, 5, fault, None, "STD-7.1"),
        ScoredItem("nps", ScoreKind.NPS, 9, 0, 10, None, None, None),
        ScoredItem("ces", ScoreKind.CES, 6, 1, 7, None, None, None),
        ScoredItem("speed", ScoreKind.RATING, 5, 1, 5, FeedbackDimension.RESPONSE_SPEED, None, None),
        ScoredItem("matrix", ScoreKind.LIKERT, 4, 1, 5, staff, None, None, row_id="polite"),
        ScoredItem("matrix", ScoreKind.LIKERT, 5, 1, 5, quality, None, "STD-2", row_id="skilled"),
        ScoredItem("reliable", ScoreKind.SERVQUAL_EXPECTATION, 7, 1, 7, None, reliability, None),
        ScoredItem("reliable", ScoreKind.SERVQUAL_PERCEPTION, 5, 1, 7, None, reliability, None),
    ]


def test_extract_scores_skips_hidden_and_blank(questionnaire):
    items = extract_scores(questionnaire, {"csat": "2", "nps": ""})
    assert [(i.question_id, i.value) for i in items] == [("csat", 2)]


def test_extract_servqual_importance():
    servqual = load_definition(NUMBER_IMPORTANCE)
    answers = {
        "imp_tangibles": 10,
        "imp_reliability": 30,
        "imp_responsiveness": 20,
        "imp_assurance": 20,
        "imp_empathy": 20,
    }
    items = extract_scores(servqual, answers)
    assert {
        i.servqual_dimension.value: i.value for i in items if i.kind is ScoreKind.SERVQUAL_IMPORTANCE
    } == {"tangibles": 10, "reliability": 30, "responsiveness": 20, "assurance": 20, "empathy": 20}
    assert all((i.scale_min, i.scale_max) == (0, 100) for i in items)
