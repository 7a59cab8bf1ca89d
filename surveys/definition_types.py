"""Reading the type-specific parts of a question: tags, scale, matrix rows, choices, limits, totals.

Split from `surveys.definition` (which walks pages and questions); same path-named issues.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from surveys.defaults import CONSTANT_SUM_TOTAL, DEFAULT_SCALES, FIXED_RANGES, MAX_SCALE_POINTS, OTHER_LABEL
from surveys.definition_reader import Reader, join
from surveys.model import (
    CHOICE_TYPES,
    OTHER,
    SCALED_TYPES,
    Choice,
    FeedbackDimension,
    MatrixRow,
    Question,
    QuestionType,
    Scale,
    ServqualDimension,
    Tags,
    Total,
)

_E = TypeVar("_E", FeedbackDimension, ServqualDimension)


def read_tags(reader: Reader, raw: Mapping[str, Any], path: str) -> Tags:
    feedback = _enum(reader, raw, "feedback_dimension", path, FeedbackDimension)
    servqual = _enum(reader, raw, "servqual_dimension", path, ServqualDimension)
    return Tags(
        feedback_dimension=feedback,
        servqual_dimension=servqual,
        standard_code=reader.code(raw, "standard_code", path),
    )


def _enum(reader: Reader, raw: Mapping[str, Any], key: str, path: str, enum: type[_E]) -> _E | None:
    value = raw.get(key)
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        names = ", ".join(member.value for member in enum)
        reader.issue(join(path, key), "bad_dimension", f"must be one of {names}", f"必须是以下之一：{names}")
        return None


def read_type_fields(
    reader: Reader, raw: Mapping[str, Any], path: str, qtype: QuestionType
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if qtype in SCALED_TYPES:
        fields["scale"] = _scale(reader, raw, path, qtype)
    if qtype == QuestionType.LIKERT_MATRIX:
        fields["rows"] = _rows(reader, raw, path)
    if qtype == QuestionType.CONSTANT_SUM:
        fields.update(_constant_sum(reader, raw, path))
    if qtype in CHOICE_TYPES:
        fields.update(_choices(reader, raw, path, qtype))
    if qtype == QuestionType.TEXT:
        fields["max_length"] = reader.integer(raw, "max_length", path, minimum=1)
        fields["multiline"] = reader.boolean(raw, "multiline", path, default=True)
    if qtype == QuestionType.NUMBER:
        low, high = reader.number(raw, "min", path), reader.number(raw, "max", path)
        fields.update(
            min_value=low,
            max_value=high,
            integer=reader.boolean(raw, "integer", path, default=True),
            unit=reader.text(raw, "unit", path, required=False),
        )
        _check_order(reader, low, high, path)
    if qtype == QuestionType.DATE:
        low_date, high_date = _date(reader, raw, "min", path), _date(reader, raw, "max", path)
        fields.update(min_date=low_date, max_date=high_date)
        _check_order(reader, low_date, high_date, path)
    return fields


def _check_order(
    reader: Reader, low: Any, high: Any, path: str, keys: tuple[str, str] = ("min", "max")
) -> None:
    if low is not None and high is not None and high < low:
        reader.issue(
            join(path, keys[1]), "max_below_min", f"must not be less than {keys[0]}", f"不能小于 {keys[0]}"
        )


def _date(reader: Reader, raw: Mapping[str, Any], key: str, path: str) -> date | None:
    value = raw.get(key)
    if value is None or isinstance(value, date):
        return value
    try:
        if isinstance(value, str):
            return date.fromisoformat(value)
    except ValueError:
        pass
    reader.issue(join(path, key), "not_a_date", "must be a date YYYY-MM-DD", "必须是日期 YYYY-MM-DD")
    return None


def _scale(reader: Reader, raw: Mapping[str, Any], path: str, qtype: QuestionType) -> Scale | None:
    default = DEFAULT_SCALES.get(qtype)
    here = join(path, "scale")
    if raw.get("scale") is None:
        if default is None:
            reader.issue(here, "required", "required", "必填")
        return default
    spec = reader.mapping(raw["scale"], here, frozenset({"min", "max", "min_label", "max_label"}))
    if spec is None:
        return None
    low, high = reader.integer(spec, "min", here), reader.integer(spec, "max", here)
    fixed = FIXED_RANGES.get(qtype)
    low = low if low is not None else (default.min if default and "min" not in spec else None)
    high = high if high is not None else (default.max if default and "max" not in spec else None)
    if low is None or high is None:
        if "min" not in spec or "max" not in spec:
            reader.issue(join(here, "min" if "min" not in spec else "max"), "required", "required", "必填")
        return None
    if fixed is not None and (low, high) != fixed:
        name = qtype.value.upper()
        reader.issue(
            join(here, "min" if low != fixed[0] else "max"),
            "fixed_scale",
            f"{name} uses a {fixed[0]}-{fixed[1]} scale",
            f"{name} 固定使用 {fixed[0]}-{fixed[1]} 分量表",
        )
        return None
    if high <= low:
        reader.issue(join(here, "max"), "max_not_above_min", "must be greater than min", "必须大于 min")
        return None
    if high - low + 1 > MAX_SCALE_POINTS:
        reader.issue(
            join(here, "max"),
            "too_many_points",
            f"a scale has at most {MAX_SCALE_POINTS} points",
            f"量表最多 {MAX_SCALE_POINTS} 个分值",
        )
        return None
    min_label = reader.text(spec, "min_label", here, required=default is None)
    max_label = reader.text(spec, "max_label", here, required=default is None)
    min_label = min_label or (default.min_label if default and "min_label" not in spec else None)
    max_label = max_label or (default.max_label if default and "max_label" not in spec else None)
    if min_label is None or max_label is None:
        return None
    return Scale(low, high, min_label, max_label)


def _rows(reader: Reader, raw: Mapping[str, Any], path: str) -> tuple[MatrixRow, ...]:
    rows: list[MatrixRow] = []
    seen: set[str] = set()
    row_keys = frozenset({"id", "text", "feedback_dimension", "servqual_dimension", "standard_code"})
    for i, raw_row in enumerate(reader.sequence(raw, "rows", path, required=True)):
        here = join(join(path, "rows"), i)
        row = reader.mapping(raw_row, here, row_keys)
        if row is None:
            continue
        rid, text, tags = (
            reader.identifier(row, "id", here),
            reader.text(row, "text", here),
            read_tags(reader, row, here),
        )
        if rid is not None and rid in seen:
            reader.issue(join(here, "id"), "duplicate_id", f"duplicate row id {rid!r}", f"行编号“{rid}”重复")
        elif rid is not None and text is not None:
            rows.append(MatrixRow(id=rid, text=text, tags=tags))
        if rid is not None:
            seen.add(rid)
    return tuple(rows)


def _constant_sum(reader: Reader, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Rows to share the points among (at least two; a dimension named by one row only, so each
    dimension gets one weight) and the total (a positive integer, default 100)."""
    rows = _rows(reader, raw, path)
    if len(rows) < 2 and "rows" in raw:
        reader.issue(join(path, "rows"), "too_few", "needs at least 2 rows", "至少需要 2 行")
    for attr in ("servqual_dimension", "feedback_dimension"):
        seen: set[object] = set()
        for i, row in enumerate(rows):
            value = getattr(row.tags, attr)
            if value is not None and value in seen:
                reader.issue(
                    join(join(join(path, "rows"), i), attr),
                    "duplicate_dimension",
                    f"{value} is named by another row: each dimension gets one share of the points",
                    f"“{value}”已由另一行指定：每个维度只能分配一次分数",
                )
            seen.add(value)
    total = reader.integer(raw, "total", path, minimum=1)
    return {
        "rows": rows,
        "total": CONSTANT_SUM_TOTAL if total is None else total,
        "unit": reader.text(raw, "unit", path, required=False),
    }


def _choices(reader: Reader, raw: Mapping[str, Any], path: str, qtype: QuestionType) -> dict[str, Any]:
    choices: list[Choice] = []
    seen: set[str] = set()
    for i, raw_choice in enumerate(reader.sequence(raw, "choices", path, required=True)):
        here = join(join(path, "choices"), i)
        choice = reader.mapping(raw_choice, here, frozenset({"value", "text"}))
        if choice is None:
            continue
        value, text = reader.required(choice, "value", here), reader.text(choice, "text", here)
        if value is not None and not isinstance(value, str):
            reader.issue(
                join(here, "value"),
                "not_a_string",
                "must be a string (quote yes/no/on/off and numbers in YAML)",
                "必须是字符串（YAML 中 yes/no/on/off 和数字要加引号）",
            )
        elif value == OTHER:
            reader.issue(
                join(here, "value"),
                "reserved_value",
                f"{OTHER!r} is reserved: use `other:` instead",
                f"“{OTHER}”为保留值，请改用 other 字段",
            )
        elif value in seen:
            reader.issue(
                join(here, "value"), "duplicate_value", f"duplicate choice {value!r}", f"选项“{value}”重复"
            )
        elif value is not None and text is not None:
            choices.append(Choice(value=value, text=text))
        if isinstance(value, str):
            seen.add(value)
    other = raw.get("other")
    if other is True:
        other = OTHER_LABEL
    elif other is False or other is None:
        other = None
    else:
        other = reader.text(raw, "other", path)
    fields: dict[str, Any] = {"choices": tuple(choices), "other": other}
    if qtype == QuestionType.MULTIPLE_CHOICE:
        low = reader.integer(raw, "min_selected", path, minimum=1)
        high = reader.integer(raw, "max_selected", path, minimum=1)
        _check_order(reader, low, high, path, ("min_selected", "max_selected"))
        options = len(choices) + (other is not None)
        if high is not None and high > options:
            reader.issue(
                join(path, "max_selected"),
                "too_large",
                f"must be at most {options} (the options)",
                f"不能超过选项数 {options}",
            )
        fields.update(min_selected=low, max_selected=high)
    return fields


def read_totals(
    reader: Reader, page: Mapping[str, Any], path: str, questions: list[Question]
) -> tuple[Total, ...]:
    numbers = {q.id for q in questions if q.type == QuestionType.NUMBER}
    totals: list[Total] = []
    for i, raw_total in enumerate(reader.sequence(page, "totals", path, required=False)):
        here = join(join(path, "totals"), i)
        spec = reader.mapping(raw_total, here, frozenset({"questions", "equals"}))
        if spec is None:
            continue
        ids = reader.sequence(spec, "questions", here, required=True)
        equals = reader.number(spec, "equals", here)
        if equals is None and "equals" not in spec:
            reader.issue(join(here, "equals"), "required", "required", "必填")
        bad = [qid for qid in ids if qid not in numbers]
        for qid in bad:
            reader.issue(
                join(join(here, "questions"), ids.index(qid)),
                "not_a_number_question",
                f"{qid!r} is not a number question on this page",
                f"“{qid}”不是本页的数字题",
            )
        if len(ids) < 2:
            reader.issue(join(here, "questions"), "too_few", "needs at least 2 questions", "至少需要 2 道题")
        if not bad and len(ids) >= 2 and equals is not None:
            totals.append(Total(questions=tuple(ids), equals=equals))
    return tuple(totals)
