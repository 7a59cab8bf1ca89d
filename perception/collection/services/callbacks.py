"""Phone callbacks (电话回访): a callback queue per region, from closed tickets sampled at a rate or
from a list of contacts; the interviewer records each attempt and, on completion, the answers of
the callback script (a survey version), stored with the surveys phase's
``store_response(..., means="callback")`` so they score exactly like survey answers, marked with
their means.

Rules:
- the sample is reproducible: a ticket is called back when u < rate, with
  u = int(sha256("<seed>:<ticket id>")[:16], 16) / 2^64 (a Bernoulli draw per ticket);
- the interviewer must not be the engineer who handled the ticket: tickets name the engineer as
  text, so the interviewer's username, display name and email are compared with it (ignoring
  case and surrounding spaces);
- a completed task takes no further attempts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from perception.collection.models.fieldwork import (
    CallbackAttempt,
    CallbackCampaign,
    CallbackOutcome,
    CallbackTask,
)
from perception.collection.services import feedback_check as checks
from perception.collection.services.errors import CollectionError
from perception.collection.services.sampling_math import draw_key
from perception.core.errors import Problem
from perception.core.models.auth import User
from perception.core.models.base import utcnow
from perception.core.models.org import Contact
from perception.kpi.models import Ticket
from perception.surveys.models import ResponseMeans, SurveyVersion
from perception.surveys.services.settings import SurveySettings


def selected(seed: str, ticket_id: int, rate: float) -> bool:
    return int(draw_key(seed, ticket_id)[:16], 16) / 2**64 < rate


def _contact_for(session: Session, ticket: Ticket) -> Contact | None:
    if not ticket.contact or ticket.customer_id is None:
        return None
    value = ticket.contact.strip()
    return session.scalar(
        select(Contact)
        .where(Contact.customer_id == ticket.customer_id, or_(Contact.email == value, Contact.name == value))
        .limit(1)
    )


def _person_key(ticket: Ticket, contact: Contact | None) -> tuple[Any, ...]:
    """Who a callback about ``ticket`` would reach: the matched contact, else the name on the ticket."""
    if contact is not None:
        return ("contact", contact.id)
    name = (ticket.contact or "").strip().casefold()
    return ("name", ticket.customer_id, name) if name else ("ticket", ticket.id)


def _closing(ticket: Ticket) -> datetime:
    return ticket.closed_at or ticket.resolved_at or ticket.opened_at


def create_campaign(
    session: Session,
    *,
    region_id: int,
    name: str,
    survey_version_id: int | None,
    user: User | None,
    start: date | None = None,
    end: date | None = None,
    sampling_rate: float = 1.0,
    seed: str | None = None,
    contact_ids: Iterable[int] = (),
) -> CallbackCampaign:
    """A queue from the region's tickets closed in [start, end) (sampled, one task per person: the
    latest of their sampled tickets), or from ``contact_ids``."""
    import secrets

    if not 0.0 < sampling_rate <= 1.0:
        raise CollectionError.one(
            "sampling_rate",
            "抽样比例须在 0 到 1 之间（不含 0）。",
            "The sampling rate must lie in (0, 1].",
            code="out_of_range",
        )
    if survey_version_id is not None and session.get(SurveyVersion, survey_version_id) is None:
        raise CollectionError.one(
            "survey_version_id", "回访脚本不存在。", "No such callback script.", code="not_found"
        )
    contacts = list(contact_ids)
    if not contacts and (start is None or end is None or end <= start):
        raise CollectionError.one(
            "period_end",
            "请填写期间（结束晚于开始）或联系人名单。",
            "Give a period (end after start) or a contact list.",
            code="invalid_period",
        )
    campaign = CallbackCampaign(
        region_id=region_id,
        name=name.strip()[:200] or "callbacks",
        source="list" if contacts else "tickets",
        period_start=start,
        period_end=end,
        sampling_rate=sampling_rate,
        seed=(seed or secrets.token_hex(8))[:32],
        survey_version_id=survey_version_id,
        created_by_id=user.id if user else None,
    )
    session.add(campaign)
    session.flush()
    if contacts:
        rows = session.scalars(
            select(Contact).where(Contact.id.in_(contacts), Contact.region_id == region_id)
        ).all()
        if len(rows) != len(set(contacts)):
            raise CollectionError.one(
                "contact_ids",
                "部分联系人不属于该区域。",
                "Some contacts are not in this region.",
                code="other_region",
            )
        for c in rows:
            campaign.tasks.append(
                CallbackTask(
                    region_id=region_id,
                    contact_id=c.id,
                    customer_id=c.customer_id,
                    contact_name=c.name,
                    phone=c.phone,
                )
            )
    else:
        assert start is not None and end is not None
        closing = func.coalesce(Ticket.closed_at, Ticket.resolved_at)
        tickets = session.scalars(
            select(Ticket)
            .where(
                Ticket.region_id == region_id,
                Ticket.status.in_(checks.CLOSED),
                closing >= datetime.combine(start, time()),
                closing < datetime.combine(end, time()),
            )
            .order_by(Ticket.id)
        )
        # One call per person: a contact with several sampled tickets is asked about the latest.
        latest: dict[tuple[Any, ...], tuple[Ticket, Contact | None]] = {}
        for t in tickets:
            if not selected(campaign.seed, t.id, sampling_rate):
                continue
            contact = _contact_for(session, t)
            key = _person_key(t, contact)
            if key not in latest or _closing(t) >= _closing(latest[key][0]):
                latest[key] = (t, contact)
        for t, contact in sorted(latest.values(), key=lambda pair: pair[0].id):
            campaign.tasks.append(
                CallbackTask(
                    region_id=region_id,
                    ticket_id=t.id,
                    contact_id=contact.id if contact else None,
                    customer_id=t.customer_id,
                    service_id=t.service_id,
                    contact_name=contact.name if contact else t.contact,
                    phone=contact.phone if contact else None,
                    engineer=t.engineer,
                )
            )
    session.flush()
    return campaign


def is_handling_engineer(user: User, engineer: str | None) -> bool:
    if not engineer or not engineer.strip():
        return False
    name = engineer.strip().casefold()
    return name in {(v or "").strip().casefold() for v in (user.username, user.display_name, user.email)}


def record_attempt(
    session: Session,
    task: CallbackTask,
    interviewer: User,
    outcome: str,
    *,
    answers: Mapping[str, object] | None = None,
    note: str | None = None,
    language: str = "zh",
    now: datetime | None = None,
    org_timezone: str,
    survey_settings: SurveySettings,
) -> CallbackAttempt:
    """Record one call. ``completed`` stores the script's answers as a callback response, dated
    in ``org_timezone`` and followed up as ``survey_settings`` say (both from the caller's
    configuration)."""
    from perception.surveys.services.definitions import questionnaire_of
    from perception.surveys.services.errors import SurveyError
    from perception.surveys.services.store import store_response

    if outcome not in {o.value for o in CallbackOutcome}:
        raise CollectionError.one(
            "outcome",
            f"无法识别的回访结果 {outcome!r}。",
            f"Unknown outcome {outcome!r}.",
            code="unknown_choice",
        )
    if is_handling_engineer(interviewer, task.engineer):
        raise CollectionError.one(
            "interviewer",
            "处理该工单的工程师不能对其进行回访。",
            "The engineer who handled the ticket may not call the customer back about it.",
            code="handling_engineer",
        )
    if task.status == CallbackOutcome.COMPLETED:
        raise CollectionError.one(
            "status", "该回访已完成。", "This callback is already completed.", code="already_completed"
        )
    moment = now or utcnow()
    if outcome == CallbackOutcome.COMPLETED:
        campaign = task.campaign
        version = (
            session.get(SurveyVersion, campaign.survey_version_id) if campaign.survey_version_id else None
        )
        if version is None:
            raise CollectionError.one(
                "survey_version_id",
                "该回访任务没有回访脚本。",
                "The campaign has no callback script.",
                code="required",
            )
        given = dict(answers or {})
        if any(q.id == "reached" for q in questionnaire_of(version).questions()):
            given.setdefault("reached", "reached")
        try:
            with session.begin_nested():
                response = store_response(
                    session,
                    version,
                    given,
                    contact=session.get(Contact, task.contact_id) if task.contact_id else None,
                    means=ResponseMeans.CALLBACK,
                    region_id=task.region_id,
                    customer_id=task.customer_id,
                    service_id=task.service_id,
                    ticket_id=task.ticket_id,
                    language=language,
                    recorded_by_id=interviewer.id,
                    now=moment,
                    org_timezone=org_timezone,
                    settings=survey_settings,
                )
        except SurveyError as exc:
            # The script's answers are a survey's: its problems, under the collection error.
            raise CollectionError(Problem(p.field, p.zh, p.en) for p in exc.problems) from None
        task.response_id = response.id
        task.completed_at = moment
    attempt = CallbackAttempt(
        task_id=task.id,
        region_id=task.region_id,
        interviewer_id=interviewer.id,
        at=moment,
        outcome=outcome,
        note=(note or "").strip()[:2000] or None,
    )
    session.add(attempt)  # not task.attempt_log.append: that would load the whole log first
    task.attempts += 1
    task.status = outcome
    task.interviewer_id = interviewer.id
    session.flush()
    return attempt


@dataclass(frozen=True)
class CallbackProgress:
    """Callbacks planned (tasks) vs done for one region (None: all regions)."""

    region_id: int | None
    planned: int
    attempted: int
    completed: int
    refused: int
    unreachable: int  # last attempt no answer or wrong number
    completion_rate: float | None


def callback_progress(
    session: Session, start: date, end: date, region_ids: Iterable[int] | None = None
) -> list[CallbackProgress]:
    """Tasks of campaigns whose period starts in [start, end) (list campaigns: created then),
    per region and in total."""
    stmt = (
        select(CallbackTask.region_id, CallbackTask.status, CallbackTask.attempts)
        .join(CallbackCampaign, CallbackCampaign.id == CallbackTask.campaign_id)
        .where(
            or_(
                and_(
                    CallbackCampaign.period_start.is_not(None),
                    CallbackCampaign.period_start >= start,
                    CallbackCampaign.period_start < end,
                ),
                and_(
                    CallbackCampaign.period_start.is_(None),
                    CallbackCampaign.created_at >= datetime.combine(start, time()),
                    CallbackCampaign.created_at < datetime.combine(end, time()),
                ),
            )
        )
    )
    if region_ids is not None:
        stmt = stmt.where(CallbackTask.region_id.in_(list(region_ids)))
    tally: dict[int | None, list[int]] = {}
    for region_id, status, attempts in session.execute(stmt):
        for key in (region_id, None):
            t = tally.setdefault(key, [0, 0, 0, 0, 0])
            t[0] += 1
            t[1] += int(attempts > 0)
            t[2] += int(status == CallbackOutcome.COMPLETED)
            t[3] += int(status == CallbackOutcome.REFUSED)
            t[4] += int(status in (CallbackOutcome.NO_ANSWER, CallbackOutcome.WRONG_NUMBER))
    keys = sorted(k for k in tally if k is not None) + ([None] if tally else [])
    return [
        CallbackProgress(
            region_id=k,
            planned=tally[k][0],
            attempted=tally[k][1],
            completed=tally[k][2],
            refused=tally[k][3],
            unreachable=tally[k][4],
            completion_rate=tally[k][2] / tally[k][0] if tally[k][0] else None,
        )
        for k in keys
    ]
