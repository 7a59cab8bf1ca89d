"""Bilingual labels the analysis templates use (dimensions, alert kinds)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
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
CANDIDATE_REASONS = {
    "low_n": _l("Candidate: fewer than 30 answers."),
    "interval_includes_target": _l("Candidate: the experience interval includes the target."),
    "not_significant_after_correction": _l(
        "Candidate: not significant once corrected for every cell compared (Benjamini-Hochberg)."
    ),
    "kpi_interval_includes_target": _l("Candidate: the KPI's own interval includes its target."),
    "kpi_without_interval": _l("Candidate: the KPI has no interval (not a share of tickets)."),
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
SERVQUAL_DIMENSIONS = {
    "tangibles": _l("Tangibles"),
    "reliability": _l("Reliability"),
    "responsiveness": _l("Responsiveness"),
    "assurance": _l("Assurance"),
    "empathy": _l("Empathy"),
}
GAP_LEVELS = {"item": _l("Item"), "dimension": _l("Dimension"), "overall": _l("Overall")}


def unmatched_reason(code: str) -> str:
    parts = code.split(":")
    if parts[0] == "not_measurable_yet" and len(parts) == 4:
        n, needed, region = parts[1:]
        return str(_l("not measurable yet in %(region)s: %(n)s of %(needed)s ratings of its dimension",
                      region=region, n=n, needed=needed))  # fmt: skip
    return str(UNMATCHED.get(parts[0], code))


def measure_kind(code: str | None) -> str:
    return str(MEASURE_KINDS.get(code or "", code or ""))


def gap_level(code: str) -> str:
    return str(GAP_LEVELS.get(code, code))


def dimension_label(code: str | None) -> str:
    if not code:
        return ""
    pair = DIMENSIONS.get(code)
    if pair is None:
        return str(SERVQUAL_DIMENSIONS.get(code, code))
    return pair[0] if is_zh() else pair[1]


@cache
def _builtin_statements() -> dict[str, tuple[str, str]]:
    """(zh, en) statement of every question of the built-in instruments, by question id."""
    from surveys import builtin_instruments

    found: dict[str, tuple[str, str]] = {}
    for questionnaire in builtin_instruments().values():
        for page in questionnaire.pages:
            for question in page.questions:
                found.setdefault(question.id, (question.text.get("zh"), question.text.get("en")))
    return found


def servqual_item(item_id: str | None) -> str:
    """A SERVQUAL item's statement in the reader's language (the built-in instrument's items are
    known by their ids, e.g. tan_1); an item of an organisation's own questionnaire keeps its id."""
    pair = _builtin_statements().get(item_id or "")
    if pair is None:
        return item_id or ""
    return pair[0] if is_zh() else pair[1]


def event_category(code: str | None) -> str:
    pair = CATEGORIES.get(code or "other")
    return (code or "") if pair is None else (pair[0] if is_zh() else pair[1])


def alert_kind(code: str) -> str:
    return str(ALERT_KINDS.get(code, code))


TEXT_KINDS: dict[str, Any] = {
    "requirement": _l("Requirement"),
    "feedback": _l("Feedback"),
    "survey_comment": _l("Survey comment"),
    "callback_comment": _l("Callback comment"),
}
SENTIMENTS: dict[str, Any] = {
    "positive": _l("Positive"),
    "neutral": _l("Neutral"),
    "negative": _l("Negative"),
}


def text_kind(code: str | None) -> str:
    return str(TEXT_KINDS.get(code or "", code or "—"))


def sentiment_label(code: str | None) -> str:
    return str(SENTIMENTS.get(code or "", code or "—"))


def candidate_reason(code: str) -> str:
    return str(CANDIDATE_REASONS.get(code, code))


def change_measure(code: str) -> str:
    """The name of a measure a change look tests (services.changes.MEASURE_NAMES)."""
    from perception.analysis.services.changes import MEASURE_NAMES

    pair = MEASURE_NAMES.get(code)
    return code if pair is None else (pair[0] if is_zh() else pair[1])


def change_where(row: Any) -> str:
    """Where a change was tested: service and region, region, service or everything."""
    zh = is_zh()
    service = row.service_zh if zh else row.service_en
    region = row.region_zh if zh else row.region_en
    if service and region:
        return f"{service}·{region}" if zh else f"{service} in {region}"
    return service or region or str(_l("Everything"))


def helpers() -> dict[str, Callable[..., str]]:
    from perception.analysis.services.changes import shown_value

    return {
        "text_kind": text_kind,
        "sentiment_label": sentiment_label,
        "candidate_reason": candidate_reason,
        "change_measure": change_measure,
        "change_where": change_where,
        "change_value": shown_value,
        "dimension_label": dimension_label,
        "alert_kind": alert_kind,
        "event_category": event_category,
        "unmatched_reason": unmatched_reason,
        "measure_kind": measure_kind,
        "gap_level": gap_level,
        "servqual_item": servqual_item,
    }
