"""Forms of the analysis pages (CSRF-protected POST actions)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from perception.analysis.models import OpportunityStatus, Sentiment

SENTIMENT_LABELS = {
    Sentiment.POSITIVE: _l("Positive"),
    Sentiment.NEUTRAL: _l("Neutral"),
    Sentiment.NEGATIVE: _l("Negative"),
}
STATUS_LABELS = {
    OpportunityStatus.NEW: _l("New"),
    OpportunityStatus.CONTACTED: _l("Contacted"),
    OpportunityStatus.OPPORTUNITY: _l("Opportunity"),
    OpportunityStatus.CLOSED: _l("Closed"),
}


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (run analysis, acknowledge)."""


class RenameThemeForm(FlaskForm):
    name = StringField(_l("Theme name"), validators=[Length(max=200)])


class MergeThemesForm(FlaskForm):
    keys = StringField(_l("Theme keys to merge"), validators=[DataRequired(), Length(max=500)])
    into = StringField(_l("Keep key"), validators=[Optional(), Length(max=64)])


class SplitThemeForm(FlaskForm):
    seeds = TextAreaField(_l("Seed terms, one group per line"), validators=[DataRequired(), Length(max=2000)])


class TextSettingsForm(FlaskForm):
    user_words = TextAreaField(_l("Domain dictionary (one word per line)"), validators=[Length(max=20000)])
    theme_count = IntegerField(
        _l("Number of themes (0 = automatic)"), validators=[Optional(), NumberRange(0, 50)]
    )
    min_customers = IntegerField(
        _l("Common need: minimum customers"), validators=[DataRequired(), NumberRange(1, 1000)]
    )
    min_regions = IntegerField(
        _l("Common need: minimum regions"), validators=[DataRequired(), NumberRange(1, 1000)]
    )
    review_threshold = FloatField(
        _l("Review below confidence"), validators=[DataRequired(), NumberRange(0.01, 0.99)]
    )


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=120)])


class LabelForm(FlaskForm):
    category = SelectField(_l("Category"), validators=[Optional()])
    sentiment = SelectField(
        _l("Sentiment"),
        choices=[SelectChoice("", "—")] + [SelectChoice(s, SENTIMENT_LABELS[s]) for s in Sentiment],
        validators=[Optional()],
    )


class SendNeedForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    theme_key = HiddenField(validators=[DataRequired()])
    owner_id = SelectField(_l("Owner"), coerce=int, validators=[Optional()])


class OpportunityForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[SelectChoice(s, STATUS_LABELS[s]) for s in OpportunityStatus])
    owner_id = SelectField(_l("Owner"), coerce=int, validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=10000)])
