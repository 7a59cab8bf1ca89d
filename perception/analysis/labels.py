"""Bilingual labels the analysis templates use (dimensions, alert kinds)."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

from perception.i18n import is_zh
from perception.services.collection_vocab import CATEGORIES, DIMENSIONS

ALERT_KINDS = {
    "experience_drop": _l("Experience drop"),
    "new_watermelon": _l("New watermelon"),
    "standard_missed": _l("Standard missed"),
    "missing_reports": _l("Missing reports"),
}


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
    return {"dimension_label": dimension_label, "alert_kind": alert_kind, "event_category": event_category}
