"""What a survey page posts besides its answers, and the unsubscribe form.

The question fields come from the engine (``surveys.build_page_form`` on a plain WTForms
``Form``); the app-wide CSRFProtect checks the CSRF token of every POST before the view runs, so
the page form carries no CSRF field of its own. Three more inputs are read from the request:

- ``submission_nonce``: 128 random bits made when the page is rendered; the final page's nonce
  makes a retried or double-clicked POST find the response it already stored.
- ``page``: which page this is (checked against the pages the answers show).
- ``fax_number``: a honeypot. People never see it (hidden by CSS and from screen readers, out
  of the tab order); form-filling bots fill it. A filled honeypot stores nothing.
"""

from __future__ import annotations

import re
import secrets

from flask_wtf import FlaskForm

NONCE_LENGTH = 22  # token_urlsafe(16): 128 bits
HONEYPOT = "fax_number"


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


# What token_urlsafe makes: ASCII letters, digits, "-" and "_" (one match, not a call per character).
_NONCE = re.compile(rf"[A-Za-z0-9_-]{{{NONCE_LENGTH}}}")


def valid_nonce(value: object) -> bool:
    return isinstance(value, str) and _NONCE.fullmatch(value) is not None


class UnsubscribeForm(FlaskForm):
    """Only the CSRF token: unsubscribing is a POST, so mail scanners opening the link change nothing."""
