"""Analysis facts from a stored response: one ExperienceObservation per scored item
(``surveys.extract_scores``) and one TextEntry per free-text answer.

Source is "survey" for answers given on the survey pages and "callback" for answers recorded by
an interviewer; source_id is the response id. Rows are inserted with set-based Core statements
(one INSERT for all items) because this runs inside the answer endpoint's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from perception.core.models.facts import ExperienceObservation, ExperienceSource, TextEntry, TextKind
from perception.core.periods import week_start
from perception.kpi.services.data_version import current_week_write
from perception.surveys.models import ResponseMeans, table_of
from surveys import Questionnaire, QuestionType, ScoredItem, ScoreKind

# The engine's score kinds in the facts table's vocabulary (perception.core.models.facts).
FACT_KIND = {
    ScoreKind.CSAT: "csat",
    ScoreKind.NPS: "nps",
    ScoreKind.CES: "ces",
    ScoreKind.RATING: "rating",
    ScoreKind.LIKERT: "likert",
    ScoreKind.SERVQUAL_EXPECTATION: "servqual_expectation",
    ScoreKind.SERVQUAL_PERCEPTION: "servqual_perception",
    ScoreKind.SERVQUAL_IMPORTANCE: "importance",
}


INSERT_OBSERVATIONS = insert(table_of(ExperienceObservation))
INSERT_TEXTS = insert(table_of(TextEntry))


@dataclass(frozen=True)
class Attribution:
    """What a response is about: always a region; customer, service, tier, ticket when known."""

    region_id: int
    customer_id: int | None = None
    service_id: int | None = None
    tier_id: int | None = None
    ticket_id: int | None = None
    contact_id: int | None = None


def source_for(means: str) -> str:
    return ExperienceSource.CALLBACK if means == ResponseMeans.CALLBACK else ExperienceSource.SURVEY


def observation_rows(
    items: list[ScoredItem], response_id: int, observed_on: date, who: Attribution, source: str
) -> list[dict[str, Any]]:
    period = week_start(observed_on)
    rows = []
    for item in items:
        value = float(item.value)
        low = float(item.scale_min) if item.scale_min is not None else min(0.0, value)
        high = float(item.scale_max) if item.scale_max is not None else max(value, low)
        rows.append(
            {
                "source": source,
                "source_id": response_id,
                "observed_on": observed_on,
                "period_start": period,
                "region_id": who.region_id,
                "customer_id": who.customer_id,
                "service_id": who.service_id,
                "tier_id": who.tier_id,
                "kind": FACT_KIND[item.kind],
                "dimension": item.feedback_dimension.value if item.feedback_dimension else None,
                "servqual_dimension": item.servqual_dimension.value if item.servqual_dimension else None,
                "item": (f"{item.question_id}.{item.row_id}" if item.row_id else item.question_id)[:64],
                "standard_code": item.standard_code,
                "value": value,
                "scale_min": low,
                "scale_max": high,
            }
        )
    return rows


def comments(questionnaire: Questionnaire, answers: Mapping[str, object]) -> list[tuple[str, str | None]]:
    """(text, feedback dimension) of every answered free-text question, in document order."""
    out = []
    for question in questionnaire.questions():
        if question.type != QuestionType.TEXT:
            continue
        value = answers.get(question.id)
        if isinstance(value, str) and value.strip():
            dimension = question.tags.feedback_dimension
            out.append((value.strip(), dimension.value if dimension else None))
    return out


def text_rows(
    texts: list[tuple[str, str | None]], response_id: int, observed_on: date, who: Attribution, source: str
) -> list[dict[str, Any]]:
    kind = TextKind.CALLBACK_COMMENT if source == ExperienceSource.CALLBACK else TextKind.SURVEY_COMMENT
    period = week_start(observed_on)
    return [
        {
            "source": source,
            "source_id": response_id,
            "kind": kind,
            "observed_on": observed_on,
            "period_start": period,
            "region_id": who.region_id,
            "customer_id": who.customer_id,
            "service_id": who.service_id,
            "dimension": dimension,
            "text": text,
        }
        for text, dimension in texts
    ]


def write_facts(
    conn: Connection,
    *,
    items: list[ScoredItem],
    texts: list[tuple[str, str | None]],
    response_id: int,
    observed_on: date,
    who: Attribution,
    means: str,
    timezone: str,
) -> None:
    """The response's facts, observed on ``observed_on`` (today in the organisation's ``timezone``):
    rows of the current week, declared so (data_version.current_week_write: the overview's change
    look, which compares earlier weeks, stays current)."""
    source = source_for(means)
    observations = observation_rows(items, response_id, observed_on, who, source)
    if observations:
        with current_week_write(conn, "experience_observation", week_start(observed_on), timezone):
            conn.execute(INSERT_OBSERVATIONS, observations)
    entries = text_rows(texts, response_id, observed_on, who, source)
    if entries:
        conn.execute(INSERT_TEXTS, entries)
