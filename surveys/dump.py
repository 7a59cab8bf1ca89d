"""Writing a `Questionnaire` back to its definition dict, and the fingerprint of a published version.

`dump_definition` leaves out every value the loader would fill in by default, so
`load_definition(dump_definition(q)) == q` and re-saving an unchanged definition keeps its
fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from surveys.defaults import CONSTANT_SUM_TOTAL, DEFAULT_SCALES, OTHER_LABEL
from surveys.model import (
    AllOf,
    AnyOf,
    Condition,
    ConditionOp,
    MatrixRow,
    Page,
    Question,
    Questionnaire,
    QuestionType,
    Scale,
    Tags,
)
from surveys.text import Text


def dump_definition(questionnaire: Questionnaire) -> dict[str, Any]:
    """The definition as plain JSON-compatible data (dicts, lists, str, int, float, bool)."""
    out: dict[str, Any] = {
        "schema_version": questionnaire.schema_version,
        "id": questionnaire.id,
        "version": questionnaire.version,
        "title": _text(questionnaire.title),
    }
    if questionnaire.description is not None:
        out["description"] = _text(questionnaire.description)
    out["pages"] = [_page(page) for page in questionnaire.pages]
    return out


def definition_fingerprint(questionnaire: Questionnaire) -> str:
    """sha256 (hex) of the canonical JSON of `dump_definition`: sorted keys, no spaces, UTF-8.

    Two definitions have the same fingerprint exactly when they load to equal questionnaires,
    so the app can tell whether a published version was changed.
    """
    canonical = json.dumps(
        dump_definition(questionnaire), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dump_condition(condition: Condition) -> dict[str, Any]:
    """A condition in its definition form (also used for `data-show-if` in rendered forms)."""
    if isinstance(condition, AnyOf):
        return {"any": [dump_condition(inner) for inner in condition.conditions]}
    if isinstance(condition, AllOf):
        return {"all": [dump_condition(inner) for inner in condition.conditions]}
    out: dict[str, Any] = {"question": condition.question, "op": condition.op.value}
    if not (condition.op == ConditionOp.ANSWERED and condition.value is True):
        out["value"] = list(condition.value) if isinstance(condition.value, tuple) else condition.value
    return out


def _text(text: Text) -> dict[str, str]:
    return {"zh": text.zh, "en": text.en}


def _page(page: Page) -> dict[str, Any]:
    out: dict[str, Any] = {"id": page.id}
    if page.title is not None:
        out["title"] = _text(page.title)
    if page.description is not None:
        out["description"] = _text(page.description)
    if page.show_if is not None:
        out["show_if"] = dump_condition(page.show_if)
    out["questions"] = [_question(question) for question in page.questions]
    if page.totals:
        out["totals"] = [{"questions": list(t.questions), "equals": t.equals} for t in page.totals]
    return out


def _tags(tags: Tags, out: dict[str, Any]) -> None:
    if tags.feedback_dimension is not None:
        out["feedback_dimension"] = tags.feedback_dimension.value
    if tags.servqual_dimension is not None:
        out["servqual_dimension"] = tags.servqual_dimension.value
    if tags.standard_code is not None:
        out["standard_code"] = tags.standard_code


def _question(question: Question) -> dict[str, Any]:
    out: dict[str, Any] = {"id": question.id, "type": question.type.value, "text": _text(question.text)}
    if question.help is not None:
        out["help"] = _text(question.help)
    if question.required:
        out["required"] = True
    if question.show_if is not None:
        out["show_if"] = dump_condition(question.show_if)
    _tags(question.tags, out)
    if question.scale is not None and question.scale != DEFAULT_SCALES.get(question.type):
        out["scale"] = _scale(question.scale)
    if question.rows:
        out["rows"] = [_row(row) for row in question.rows]
    if question.choices:
        out["choices"] = [{"value": c.value, "text": _text(c.text)} for c in question.choices]
    if question.other is not None:
        out["other"] = True if question.other == OTHER_LABEL else _text(question.other)
    for key, value in (("min_selected", question.min_selected), ("max_selected", question.max_selected)):
        if value is not None:
            out[key] = value
    if question.type == QuestionType.NUMBER:
        _limits(out, question.min_value, question.max_value)
        if not question.integer:
            out["integer"] = False
        if question.unit is not None:
            out["unit"] = _text(question.unit)
    if question.type == QuestionType.DATE:
        _limits(
            out,
            question.min_date.isoformat() if question.min_date else None,
            question.max_date.isoformat() if question.max_date else None,
        )
    if question.type == QuestionType.TEXT:
        if question.max_length is not None:
            out["max_length"] = question.max_length
        if not question.multiline:
            out["multiline"] = False
    if question.type == QuestionType.CONSTANT_SUM:
        if question.total is not None and question.total != CONSTANT_SUM_TOTAL:
            out["total"] = question.total
        if question.unit is not None:
            out["unit"] = _text(question.unit)
    return out


def _limits(out: dict[str, Any], low: object, high: object) -> None:
    if low is not None:
        out["min"] = low
    if high is not None:
        out["max"] = high


def _scale(scale: Scale) -> dict[str, Any]:
    return {
        "min": scale.min,
        "max": scale.max,
        "min_label": _text(scale.min_label),
        "max_label": _text(scale.max_label),
    }


def _row(row: MatrixRow) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.id, "text": _text(row.text)}
    _tags(row.tags, out)
    return out
