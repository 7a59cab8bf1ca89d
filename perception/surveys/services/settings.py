"""Survey settings read from the app config, with defaults (instance/config.py or PERCEPTION_* env).

- SURVEY_LINK_DAYS: how long a personal link stays valid (capped by the campaign's close date)
- SURVEY_CONTACT_CAP_DAYS: no contact is invited more than once in this many days, over all campaigns
- SURVEY_MIN_FILL_SECONDS: a form submitted faster than this (from the first page) is shown again
- SURVEY_TOKEN_MAX_FAILURES / SURVEY_TOKEN_FAILURE_MINUTES: wrong links allowed per address and window
- SURVEY_COMPLAINT_WORDS: words in a comment that make a response a complaint (follow-up task)
- SURVEY_FOLLOWUP_DAYS: days to act on a follow-up task
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_app_context

DEFAULT_COMPLAINT_WORDS = ("投诉", "complain", "complaint")


@dataclass(frozen=True)
class SurveySettings:
    link_days: int = 30
    contact_cap_days: int = 30
    min_fill_seconds: float = 2.0
    token_max_failures: int = 30
    token_failure_minutes: int = 15
    complaint_words: tuple[str, ...] = DEFAULT_COMPLAINT_WORDS
    followup_days: int = 5
    public_base_url: str = "http://localhost:5000"


def settings() -> SurveySettings:
    if not has_app_context():
        return SurveySettings()
    cfg = current_app.config
    base = SurveySettings()
    words = cfg.get("SURVEY_COMPLAINT_WORDS", base.complaint_words)
    return SurveySettings(
        link_days=int(cfg.get("SURVEY_LINK_DAYS", base.link_days)),
        contact_cap_days=int(cfg.get("SURVEY_CONTACT_CAP_DAYS", base.contact_cap_days)),
        min_fill_seconds=float(cfg.get("SURVEY_MIN_FILL_SECONDS", base.min_fill_seconds)),
        token_max_failures=int(cfg.get("SURVEY_TOKEN_MAX_FAILURES", base.token_max_failures)),
        token_failure_minutes=int(cfg.get("SURVEY_TOKEN_FAILURE_MINUTES", base.token_failure_minutes)),
        complaint_words=tuple(str(w).lower() for w in words),
        followup_days=int(cfg.get("SURVEY_FOLLOWUP_DAYS", base.followup_days)),
        public_base_url=str(cfg.get("PUBLIC_BASE_URL", base.public_base_url)).rstrip("/"),
    )
