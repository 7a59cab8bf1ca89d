"""Labels of the collection phase's states, shown in templates (translated through the catalogue),
and the template helpers the blueprint's pages share."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from perception.collection.services import vocab
from perception.core.i18n import is_zh
from perception.core.periods import iso_week_label

REPORT_STATUS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "returned": _l("Returned"),
    "resubmitted": _l("Resubmitted"),
    "accepted": _l("Accepted"),
}
COMPLETENESS = {
    "not_started": _l("Not started"),
    "draft": _l("Draft"),
    "submitted": _l("On time"),
    "late": _l("Late"),
    "missing": _l("Missing"),
}
COMPLETENESS_BADGE = {"submitted": "ok", "late": "warn", "missing": "bad", "draft": "", "not_started": ""}
CALLBACK_STATUS = {
    "pending": _l("Pending"),
    "no_answer": _l("No answer"),
    "refused": _l("Refused"),
    "wrong_number": _l("Wrong number"),
    "completed": _l("Completed"),
}
SAMPLED_STATUS = {"pending": _l("Pending"), "confirmed": _l("Confirmed"), "unreachable": _l("Unreachable")}
CHECK_RESULT = {
    "meets": _l("Meets the standard"),
    "misses": _l("Misses the standard"),
    "not_measurable": _l("Not measurable"),
}
VOCABS = {
    "kind": vocab.KINDS,
    "category": vocab.CATEGORIES,
    "dimension": vocab.DIMENSIONS,
    "means": vocab.MEANS,
    "urgency": vocab.URGENCIES,
    "size": vocab.SIZES,
}


def vocab_label(name: str, code: str | None) -> str:
    return vocab.label(VOCABS[name], code, is_zh())


def week_label(day: date) -> str:
    return iso_week_label(day)


def yes_no(value: bool | None) -> str:
    if value is None:
        return "—"
    return str(_l("Yes") if value else _l("No"))


def lateness(hours: float | None) -> str:
    """How late a report came, as a person says it: hours within two days, days beyond
    ("629.29 h" read as "26 days" on the issue's page)."""
    if not hours:
        return ""
    if hours < 48:
        return _("%(h)s h late", h=max(1, round(hours)))
    return _("%(d)s days late", d=round(hours / 24))


def template_helpers() -> dict[str, Any]:
    return {
        "lateness": lateness,
        "vocab_label": vocab_label,
        "week_label": week_label,
        "yes_no": yes_no,
        "REPORT_STATUS": REPORT_STATUS,
        "COMPLETENESS": COMPLETENESS,
        "COMPLETENESS_BADGE": COMPLETENESS_BADGE,
        "CALLBACK_STATUS": CALLBACK_STATUS,
        "SAMPLED_STATUS": SAMPLED_STATUS,
        "CHECK_RESULT": CHECK_RESULT,
    }
