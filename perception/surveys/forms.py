"""Forms of the staff survey pages. Values are checked by the services (the API accepts exactly
the same), so the fields here only carry input; choices are filled by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional


class CampaignForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Length(max=64)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=200)])
    version_id = SelectField(_l("Survey version"), validate_choice=False)
    kind = SelectField(_l("Kind"), validate_choice=False)
    channel = SelectField(_l("Channel"), validate_choice=False)
    region_id = SelectField(_l("Region"), validate_choice=False)
    customer_id = SelectField(_l("Customer"), validate_choice=False)
    service_id = SelectField(_l("Service"), validate_choice=False)
    tier_id = SelectField(_l("Service tier"), validate_choice=False)
    opens_at = DateTimeLocalField(_l("Opens at"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField(_l("Closes at"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    reminder_after_days = IntegerField(_l("Remind after (days)"), validators=[Optional()], default=3)
    max_reminders = IntegerField(_l("Reminders at most"), validators=[Optional()], default=1)
    sampling_rate = DecimalField(_l("Sampling rate (0-1)"), validators=[Optional()], default=1, places=2)
    csat_threshold = IntegerField(_l("Follow up CSAT at or below"), validators=[Optional()], default=2)
    nps_threshold = IntegerField(_l("Follow up NPS at or below"), validators=[Optional()], default=6)


class PublishForm(FlaskForm):
    code = StringField(_l("Survey code"), validators=[Length(max=64)])
    definition = TextAreaField(_l("Definition (YAML or JSON)"), render_kw={"rows": 16, "spellcheck": "false"})


class FollowUpForm(FlaskForm):
    status = SelectField(_l("Status"), validate_choice=False)
    outcome = TextAreaField(_l("Outcome"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 4})


class FollowUpRouteForm(FlaskForm):
    """A routing rule: a region and/or a service, and the owner of their follow-up tasks."""

    region_id = SelectField(_l("Region"), validate_choice=False)
    service_id = SelectField(_l("Service"), validate_choice=False)
    owner_id = SelectField(_l("Owner"), validate_choice=False)


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


class HistoryUploadForm(FlaskForm):
    """A history file (past answers, weekly reports or callbacks) to check in a dry run."""

    upload = FileField(_l("File (CSV or Excel .xlsx)"), validators=[FileRequired()])


class HistoryApplyForm(FlaskForm):
    """Applies a history file that a dry run has checked."""
