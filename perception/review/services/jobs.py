"""Background jobs of the review phase.

- ``ensure_reviews`` (daily, perception.core.jobs.schedule.PERIODIC): create the current period's
  review when missing, send the system owner's reminders, and recompute the measured results of
  completed improvement items that are still being measured.
- ``generate_review_pdf``: render and store a review's PDF in one language.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from perception.core.jobs import job
from perception.core.models.base import utcnow
from perception.review.models import Review
from perception.review.services import periods as review_periods
from perception.review.services import reports as review_reports
from perception.review.services import results as review_results


def _moment(now: str | datetime | None) -> datetime:
    if now is None:
        return utcnow()
    return now if isinstance(now, datetime) else datetime.fromisoformat(now)


@job("ensure_reviews")
def ensure_reviews(session: Session, now: str | datetime | None = None, **_: Any) -> dict[str, Any]:
    moment = _moment(now)
    today: date = moment.date()
    config = current_app.config
    specs = review_periods.configured_specs(config)
    review, created = review_periods.ensure_review(session, today, specs)
    sent = review_periods.send_reminders(
        session,
        today,
        days_before=int(config.get("REVIEW_REMINDER_DAYS") or review_periods.DEFAULT_REMINDER_DAYS),
        base_url=str(config.get("PUBLIC_BASE_URL") or "http://localhost:5000"),
        now=moment,
    )
    measured = review_results.refresh_pending_results(session, today)
    return {"review": review.code, "created": created, "reminders": sent, "results_refreshed": measured}


@job("generate_review_pdf")
def generate_review_pdf(
    session: Session, review_id: int, lang: str = "zh", user_id: int | None = None, **_: Any
) -> dict[str, Any]:
    review = session.get(Review, review_id)
    if review is None:
        return {"status": "missing"}
    report = review_reports.generate_report(session, review, lang, user_id=user_id)
    return {"status": report.status, "pages": report.pages, "bytes": report.size_bytes, "error": report.error}
