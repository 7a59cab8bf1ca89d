"""Show-if logic: every op, nested any/all, hidden questions' answers, page skipping."""

from __future__ import annotations

from typing import Any

import pytest

from surveys import (
    AllOf,
    AnyOf,
    Comparison,
    ConditionOp,
    is_visible,
    load_definition,
    next_page,
    page_count,
    previous_page,
    shown_pages,
    visible_questions,
)
from surveys.logic import evaluate, partially_evaluate


def q(qid: str, qtype: str, **extra: Any) -> dict[str, Any]:
    return {"id": qid, "type": qtype, "text": {"zh": "题", "en": "Q"}, **extra}


SCALE = {"min": 1, "max": 5, "min_label": {"zh": "差", "en": "Bad"}, "max_label": {"zh": "好", "en": "Good"}}
CHOICES = [{"value": v, "text": {"zh": v, "en": v}} for v in ("a", "b", "c")]


def one_page(condition: dict[str, Any]):
    return load_definition(
        {
            "schema_version": 1,
            "id": "logic",
            "version": "1",
            "title": {"zh": "逻辑", "en": "Logic"},
            "pages": [
                {
                    "id": "p",
                    "questions": [
                        q("score", "csat"),
                        q("one", "single_choice", choices=CHOICES, other=True),
                        q("many", "multiple_choice", choices=CHOICES),
                        q(
                            "grid",
                            "likert_matrix",
                            scale=SCALE,
                            rows=[{"id": "r1", "text": {"zh": "行", "en": "R"}}],
                        ),
                        q("pair", "servqual", servqual_dimension="empathy"),
                        q("day", "date"),
                        q("count", "number"),
                        q("note", "text"),
                        q("target", "text", show_if=condition),
                    ],
                }
            ],
        }
    )


CASES = [
    ({"question": "score", "op": "==", "value": 3}, {"score": 3}, True),
    ({"question": "score", "op": "==", "value": 3}, {"score": "3"}, True),  # form data is coerced first
    ({"question": "score", "op": "==", "value": 3}, {"score": 4}, False),
    ({"question": "score", "op": "!=", "value": 3}, {"score": 4}, True),
    ({"question": "score", "op": "!=", "value": 3}, {}, False),  # unanswered: only `answered` can be true
    ({"question": "score", "op": "<", "value": 3}, {"score": 2}, True),
    ({"question": "score", "op": "<", "value": 3}, {"score": 3}, False),
    ({"question": "score", "op": "<=", "value": 2}, {"score": 2}, True),
    ({"question": "score", "op": "<=", "value": 2}, {"score": 3}, False),
    ({"question": "score", "op": ">", "value": 3}, {"score": 4}, True),
    ({"question": "score", "op": ">", "value": 3}, {"score": 3}, False),
    ({"question": "score", "op": ">=", "value": 4}, {"score": 4}, True),
    ({"question": "score", "op": ">=", "value": 4}, {"score": 1}, False),
    ({"question": "score", "op": "<=", "value": 2}, {"score": 9}, False),  # invalid answer counts as none
    ({"question": "score", "op": "in", "value": [1, 5]}, {"score": 5}, True),
    ({"question": "score", "op": "in", "value": [1, 5]}, {"score": 4}, False),
    ({"question": "score", "op": "answered"}, {"score": 1}, True),
    ({"question": "score", "op": "answered"}, {"score": ""}, False),
    ({"question": "score", "op": "answered", "value": False}, {}, True),
    ({"question": "one", "op": "==", "value": "b"}, {"one": "b"}, True),
    ({"question": "one", "op": "in", "value": ["a", "c"]}, {"one": "b"}, False),
    ({"question": "one", "op": "==", "value": "other"}, {"one": "other", "one.other": "x"}, True),
    ({"question": "one.other", "op": "==", "value": "x"}, {"one": "other", "one.other": " x "}, True),
    ({"question": "many", "op": "==", "value": "b"}, {"many": ["a", "b"]}, True),
    ({"question": "many", "op": "==", "value": "c"}, {"many": ["a", "b"]}, False),
    ({"question": "many", "op": "!=", "value": "c"}, {"many": ["a", "b"]}, True),
    ({"question": "many", "op": "in", "value": ["c", "b"]}, {"many": ["b"]}, True),
    ({"question": "many", "op": "in", "value": ["c"]}, {"many": ["a"]}, False),
    ({"question": "grid.r1", "op": "<=", "value": 2}, {"grid": {"r1": 1}}, True),
    ({"question": "grid.r1", "op": "<=", "value": 2}, {"grid": {"r1": 4}}, False),
    ({"question": "grid", "op": "answered"}, {"grid": {"r1": 4}}, True),
    (
        {"question": "pair.perception", "op": "<", "value": 4},
        {"pair": {"expectation": 7, "perception": 3}},
        True,
    ),
    ({"question": "day", "op": "<", "value": "2024-06-01"}, {"day": "2024-05-31"}, True),
    ({"question": "day", "op": "<", "value": "2024-06-01"}, {"day": "2024-06-01"}, False),
    ({"question": "count", "op": ">", "value": 10}, {"count": "11"}, True),
    ({"question": "note", "op": "==", "value": "ok"}, {"note": "ok"}, True),
]


@pytest.mark.parametrize(("condition", "answers", "expected"), CASES)
def test_each_op(condition, answers, expected):
    questionnaire = one_page(condition)
    assert is_visible(questionnaire, answers, "target") is expected


def test_nested_any_all():
    condition = {
        "any": [
            {
                "all": [
                    {"question": "score", "op": "<=", "value": 2},
                    {"question": "one", "op": "==", "value": "a"},
                ]
            },
            {
                "all": [
                    {"question": "score", "op": ">=", "value": 4},
                    {
                        "any": [
                            {"question": "many", "op": "==", "value": "c"},
                            {"question": "count", "op": ">", "value": 100},
                        ]
                    },
                ]
            },
        ]
    }
    questionnaire = one_page(condition)
    truth = {
        (1, "a", (), 0): True,
        (1, "b", (), 0): False,
        (5, "a", ("c",), 0): True,
        (5, "a", (), 101): True,
        (5, "a", (), 100): False,
        (3, "a", ("c",), 101): False,
    }
    for (score, one, many, count), expected in truth.items():
        answers = {"score": score, "one": one, "many": list(many), "count": count}
        assert is_visible(questionnaire, answers, "target") is expected, answers


def test_answers_to_hidden_questions_do_not_count():
    questionnaire = load_definition(
        {
            "schema_version": 1,
            "id": "chain",
            "version": "1",
            "title": {"zh": "链", "en": "Chain"},
            "pages": [
                {
                    "id": "p",
                    "questions": [
                        q("a", "csat"),
                        q("b", "csat", show_if={"question": "a", "op": "<=", "value": 2}),
                        q("c", "text", show_if={"question": "b", "op": "answered"}),
                    ],
                }
            ],
        }
    )
    shown = [question.id for question in visible_questions(questionnaire, {"a": 1, "b": 1})]
    assert shown == ["a", "b", "c"]
    # a no longer low: b hidden, so its stale answer cannot show c either
    shown = [question.id for question in visible_questions(questionnaire, {"a": 5, "b": 1})]
    assert shown == ["a"]


def paged():
    def page(pid: str, *questions: dict[str, Any], show_if: dict[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": pid, "questions": list(questions)}
        if show_if:
            out["show_if"] = show_if
        return out

    return load_definition(
        {
            "schema_version": 1,
            "id": "pages",
            "version": "1",
            "title": {"zh": "分页", "en": "Paging"},
            "pages": [
                page("start", q("reached", "single_choice", choices=CHOICES)),
                page("low", q("why", "text", show_if={"question": "reached", "op": "==", "value": "b"})),
                page("main", q("score", "csat"), show_if={"question": "reached", "op": "==", "value": "a"}),
                page(
                    "mixed",
                    q("always", "text"),
                    q("sometimes", "text", show_if={"question": "score", "op": "<", "value": 3}),
                ),
                page("end", q("bye", "text", show_if={"question": "reached", "op": "answered"})),
            ],
        }
    )


def test_page_count_and_first_page():
    questionnaire = paged()
    assert page_count(questionnaire) == 5
    assert next_page(questionnaire, {}, None) == 0
    assert next_page(questionnaire, {}, -1) == 0


def test_next_page_skips_pages_whose_questions_are_all_hidden():
    questionnaire = paged()
    a = {"reached": "a"}
    assert next_page(questionnaire, a, 0) == 2  # "low" hidden
    assert next_page(questionnaire, a, 2) == 3
    assert next_page(questionnaire, a, 3) == 4
    assert next_page(questionnaire, a, 4) is None
    b = {"reached": "b"}
    assert shown_pages(questionnaire, b) == (0, 1, 3, 4)  # page show_if hides "main"
    assert next_page(questionnaire, b, 1) == 3
    assert previous_page(questionnaire, b, 3) == 1
    assert previous_page(questionnaire, b, 0) is None
    assert shown_pages(questionnaire, {}) == (0, 3)  # nothing answered: "end" needs an answer


def test_page_show_if_hides_its_questions():
    questionnaire = paged()
    assert not is_visible(questionnaire, {"reached": "b", "score": 1}, "score")
    assert is_visible(questionnaire, {"reached": "a", "score": 1}, "sometimes")
    assert not is_visible(
        questionnaire, {"reached": "b", "score": 1}, "sometimes"
    )  # score hidden, so unanswered


def test_is_visible_rejects_unknown_ids():
    with pytest.raises(KeyError):
        is_visible(paged(), {}, "nope")


def test_partially_evaluate_settles_known_questions():
    low = Comparison("a", ConditionOp.LE, 2)
    same_page = Comparison("b", ConditionOp.ANSWERED, True)
    known = {"a"}
    assert partially_evaluate(AllOf((low, same_page)), known, {"a": 1}, {}) == same_page
    assert partially_evaluate(AllOf((low, same_page)), known, {"a": 5}, {}) is False
    assert partially_evaluate(AnyOf((low, same_page)), known, {"a": 1}, {}) is True
    assert partially_evaluate(AnyOf((low, same_page)), known, {"a": 5}, {}) == same_page
    assert partially_evaluate(AllOf((low, low)), known, {"a": 1}, {}) is True
    assert partially_evaluate(AnyOf((low, low)), known, {}, {}) is False
    both = AnyOf((same_page, Comparison("c", ConditionOp.EQ, "x")))
    assert partially_evaluate(both, known, {}, {}) == both


def test_evaluate_tolerates_unlike_types_in_hand_built_conditions():
    assert evaluate(Comparison("a", ConditionOp.LT, "x"), {"a": 1}, {}) is False
