"""Scoring hooks: every scored answer of a response as a uniform `ScoredItem` for the analytics.

The analytics (`scoring/`) need not know question types: each item says what kind of measure it
is, its value, the scale it was given on and what it measures (feedback dimension, SERVQUAL
dimension, service standard).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from surveys.answers import normalise_answers
from surveys.model import (
    FeedbackDimension,
    Question,
    Questionnaire,
    QuestionType,
    ServqualDimension,
    ServqualPart,
    Tags,
)


class ScoreKind(StrEnum):
    CSAT = "csat"
    NPS = "nps"
    CES = "ces"
    RATING = "rating"
    LIKERT = "likert"
    SERVQUAL_EXPECTATION = "servqual_expectation"
    SERVQUAL_PERCEPTION = "servqual_perception"
    #: Points allocated to a SERVQUAL dimension's importance: a number question tagged with the
    #: dimension, or a constant-sum row tagged with it (value on 0..total).
    SERVQUAL_IMPORTANCE = "servqual_importance"


@dataclass(frozen=True)
class ScoredItem:
    """One scored answer. `row_id` is set for a Likert-matrix row (whose tags default to the
    question's); for a number item `scale_min`/`scale_max` are its declared limits (or None)."""

    question_id: str
    kind: ScoreKind
    value: int | float
    scale_min: int | float | None
    scale_max: int | float | None
    feedback_dimension: FeedbackDimension | None
    servqual_dimension: ServqualDimension | None
    standard_code: str | None
    row_id: str | None = None


_SCALE_KINDS = {
    QuestionType.CSAT: ScoreKind.CSAT,
    QuestionType.NPS: ScoreKind.NPS,
    QuestionType.CES: ScoreKind.CES,
    QuestionType.RATING: ScoreKind.RATING,
}


def extract_scores(
    questionnaire: Questionnaire, answers: Mapping[str, object], *, normalised: bool = False
) -> list[ScoredItem]:
    """The scored items of one response, in document order (hidden and blank answers give none).

    Raises `AnswersError` (a ValueError) when an answer cannot be coerced, like `normalise_answers`.
    ``normalised=True`` says `answers` already is `normalise_answers` output (the answer endpoint
    has just produced it), so it is not walked again.
    """
    clean = answers if normalised else normalise_answers(questionnaire, answers)
    items: list[ScoredItem] = []
    for question in questionnaire.questions():
        value = clean.get(question.id)
        if value is not None:
            items.extend(_items(question, value))
    return items


def _item(
    question: Question, kind: ScoreKind, value: object, tags: Tags, row_id: str | None = None
) -> ScoredItem:
    assert isinstance(value, int | float)
    low: int | float | None = question.scale.min if question.scale else question.min_value
    high: int | float | None = question.scale.max if question.scale else question.max_value
    if question.type == QuestionType.CONSTANT_SUM:
        low, high = 0, question.total
    return ScoredItem(
        question_id=question.id,
        kind=kind,
        value=value,
        scale_min=low,
        scale_max=high,
        feedback_dimension=tags.feedback_dimension,
        servqual_dimension=tags.servqual_dimension,
        standard_code=tags.standard_code,
        row_id=row_id,
    )


def _items(question: Question, value: object) -> list[ScoredItem]:
    kind = _SCALE_KINDS.get(question.type)
    if kind is not None:
        return [_item(question, kind, value, question.tags)]
    if question.type == QuestionType.LIKERT_MATRIX and isinstance(value, Mapping):
        return [
            _item(question, ScoreKind.LIKERT, value[row.id], _merge(row.tags, question.tags), row.id)
            for row in question.rows
            if row.id in value
        ]
    if question.type == QuestionType.SERVQUAL and isinstance(value, Mapping):
        return [
            _item(question, ScoreKind.SERVQUAL_EXPECTATION, value[ServqualPart.EXPECTATION], question.tags),
            _item(question, ScoreKind.SERVQUAL_PERCEPTION, value[ServqualPart.PERCEPTION], question.tags),
        ]
    if question.type == QuestionType.CONSTANT_SUM and isinstance(value, Mapping):
        return [
            _item(question, ScoreKind.SERVQUAL_IMPORTANCE, value[row.id], row.tags, row.id)
            for row in question.rows
            if row.id in value and row.tags.servqual_dimension is not None
        ]
    if question.type == QuestionType.NUMBER and question.tags.servqual_dimension is not None:
        return [_item(question, ScoreKind.SERVQUAL_IMPORTANCE, value, question.tags)]
    return []


def _merge(row: Tags, question: Tags) -> Tags:
    return Tags(
        feedback_dimension=row.feedback_dimension or question.feedback_dimension,
        servqual_dimension=row.servqual_dimension or question.servqual_dimension,
        standard_code=row.standard_code or question.standard_code,
    )
