"""The fields every survey page carries besides its questions (added to the engine's page form).

- ``submission_nonce``: 128 random bits made when the page is rendered; the final page's nonce
  makes a retried or double-clicked POST find the response it already stored.
- ``page``: which page this is (checked against the pages the answers show).
- ``fax_number``: a honeypot. People never see it (hidden by CSS and from screen readers, out
  of the tab order); form-filling bots fill it. A filled honeypot stores nothing.
"""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional

NONCE_LENGTH = 22  # token_urlsafe(16): 128 bits


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def valid_nonce(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == NONCE_LENGTH and all(c.isalnum() or c in "-_" for c in value)
    )


class SurveyPageBase(FlaskForm):
    submission_nonce = HiddenField()
    page = HiddenField()
    fax_number = StringField(_l("Leave this field empty"), validators=[Optional(), Length(max=200)])


class UnsubscribeForm(FlaskForm):
    """Only the CSRF token: unsubscribing is a POST, so mail scanners opening the link change nothing."""
