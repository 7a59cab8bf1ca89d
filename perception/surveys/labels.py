"""Labels of the survey vocabularies in both languages, and local-time conversion for forms.

Times are stored as naive UTC; people enter and read them in the organisation's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l

from perception.surveys.models import CampaignKind, CampaignStatus, Channel, FollowUpReason, FollowUpStatus

KIND_LABELS = {
    CampaignKind.RELATIONSHIP: _l("Relationship (periodic)"),
    CampaignKind.TRANSACTIONAL: _l("After a closed ticket"),
}
CHANNEL_LABELS = {
    Channel.PERSONAL: _l("Personal links by email"),
    Channel.ANONYMOUS: _l("Anonymous public link"),
}
STATUS_LABELS = {
    CampaignStatus.DRAFT: _l("Draft"),
    CampaignStatus.OPEN: _l("Open"),
    CampaignStatus.CLOSED: _l("Closed"),
}
FOLLOWUP_STATUS_LABELS = {
    FollowUpStatus.OPEN: _l("Open"),
    FollowUpStatus.IN_PROGRESS: _l("In progress"),
    FollowUpStatus.DONE: _l("Done"),
}
REASON_LABELS = {
    FollowUpReason.LOW_CSAT: _l("Low CSAT"),
    FollowUpReason.LOW_NPS: _l("NPS detractor"),
    FollowUpReason.COMPLAINT: _l("Complaint"),
}


def reasons_label(reasons: str) -> str:
    return ", ".join(str(REASON_LABELS.get(r, r)) for r in reasons.split(",") if r)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("ORG_TIMEZONE", "Asia/Shanghai"))


def to_utc(local: datetime | None) -> datetime | None:
    if local is None:
        return None
    return local.replace(tzinfo=_zone()).astimezone(UTC).replace(tzinfo=None)


def to_local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(_zone()).replace(tzinfo=None)


def local_text(moment: datetime | None) -> str:
    local = to_local(moment)
    return local.strftime("%Y-%m-%d %H:%M") if local else "—"


def template_helpers() -> dict[str, object]:
    return {
        "kind_labels": KIND_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "status_labels": STATUS_LABELS,
        "followup_status_labels": FOLLOWUP_STATUS_LABELS,
        "reasons_label": reasons_label,
        "local_text": local_text,
    }
