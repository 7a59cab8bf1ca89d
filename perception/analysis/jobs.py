"""Background jobs of the analysis phase, and how a page asks for one.

- ``check_analysis_alerts`` (daily): raise the alerts of the last complete week
  (services.alert_checks).
- ``run_text_analysis`` (daily, and on request: the re-run button, a merge or split of themes):
  themes and classifiers over the newest texts (services.text_run).
- ``refresh_analysis_rollup`` (hourly, and when a dashboard found the weekly sums stale): rebuild
  the pre-aggregated weekly sums (services.rollup).

Like views and CLI commands, jobs are where the settings and the organisation's clock are read
(perception.analysis.settings, perception.core.clock) and handed to the operations in ``services/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from perception.analysis import settings
from perception.analysis.services.alert_checks import check_alerts
from perception.analysis.services.rollup import RollupFreshness, refresh_rollup, rollup_freshness
from perception.analysis.services.text_run import run_text_analysis
from perception.core.authz import Permission
from perception.core.clock import current_clock
from perception.core.jobs import enqueue, job, latest_for
from perception.core.jobs.state import JobState, state_of
from perception.core.transaction import after_commit

# What the text analysis job produces, where the demand page looks for its state.
TEXT_ANALYSIS_SUBJECT = "text_analysis"


@job("check_analysis_alerts")
def check_analysis_alerts(session: Session, now: str | datetime | None = None, **_: Any) -> int:
    """Raise the alerts of the last complete week; returns how many were new."""
    raised = check_alerts(
        session, current_clock(now), base_url=settings.public_base_url(), use_rollup=settings.rollup_enabled()
    )
    return len(raised)


@job("run_text_analysis", watch=Permission.VIEW_ANALYSIS)
def run_text_analysis_job(session: Session, requested_by_id: int | None = None, **_: Any) -> int:
    """Re-run the text analysis; returns the run id."""
    return run_text_analysis(session, requested_by_id).run_id


@job("refresh_analysis_rollup")
def refresh_analysis_rollup(session: Session, **_: Any) -> int | None:
    """Rebuild the dashboards' weekly sums when the facts changed; the number of rows, or None."""
    return refresh_rollup(session)


def rerun_text_analysis(requested_by_id: int | None) -> str | None:
    """Re-run the text analysis for a page or API request, in the background (a worker, or a
    thread of the service without Redis), sent once the request commits. Returns the job's id;
    None when it ran at once (outside a request, or with JOBS_BACKGROUND off)."""
    return enqueue(
        "run_text_analysis",
        job_subject=TEXT_ANALYSIS_SUBJECT,
        job_requested_by=requested_by_id,
        requested_by_id=requested_by_id,
    )


def text_analysis_state() -> JobState | None:
    """The state of the newest re-run asked for, for the demand page."""
    found = latest_for(TEXT_ANALYSIS_SUBJECT)
    return state_of(found) if found is not None else None


def rollup_for_pages(session: Session) -> bool:
    """Whether a dashboard may read the weekly sums (the ANALYSIS_ROLLUP setting); the operations
    still read them only while they match the facts.

    When their past weeks lag the facts and a worker exists, the worker is asked to rebuild them
    once the request has ended (the page reads the facts meanwhile). Not when only answers of the
    current week arrived since (PARTIAL): the pages read the past weeks from the sums and the
    current week from the facts, and the hourly run brings them up; at a national provider's size
    answers arrive all day, and each page load asked for a job. Without a queue nothing is asked:
    the job would run inside the page's reading transaction, and the hourly run rebuilds them anyway.
    """
    if not settings.rollup_enabled():
        return False
    if settings.queue_configured() and rollup_freshness(session) is RollupFreshness.STALE:
        after_commit(_request_rollup_refresh)
    return True


def _request_rollup_refresh() -> None:
    # Enqueued from an after-commit hook of our own (where enqueue sends at once) so that a queue
    # that is down is logged here instead of failing the page that noticed the stale sums.
    try:
        enqueue("refresh_analysis_rollup")
    except Exception:  # noqa: BLE001 - a page must not fail because the queue is down
        current_app.logger.warning("could not enqueue refresh_analysis_rollup", exc_info=True)
