"""Configuration: defaults, then instance/config.py, then PERCEPTION_* environment variables.

The factory applies a test override last. Production safety checks live here too, so a
misconfigured deployment refuses to start instead of running insecurely.
"""

from __future__ import annotations

import json
import os
import sys
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

    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5  # from browsers without this account's device cookie
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30  # from browsers without a device cookie, any account
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)

    # Sessions and sign-in hardening (issue 18). A session is a row in the database (every node
    # sees its revocation) and ends at the latest SESSION_ABSOLUTE_LIFETIME after sign-in, however
    # active. A browser that signed in gets a signed device cookie: its own failures are counted
    # apart (LOGIN_MAX_FAILURES_PER_DEVICE), so strangers' failures cannot lock its owner out.
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=12)
    LOGIN_MAX_FAILURES_PER_DEVICE = 5
    LOGIN_DEVICE_COOKIE_DAYS = 90
    # Reverse proxies: how many proxies in front of the app to trust for X-Forwarded-For (the
    # client's address) and X-Forwarded-Proto (https). 0 = none: the headers are ignored, since
    # anyone can send them. HSTS_SECONDS is sent on every HTTPS response (0 = no header).
    PROXY_TRUSTED_FOR = 0
    PROXY_TRUSTED_PROTO = 0
    HSTS_SECONDS = 365 * 24 * 3600

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
    # Service-desk events in (perception.kpi.views.intake): how far a signed request's timestamp
    # may be from the server's clock (older ones are refused as replays), and the largest body.
    INTAKE_TIMESTAMP_TOLERANCE_SECONDS = 300
    INTAKE_MAX_BODY_BYTES = 1024 * 1024
    # Webhooks out (perception.core.webhooks): tries per message, the first back-off (doubled each
    # time), failed attempts in a row that disable a subscription, and the receiver's time limit.
    WEBHOOK_MAX_ATTEMPTS = 6
    WEBHOOK_BACKOFF_SECONDS = 30
    WEBHOOK_DISABLE_AFTER = 20
    WEBHOOK_TIMEOUT_SECONDS = 5

    # Hardening of uploads (perception.core.uploads): what an Excel workbook may unpack to, read
    # from the zip's declarations before anything is parsed, so a small file cannot hold a worker.
    UPLOAD_MAX_UNPACKED_BYTES = 256 * 1024 * 1024


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


def duration(value: Any) -> timedelta:
    """A length of time from the configuration: a timedelta (instance/config.py) or seconds (env)."""
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


class ConfigurationError(RuntimeError):
    """Raised at start-up when a production configuration is unsafe."""


MIN_SECRET_KEY_LENGTH = 32
# Servers that host the app in production. Only Werkzeug's development server (``perception run``,
# ``flask run``) and the test suite may run with the public default key.
PRODUCTION_SERVERS = ("gunicorn", "uwsgi", "mod_wsgi", "waitress")


def is_production(config: dict[str, Any]) -> bool:
    return str(config.get("ENV_NAME") or "").strip().lower() == "production"


def weak_secret_key(config: dict[str, Any]) -> bool:
    key = config.get("SECRET_KEY")
    return not key or key == DEFAULT_SECRET_KEY or len(str(key)) < MIN_SECRET_KEY_LENGTH


def hosted_by_production_server(environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """Whether a production WSGI server is loading this process (gunicorn names itself in
    SERVER_SOFTWARE; the others are modules that only exist inside their server)."""
    environ = os.environ if environ is None else environ
    software = environ.get("SERVER_SOFTWARE", "").lower()
    if software and not software.startswith("werkzeug"):
        return True
    return any(name in sys.modules for name in PRODUCTION_SERVERS)


def served_by_production_server(wsgi_environ: dict[str, Any]) -> bool:
    """Whether a request came through a server other than Werkzeug's development server (the
    server names itself in SERVER_SOFTWARE; the test client names none)."""
    software = str(wsgi_environ.get("SERVER_SOFTWARE", "")).lower()
    return bool(software) and not software.startswith("werkzeug/")


def check_production_safety(config: dict[str, Any], debug: bool) -> None:
    """At start-up. Production (ENV_NAME "production" in any case, or a production WSGI server
    such as gunicorn) refuses debug and a default or short SECRET_KEY: with the public default
    key anyone can sign a session cookie as any user (issue 18)."""
    if config.get("TESTING"):
        return
    production = is_production(config) or hosted_by_production_server()
    if not production:
        return
    if debug:
        raise ConfigurationError("Refusing to start: production mode with debug enabled.")
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise ConfigurationError(
            "Refusing to start: production mode with the default SECRET_KEY. "
            "Set PERCEPTION_SECRET_KEY or SECRET_KEY in instance/config.py."
        )
    if weak_secret_key(config):
        raise ConfigurationError(
            f"Refusing to start: SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters "
            "in production."
        )
