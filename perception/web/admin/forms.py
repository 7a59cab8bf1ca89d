from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from perception.core.models.auth import Role
from perception.core.vocabulary import ROLE_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=120)])
    email = StringField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    roles = MultiCheckboxField(_l("Roles"), choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role])
    collection_point_id = SelectField(_l("Collection point"), coerce=int, validators=[Optional()])
    customer_id = SelectField(_l("Customer organisation"), coerce=int, validators=[Optional()])
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice("", "—"), SelectChoice("zh_CN", "中文"), SelectChoice("en", "English")],
    )
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=200)])


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])


class ApiKeyForm(FlaskForm):
    """A new API key: whose rights it carries, and how far it narrows them."""

    user_id = SelectField(_l("User"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    roles = MultiCheckboxField(
        _l("Only these roles"), choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role]
    )
    region_ids = MultiCheckboxField(_l("Only these regions"), coerce=int, validators=[Optional()])
    customer_id = SelectField(_l("Only this customer"), coerce=int, validators=[Optional()])
    read_only = BooleanField(_l("Read only"), default=True)
    days = IntegerField(
        _l("Expires after (days)"), validators=[Optional(), NumberRange(min=1, max=3650)], default=365
    )


class RevokeForm(FlaskForm):
    """A button that revokes a key: only the CSRF token."""
