"""Labels of the setup vocabularies (perception.setup.models.standards), translated through the catalogue."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from perception.core.vocabulary import FEEDBACK_DIMENSIONS

KIND_LABELS = {
    "reactive": _l("Reactive (requested by the customer)"),
    "proactive": _l("Proactive (started by us)"),
}
CATEGORY_LABELS = {
    "efficiency": _l("Efficiency"),
    "quality": _l("Quality"),
    "experience": _l("Experience target"),
    "proactive": _l("Proactive delivery"),
}
MEANS_LABELS = {
    "kpi": _l("KPI feed"),
    "phone_callback": _l("Phone callback"),
    "sampling_comparison": _l("Sampling comparison"),
    "questionnaire": _l("Questionnaire"),
    "feedback_record": _l("Feedback record vs standard"),
}
FREQUENCY_LABELS = {
    "per_ticket": _l("Per closed ticket"),
    "weekly": _l("Weekly"),
    "monthly": _l("Monthly"),
    "quarterly": _l("Quarterly"),
    "half_yearly": _l("Half-yearly"),
}
WINDOW_LABELS = {"day": _l("Day"), "week": _l("Week"), "month": _l("Month"), "quarter": _l("Quarter")}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "proposed": _l("Proposed"),
    "confirmed": _l("Confirmed"),
    "rejected": _l("Rejected"),
    "superseded": _l("Superseded"),
}
EVENT_LABELS = {
    "proposed": _l("Proposed for confirmation"),
    "provider_confirmed": _l("Confirmed by the provider"),
    "customer_confirmed": _l("Confirmed by the customer"),
    "rejected": _l("Rejected"),
    "need_confirmed": _l("Customer need confirmed"),
    "comment": _l("Comment"),
    "reopened": _l("Changed and returned to draft"),
    "accepted_without_history": _l("Proposed without history: feasibility unproven"),
}
METRIC_LABELS = {
    "first_response_minutes": _l("First response time"),
    "resolution_minutes": _l("Resolution time"),
    "response_within_target_share": _l("Share responded within the time limit"),
    "resolution_within_target_share": _l("Share resolved within the time limit"),
    "first_contact_resolution_rate": _l("First-contact resolution rate"),
    "reopen_rate": _l("Reopen rate"),
    "answered_by_2nd_ring_share": _l("Share of calls answered by the 2nd ring"),
    "callback_within_target_share": _l("Share called back within the time limit"),
    "inspection_completion_share": _l("Share of inspections done on time"),
    "backup_success_share": _l("Share of successful backups"),
    "training_completion_share": _l("Share of training completed"),
    "csat_share": _l("CSAT (share of 4-5)"),
    "csat_mean": _l("CSAT mean"),
    "nps": _l("NPS"),
    "ces_mean": _l("Customer effort (mean)"),
    "dimension_rating_mean": _l("Mean rating of a dimension"),
    "servqual_gap": _l("SERVQUAL gap"),
    "sampling_agreement_share": _l("Share confirmed in sampling comparison"),
    "feedback_conformity_share": _l("Share of feedback conforming to the standard"),
}
DIMENSION_LABELS = dict(FEEDBACK_DIMENSIONS) | {
    "tangibles": _l("Tangibles"),
    "reliability": _l("Reliability"),
    "responsiveness": _l("Responsiveness"),
    "assurance": _l("Assurance"),
    "empathy": _l("Empathy"),
}
COVERAGE_LABELS = {"covered": _l("Covered"), "partial": _l("Partly covered"), "gap": _l("Not covered")}
PRINCIPLE_LABELS = {
    "explicit": _l("Explicit"),
    "measurable": _l("Measurable"),
    "feasible": _l("Feasible"),
    "timely": _l("Timely"),
    "aligned": _l("Aligned"),
}
REPORT_FREQUENCY_LABELS = {"weekly": _l("Weekly"), "monthly": _l("Monthly"), "quarterly": _l("Quarterly")}


# Who an escalation rule or an SLA report goes to (role names stored by setup, issue 17: words).
RECIPIENT_LABELS = {
    "provider_project_manager": _l("Provider's project manager"),
    "provider_regional_manager": _l("Provider's regional manager"),
    "customer_regional_manager": _l("Customer's regional manager"),
    "customer_representative": _l("Customer representative"),
    "project_managers": _l("Project managers"),
    "regional_managers": _l("Regional managers"),
}


def recipients_label(values: list[str] | str) -> str:
    """Role names in words, addresses as they are, joined by commas."""
    items = [v.strip() for v in (values.split(",") if isinstance(values, str) else values) if v.strip()]
    return ", ".join(str(RECIPIENT_LABELS.get(v, v)) for v in items)


def label(mapping: dict[str, object], value: str | None) -> str:
    if value is None:
        return "—"
    return str(mapping.get(value, value))
