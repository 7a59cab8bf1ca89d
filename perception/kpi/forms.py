"""HTML forms of the KPI phase: they collect input only; the services validate it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from perception.kpi.models import Direction, ImportKind

IMPORT_KINDS = [
    SelectChoice(ImportKind.TICKETS, _l("Tickets")),
    SelectChoice(ImportKind.KPI_VALUES, _l("KPI values")),
]
DIRECTIONS = [
    SelectChoice(Direction.HIGHER, _l("Higher is better")),
    SelectChoice(Direction.LOWER, _l("Lower is better")),
    SelectChoice(Direction.NEUTRAL, _l("Descriptive (no direction)")),
]


class ImportForm(FlaskForm):
    kind = SelectField(_l("What the file contains"), choices=IMPORT_KINDS)
    upload = FileField(_l("File (CSV or Excel .xlsx)"), validators=[FileRequired()])


class ApplyForm(FlaskForm):
    allow_duplicate = BooleanField(_l("Import again even though this file was imported before"))


class ComputeForm(FlaskForm):
    weeks = IntegerField(
        _l("Weeks to recompute"), default=26, validators=[DataRequired(), NumberRange(1, 104)]
    )


class DefinitionForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    unit = StringField(_l("Unit"), default="%", validators=[Length(max=16)])
    direction = SelectField(_l("Direction"), choices=DIRECTIONS)
    metric = SelectField(_l("Standard metric it measures"), validators=[Optional()])
    standard_id = SelectField(_l("Standard it measures"), validators=[Optional()])
    default_target = DecimalField(_l("Target when no standard applies"), validators=[Optional()])
    description_zh = TextAreaField(_l("Description (Chinese)"), validators=[Optional()])
    description_en = TextAreaField(_l("Description (English)"), validators=[Optional()])
