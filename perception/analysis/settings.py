"""The analysis phase's settings, read from the running application's configuration.

Views, the API, the jobs and the demo read them here and pass them to the operations in
``services/``, which never read the configuration themselves.
"""

from __future__ import annotations

from flask import current_app


def public_base_url() -> str:
    """``PUBLIC_BASE_URL``: where the evidence links in alert emails point ("" keeps them relative)."""
    return str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")


def rollup_enabled() -> bool:
    """``ANALYSIS_ROLLUP``: whether the dashboards may read the pre-aggregated weekly sums while they
    match the facts (on unless set to False; the benchmark turns it off to time the facts path)."""
    return current_app.config.get("ANALYSIS_ROLLUP") is not False


def queue_configured() -> bool:
    """``REDIS_URL``: jobs run on a worker. Only then may a reading page ask for a job; without a
    queue the job would run inside the page's own (reading) transaction."""
    return bool(current_app.config.get("REDIS_URL"))
