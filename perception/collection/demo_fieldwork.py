"""Demo callbacks and sampling, on top of the tickets demo (nothing happens without tickets).

- Phone callbacks: for every region, one queue per four-week block of the last eight weeks,
  about ten closed tickets each, called by the region's collector with the built-in phone
  callback script; most calls complete, some go unanswered, a few are refused or misdialled.
- Sampling comparison: one stratified run over the last eight weeks (+/-7 %), mostly confirmed.
The planted watermelon cell's customers report more unresolved work and lower scores.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.collection.models.fieldwork import CallbackCampaign, SampledTicket, SamplingRun
from perception.collection.services import callbacks as collection_callbacks
from perception.collection.services import feedback_check as collection_feedback_check
from perception.collection.services import sampling as collection_sampling
from perception.collection.services import sampling_results as results
from perception.collection.services.errors import CollectionError
from perception.core.clock import current_clock
from perception.core.demo import DemoContext
from perception.core.models.auth import User
from perception.core.models.base import utcnow
from perception.core.models.org import Region
from perception.kpi.models import Ticket
from perception.setup.models.catalog import Service
from perception.surveys.services.settings import SurveySettings

CALLS_PER_QUEUE = 10


def _unhappy(ctx: DemoContext, services: dict[int, str], service_id: int | None, region_code: str) -> bool:
    cell = (ctx.shared.get("planted") or {}).get("watermelon")
    if not cell:
        return False
    return bool(services.get(service_id or 0) == cell[0] and cell[1] == region_code)


def _answers(rng: random.Random, unhappy: bool) -> dict[str, object]:
    low = rng.random() < (0.6 if unhappy else 0.12)
    csat = rng.choice((1, 2, 3)) if low else rng.choice((4, 4, 5, 5, 5))
    answers: dict[str, object] = {
        "resolved": "no" if rng.random() < (0.35 if unhappy else 0.06) else "yes",
        "on_time": "no" if low and rng.random() < 0.6 else "yes",
        "csat": str(csat),
    }
    if answers["resolved"] == "no":
        answers["unresolved_detail"] = rng.choice(
            ("打印机仍然卡纸", "VPN 还是经常断线", "The fix did not last.")
        )
    answers["dimensions"] = {
        row: max(1, min(5, csat + rng.choice((-1, 0, 0, 1))))
        for row in ("response_speed", "fault_handling", "staff_attitude")
    }
    return answers


def _callbacks(session: Session, ctx: DemoContext, rng: random.Random, services: dict[int, str]) -> int:
    from perception.surveys.services.definitions import ensure_builtin_surveys

    script = ensure_builtin_surveys(session)["phone_callback"]
    # The answers are dated and followed up as the running application is configured.
    timezone, settings = current_clock().timezone, SurveySettings.from_config(current_app.config)
    monday = ctx.today - timedelta(days=ctx.today.weekday())
    blocks = [(monday - timedelta(weeks=4 * (i + 1)), monday - timedelta(weeks=4 * i)) for i in (1, 0)]
    done = 0
    for region in session.scalars(select(Region).order_by(Region.code)):
        interviewer = session.scalar(
            select(User)
            .where(User.region_id == region.id, User.collection_point_id.is_not(None))
            .order_by(User.id)
            .limit(1)
        )
        if interviewer is None:
            continue
        for start, end in blocks:
            name = f"{region.name_zh}电话回访 {start:%m/%d}-{end:%m/%d}"
            if session.scalar(select(CallbackCampaign.id).where(CallbackCampaign.name == name)):
                continue
            closing = func.coalesce(Ticket.closed_at, Ticket.resolved_at)
            population = session.scalar(
                select(func.count(Ticket.id)).where(
                    Ticket.region_id == region.id,
                    Ticket.status.in_(collection_feedback_check.CLOSED),
                    closing >= datetime.combine(start, time()),
                    closing < datetime.combine(end, time()),
                )
            )
            if not population:
                continue
            campaign = collection_callbacks.create_campaign(
                session,
                region_id=region.id,
                name=name,
                survey_version_id=script.id,
                user=interviewer,
                start=start,
                end=end,
                sampling_rate=min(1.0, CALLS_PER_QUEUE / population),
                seed=f"demo-{region.code}-{start:%Y%m%d}",
            )
            campaign.created_at = datetime.combine(end, time(1, 0))
            for task in campaign.tasks:
                when = datetime.combine(end, time(2, 0)) + timedelta(hours=rng.uniform(0, 72))
                if when > utcnow() or rng.random() < 0.05:
                    continue  # still to call
                outcome = rng.choices(
                    ("completed", "no_answer", "refused", "wrong_number"), (0.75, 0.15, 0.05, 0.05)
                )[0]
                try:
                    if outcome == "completed" and rng.random() < 0.3:
                        collection_callbacks.record_attempt(
                            session,
                            task,
                            interviewer,
                            "no_answer",
                            now=when,
                            org_timezone=timezone,
                            survey_settings=settings,
                        )
                        when += timedelta(hours=4)
                    collection_callbacks.record_attempt(
                        session,
                        task,
                        interviewer,
                        outcome,
                        now=when,
                        answers=_answers(rng, _unhappy(ctx, services, task.service_id, region.code))
                        if outcome == "completed"
                        else None,
                        org_timezone=timezone,
                        survey_settings=settings,
                    )
                except CollectionError:
                    continue  # e.g. the collector handled that ticket himself
                done += outcome == "completed"
    return done


def _sampling(session: Session, ctx: DemoContext, rng: random.Random, services: dict[int, str]) -> int:
    name = "演示抽样对比 / Demo sampling comparison"
    if session.scalar(select(SamplingRun.id).where(SamplingRun.name == name)):
        return 0
    monday = ctx.today - timedelta(days=ctx.today.weekday())
    try:
        run = collection_sampling.draw_sample(
            session,
            name=name,
            start=monday - timedelta(weeks=8),
            end=monday - timedelta(weeks=1),
            margin=0.07,
            seed="demo-sampling-1",
            user=session.scalar(select(User).where(User.username == "organiser")),
        )
    except CollectionError:
        return 0
    run.created_at = datetime.combine(monday - timedelta(days=6), time(2, 0))
    codes = {r.id: r.code for r in session.scalars(select(Region))}
    organiser = session.scalar(select(User).where(User.username == "organiser"))
    sampled_tickets = select(SampledTicket).where(SampledTicket.run_id == run.id).order_by(SampledTicket.id)
    for sampled in session.scalars(sampled_tickets):
        if rng.random() < 0.08:
            continue  # not called yet
        unhappy = _unhappy(ctx, services, sampled.service_id, codes.get(sampled.region_id, ""))
        when = datetime.combine(monday - timedelta(days=rng.randint(1, 5)), time(3, 0))
        if rng.random() < 0.07:
            results.record_confirmation(session, sampled, organiser, reached=False, now=when)
            continue
        results.record_confirmation(
            session,
            sampled,
            organiser,
            reached=True,
            now=when,
            resolved=rng.random() >= (0.3 if unhappy else 0.05),
            on_time=None if sampled.ticket_on_time is None else rng.random() >= (0.35 if unhappy else 0.08),
            satisfied=rng.random() >= (0.55 if unhappy else 0.12),
        )
    return run.sample_size


def load(session: Session, ctx: DemoContext, rng: random.Random) -> tuple[int, int]:
    """Returns (completed callbacks, sampled tickets)."""
    if not session.scalar(
        select(func.count(Ticket.id)).where(Ticket.status.in_(collection_feedback_check.CLOSED))
    ):
        return 0, 0
    services: dict[int, Any] = dict(session.execute(select(Service.id, Service.code)).all())
    calls = _callbacks(session, ctx, rng, services)
    sampled = _sampling(session, ctx, rng, services)
    since = datetime.combine(ctx.today - timedelta(weeks=4), time())
    collection_feedback_check.check_tickets(
        session, collection_feedback_check.unchecked_closed_tickets(session, since=since)
    )
    return calls, sampled
