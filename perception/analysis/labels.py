"""Bilingual labels the analysis templates use (dimensions, alert kinds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l

from perception.analysis.models import AlertKind
from perception.collection.services.vocab import CATEGORIES, DIMENSIONS
from perception.core.i18n import is_zh

ALERT_KINDS: dict[str, Any] = {
    AlertKind.EXPERIENCE_DROP: _l("Experience drop"),
    AlertKind.NEW_WATERMELON: _l("New watermelon"),
    AlertKind.STANDARD_MISSED: _l("Standard missed"),
    AlertKind.MISSING_REPORTS: _l("Missing reports"),
}


UNMATCHED = {
    "no_kpi_standard": _l("no KPI standard measures it"),
    "no_experience_standard": _l("its standard has no experience standard linked"),
    "experience_target_missing": _l("the experience standard has no target"),
    "experience_dimension_missing": _l("the experience standard names no dimension"),
    "kpi_target_missing": _l("its values carry no target"),
    "unsupported_experience_metric": _l("the experience metric cannot be measured from responses"),
}
MEASURE_KINDS = {
    "csat": "CSAT",
    "nps": "NPS",
    "ces": "CES",
    "rating": _l("Rating"),
    "likert": _l("Rating"),
    "servqual_perception": _l("SERVQUAL perception"),
    "servqual_expectation": _l("SERVQUAL expectation"),
    "importance": _l("Importance"),
}
GAP_LEVELS = {"item": _l("Item"), "dimension": _l("Dimension"), "overall": _l("Overall")}


def unmatched_reason(code: str) -> str:
    return str(UNMATCHED.get(code.split(":", 1)[0], code))


def measure_kind(code: str | None) -> str:
    return str(MEASURE_KINDS.get(code or "", code or ""))


# Where a text came from and what it feels like, in words (issue 17: never "survey_comment").
TEXT_KINDS = {
    "requirement": _l("Requirement"),
    "feedback": _l("Feedback"),
    "survey_comment": _l("Survey comment"),
    "callback_comment": _l("Callback comment"),
}
SENTIMENTS = {"positive": _l("positive"), "negative": _l("negative"), "neutral": _l("neutral")}


def text_kind(code: str | None) -> str:
    return str(TEXT_KINDS.get(code or "", code or "—"))


def sentiment_label(code: str | None) -> str:
    return str(SENTIMENTS.get(code or "", code or "—"))


def gap_level(code: str) -> str:
    return str(GAP_LEVELS.get(code, code))


def dimension_label(code: str | None) -> str:
    if not code:
        return ""
    pair = DIMENSIONS.get(code)
    return code if pair is None else (pair[0] if is_zh() else pair[1])


def event_category(code: str | None) -> str:
    pair = CATEGORIES.get(code or "other")
    return (code or "") if pair is None else (pair[0] if is_zh() else pair[1])


def alert_kind(code: str) -> str:
    return str(ALERT_KINDS.get(code, code))


def helpers() -> dict[str, Callable[..., str]]:
    return {
        "dimension_label": dimension_label,
        "alert_kind": alert_kind,
        "event_category": event_category,
        "unmatched_reason": unmatched_reason,
        "measure_kind": measure_kind,
        "gap_level": gap_level,
        "text_kind": text_kind,
        "sentiment_label": sentiment_label,
    }
