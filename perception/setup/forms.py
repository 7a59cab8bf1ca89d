"""HTML forms of the setup phase. They only collect input: every rule (required fields, numbers,
vocabularies, references) lives in perception.setup.services.schema, whose problems the views put
on the fields here in the user's language. Choices that come from the database are filled in by
the views (perception.setup.views.common)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from perception.core.clock import DEFAULT_TIMEZONE
from perception.setup.labels import (
    CATEGORY_LABELS,
    FREQUENCY_LABELS,
    KIND_LABELS,
    MEANS_LABELS,
    WINDOW_LABELS,
)
from perception.setup.models.catalog import ServiceKind
from perception.setup.models.standards import (
    COMPARATORS,
    PERCEPTION_MEANS,
    PLAN_FREQUENCIES,
    PRIORITIES,
    STANDARD_CATEGORIES,
    WINDOWS,
    AgreementKind,
)

NONE = SelectChoice("", "—")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _labelled(
    values: tuple[str, ...], labels: dict[str, object], optional: bool = False
) -> list[SelectChoice]:
    out = [NONE] if optional else []
    return out + [SelectChoice(v, labels.get(v, v)) for v in values]  # type: ignore[arg-type]


class StrategyForm(FlaskForm):
    title_zh = StringField(_l("Title (Chinese)"))
    title_en = StringField(_l("Title (English)"))
    statement_zh = TextAreaField(_l("Statement (Chinese)"))
    statement_en = TextAreaField(_l("Statement (English)"))
    principles_zh = TextAreaField(_l("Principles (Chinese, one per line)"))
    principles_en = TextAreaField(_l("Principles (English, one per line)"))
    owner = SelectField(_l("Owner"), choices=[NONE], validate_choice=False)
    effective_from = StringField(_l("Effective from"), render_kw={"type": "date"})


class TierForm(FlaskForm):
    code = StringField(_l("Code"))
    name_zh = StringField(_l("Name (Chinese)"))
    name_en = StringField(_l("Name (English)"))
    rank = StringField(_l("Rank (1 = highest)"), render_kw={"inputmode": "numeric"})


class ServiceForm(FlaskForm):
    code = StringField(_l("Code"))
    name_zh = StringField(_l("Name (Chinese)"))
    name_en = StringField(_l("Name (English)"))
    description_zh = TextAreaField(_l("Description (Chinese)"))
    description_en = TextAreaField(_l("Description (English)"))
    kind = SelectField(_l("Kind"), choices=_labelled(tuple(k.value for k in ServiceKind), KIND_LABELS))
    owner = SelectField(_l("Service owner"), choices=[NONE], validate_choice=False)
    active = BooleanField(_l("Active"), default=True)
    regions = MultiCheckboxField(_l("Regions where it is delivered"), choices=[], validate_choice=False)


class SubscriptionForm(FlaskForm):
    customer = SelectField(_l("Customer organisation"), choices=[NONE], validate_choice=False)
    service = SelectField(_l("Service"), choices=[NONE], validate_choice=False)
    tier = SelectField(_l("Tier"), choices=[NONE], validate_choice=False)


class StandardForm(FlaskForm):
    code = StringField(_l("Code"))
    service = SelectField(_l("Service"), choices=[NONE], validate_choice=False)
    tier = SelectField(_l("Tier"), choices=[NONE], validate_choice=False)
    customer = SelectField(
        _l("Customer (empty: every subscribed customer)"), choices=[NONE], validate_choice=False
    )
    category = SelectField(_l("Category"), choices=_labelled(STANDARD_CATEGORIES, CATEGORY_LABELS))
    experience_standard = SelectField(
        _l("Experience target it is compared with"), choices=[NONE], validate_choice=False
    )
    statement_zh = TextAreaField(_l("Statement (Chinese)"))
    statement_en = TextAreaField(_l("Statement (English)"))
    metric = SelectField(_l("Metric"), choices=[NONE], validate_choice=False)
    dimension = SelectField(_l("Dimension"), choices=[NONE], validate_choice=False)
    measured_by = SelectField(_l("Measured by"), choices=[NONE], validate_choice=False)
    comparator = SelectField(_l("Comparator"), choices=[SelectChoice(c, c) for c in COMPARATORS])
    target = StringField(_l("Target"), render_kw={"inputmode": "decimal"})
    unit = StringField(_l("Unit"))
    window = SelectField(_l("Measurement window"), choices=_labelled(WINDOWS, WINDOW_LABELS, optional=True))
    time_limit_minutes = StringField(_l("Time limit (minutes)"), render_kw={"inputmode": "decimal"})
    priority = SelectField(_l("Priority"), choices=[NONE] + [SelectChoice(p, p) for p in PRIORITIES])
    customer_need = TextAreaField(_l("Customer need it answers"))
    procedure = TextAreaField(_l("Work procedure that achieves it"))
    classification_standard = TextAreaField(_l("Classification standard (reactive services)"))
    handling_norms = TextAreaField(_l("Handling norms (reactive services)"))
    requested_effective_from = StringField(_l("Requested effective date"), render_kw={"type": "date"})
    active = BooleanField(_l("Active"), default=True)


class ActionForm(FlaskForm):
    comment = TextAreaField(_l("Comment"))
    # Proposing a rule with no history to replay needs this explicit acknowledgement (setup_confirm.propose).
    accept_without_history = BooleanField(
        _l("Propose without history: I accept that its feasibility is unproven"), default=False
    )


class SlaForm(FlaskForm):
    code = StringField(_l("Code"))
    kind = SelectField(
        _l("Agreement"), choices=[SelectChoice(k.value, k.value.upper()) for k in AgreementKind]
    )
    supports = SelectField(_l("Supports SLA (OLA only)"), choices=[NONE], validate_choice=False)
    team_zh = StringField(_l("Internal team (Chinese, OLA)"))
    team_en = StringField(_l("Internal team (English, OLA)"))
    name_zh = StringField(_l("Name (Chinese)"))
    name_en = StringField(_l("Name (English)"))
    definition_zh = TextAreaField(_l("Service-level definition (Chinese)"))
    definition_en = TextAreaField(_l("Service-level definition (English)"))
    customer = SelectField(_l("Customer (empty: every customer)"), choices=[NONE], validate_choice=False)
    tier = SelectField(_l("Tier"), choices=[NONE], validate_choice=False)
    services = MultiCheckboxField(_l("Services covered"), choices=[], validate_choice=False)
    covered_hours = StringField(_l("Covered hours"))
    timezone = StringField(_l("Time zone"))
    effective_from = StringField(_l("Effective from"), render_kw={"type": "date"})
    effective_to = StringField(_l("Effective until"), render_kw={"type": "date"})
    active = BooleanField(_l("Active"), default=True)
    holidays = TextAreaField(_l("Holidays"))
    workdays = TextAreaField(_l("Make-up working days"))
    indicators = TextAreaField(_l("Indicators and targets"))
    promises = TextAreaField(_l("Communication promises"))
    escalations = TextAreaField(_l("Escalation rules"))
    reports = TextAreaField(_l("Reporting"))


class PlanForm(FlaskForm):
    service = SelectField(_l("Service"), choices=[NONE], validate_choice=False)
    region = SelectField(_l("Region (empty: every region)"), choices=[NONE], validate_choice=False)
    customer = SelectField(_l("Customer (empty: every customer)"), choices=[NONE], validate_choice=False)
    tier = SelectField(_l("Tier"), choices=[NONE], validate_choice=False)
    means = SelectField(_l("Perception means"), choices=_labelled(PERCEPTION_MEANS, MEANS_LABELS))
    frequency = SelectField(_l("Frequency"), choices=_labelled(PLAN_FREQUENCIES, FREQUENCY_LABELS))
    sample_size = StringField(_l("Sample size"), render_kw={"inputmode": "numeric"})
    sample_share = StringField(_l("Sample share (0 to 1)"), render_kw={"inputmode": "decimal"})
    owner = SelectField(_l("Owner"), choices=[NONE], validate_choice=False)
    notes = TextAreaField(_l("Notes"))
    active = BooleanField(_l("Active"), default=True)


class TrainingForm(FlaskForm):
    trainee = StringField(_l("Trainee"))
    user = SelectField(_l("User account"), choices=[NONE], validate_choice=False)
    region = SelectField(_l("Region"), choices=[NONE], validate_choice=False)
    held_on = StringField(_l("Date"), render_kw={"type": "date"})
    topic_zh = StringField(_l("Topic (Chinese)"))
    topic_en = StringField(_l("Topic (English)"))
    trainer = StringField(_l("Trainer"))
    hours = StringField(_l("Hours"), render_kw={"inputmode": "decimal"})


class RegionForm(FlaskForm):
    code = StringField(_l("Code"))
    name_zh = StringField(_l("Name (Chinese)"))
    name_en = StringField(_l("Name (English)"))
    timezone = StringField(_l("Time zone"), default=DEFAULT_TIMEZONE)


class PointForm(FlaskForm):
    code = StringField(_l("Code"))
    name_zh = StringField(_l("Name (Chinese)"))
    name_en = StringField(_l("Name (English)"))
    region = SelectField(_l("Region"), choices=[NONE], validate_choice=False)
    report_due_weekday = StringField(_l("Weekly report due (1 = Monday ... 7 = Sunday)"), default="1")
    report_due_time = StringField(_l("Due time"), default="12:00", render_kw={"type": "time"})
    active = BooleanField(_l("Active"), default=True)


class CustomerForm(FlaskForm):
    code = StringField(_l("Code"))
    name_zh = StringField(_l("Name (Chinese)"))
    name_en = StringField(_l("Name (English)"))
    region = SelectField(_l("Region"), choices=[NONE], validate_choice=False)
    industry = StringField(_l("Industry"))


class ContactForm(FlaskForm):
    name = StringField(_l("Name"))
    email = StringField(_l("Email"))
    phone = StringField(_l("Phone"))
    title = StringField(_l("Job title"))
    language = SelectField(
        _l("Language"), choices=[SelectChoice("zh_CN", "中文"), SelectChoice("en", "English")]
    )


class SystemOwnerForm(FlaskForm):
    system_owner = SelectField(_l("System owner"), choices=[NONE], validate_choice=False)
    provider_name_zh = StringField(_l("Service provider (Chinese name)"), validators=[Length(max=200)])
    provider_name_en = StringField(_l("Service provider (English name)"), validators=[Length(max=200)])


class PointRolesForm(FlaskForm):
    lead_id = SelectField(_l("Collection-point lead"), choices=[NONE], validate_choice=False)
    organiser_id = SelectField(_l("Designated organiser"), choices=[NONE], validate_choice=False)


class ImportForm(FlaskForm):
    document = FileField(_l("Setup document (YAML or JSON)"))
    text = TextAreaField(_l("…or paste it here"))
    dry_run = BooleanField(_l("Only check, do not change anything"), default=False)
