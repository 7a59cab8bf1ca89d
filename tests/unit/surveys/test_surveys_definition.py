"""Loading definitions: every question type, type defaults, path-named errors, dump/load round trip."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from surveys import (
    OTHER,
    AllOf,
    AnyOf,
    Comparison,
    ConditionOp,
    DefinitionError,
    FeedbackDimension,
    QuestionType,
    ServqualDimension,
    Text,
    definition_fingerprint,
    dump_definition,
    load_definition,
)


def issues(raw: Any) -> dict[str, str]:
    """{path: English message} of a definition that must fail; each message also has Chinese."""
    with pytest.raises(DefinitionError) as caught:
        load_definition(raw)
    for issue in caught.value.errors:
        assert issue.message.zh and issue.message.en and issue.message.code
    return {path: message.en for path, message in caught.value.errors}


def test_every_question_type_loads(questionnaire):
    types = {q.type for q in questionnaire.questions()}
    assert types == set(QuestionType)
    assert questionnaire.version == "3" and questionnaire.schema_version == 1
    assert questionnaire.title == Text(zh="全部题型", en="Every question type")


def test_fixed_scales_and_anchors_come_from_the_type(questionnaire):
    csat, nps, ces = (questionnaire.question(i) for i in ("csat", "nps", "ces"))
    assert (csat.scale.min, csat.scale.max) == (1, 5)
    assert csat.scale.min_label.zh == "非常不满意" and csat.scale.max_label.zh == "非常满意"
    assert list(nps.scale.points) == list(range(11))
    assert (ces.scale.min, ces.scale.max) == (1, 7)
    servqual = questionnaire.question("reliable")
    assert (servqual.scale.min, servqual.scale.max) == (1, 7)


def test_type_specific_fields(questionnaire):
    why = questionnaire.question("why_low")
    assert [c.value for c in why.choices] == ["slow", "rude", "broken"]
    assert why.other is not None and why.other.zh == "其他（请注明）"
    assert why.max_selected == 2
    assert why.show_if == Comparison("csat", ConditionOp.LE, 2)
    assert questionnaire.question("channel").other == Text(zh="别的渠道", en="Another channel")
    users = questionnaire.question("users")
    assert (users.min_value, users.max_value, users.integer) == (1, 500, True)
    assert questionnaire.question("share").integer is False
    visit = questionnaire.question("visit")
    assert (visit.min_date, visit.max_date) == (date(2024, 1, 1), date(2024, 12, 31))
    comment = questionnaire.question("comment")
    assert (comment.max_length, comment.multiline) == (20, False)


def test_tags(questionnaire):
    csat = questionnaire.question("csat")
    assert csat.tags.feedback_dimension is FeedbackDimension.FAULT_HANDLING
    assert csat.tags.standard_code == "STD-7.1"
    assert questionnaire.question("reliable").tags.servqual_dimension is ServqualDimension.RELIABILITY
    skilled = questionnaire.question("matrix").rows[1]
    assert skilled.tags.feedback_dimension is FeedbackDimension.DELIVERABLE_QUALITY


def test_yaml_and_json_text_load_to_the_same_questionnaire(raw_definition, questionnaire):
    assert load_definition(json.dumps(raw_definition, ensure_ascii=False)) == questionnaire
    yaml_text = """
schema_version: 1
id: tiny
version: 2
title: {zh: 小问卷, en: Tiny}
pages:
  - id: p
    questions:
      - {id: a, type: csat, text: {zh: 满意吗, en: Satisfied}}
"""
    tiny = load_definition(yaml_text.encode("utf-8"))
    assert tiny.version == "2" and tiny.question("a").type is QuestionType.CSAT


def test_round_trip(questionnaire):
    dumped = dump_definition(questionnaire)
    assert load_definition(dumped) == questionnaire
    assert load_definition(json.dumps(dumped)) == questionnaire  # JSON-compatible
    assert dump_definition(load_definition(dumped)) == dumped


def test_dump_leaves_out_defaults(questionnaire):
    csat = dump_definition(questionnaire)["pages"][0]["questions"][0]
    assert "scale" not in csat and "help" not in csat
    why = dump_definition(questionnaire)["pages"][0]["questions"][4]
    assert why["other"] is True


def test_round_trip_of_conditions(raw_definition):
    raw_definition["pages"][1]["questions"][1]["show_if"] = {
        "any": [
            {
                "all": [
                    {"question": "csat", "op": ">=", "value": 4},
                    {"question": "nps", "op": "in", "value": [9, 10]},
                ]
            },
            {"question": "why_low", "op": "answered"},
            {"question": "speed", "op": "answered", "value": False},
        ]
    }
    loaded = load_definition(raw_definition)
    condition = loaded.question("reliable").show_if
    assert isinstance(condition, AnyOf) and isinstance(condition.conditions[0], AllOf)
    assert condition.conditions[0].conditions[1] == Comparison("nps", ConditionOp.IN, (9, 10))
    assert load_definition(dump_definition(loaded)) == loaded


def test_fingerprint_is_sha256_of_canonical_json_and_tracks_changes(raw_definition, questionnaire):
    import hashlib

    canonical = json.dumps(
        dump_definition(questionnaire), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert definition_fingerprint(questionnaire) == hashlib.sha256(canonical.encode()).hexdigest()
    # key order and explicit defaults do not matter ...
    raw_definition["pages"][0]["questions"][1]["required"] = False
    assert definition_fingerprint(load_definition(dict(reversed(raw_definition.items())))) == (
        definition_fingerprint(questionnaire)
    )
    # ... a changed label does
    raw_definition["pages"][0]["questions"][1]["text"]["zh"] = "推荐"
    assert definition_fingerprint(load_definition(raw_definition)) != definition_fingerprint(questionnaire)


def q(qid: str, qtype: str, **extra: Any) -> dict[str, Any]:
    return {"id": qid, "type": qtype, "text": {"zh": "题", "en": "Q"}, **extra}


def doc(*pages: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "schema_version": 1,
        "id": "d",
        "version": "1",
        "title": {"zh": "问卷", "en": "Survey"},
    }
    raw["pages"] = [{"id": f"p{i}", "questions": questions} for i, questions in enumerate(pages)]
    raw.update(top)
    return raw


SCALE = {"min": 1, "max": 5, "min_label": {"zh": "差", "en": "Bad"}, "max_label": {"zh": "好", "en": "Good"}}
CHOICES = [{"value": "a", "text": {"zh": "甲", "en": "A"}}, {"value": "b", "text": {"zh": "乙", "en": "B"}}]


@pytest.mark.parametrize(
    ("raw", "path", "fragment"),
    [
        (
            doc([q("a", "rating", scale={**SCALE, "max": 1})]),
            "pages[0].questions[0].scale.max",
            "greater than min",
        ),
        (
            doc([q("a", "rating", scale={**SCALE, "min": 0, "max": 11})]),
            "pages[0].questions[0].scale.max",
            "at most 11 points",
        ),
        (doc([q("a", "rating")]), "pages[0].questions[0].scale", "required"),
        (
            doc([q("a", "rating", scale={"min": 1, "max": 5})]),
            "pages[0].questions[0].scale.min_label",
            "required",
        ),
        (doc([q("a", "csat", scale={"min": 0, "max": 10})]), "pages[0].questions[0].scale.min", "1-5"),
        (doc([q("a", "nps", scale={"min": 1})]), "pages[0].questions[0].scale.min", "0-10"),
        (doc([q("a", "rating", scale={**SCALE, "min": "1"})]), "pages[0].questions[0].scale.min", "integer"),
        (
            doc([q("a", "text", text={"zh": "只有中文"})]),
            "pages[0].questions[0].text.en",
            "English text is required",
        ),
        (
            doc([q("a", "text", text={"en": "English only", "zh": " "})]),
            "pages[0].questions[0].text.zh",
            "Chinese text is required",
        ),
        (
            doc([q("a", "text", help={"zh": "帮助", "en": True})]),
            "pages[0].questions[0].help.en",
            "quote yes/no",
        ),
        (doc([q("a", "text"), q("a", "text")]), "pages[0].questions[1].id", "duplicate question id"),
        (doc([q("a", "text")], [q("a", "number")]), "pages[1].questions[0].id", "duplicate question id"),
        (doc([q("1a", "text")]), "pages[0].questions[0].id", "letter"),
        (doc([q("a.b", "text")]), "pages[0].questions[0].id", "letter"),
        (doc([q("a", "slider")]), "pages[0].questions[0].type", "must be one of"),
        (doc([q("a", "text", **{"show-if": {}})]), "pages[0].questions[0].show-if", "unknown field"),
        (doc([q("a", "text", scale=SCALE)]), "pages[0].questions[0].scale", "unknown field"),
        (doc([q("a", "text", required="yes")]), "pages[0].questions[0].required", "true or false"),
        (
            doc([q("a", "csat", feedback_dimension="speed")]),
            "pages[0].questions[0].feedback_dimension",
            "response_speed",
        ),
        (
            doc([q("a", "csat", servqual_dimension="trust")]),
            "pages[0].questions[0].servqual_dimension",
            "empathy",
        ),
        (doc([q("a", "csat", standard_code="has space")]), "pages[0].questions[0].standard_code", "letters"),
        (doc([q("a", "servqual")]), "pages[0].questions[0].servqual_dimension", "required"),
        (doc([q("a", "single_choice")]), "pages[0].questions[0].choices", "required"),
        (doc([q("a", "single_choice", choices=[])]), "pages[0].questions[0].choices", "must not be empty"),
        (
            doc([q("a", "single_choice", choices=[*CHOICES, CHOICES[0]])]),
            "pages[0].questions[0].choices[2].value",
            "duplicate choice",
        ),
        (
            doc([q("a", "single_choice", choices=[{"value": True, "text": {"zh": "是", "en": "Yes"}}])]),
            "pages[0].questions[0].choices[0].value",
            "quote yes/no",
        ),
        (
            doc([q("a", "single_choice", choices=[{"value": OTHER, "text": {"zh": "其他", "en": "Other"}}])]),
            "pages[0].questions[0].choices[0].value",
            "reserved",
        ),
        (
            doc([q("a", "multiple_choice", choices=CHOICES, min_selected=2, max_selected=1)]),
            "pages[0].questions[0].max_selected",
            "less than min_selected",
        ),
        (
            doc([q("a", "multiple_choice", choices=CHOICES, max_selected=3)]),
            "pages[0].questions[0].max_selected",
            "at most 2",
        ),
        (
            doc(
                [
                    q(
                        "a",
                        "likert_matrix",
                        scale=SCALE,
                        rows=[{"id": "r", "text": {"zh": "行", "en": "Row"}}] * 2,
                    )
                ]
            ),
            "pages[0].questions[0].rows[1].id",
            "duplicate row id",
        ),
        (doc([q("a", "likert_matrix", scale=SCALE)]), "pages[0].questions[0].rows", "required"),
        (doc([q("a", "number", min=10, max=1)]), "pages[0].questions[0].max", "less than min"),
        (doc([q("a", "number", min="ten")]), "pages[0].questions[0].min", "number"),
        (doc([q("a", "date", min="2024-13-01")]), "pages[0].questions[0].min", "YYYY-MM-DD"),
        (doc([q("a", "text", max_length=0)]), "pages[0].questions[0].max_length", "at least 1"),
        (doc([]), "pages[0].questions", "must not be empty"),
        (doc([q("a", "text")], schema_version=2), "schema_version", "unsupported schema_version 2"),
        (doc([q("a", "text")], version=""), "version", "non-empty"),
        (doc([q("a", "text")], colour="red"), "colour", "unknown field"),
        ({"id": "d"}, "schema_version", "required"),
        ([1, 2], "", "mapping"),
    ],
)
def test_definition_errors_name_the_path(raw, path, fragment):
    found = issues(raw)
    assert path in found, found
    assert fragment in found[path]


def show_if_doc(condition: dict[str, Any], *, later: bool = False) -> dict[str, Any]:
    questions = [
        q("score", "csat"),
        q("pick", "multiple_choice", choices=CHOICES, other=True),
        q("grid", "likert_matrix", scale=SCALE, rows=[{"id": "r1", "text": {"zh": "行", "en": "Row"}}]),
        q("when", "date"),
        q("note", "text"),
        q("target", "text", show_if=condition),
    ]
    if later:
        questions.append(q("later", "number"))
    return doc(questions)


@pytest.mark.parametrize(
    ("condition", "path", "fragment"),
    [
        ({"question": "later", "op": "==", "value": 1}, "show_if.question", "earlier question"),
        ({"question": "target", "op": "answered"}, "show_if.question", "earlier question"),
        ({"question": "nowhere", "op": "answered"}, "show_if.question", "no question 'nowhere'"),
        ({"question": "score", "op": "=~", "value": 1}, "show_if.op", "must be one of"),
        ({"question": "score", "op": "=="}, "show_if.value", "required"),
        ({"question": "score", "op": "==", "value": 9}, "show_if.value", "1-5 scale"),
        ({"question": "score", "op": "<", "value": "low"}, "show_if.value", "number"),
        ({"question": "score", "op": "in", "value": 3}, "show_if.value", "non-empty list"),
        ({"question": "score", "op": "in", "value": [3, 6]}, "show_if.value[1]", "1-5 scale"),
        ({"question": "pick", "op": "==", "value": "c"}, "show_if.value", "not a choice"),
        ({"question": "pick", "op": ">", "value": "a"}, "show_if.op", "does not apply"),
        ({"question": "grid", "op": "==", "value": 1}, "show_if.op", "does not apply"),
        ({"question": "grid.r2", "op": "==", "value": 1}, "show_if.question", "names no part"),
        ({"question": "when", "op": "<", "value": "soon"}, "show_if.value", "YYYY-MM-DD"),
        ({"question": "score", "op": "answered", "value": "yes"}, "show_if.value", "true or false"),
        ({"question": "score", "op": "<=", "value": 2, "extra": 1}, "show_if.extra", "unknown field"),
        ({"any": []}, "show_if.any", "must not be empty"),
        (
            {
                "any": [
                    {"question": "score", "op": "<=", "value": 2},
                    {"all": [{"question": "later", "op": "answered"}]},
                ]
            },
            "show_if.any[1].all[0].question",
            "earlier question",
        ),
        ({"any": [{"question": "score", "op": "<=", "value": 2}], "all": []}, "show_if.all", "unknown field"),
    ],
)
def test_show_if_errors_name_the_path(condition, path, fragment):
    found = issues(show_if_doc(condition, later=True))
    full = f"pages[0].questions[5].{path}"
    assert full in found, found
    assert fragment in found[full]


@pytest.mark.parametrize(
    "condition",
    [
        {"question": "grid.r1", "op": ">=", "value": 4},
        {"question": "pick", "op": "in", "value": ["a", OTHER]},
        {"question": "pick.other", "op": "answered"},
        {"question": "when", "op": "<", "value": "2024-06-01"},
        {"question": "note", "op": "==", "value": "ok"},
        {"question": "grid", "op": "answered", "value": False},
    ],
)
def test_valid_conditions_load(condition):
    load_definition(show_if_doc(condition))


def test_page_show_if_may_only_read_earlier_pages():
    raw = doc([q("a", "csat")], [q("b", "csat")])
    raw["pages"][1]["show_if"] = {"question": "b", "op": "answered"}
    assert "earlier question" in issues(raw)["pages[1].show_if.question"]
    raw["pages"][1]["show_if"] = {"question": "a", "op": "answered"}
    assert load_definition(raw).pages[1].show_if == Comparison("a", ConditionOp.ANSWERED, True)


def test_totals_must_name_number_questions_on_the_page():
    raw = doc([q("x", "number"), q("y", "number"), q("z", "text")])
    raw["pages"][0]["totals"] = [{"questions": ["x", "z"], "equals": 100}]
    assert "not a number question" in issues(raw)["pages[0].totals[0].questions[1]"]
    raw["pages"][0]["totals"] = [{"questions": ["x"], "equals": 100}]
    assert "at least 2" in issues(raw)["pages[0].totals[0].questions"]
    raw["pages"][0]["totals"] = [{"questions": ["x", "y"]}]
    assert "required" in issues(raw)["pages[0].totals[0].equals"]


def test_all_errors_are_reported_at_once():
    raw = doc([q("a", "rating", scale={**SCALE, "max": 0}), q("b", "text", text={"zh": "中"})])
    found = issues(raw)
    assert {"pages[0].questions[0].scale.max", "pages[0].questions[1].text.en"} <= set(found)


def test_error_text_lists_paths():
    with pytest.raises(DefinitionError) as caught:
        load_definition(doc([q("a", "rating", scale={**SCALE, "max": 1})]))
    assert "pages[0].questions[0].scale.max: must be greater than min" in str(caught.value)
    assert str(caught.value.errors[0]) == "pages[0].questions[0].scale.max: must be greater than min"
    assert caught.value.errors[0].message.zh == "必须大于 min"


def test_syntax_errors_are_definition_errors():
    found = issues("title: {zh: 问卷\npages: [")
    assert "not valid YAML/JSON" in found[""]


def test_a_duplicate_key_is_reported_with_its_line_instead_of_silently_replaced():
    text = (
        "schema_version: 1\nid: dup\nversion: 1\ntitle: {zh: 问卷, en: Survey}\n"
        "pages:\n  - questions:\n      - id: a\n        type: csat\n"
        "        text: {zh: 满意吗, en: Satisfied?}\n        text: {zh: 第二, en: Second}\n"
    )
    with pytest.raises(DefinitionError) as caught:
        load_definition(text)
    (issue,) = caught.value.errors
    assert issue.message.code == "duplicate_key"
    assert issue.message.en.startswith("duplicate key 'text' (line 10, column 9)")
    assert "重复" in issue.message.zh and "第 10 行" in issue.message.zh


def test_a_duplicate_key_in_json_is_reported_too():
    with pytest.raises(DefinitionError) as caught:
        load_definition('{"schema_version": 1, "id": "x", "id": "y"}')
    assert caught.value.errors[0].message.code == "duplicate_key"
