"""The surveys phase's settings, with their defaults (instance/config.py or PERCEPTION_* env).

- SURVEY_LINK_DAYS: how long a personal link stays valid (capped by the campaign's close date)
- SURVEY_CONTACT_CAP_DAYS: no contact is invited more than once in this many days, over all campaigns
- SURVEY_MIN_FILL_SECONDS: a form submitted faster than this (from the first page) is shown again
- SURVEY_TOKEN_MAX_FAILURES / SURVEY_TOKEN_FAILURE_MINUTES: unknown links allowed per address and window
  (a used or expired link is not counted; a real link opens whatever the count)
- SURVEY_COMPLAINT_WORDS: words in a comment that make a response a complaint (follow-up task)
- SURVEY_FOLLOWUP_DAYS: days to act on a follow-up task
- ORG_TIMEZONE: the day a post-ticket invitation says its ticket closed on
- PUBLIC_BASE_URL and SECRET_KEY: where the links in invitation emails point, and the key that
  signs their unsubscribe links

Operations never read the configuration: a view, job or CLI command builds ``SurveySettings``
with ``from_config`` of the application's configuration and passes it (or the values it
needs) in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
    org_timezone: str = "Asia/Shanghai"
    secret_key: str = field(default="", repr=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SurveySettings:
        base = cls()
        words = config.get("SURVEY_COMPLAINT_WORDS", base.complaint_words)
        return cls(
            link_days=int(config.get("SURVEY_LINK_DAYS", base.link_days)),
            contact_cap_days=int(config.get("SURVEY_CONTACT_CAP_DAYS", base.contact_cap_days)),
            min_fill_seconds=float(config.get("SURVEY_MIN_FILL_SECONDS", base.min_fill_seconds)),
            token_max_failures=int(config.get("SURVEY_TOKEN_MAX_FAILURES", base.token_max_failures)),
            token_failure_minutes=int(config.get("SURVEY_TOKEN_FAILURE_MINUTES", base.token_failure_minutes)),
            complaint_words=tuple(str(w).lower() for w in words),
            followup_days=int(config.get("SURVEY_FOLLOWUP_DAYS", base.followup_days)),
            public_base_url=str(config.get("PUBLIC_BASE_URL") or base.public_base_url).rstrip("/"),
            secret_key=str(config.get("SECRET_KEY") or ""),
            org_timezone=str(config.get("ORG_TIMEZONE") or base.org_timezone),
        )
