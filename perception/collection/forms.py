"""Forms of the collection phase. Entry rows are plain WTForms sub-forms inside one FlaskForm
(CSRF once); their values are validated by ``services.entries``, not by WTForms, so the
form, the import and the API accept exactly the same input."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from perception.collection.services.vocab import Label


def vocab_choices(vocab: dict[str, Label], zh: bool, blank: bool = True) -> list[SelectChoice]:
    out = [SelectChoice("", "—")] if blank else []
    return out + [SelectChoice(code, pair[0] if zh else pair[1]) for code, pair in vocab.items()]


class _Row(Form):
    class Meta:
        csrf = False


class DynamicRow(_Row):
    customer = SelectField(_l("Customer"), validate_choice=False)
    category = SelectField(_l("Category"), validate_choice=False)
    date = StringField(_l("Date"), render_kw={"type": "date"})
    text = TextAreaField(_l("Description"), render_kw={"rows": 2})
    impact = TextAreaField(_l("Expected impact"), render_kw={"rows": 2})
    service = SelectField(_l("Service"), validate_choice=False)


class FeedbackRow(_Row):
    customer = SelectField(_l("Customer"), validate_choice=False)
    contact = StringField(_l("Contact"))
    dimension = SelectField(_l("Dimension"), validate_choice=False)
    rating = SelectField(_l("Rating (1-5)"), validate_choice=False)
    means = SelectField(_l("Came by"), validate_choice=False)
    service = SelectField(_l("Service"), validate_choice=False)
    text = TextAreaField(_l("Feedback"), render_kw={"rows": 2})


class RequirementRow(_Row):
    customer = SelectField(_l("Customer"), validate_choice=False)
    text = TextAreaField(_l("Requirement"), render_kw={"rows": 2})
    area = StringField(_l("Service area"))
    service = SelectField(_l("Service"), validate_choice=False)
    urgency = SelectField(_l("Urgency"), validate_choice=False)
    size = SelectField(_l("Estimated size"), validate_choice=False)


ROW_FIELDS = {
    "dynamic": ("customer", "category", "date", "text", "impact", "service"),
    "feedback": ("customer", "contact", "dimension", "rating", "means", "service", "text"),
    "requirement": ("customer", "text", "area", "service", "urgency", "size"),
}


class ReportForm(FlaskForm):
    dynamic = FieldList(FormField(DynamicRow), min_entries=1, max_entries=200)
    feedback = FieldList(FormField(FeedbackRow), min_entries=1, max_entries=200)
    requirement = FieldList(FormField(RequirementRow), min_entries=1, max_entries=200)
    action = HiddenField()


class OpenReportForm(FlaskForm):
    week = StringField(_l("ISO week"), validators=[DataRequired(), Length(max=10)])


class ReturnForm(FlaskForm):
    comment = TextAreaField(_l("What should be corrected"), validators=[DataRequired(), Length(max=4000)])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or Excel file"))
    pasted = TextAreaField(_l("Or paste rows (with the header row)"), render_kw={"rows": 5})


class DuplicateForm(FlaskForm):
    entry_id = IntegerField(validators=[InputRequired()])
    duplicate_of = IntegerField(_l("Duplicate of entry"), validators=[Optional()])


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    region_id = SelectField(_l("Region"), coerce=int)
    survey_version_id = SelectField(_l("Callback script"), coerce=int)
    period_start = DateField(_l("Tickets closed from"), validators=[Optional()])
    period_end = DateField(_l("Tickets closed before"), validators=[Optional()])
    sampling_rate = IntegerField(
        _l("Sampling rate (%)"), default=20, validators=[InputRequired(), NumberRange(1, 100)]
    )
    contacts = TextAreaField(_l("Or a list of contact emails, one per line"), render_kw={"rows": 3})


class AttemptForm(FlaskForm):
    outcome = RadioField(_l("Outcome of the call"), validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)], render_kw={"rows": 2})


class SamplingRunForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    period_start = DateField(_l("Tickets closed from"), validators=[InputRequired()])
    period_end = DateField(_l("Tickets closed before"), validators=[InputRequired()])
    margin = IntegerField(
        _l("Margin of error (%)"), default=5, validators=[InputRequired(), NumberRange(1, 50)]
    )
    confidence = SelectField(_l("Confidence"), default="0.95", validate_choice=False)
    seed = StringField(_l("Seed (empty: a new random seed)"), validators=[Optional(), Length(max=32)])
    region_ids = SelectField(_l("Regions"), default="", validate_choice=False)


TRISTATE = [SelectChoice("", "—"), SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]


class ConfirmationForm(FlaskForm):
    reached = BooleanField(_l("The customer was reached"), default=True)
    resolved = SelectField(_l("Resolved, says the customer"), choices=TRISTATE, validate_choice=False)
    on_time = SelectField(_l("On time, says the customer"), choices=TRISTATE, validate_choice=False)
    satisfied = SelectField(_l("Satisfied"), choices=TRISTATE, validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[Length(max=4000)], render_kw={"rows": 2})
