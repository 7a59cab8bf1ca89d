"""The application a benchmark measures: one configuration for every bench script (a throw-away
secret key, no CSRF for the test client's posts, no Redis, no background jobs: a bench times
requests and jobs it runs itself), and the period links the manager-page benchmarks time."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any


def bench_app(url: str, **settings: Any) -> Any:
    """``perception.create_app`` on the database ``url``, imported from whichever tree is first on
    ``sys.path`` (bench_first_load's ``--code``); ``settings`` add to or replace the bench's."""
    from perception import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret-key-which-is-long-enough-0123",
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": None,
            "JOBS_BACKGROUND": False,
            **settings,
        }
    )


def weeks_to(end: date, weeks: int) -> str:
    """The query of a period of ``weeks`` weeks ending the day before ``end`` (a Monday)."""
    return f"?from={(end - timedelta(weeks=weeks)).isoformat()}&to={(end - timedelta(days=1)).isoformat()}"
