"""Checking and coercing the answer to ONE question, whatever its type.

`check_answer` is the single place that knows what a valid answer of each type looks like; the
answer validator, the normaliser, the visibility logic and the form builder all go through it, so
they cannot disagree. Canonical answer shapes (what the answers mapping holds):

- rating, csat, nps, ces: int on the scale
- likert_matrix: {row_id: int}; servqual: {"expectation": int, "perception": int}
- single_choice: str (a choice value, or "other"); multiple_choice: list[str] in choice order
- "other" free text: str under the separate key "<question id>.other"
- text: str (stripped); number: int (or float when `integer: false`); date: "YYYY-MM-DD"
- constant_sum: {row_id: int} with every row (a row left blank while others have points counts 0),
  the points summing to exactly the question's total
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from surveys import messages
from surveys.defaults import OTHER_TEXT_MAX_LENGTH, TEXT_MAX_LENGTH
from surveys.model import CHOICE_TYPES, OTHER, SCALE_TYPES, Question, QuestionType, Scale, ServqualPart
from surveys.text import Message

_INT = re.compile(r"^[+-]?\d+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Checked:
    """The coerced answer (None = unanswered), its "other" text, and messages by answer key."""

    value: object | None = None
    other_text: str | None = None
    errors: dict[str, list[Message]] = field(default_factory=dict)

    def add(self, key: str, message: Message) -> None:
        self.errors.setdefault(key, []).append(message)


def is_empty(value: object) -> bool:
    """None, a blank string, or an empty list/mapping counts as no answer."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | Mapping):
        return len(value) == 0
    return False


def check_answer(question: Question, raw: object, other_raw: object = None, *, required: bool) -> Checked:
    """Coerce `raw` (and the "other" text) for `question`; report problems keyed like the answers."""
    result = Checked()
    qid = question.id
    if question.type in SCALE_TYPES:
        assert question.scale is not None
        result.value = _scale_point(question.scale, raw, qid, result)
    elif question.type == QuestionType.LIKERT_MATRIX:
        _matrix(question, raw, result, required)
    elif question.type == QuestionType.SERVQUAL:
        _servqual(question, raw, result)
    elif question.type == QuestionType.CONSTANT_SUM:
        _constant_sum(question, raw, result)
    elif question.type in CHOICE_TYPES:
        _choice(question, raw, other_raw, result)
    elif question.type == QuestionType.TEXT:
        result.value = _text(raw, question.max_length or TEXT_MAX_LENGTH, qid, result)
    elif question.type == QuestionType.NUMBER:
        result.value = _number(question, raw, result)
    else:
        result.value = _date(question, raw, result)
    if required and result.value is None and not _has_errors(result, qid):
        result.add(qid, messages.required())
    return result


def _has_errors(result: Checked, qid: str) -> bool:
    return any(key == qid or key.startswith(qid + ".") for key in result.errors)


def _scale_point(scale: Scale, raw: object, key: str, result: Checked) -> int | None:
    if is_empty(raw):
        return None
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and _INT.match(raw.strip()):
        value = int(raw.strip())
    if value is None or value not in scale.points:
        result.add(key, messages.not_a_scale_point(scale.min, scale.max))
        return None
    return value


def _matrix(question: Question, raw: object, result: Checked, required: bool) -> None:
    if is_empty(raw):
        return
    if not isinstance(raw, Mapping):
        result.add(question.id, messages.invalid_format())
        return
    assert question.scale is not None
    row_ids = [row.id for row in question.rows]
    for key in raw:
        if key not in row_ids:
            result.add(f"{question.id}.{key}", messages.unknown_item())
    answered: dict[str, int] = {}
    for row_id in row_ids:
        point = _scale_point(question.scale, raw.get(row_id), f"{question.id}.{row_id}", result)
        if point is not None:
            answered[row_id] = point
    if required and answered:  # a partly answered required matrix: name each missing row
        for row_id in row_ids:
            if row_id not in answered and f"{question.id}.{row_id}" not in result.errors:
                result.add(f"{question.id}.{row_id}", messages.row_required())
    result.value = answered or None


def _servqual(question: Question, raw: object, result: Checked) -> None:
    if is_empty(raw):
        return
    if not isinstance(raw, Mapping):
        result.add(question.id, messages.invalid_format())
        return
    assert question.scale is not None
    parts = [part.value for part in ServqualPart]
    for key in raw:
        if key not in parts:
            result.add(f"{question.id}.{key}", messages.unknown_item())
    answered = {
        part: point
        for part in parts
        if (point := _scale_point(question.scale, raw.get(part), f"{question.id}.{part}", result)) is not None
    }
    if len(answered) == 1:
        for part in parts:
            if part not in answered and is_empty(raw.get(part)):
                result.add(f"{question.id}.{part}", messages.pair_incomplete())
    result.value = answered if len(answered) == 2 else None


def _constant_sum(question: Question, raw: object, result: Checked) -> None:
    """Whole, non-negative points per row summing to exactly the total. A row left blank counts 0
    once another row has points (the respondent gave it none); a bad row is named by its key."""
    if is_empty(raw):
        return
    if not isinstance(raw, Mapping):
        result.add(question.id, messages.invalid_format())
        return
    total = question.total or 0
    row_ids = [row.id for row in question.rows]
    for key in raw:
        if key not in row_ids:
            result.add(f"{question.id}.{key}", messages.unknown_item())
    points: dict[str, int] = {}
    bad = False
    for row_id in row_ids:
        value = raw.get(row_id)
        if is_empty(value):
            points[row_id] = 0
            continue
        point = _whole(value)
        if point is None or not 0 <= point <= total:
            result.add(f"{question.id}.{row_id}", messages.points_not_allowed(total))
            bad = True
        else:
            points[row_id] = point
    if bad or _has_errors(result, question.id):
        return
    if all(is_empty(raw.get(row_id)) for row_id in row_ids):
        return
    actual = sum(points.values())
    if actual != total:
        result.add(question.id, messages.points_total_mismatch(total, actual))
        return
    result.value = points


def _whole(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and _INT.match(raw.strip()):
        return int(raw.strip())
    return None


def _choice(question: Question, raw: object, other_raw: object, result: Checked) -> None:
    if is_empty(raw):
        return
    allowed = [choice.value for choice in question.choices]
    if question.other is not None:
        allowed.append(OTHER)
    if question.type == QuestionType.SINGLE_CHOICE:
        if not isinstance(raw, str) or raw not in allowed:
            result.add(question.id, messages.not_a_choice())
            return
        selected = [raw]
        result.value = raw
    else:
        if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
            result.add(question.id, messages.invalid_format())
            return
        if any(item not in allowed for item in raw):
            result.add(question.id, messages.not_a_choice())
            return
        selected = [value for value in allowed if value in raw]  # choice order, no duplicates
        if question.min_selected is not None and len(selected) < question.min_selected:
            result.add(question.id, messages.too_few_selected(question.min_selected))
        if question.max_selected is not None and len(selected) > question.max_selected:
            result.add(question.id, messages.too_many_selected(question.max_selected))
        result.value = selected
    if OTHER in selected:
        key = f"{question.id}.{OTHER}"
        result.other_text = _text(other_raw, OTHER_TEXT_MAX_LENGTH, key, result)
        if result.other_text is None and key not in result.errors:
            result.add(key, messages.other_text_required())


def _text(raw: object, limit: int, key: str, result: Checked) -> str | None:
    if is_empty(raw):
        return None
    if not isinstance(raw, str):
        result.add(key, messages.not_text())
        return None
    text = raw.strip()
    if len(text) > limit:
        result.add(key, messages.too_long(limit))
        return None
    return text


def _number(question: Question, raw: object, result: Checked) -> int | float | None:
    if is_empty(raw):
        return None
    value: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            value = None
    if value is None or not math.isfinite(value):
        result.add(question.id, messages.not_a_number())
        return None
    if question.integer and not value.is_integer():
        result.add(question.id, messages.not_an_integer())
        return None
    low, high = question.min_value, question.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        result.add(question.id, messages.number_out_of_range(low, high))
        return None
    if question.integer:
        return int(value)
    return int(raw) if isinstance(raw, int) else value


def _date(question: Question, raw: object, result: Checked) -> str | None:
    if is_empty(raw):
        return None
    value: date | None = None
    if isinstance(raw, date) and not isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str) and _ISO_DATE.match(raw.strip()):
        try:
            value = date.fromisoformat(raw.strip())
        except ValueError:
            value = None
    if value is None:
        result.add(question.id, messages.not_a_date())
        return None
    low, high = question.min_date, question.max_date
    if (low is not None and value < low) or (high is not None and value > high):
        result.add(
            question.id,
            messages.date_out_of_range(low.isoformat() if low else None, high.isoformat() if high else None),
        )
        return None
    return value.isoformat()
