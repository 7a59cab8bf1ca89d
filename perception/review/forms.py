"""Forms of the review phase. Values are checked by the services (review_signoff, review_register),
not by WTForms, so the HTML forms and the JSON API accept exactly the same input and give the same
field-named errors."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from perception.review.models import FindingKind, ImprovementMetric, ImprovementSource, ImprovementStatus

FINDING_KINDS: dict[str, object] = {FindingKind.FINDING: _l("Finding"), FindingKind.DECISION: _l("Decision")}
SOURCES: dict[str, object] = {
    ImprovementSource.REVIEW_FINDING: _l("Review finding"),
    ImprovementSource.ALERT: _l("Alert"),
    ImprovementSource.ANALYST: _l("Analyst"),
    ImprovementSource.CUSTOMER_FEEDBACK: _l("Customer feedback"),
}
STATUSES: dict[str, object] = {
    ImprovementStatus.PROPOSED: _l("Proposed"),
    ImprovementStatus.APPROVED: _l("Approved"),
    ImprovementStatus.IN_PROGRESS: _l("In progress"),
    ImprovementStatus.COMPLETED: _l("Completed"),
    ImprovementStatus.CANCELLED: _l("Cancelled"),
}
PRIORITIES: dict[str, object] = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}
METRICS: dict[str, object] = {
    ImprovementMetric.CSAT_SHARE: _l("CSAT (share of 4-5)"),
    ImprovementMetric.NPS: _l("NPS"),
    ImprovementMetric.RATING_MEAN: _l("Mean rating"),
    ImprovementMetric.KPI_VALUE: _l("KPI value (weekly mean)"),
    ImprovementMetric.KPI_ATTAINMENT: _l("KPI attainment (share of weeks met)"),
}
SCALE = [SelectChoice(str(i), str(i)) for i in range(1, 6)]


def choices(labels: dict[str, object], blank: bool = False) -> list[SelectChoice]:
    out = [SelectChoice("", "—")] if blank else []
    # The label stays lazy: translated when the form is drawn, in the reader's language (issue 17).
    return out + [SelectChoice(code, label) for code, label in labels.items()]  # type: ignore[arg-type]


class FindingForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=choices(FINDING_KINDS), validate_choice=False)
    text = TextAreaField(_l("Finding or decision (Chinese)"), render_kw={"rows": 3})
    text_en = TextAreaField(_l("Finding or decision (English)"), render_kw={"rows": 3})
    evidence = SelectField(_l("Evidence"), validate_choice=False)
    evidence_note = StringField(_l("Note on the evidence"), validators=[Optional()])


class ImprovementFromFindingForm(FlaskForm):
    title = StringField(_l("Improvement title (Chinese)"))
    title_en = StringField(_l("Improvement title (English)"))


class SignForm(FlaskForm):
    pass


class PdfForm(FlaskForm):
    lang = SelectField(_l("Language"), choices=[SelectChoice("zh", "中文"), SelectChoice("en", "English")])


class ItemForm(FlaskForm):
    title = StringField(_l("Title (Chinese)"))
    title_en = StringField(_l("Title (English)"))
    description = TextAreaField(_l("Description"), render_kw={"rows": 3})
    source = SelectField(_l("Source"), choices=choices(SOURCES), validate_choice=False)
    source_ref = StringField(_l("Source reference"), validators=[Optional()])
    evidence = TextAreaField(_l("Evidence"), render_kw={"rows": 2})
    business_case = TextAreaField(_l("Business case"), render_kw={"rows": 2})
    value = SelectField(_l("Value (1-5)"), choices=SCALE, default="3", validate_choice=False)
    effort = SelectField(_l("Effort (1-5)"), choices=SCALE, default="3", validate_choice=False)
    owner_id = SelectField(_l("Owner"), validate_choice=False)
    due_on = StringField(_l("Due date"), render_kw={"type": "date"})
    status = SelectField(_l("Status"), choices=choices(STATUSES), validate_choice=False)
    completed_on = StringField(_l("Completed on"), render_kw={"type": "date"})
    region_id = SelectField(_l("Region"), validate_choice=False)
    metric = SelectField(_l("Baseline metric"), choices=choices(METRICS, blank=True), validate_choice=False)
    metric_service_id = SelectField(_l("Service measured"), validate_choice=False)
    metric_dimension = SelectField(_l("Feedback dimension"), validate_choice=False)
    metric_kpi_code = StringField(_l("KPI code"), validators=[Optional()])
    baseline_from = StringField(_l("Baseline from"), render_kw={"type": "date"})
    baseline_to = StringField(_l("Baseline to (exclusive)"), render_kw={"type": "date"})
    target_value = StringField(_l("Target value"), validators=[Optional()])
    measure_weeks = IntegerField(_l("Weeks measured after completion"), default=8, validators=[Optional()])

    SERVICE_FIELDS = (
        "title", "title_en", "description", "source", "source_ref", "evidence", "business_case", "value",
        "effort", "owner_id", "due_on", "status", "completed_on", "region_id", "metric", "metric_service_id",
        "metric_dimension", "metric_kpi_code", "baseline_from", "baseline_to", "target_value",
        "measure_weeks",
    )  # fmt: skip

    def service_data(self) -> dict[str, object]:
        return {name: self[name].data for name in self.SERVICE_FIELDS}
