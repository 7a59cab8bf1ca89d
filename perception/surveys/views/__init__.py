"""Staff pages of surveys (campaigns, questionnaires, follow-ups); the respondent's pages
are the ``respondent`` blueprint beside this one."""

from flask import Blueprint

bp = Blueprint("surveys", __name__, url_prefix="/surveys")


@bp.context_processor
def _helpers() -> dict[str, object]:
    from perception.surveys.labels import template_helpers

    return template_helpers()


@bp.app_template_filter("followup_reasons")
def _followup_reasons(reasons: str) -> str:
    """For templates of other phases (the collection page's follow-up panel)."""
    from perception.surveys.labels import reasons_label

    return reasons_label(reasons)


@bp.app_template_filter("followup_status")
def _followup_status(status: str) -> str:
    from perception.surveys.labels import FOLLOWUP_STATUS_LABELS

    return str(FOLLOWUP_STATUS_LABELS.get(status, status))


@bp.app_template_filter("tel_href")
def _tel_href(phone: str | None) -> str | None:
    """For every page that shows a phone number (follow-ups here, callbacks in collection)."""
    from perception.surveys.views.phones import tel_href

    return tel_href(phone)


@bp.app_template_filter("phone_display")
def _phone_display(phone: str | None) -> str:
    from perception.surveys.views.phones import phone_display

    return phone_display(phone)


# The pages, listed: each module adds its routes to bp.
from perception.surveys.views import campaigns, definitions, followups, history, preview, results  # noqa: E402,F401
