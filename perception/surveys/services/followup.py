"""Closing the loop: a low score or a complaint becomes a follow-up task for the region.

A response needs following up when any CSAT item is at or below the campaign's CSAT threshold
(default 2 on 1-5: the "dissatisfied" answers outside the CSAT top-2 box), any NPS item is at or
below its NPS threshold (default 6: a detractor, Reichheld 2003), or a free-text answer contains
a complaint word (SURVEY_COMPLAINT_WORDS). Tasks are listed on the survey follow-up page and on
the region's collection page (``open_followups``); each has a status and an outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from perception.core.authz import scoped
from perception.core.errors import Problems
from perception.core.models.auth import User
from perception.surveys.models import FollowUpReason, FollowUpStatus, FollowUpTask, table_of
from perception.surveys.services.errors import SurveyError
from perception.surveys.services.facts import Attribution
from surveys import ScoredItem, ScoreKind

STATUSES = tuple(FollowUpStatus)
DETAIL_MAX = 500


@dataclass(frozen=True)
class Thresholds:
    csat_max: int | None = 2
    nps_max: int | None = 6
    complaint_words: tuple[str, ...] = ()


def followup_reasons(
    items: Sequence[ScoredItem], texts: Sequence[tuple[str, str | None]], limits: Thresholds
) -> tuple[list[str], str]:
    """The reasons to follow a response up (empty: none) and a one-line detail for the task."""
    reasons: list[str] = []
    details: list[str] = []
    for item in items:
        if item.kind == ScoreKind.CSAT and limits.csat_max is not None and item.value <= limits.csat_max:
            if FollowUpReason.LOW_CSAT not in reasons:
                reasons.append(FollowUpReason.LOW_CSAT)
            details.append(f"CSAT {item.value:g}")
        if item.kind == ScoreKind.NPS and limits.nps_max is not None and item.value <= limits.nps_max:
            if FollowUpReason.LOW_NPS not in reasons:
                reasons.append(FollowUpReason.LOW_NPS)
            details.append(f"NPS {item.value:g}")
    words = tuple(w for w in limits.complaint_words if w)
    for text, _dimension in texts:
        lowered = text.lower()
        if words and any(word in lowered for word in words):
            if FollowUpReason.COMPLAINT not in reasons:
                reasons.append(FollowUpReason.COMPLAINT)
            details.append(f"“{text[:200]}”")
    return reasons, "; ".join(details)[:DETAIL_MAX]


def followup_row(
    response_id: int,
    campaign_id: int | None,
    who: Attribution,
    reasons: list[str],
    detail: str,
    observed_on: date,
    now: datetime,
    days: int,
) -> dict[str, Any]:
    return {
        "response_id": response_id,
        "region_id": who.region_id,
        "customer_id": who.customer_id,
        "contact_id": who.contact_id,
        "campaign_id": campaign_id,
        "reasons": ",".join(reasons),
        "detail": detail or None,
        "status": FollowUpStatus.OPEN,
        "outcome": None,
        "assignee_id": None,
        "closed_at": None,
        "due_on": observed_on + timedelta(days=days),
        "created_at": now,
        "updated_at": now,
    }


INSERT_FOLLOWUP = insert(table_of(FollowUpTask)).returning(table_of(FollowUpTask).c.id)


def insert_followup(conn: Connection, row: dict[str, Any]) -> int:
    result = conn.execute(INSERT_FOLLOWUP, [row])
    return int(result.scalar_one())


def open_followups(session: Session, user: User, limit: int = 50) -> list[FollowUpTask]:
    """Follow-up tasks not yet done that the user may see (their region's), oldest due first.

    For the collection page of a region: render each task's reasons, detail, due date and status,
    and link to ``surveys.followup`` (``task_id=task.id``).
    """
    stmt = (
        select(FollowUpTask)
        .where(FollowUpTask.status != FollowUpStatus.DONE)
        .order_by(FollowUpTask.due_on, FollowUpTask.id)
        .limit(limit)
    )
    return list(session.scalars(scoped(stmt, FollowUpTask, user)))


def followups(
    session: Session, user: User, *, status: str | None = None, limit: int = 200
) -> list[FollowUpTask]:
    # Open work first, the earliest due at the top (a collector works down the list); done last.
    done_last = case((FollowUpTask.status == FollowUpStatus.DONE, 1), else_=0)
    stmt = select(FollowUpTask).order_by(
        done_last, FollowUpTask.due_on.is_(None), FollowUpTask.due_on, FollowUpTask.id.desc()
    )
    if status in STATUSES:
        stmt = stmt.where(FollowUpTask.status == status)
    return list(session.scalars(scoped(stmt.limit(limit), FollowUpTask, user)))


def update_followup(
    session: Session,
    task: FollowUpTask,
    *,
    status: str,
    outcome: str | None,
    assignee_id: int | None = None,
    now: datetime,
) -> FollowUpTask:
    """Change status/outcome. Done needs an outcome: what was done and what the customer said."""
    problems = Problems(SurveyError)
    if status not in STATUSES:
        problems.add(
            "status", f"状态须为：{'、'.join(STATUSES)}", f"Status must be one of: {', '.join(STATUSES)}."
        )
    outcome = (outcome or "").strip() or None
    if status == FollowUpStatus.DONE and not outcome:
        problems.add(
            "outcome", "关闭任务前请填写处理结果", "Describe the outcome before marking the task done."
        )
    if outcome and len(outcome) > 4000:
        problems.add("outcome", "最长 4000 个字符", "At most 4000 characters.")
    problems.raise_if_any()
    task.status = status
    task.outcome = outcome
    if assignee_id is not None:
        task.assignee_id = assignee_id
    task.closed_at = now if status == FollowUpStatus.DONE else None
    session.flush()
    return task
