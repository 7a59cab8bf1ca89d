"""Reading `show_if` conditions from a raw definition and checking them against earlier questions.

A condition may read only questions that come EARLIER in the questionnaire (document order),
so a respondent always answers the question a condition depends on before the condition matters.
Values are checked against the referenced question: choice values must exist, scale values must
be scale points, dates must be ISO dates, and the op must make sense for the answer's type.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from datetime import date
from typing import Any

from surveys.definition_reader import Reader, join
from surveys.model import (
    CHOICE_TYPES,
    OTHER,
    SCALE_TYPES,
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    ConditionOp,
    ConditionValue,
    Question,
    QuestionType,
    Scale,
    ServqualPart,
)

_ORDERING = frozenset({ConditionOp.LT, ConditionOp.LE, ConditionOp.GT, ConditionOp.GE})
_EQUALITY = frozenset({ConditionOp.EQ, ConditionOp.NE, ConditionOp.IN})


def _target_kind(question: Question, part: str | None) -> tuple[str, Scale | None] | None:
    """What a reference reads: ("scale", scale), ("number"|"date"|"choice"|"text"|"compound", None)."""
    qtype = question.type
    if part is None:
        if qtype in SCALE_TYPES:
            return "scale", question.scale
        if qtype in CHOICE_TYPES:
            return "choice", None
        if qtype in (QuestionType.LIKERT_MATRIX, QuestionType.SERVQUAL, QuestionType.CONSTANT_SUM):
            return "compound", None
        return {QuestionType.NUMBER: "number", QuestionType.DATE: "date"}.get(qtype, "text"), None
    if qtype == QuestionType.LIKERT_MATRIX and part in {row.id for row in question.rows}:
        return "scale", question.scale
    if qtype == QuestionType.SERVQUAL and part in {p.value for p in ServqualPart}:
        return "scale", question.scale
    if qtype == QuestionType.CONSTANT_SUM and part in {row.id for row in question.rows}:
        return "number", None
    if qtype in CHOICE_TYPES and part == OTHER and question.other is not None:
        return "text", None
    return None


class ConditionReader:
    """Reads conditions for one questionnaire; `earlier` grows as questions are read."""

    def __init__(self, reader: Reader, all_ids: Set[str]) -> None:
        self.reader = reader
        self.all_ids = all_ids
        self.declared: set[str] = set()
        self.earlier: dict[str, Question] = {}

    def read(self, raw: object, path: str, *, allowed_ids: Set[str] | None = None) -> Condition | None:
        """Parse a condition; `allowed_ids` (default: every earlier question) limits references."""
        if not isinstance(raw, Mapping):
            self.reader.issue(path, "not_a_mapping", "must be a mapping (key: value)", "必须是键值映射")
            return None
        for combinator in ("any", "all"):
            if combinator in raw:
                return self._combination(raw, combinator, path, allowed_ids)
        return self._comparison(raw, path, allowed_ids)

    def _combination(
        self, raw: Mapping[str, Any], key: str, path: str, allowed_ids: Set[str] | None
    ) -> Condition | None:
        if self.reader.mapping(raw, path, frozenset({key})) is None:
            return None
        items = self.reader.sequence(raw, key, path, required=True)
        parts = [
            self.read(item, join(join(path, key), i), allowed_ids=allowed_ids) for i, item in enumerate(items)
        ]
        if not items or any(part is None for part in parts):
            return None
        conditions = tuple(part for part in parts if part is not None)
        return AnyOf(conditions) if key == "any" else AllOf(conditions)

    def _comparison(
        self, raw: Mapping[str, Any], path: str, allowed_ids: Set[str] | None
    ) -> Condition | None:
        reader = self.reader
        if reader.mapping(raw, path, frozenset({"question", "op", "value"})) is None:
            return None
        ref = reader.required(raw, "question", path)
        op_raw = reader.required(raw, "op", path)
        if ref is None or op_raw is None:
            return None
        try:
            op = ConditionOp(op_raw)
        except ValueError:
            ops = ", ".join(o.value for o in ConditionOp)
            reader.issue(join(path, "op"), "bad_op", f"must be one of {ops}", f"必须是以下之一：{ops}")
            return None
        question = self._referenced(ref, path, allowed_ids)
        if question is None:
            return None
        part = ref.split(".", 1)[1] if "." in ref else None
        target = _target_kind(question, part)
        if target is None:
            reader.issue(
                join(path, "question"),
                "bad_part",
                f"{ref!r} names no part of question {question.id!r}",
                f"“{ref}”不是题目“{question.id}”的组成部分",
            )
            return None
        value = self._value(raw, op, target[0], target[1], question, join(path, "value"))
        return None if value is None else Comparison(question=ref, op=op, value=value)

    def _referenced(self, ref: object, path: str, allowed_ids: Set[str] | None) -> Question | None:
        here = join(path, "question")
        if not isinstance(ref, str):
            self.reader.issue(here, "not_a_string", "must be a question id", "必须是题目编号")
            return None
        qid = ref.split(".", 1)[0]
        if qid not in self.all_ids:
            self.reader.issue(here, "unknown_question", f"no question {qid!r}", f"没有题目“{qid}”")
            return None
        if qid not in self.declared or (allowed_ids is not None and qid not in allowed_ids):
            self.reader.issue(
                here,
                "not_earlier",
                f"may only refer to an earlier question; {qid!r} is not earlier",
                f"只能引用前面的题目，“{qid}”不在前面",
            )
            return None
        return self.earlier.get(qid)  # None: that question was itself invalid, already reported

    def _value(
        self,
        raw: Mapping[str, Any],
        op: ConditionOp,
        kind: str,
        scale: Scale | None,
        question: Question,
        path: str,
    ) -> ConditionValue | None:
        reader = self.reader
        if op == ConditionOp.ANSWERED:
            value = raw.get("value", True)
            if not isinstance(value, bool):
                reader.issue(path, "not_a_boolean", "must be true or false", "必须是 true 或 false")
                return None
            return value
        allowed = {
            "scale": _ORDERING | _EQUALITY,
            "number": _ORDERING | _EQUALITY,
            "date": _ORDERING | _EQUALITY,
            "choice": _EQUALITY,
            "text": _EQUALITY,
        }.get(kind, frozenset())
        if op not in allowed:
            reader.issue(
                join(path.rsplit(".", 1)[0], "op"),
                "op_not_applicable",
                f"op {op.value!r} does not apply to this question",
                f"运算符“{op.value}”不适用于该题",
            )
            return None
        if "value" not in raw:
            reader.issue(path, "required", "required", "必填")
            return None
        value = raw["value"]
        if op == ConditionOp.IN:
            if not isinstance(value, list) or not value:
                reader.issue(path, "not_a_list", "must be a non-empty list", "必须是非空列表")
                return None
            items = [self._single(v, op, kind, scale, question, join(path, i)) for i, v in enumerate(value)]
            if any(item is None for item in items):
                return None
            return tuple(item for item in items if item is not None)
        return self._single(value, op, kind, scale, question, path)

    def _single(
        self, value: object, op: ConditionOp, kind: str, scale: Scale | None, question: Question, path: str
    ) -> int | float | str | None:
        reader = self.reader
        if kind in ("scale", "number"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                reader.issue(path, "not_a_number", "must be a number", "必须是数字")
                return None
            if kind == "scale" and scale is not None and op not in _ORDERING and value not in scale.points:
                reader.issue(
                    path,
                    "not_on_scale",
                    f"must be a point of the {scale.min}-{scale.max} scale",
                    f"必须是 {scale.min}-{scale.max} 量表上的分值",
                )
                return None
            return value
        if kind == "date":
            if isinstance(value, date):
                return value.isoformat()
            try:
                return date.fromisoformat(value).isoformat() if isinstance(value, str) else None
            except ValueError:
                pass
            reader.issue(path, "not_a_date", "must be a date YYYY-MM-DD", "必须是日期 YYYY-MM-DD")
            return None
        if not isinstance(value, str):
            reader.issue(
                path,
                "not_a_string",
                "must be a string (quote yes/no/on/off and numbers in YAML)",
                "必须是字符串（YAML 中 yes/no/on/off 和数字要加引号）",
            )
            return None
        if kind == "choice":
            values = {choice.value for choice in question.choices}
            if question.other is not None:
                values.add(OTHER)
            if value not in values:
                reader.issue(
                    path,
                    "not_a_choice",
                    f"{value!r} is not a choice of {question.id!r}",
                    f"“{value}”不是题目“{question.id}”的选项",
                )
                return None
        return value
