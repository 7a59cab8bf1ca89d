"""A campaign's results question by question, as a survey owner reads them (LimeSurvey's and
Formbricks' "summary"): for each question of the campaign's questionnaire, how many answered and
how the answers spread over the scale points or choices, with the mean of a scale, the NPS of an
NPS question, and the latest comments of a text question.

Only the responses in the reader's regions count. Comments are shown without who wrote them or
when, so an anonymous campaign's summary names nobody.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.surveys.models import Campaign, Response
from perception.surveys.services.definitions import questionnaire_of
from surveys.model import CHOICE_TYPES, OTHER, SCALE_TYPES, Question, QuestionType
from surveys.text import Lang

#: How many of a text question's comments the summary quotes (the newest first).
QUOTED_COMMENTS = 5


@dataclass(frozen=True)
class Bar:
    """One scale point or choice: its label, how many chose it and their share of the answers."""

    label: str
    count: int
    share: float


@dataclass
class QuestionResult:
    """The summary of one question (or one row of a matrix question)."""

    question_id: str
    text: str
    kind: str  # a QuestionType value
    answered: int = 0
    bars: list[Bar] = field(default_factory=list)
    mean: float | None = None
    nps: float | None = None
    comments: list[str] = field(default_factory=list)


def question_results(
    session: Session, campaign: Campaign, lang: Lang, regions: frozenset[int] | None
) -> tuple[int, list[QuestionResult]]:
    """``(responses counted, one result per question or matrix row)`` in questionnaire order."""
    query = select(Response.answers).where(Response.campaign_id == campaign.id)
    if regions is not None:
        query = query.where(Response.region_id.in_(sorted(regions)))
    answers = [a or {} for a in session.scalars(query.order_by(Response.id.desc()))]
    questionnaire = questionnaire_of(campaign.version)
    results: list[QuestionResult] = []
    for question in questionnaire.questions():
        results.extend(_summarise(question, answers, lang))
    return len(answers), results


def _summarise(question: Question, answers: list[dict[str, Any]], lang: Lang) -> Iterable[QuestionResult]:
    text = question.text.get(lang)
    values = [a[question.id] for a in answers if question.id in a]
    if question.type in SCALE_TYPES:
        yield _scale(question, text, [v for v in values if isinstance(v, int | float)])
    elif question.type in (QuestionType.LIKERT_MATRIX, QuestionType.SERVQUAL):
        for row in question.rows:
            row_values = [_point(v.get(row.id)) for v in values if isinstance(v, dict)]
            points = [p for p in row_values if p is not None]
            yield _scale(question, f"{text} · {row.text.get(lang)}", points, row.id)
    elif question.type == QuestionType.CONSTANT_SUM:  # the mean points each row was given
        for row in question.rows:
            given = [float(v[row.id]) for v in values if isinstance(v, dict) and row.id in v]
            yield QuestionResult(
                f"{question.id}.{row.id}",
                f"{text} · {row.text.get(lang)}",
                question.type,
                len(given),
                mean=sum(given) / len(given) if given else None,
            )
    elif question.type in CHOICE_TYPES:
        yield _choices(question, text, values, lang, [a.get(f"{question.id}.{OTHER}") for a in answers])
    elif question.type == QuestionType.TEXT:
        comments = [str(v).strip() for v in values if str(v).strip()]
        yield QuestionResult(
            question.id, text, question.type, len(comments), comments=comments[:QUOTED_COMMENTS]
        )
    else:  # number, date: how many answered, and the mean of numbers
        numbers = [float(v) for v in values if isinstance(v, int | float)]
        mean = sum(numbers) / len(numbers) if numbers else None
        yield QuestionResult(question.id, text, question.type, len(values), mean=mean)


def _point(value: Any) -> float | None:
    """A matrix cell's scale point (a SERVQUAL cell holds expectation and perception: the latter)."""
    if isinstance(value, dict):
        value = value.get("perception")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _scale(question: Question, text: str, points: list[float], row: str = "") -> QuestionResult:
    result = QuestionResult(f"{question.id}.{row}" if row else question.id, text, question.type, len(points))
    counts = Counter(int(p) for p in points)
    scale = question.scale
    labels = range(scale.min, scale.max + 1) if scale is not None else sorted(counts)
    result.bars = [
        Bar(str(point), counts.get(point, 0), _share(counts.get(point, 0), len(points))) for point in labels
    ]
    if points:
        result.mean = sum(points) / len(points)
    if question.type == QuestionType.NPS and points:
        promoters = sum(1 for p in points if p >= 9)
        detractors = sum(1 for p in points if p <= 6)
        result.nps = 100.0 * (promoters - detractors) / len(points)
    return result


def _choices(
    question: Question, text: str, values: list[Any], lang: Lang, others: list[Any]
) -> QuestionResult:
    chosen = Counter(v for value in values for v in (value if isinstance(value, list) else [value]))
    answered = len(values)
    bars = [
        Bar(c.text.get(lang), chosen.get(c.value, 0), _share(chosen.get(c.value, 0), answered))
        for c in question.choices
    ]
    if question.other is not None:
        bars.append(
            Bar(question.other.get(lang), chosen.get(OTHER, 0), _share(chosen.get(OTHER, 0), answered))
        )
    comments = [str(o).strip() for o in others if o and str(o).strip()][:QUOTED_COMMENTS]
    return QuestionResult(question.id, text, question.type, answered, bars=bars, comments=comments)


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0
