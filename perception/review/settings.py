"""The review phase's settings, read from the running application's configuration.

Views, the API, the jobs, the CLI and the demo read them here and pass them to the operations in
``services/``, which never read the configuration themselves.
"""

from __future__ import annotations

from flask import current_app

from perception.config import Defaults
from perception.review.services.periods import DEFAULT_REMINDER_DAYS, PeriodSpec, parse_periods
from perception.review.services.reports import PdfSettings


def review_periods() -> tuple[PeriodSpec, ...]:
    """``REVIEW_PERIODS``: raises ReviewConfigError when the setting cannot be read."""
    return parse_periods(current_app.config.get("REVIEW_PERIODS"))


def reminder_days() -> int:
    """``REVIEW_REMINDER_DAYS``: how long before a period ends the owner is reminded to sign."""
    return int(current_app.config.get("REVIEW_REMINDER_DAYS") or DEFAULT_REMINDER_DAYS)


def public_base_url() -> str:
    """``PUBLIC_BASE_URL``: links in the reminder mails."""
    return str(current_app.config.get("PUBLIC_BASE_URL") or Defaults.PUBLIC_BASE_URL)


def cjk_font_path() -> str | None:
    """``CJK_FONT``: the font file of the PDF and the charts (None: perception.reporting.fonts
    searches for one)."""
    return str(current_app.config.get("CJK_FONT") or "") or None


def pdf_settings() -> PdfSettings:
    """``ORGANISATION_NAME`` on the PDF's cover and the ``CJK_FONT`` file it is set in."""
    organisation = str(current_app.config.get("ORGANISATION_NAME") or "") or None
    return PdfSettings(organisation=organisation, font_path=cjk_font_path())


def page_max_age() -> float:
    """``REVIEW_PAGE_MAX_AGE_SECONDS``: how old the slow sections of an open review's page may be
    before the page asks for them again (perception.review.page_cache)."""
    return float(current_app.config.get("REVIEW_PAGE_MAX_AGE_SECONDS") or 600)
