"""Background jobs of the review phase, and how a page starts one.

- ``ensure_reviews`` (daily, listed in the phase's ``periodic``): create the current period's
  review when missing, send the system owner's reminders, and recompute the measured results of
  completed improvement items that are still being measured.
- ``generate_review_pdf``: render and store a review's PDF in one language.

Like views and CLI commands, jobs are where the settings and the organisation's clock are read
(perception.review.settings, perception.core.clock) and handed to the operations in ``services/``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from perception.core.authz import Permission
from perception.core.clock import current_clock
from perception.core.jobs import enqueue, in_background, job, latest_for
from perception.core.jobs.state import JobState, state_of
from perception.review import settings
from perception.review.models import Review
from perception.review.services import periods as review_periods
from perception.review.services import reports as review_reports
from perception.review.services import results as review_results


def ensure_and_remind(session: Session, today: date, now: datetime) -> dict[str, Any]:
    """The daily review work for the organisation's ``today``; ``now`` stamps the reminders."""
    review, created = review_periods.ensure_review(session, today, settings.review_periods())
    sent = review_periods.send_reminders(
        session,
        today,
        now=now,
        base_url=settings.public_base_url(),
        days_before=settings.reminder_days(),
    )
    measured = review_results.refresh_pending_results(session, today)
    return {"review": review.code, "created": created, "reminders": sent, "results_refreshed": measured}


@job("ensure_reviews")
def ensure_reviews(session: Session, now: str | datetime | None = None, **_: Any) -> dict[str, Any]:
    clock = current_clock(now)
    return ensure_and_remind(session, clock.today(), clock.now())


@job("generate_review_pdf", watch=Permission.VIEW_REVIEW)
def generate_review_pdf(
    session: Session, review_id: int, lang: str = "zh", user_id: int | None = None, **_: Any
) -> dict[str, Any]:
    review = session.get(Review, review_id)
    if review is None:
        return {"status": "missing"}
    report = review_reports.generate_report(
        session,
        review,
        lang,
        today=current_clock().today(),
        settings=settings.pdf_settings(),
        user_id=user_id,
    )
    return {"status": report.status, "pages": report.pages, "bytes": report.size_bytes, "error": report.error}


@job("prepare_review_page", watch=Permission.VIEW_REVIEW)
def prepare_review_page(
    session: Session, review_id: int, force: bool = False, inputs: str | None = None, **_: Any
) -> int:
    """Compute a review page's slow sections ahead (perception.review.page_cache), unless its copy
    was computed from the inputs as they are now (``force``: recompute anyway). ``inputs`` is the
    signature the page saw when it asked (kept on the job row: one job per change)."""
    from perception.review import page_cache

    review = session.get(Review, review_id)
    if review is None:
        return 0
    clock = current_clock()
    return page_cache.prepare(
        session,
        review,
        today=clock.today(),
        now=clock.now(),
        font_path=settings.cjk_font_path(),
        force=force,
    )


@job("prepare_review_pages")
def prepare_review_pages(session: Session, **_: Any) -> int:
    """Hourly: every review page whose inputs changed since its copy (perception.review.services.inputs)."""
    from sqlalchemy import select

    reviews = session.scalars(select(Review.id).order_by(Review.id)).all()
    return sum(prepare_review_page(session, review_id) for review_id in reviews)


def page_subject(review_id: int) -> str:
    return f"review_page:{review_id}"


def request_page(review: Review, inputs: str | None, *, force: bool = False) -> str | None:
    """Ask for the page's slow sections to be computed ahead: once per change of their inputs
    (not while a computation is queued or running, nor again for the inputs the last one was
    asked for), or always when ``force`` (the page's refresh). In the background when a worker or
    a thread can; otherwise (a refresh without background) now, in the caller's transaction.
    Returns the job's id when one was queued."""
    found = latest_for(page_subject(review.id))
    if found is not None and found.active:
        return found.id
    if not force:
        if not in_background():
            return None  # the page computed them itself
        if found is not None and inputs is not None and (found.kwargs or {}).get("inputs") == inputs:
            return None  # already computed (or failed) for these inputs
    return enqueue(
        "prepare_review_page",
        job_subject=page_subject(review.id),
        review_id=review.id,
        force=force,
        inputs=inputs,
    )


def pdf_subject(review_id: int, lang: str) -> str:
    """What the PDF job produces, where the review page looks for its state."""
    return f"review_pdf:{review_id}:{lang}"


def request_pdf(review: Review, lang: str, *, user_id: int | None) -> str | None:
    """Generate the review's PDF for a page or API request, in the background. Returns the job id.

    The job is sent once the request's transaction has committed (perception.core.jobs.enqueue),
    to a worker with Redis, else to a thread of the service, so the worker never starts before
    what the request wrote is visible to it. Outside a request, or with JOBS_BACKGROUND off, it
    runs now, inside the caller's transaction, and the stored report can be read right after
    (None is returned).
    """
    lang = review_reports.check_lang(lang)
    return enqueue(
        "generate_review_pdf",
        job_subject=pdf_subject(review.id, lang),
        job_requested_by=user_id,
        review_id=review.id,
        lang=lang,
        user_id=user_id,
    )


def pdf_states(review: Review) -> dict[str, JobState]:
    """The newest PDF job of each language, for the review page."""
    states: dict[str, JobState] = {}
    for lang in review_reports.LANGS:
        found = latest_for(pdf_subject(review.id, lang))
        if found is not None:
            states[lang] = state_of(found)
    return states
