"""Configuration: defaults, then instance/config.py, then PERCEPTION_* environment variables.

The factory applies a test override last. Production safety checks live here too, so a
misconfigured deployment refuses to start instead of running insecurely.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any

from perception.core.clock import DEFAULT_TIMEZONE

DEFAULT_SECRET_KEY = "dev-secret-change-me"  # noqa: S105 - sentinel that production refuses


class Defaults:
    SECRET_KEY = DEFAULT_SECRET_KEY
    ENV_NAME = "development"  # "production" enables the safety checks below
    SQLALCHEMY_DATABASE_URI: str | None = None  # None -> sqlite:///<instance>/perception.sqlite
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    REDIS_URL: str | None = None  # None -> background jobs run in-process
    RQ_QUEUE = "perception"

    # Background jobs (perception.core.jobs): without Redis a request's jobs run in JOB_THREADS
    # threads of the service (JOBS_BACKGROUND False: inside the request, for the test suite's
    # rolled-back database); a failed or lost attempt is retried after JOB_RETRY_BASE_SECONDS *
    # 2^(n-1) up to JOB_MAX_ATTEMPTS; a running job renews its lease of JOB_LEASE_SECONDS, and the
    # sweep (every JOB_SWEEP_SECONDS) restarts it when the lease runs out or re-sends a queued job
    # whose dispatch was lost JOB_REDISPATCH_SECONDS ago; finished jobs are deleted after
    # JOB_KEEP_FINISHED_SECONDS.
    JOBS_BACKGROUND = True
    JOB_THREADS = 2
    JOB_MAX_ATTEMPTS = 3
    JOB_RETRY_BASE_SECONDS = 10.0
    JOB_LEASE_SECONDS = 60.0
    JOB_SWEEP_SECONDS = 5.0
    JOB_REDISPATCH_SECONDS = 60.0
    JOB_TIMEOUT_SECONDS = 1800
    JOB_KEEP_FINISHED_SECONDS = 7 * 86400
    # A database outage answers 503 with this Retry-After (perception.web.outage).
    OUTAGE_RETRY_AFTER_SECONDS = 10
    # The review page's slow sections are computed ahead; an open review's are redone when older
    # than this (perception.review.page_cache).
    REVIEW_PAGE_MAX_AGE_SECONDS = 600

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE: bool | None = None  # None -> Secure unless debug/testing
    IDLE_TIMEOUT = timedelta(minutes=30)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    # Tests turn this on: a reading request (GET without @writes) that changes data fails loudly
    # instead of asking for SQLite's write lock mid-transaction (perception.core.transaction).
    STRICT_READERS = False

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; the idle timeout bounds it

    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "zh_CN")
    ORG_TIMEZONE = DEFAULT_TIMEZONE  # "today", "this week" and deadlines (perception.core.clock)
    CLOCK_NOW: datetime | None = None  # tests only: pin "now" (naive UTC)

    MAIL_BACKEND = "file"  # "smtp" | "file"
    MAIL_DEFAULT_SENDER = "perception@localhost"
    SMTP_HOST = "localhost"
    SMTP_PORT = 25
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = False

    MAX_CONTENT_LENGTH = 32 * 1024 * 1024  # uploads; imports state their own tighter limits
    API_PAGE_SIZE = 100
    PUBLIC_BASE_URL = "http://localhost:5000"
    ORGANISATION_NAME: str | None = None  # on the review PDF's cover
    ANALYSIS_ROLLUP = True  # dashboards may read the pre-aggregated weekly sums while they are fresh
    REVIEW_PERIODS = "H1,H2"  # review periods: halves, or month ranges such as "4-9,10-3"
    REVIEW_REMINDER_DAYS = 21  # remind the owner this many days before a period ends
    CJK_FONT: str | None = None


def _coerce(raw: str) -> Any:
    """Environment values are strings; accept JSON literals (true, 5, [..]) where they parse."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def env_overrides(environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith("PERCEPTION_") or key in {"PERCEPTION_INSTANCE_PATH"}:
            continue
        name = key.removeprefix("PERCEPTION_")
        if name == "DATABASE_URL":
            name = "SQLALCHEMY_DATABASE_URI"
        out[name] = raw if name in {"SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL"} else _coerce(raw)
    return out


class ConfigurationError(RuntimeError):
    """Raised at start-up when a production configuration is unsafe."""


def check_production_safety(config: dict[str, Any], debug: bool) -> None:
    if config.get("ENV_NAME") != "production":
        return
    if debug:
        raise ConfigurationError("Refusing to start: production mode with debug enabled.")
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise ConfigurationError(
            "Refusing to start: production mode with the default SECRET_KEY. "
            "Set PERCEPTION_SECRET_KEY or SECRET_KEY in instance/config.py."
        )
    if len(str(config["SECRET_KEY"])) < 32:
        raise ConfigurationError(
            "Refusing to start: SECRET_KEY must be at least 32 characters in production."
        )
