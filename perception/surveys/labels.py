"""Labels of the survey vocabularies in both languages, and local-time conversion for forms.

Times are stored as naive UTC; people enter and read them in the organisation's time zone (the
ORG_TIMEZONE setting, through ``perception.core.clock``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from perception.core.clock import current_clock
from perception.surveys.models import CampaignKind, CampaignStatus, Channel, FollowUpReason, FollowUpStatus
from surveys.model import QuestionType

# Keyed by the stored value: a vocabulary member or the plain string read back from a row.
Labels = dict[str, LazyString]

KIND_LABELS: Labels = {
    CampaignKind.RELATIONSHIP: _l("Relationship (periodic)"),
    CampaignKind.TRANSACTIONAL: _l("After a closed ticket"),
}
CHANNEL_LABELS: Labels = {
    Channel.PERSONAL: _l("Personal links by email"),
    Channel.ANONYMOUS: _l("Anonymous public link"),
}
STATUS_LABELS: Labels = {
    CampaignStatus.DRAFT: _l("Draft"),
    CampaignStatus.OPEN: _l("Open"),
    CampaignStatus.CLOSED: _l("Closed"),
}
FOLLOWUP_STATUS_LABELS: Labels = {
    FollowUpStatus.OPEN: _l("Open"),
    FollowUpStatus.IN_PROGRESS: _l("In progress"),
    FollowUpStatus.DONE: _l("Done"),
}
QUESTION_TYPE_LABELS: Labels = {
    QuestionType.RATING: _l("Rating"),
    QuestionType.CSAT: _l("Satisfaction (CSAT)"),
    QuestionType.NPS: _l("Likelihood to recommend (NPS)"),
    QuestionType.CES: _l("Customer effort (CES)"),
    QuestionType.LIKERT_MATRIX: _l("Rating grid"),
    QuestionType.SERVQUAL: _l("Expectation and perception (SERVQUAL)"),
    QuestionType.SINGLE_CHOICE: _l("Single choice"),
    QuestionType.MULTIPLE_CHOICE: _l("Multiple choice"),
    QuestionType.TEXT: _l("Free text"),
    QuestionType.NUMBER: _l("Number"),
    QuestionType.DATE: _l("Date"),
    QuestionType.CONSTANT_SUM: _l("Share of points (constant sum)"),
}
REASON_LABELS: Labels = {
    FollowUpReason.LOW_CSAT: _l("Low CSAT"),
    FollowUpReason.LOW_NPS: _l("NPS detractor"),
    FollowUpReason.COMPLAINT: _l("Complaint"),
}


def reasons_label(reasons: str) -> str:
    return ", ".join(str(REASON_LABELS.get(r, r)) for r in reasons.split(",") if r)


def to_utc(local: datetime | None) -> datetime | None:
    """A naive time entered in the organisation's time zone, as the naive UTC it is stored as."""
    if local is None:
        return None
    zone = ZoneInfo(current_clock().timezone)
    return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def to_local(moment: datetime | None) -> datetime | None:
    """A stored naive-UTC moment as naive local time in the organisation's time zone."""
    if moment is None:
        return None
    return current_clock().local(moment).replace(tzinfo=None)


def local_text(moment: datetime | None) -> str:
    local = to_local(moment)
    return local.strftime("%Y-%m-%d %H:%M") if local else "—"


def answer_text(question: Any, value: Any, lang: str, questions: Any = ()) -> str:
    """A stored answer in words (surveys.answer_text), other questions' ids named by their text."""
    from surveys.answer_text import answer_text as text_of

    return text_of(question, value, "zh" if lang == "zh" else "en", {q.id: q.text for q in questions})


def template_helpers() -> dict[str, object]:
    return {
        "kind_labels": KIND_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "status_labels": STATUS_LABELS,
        "followup_status_labels": FOLLOWUP_STATUS_LABELS,
        "reasons_label": reasons_label,
        "local_text": local_text,
        "answer_text": answer_text,
    }
