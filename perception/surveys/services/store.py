"""Storing a completed questionnaire: the response, its facts, a follow-up task and the audit row,
in the caller's transaction.

``store_response`` is the general entry (survey pages, phone callbacks recorded by the collection
phase). ``submit_personal`` and ``submit_anonymous`` (``submit``) are the answer endpoint's fast
paths built on ``write_response``. The caller passes the settings and the organisation's time zone
(a response's day is the organisation's calendar day).

Everything is written with Core statements: the answer endpoint must sustain a thousand
submissions a second, and the automatic ORM audit would record the submitter's address, which an
anonymous response must never carry. The explicit audit row written here names the respondent
for a personal link, and for an anonymous response names only the campaign, with no address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from perception.core.audit import current_actor
from perception.core.errors import Problem
from perception.core.models.audit import AuditEntry
from perception.core.models.base import utcnow
from perception.core.models.org import Contact
from perception.core.periods import local_date
from perception.core.transaction import Db, core
from perception.core.webhooks import emit
from perception.surveys.models import Campaign, Response, ResponseMeans, SurveyVersion, table_of
from perception.surveys.services.definitions import questionnaire_of
from perception.surveys.services.errors import SurveyError
from perception.surveys.services.facts import FACT_KIND, Attribution, comments, write_facts
from perception.surveys.services.followup import Thresholds, followup_reasons, followup_row, insert_followup
from perception.surveys.services.settings import SurveySettings
from surveys import (
    AnswersError,
    Questionnaire,
    ScoredItem,
    extract_scores,
    normalise_answers,
    validate_answers,
)

# Built once: the answer path runs these on every submission (SQLAlchemy then reuses the
# compiled form without rebuilding the expression or its cache key).
INSERT_RESPONSE = insert(table_of(Response)).returning(table_of(Response).c.id)
INSERT_AUDIT = insert(table_of(AuditEntry))


class AnswersInvalid(SurveyError):
    """Answers that do not satisfy the questionnaire; problems are keyed by question id."""


@dataclass(frozen=True)
class Scored:
    """A response's scored items and comments, computed before its write transaction begins."""

    items: list[ScoredItem]
    texts: list[tuple[str, str | None]]


def score(questionnaire: Questionnaire, clean: dict[str, object]) -> Scored:
    """Scores and comments of ``clean`` answers (``check_answers`` / form output, already normalised)."""
    return Scored(extract_scores(questionnaire, clean, normalised=True), comments(questionnaire, clean))


@dataclass(frozen=True)
class Written:
    response_id: int
    followup_id: int | None


def check_answers(questionnaire: Questionnaire, answers: Mapping[str, object]) -> dict[str, object]:
    """Validate a whole response and return it normalised; AnswersInvalid names every problem."""
    found = validate_answers(questionnaire, answers)
    if found:
        raise AnswersInvalid(Problem(key, m.zh, m.en) for key, messages in found.items() for m in messages)
    try:
        return normalise_answers(questionnaire, answers)
    except AnswersError as exc:  # pragma: no cover - validate_answers reports these first
        raise AnswersInvalid(Problem(k, m.zh, m.en) for k, ms in exc.errors.items() for m in ms) from None


def audit_row(
    *, action: str, object_type: str, object_id: int | None, region_id: int | None, summary: str,
    after: dict[str, Any] | None, anonymous: bool, now: datetime,
) -> dict[str, Any]:  # fmt: skip
    actor_id, actor_name, address = current_actor()
    if anonymous:
        actor_id, actor_name, address = None, "anonymous", None
    return {
        "at": now, "actor_id": actor_id, "actor_name": actor_name[:120], "address": address,
        "action": action, "object_type": object_type,
        "object_id": None if object_id is None else str(object_id), "region_id": region_id,
        "summary": summary, "before": None, "after": after,
    }  # fmt: skip


def write_response(
    session: Db,
    *,
    questionnaire: Questionnaire,
    version_id: int,
    campaign_id: int | None,
    clean: dict[str, object],
    who: Attribution,
    means: str,
    language: str,
    nonce: str | None,
    invitation_id: int | None,
    now: datetime,
    org_timezone: str,
    anonymous: bool,
    limits: Thresholds,
    followup_days: int,
    recorded_by_id: int | None = None,
    scored: Scored | None = None,
    notify: bool = True,
) -> Written:
    """Insert a response whose answers are already validated and normalised (``check_answers``).

    ``scored`` (from ``score``) lets the answer path do the scoring before it takes the write
    lock; everything between the first write and the commit here is SQL. The response is
    observed on ``now``'s calendar day in ``org_timezone``; a follow-up task is due
    ``followup_days`` later.
    """
    scored = scored or score(questionnaire, clean)
    items, texts = scored.items, scored.texts
    observed_on = local_date(now, org_timezone)
    # An anonymous response keeps only its day: a timestamp could be matched with access logs.
    # So does everything written about it here (its follow-up task, the audit rows): nothing
    # stored next to it may be finer than the response itself.
    submitted_at = datetime(observed_on.year, observed_on.month, observed_on.day) if anonymous else now
    stamp = submitted_at
    conn = core(session)
    result = conn.execute(
        INSERT_RESPONSE,
        [
            {
                "campaign_id": campaign_id,
                "version_id": version_id,
                "invitation_id": invitation_id,
                "contact_id": None if anonymous else who.contact_id,
                "region_id": who.region_id,
                "customer_id": who.customer_id,
                "service_id": who.service_id,
                "tier_id": who.tier_id,
                "ticket_id": who.ticket_id,
                "means": means,
                "language": language[:8],
                "answers": clean,
                "submission_nonce": nonce,
                "submitted_at": submitted_at,
                "observed_on": observed_on,
                "recorded_by_id": recorded_by_id,
            }  # fmt: skip
        ],
    )
    response_id = int(result.scalar_one())
    write_facts(
        conn,
        items=items,
        texts=texts,
        response_id=response_id,
        observed_on=observed_on,
        who=who,
        means=means,
        timezone=org_timezone,
    )
    reasons, detail = followup_reasons(items, texts, limits)
    followup_id = None
    audits = [
        audit_row(
            action="survey_response",
            object_type="Campaign" if anonymous else "Response",
            object_id=campaign_id if anonymous else response_id,
            region_id=who.region_id,
            summary=f"{means} response" + (f" to campaign {campaign_id}" if campaign_id else ""),
            after=None if anonymous else {"invitation_id": invitation_id, "version_id": version_id},
            anonymous=anonymous,
            now=stamp,
        )
    ]
    if reasons:
        who_task = Attribution(who.region_id, who.customer_id, who.service_id, who.tier_id, who.ticket_id,
                               None if anonymous else who.contact_id)  # fmt: skip
        row = followup_row(
            response_id, campaign_id, who_task, reasons, detail, observed_on, stamp, followup_days
        )
        followup_id = insert_followup(conn, row)
        audits.append(
            audit_row(
                action="create",
                object_type="FollowUpTask",
                object_id=followup_id,
                region_id=who.region_id,
                summary="follow-up for a " + ", ".join(reasons).replace("_", " ") + " response",
                after={k: v for k, v in row.items() if k in ("reasons", "status", "response_id")},
                anonymous=anonymous,
                now=stamp,
            )  # fmt: skip
        )
    conn.execute(INSERT_AUDIT, audits)
    if notify:  # webhooks: the scores, never the respondent (an anonymous answer keeps only its day)
        _notify(session, response_id, campaign_id, who, means, observed_on, items, followup_id, reasons,
                now, anonymous=anonymous)  # fmt: skip
    if notify and followup_id is not None and not anonymous:
        # The task's owner is told at once (issue 17), once this answer has committed. An anonymous
        # answer's task waits for the hourly run: a mail minutes after it would date the answer.
        from perception.core.jobs import enqueue

        enqueue("assign_followup", task_id=followup_id)
    return Written(response_id, followup_id)


def _notify(
    session: Db, response_id: int, campaign_id: int | None, who: Attribution, means: str,
    observed_on: date, items: list[ScoredItem], followup_id: int | None, reasons: list[str], now: datetime,
    *, anonymous: bool = False,
) -> None:  # fmt: skip
    had_followup = followup_id is not None
    shown_response: int | None = response_id
    not_before: datetime | None = None
    if anonymous:
        # Nothing about an anonymous answer may be finer than its day or point back to its row: the
        # event carries no response or task id, its time is the day's midnight, and it is delivered
        # only after the day has ended (issue 18).
        shown_response = followup_id = None
        now = datetime.combine(observed_on, datetime.min.time())
        not_before = now + timedelta(days=1)
    scores = [
        {"kind": FACT_KIND[i.kind], "item": f"{i.question_id}.{i.row_id}" if i.row_id else i.question_id,
         "value": float(i.value)}
        for i in items
    ]  # fmt: skip
    event = {"response_id": shown_response, "campaign_id": campaign_id, "region_id": who.region_id,
             "service_id": who.service_id, "means": means, "day": observed_on.isoformat()}  # fmt: skip
    emit(session, "response.scored", {**event, "scores": scores}, now, not_before=not_before)
    if had_followup:
        followup = {"followup_id": followup_id, "response_id": shown_response, "region_id": who.region_id}
        emit(session, "followup.created", {**followup, "reasons": list(reasons)}, now, not_before=not_before)


def store_response(
    session: Session,
    version: SurveyVersion,
    answers: Mapping[str, object],
    *,
    contact: Contact | None = None,
    means: str = ResponseMeans.SURVEY,
    campaign: Campaign | None = None,
    region_id: int | None = None,
    customer_id: int | None = None,
    service_id: int | None = None,
    tier_id: int | None = None,
    ticket_id: int | None = None,
    nonce: str | None = None,
    language: str = "zh",
    recorded_by_id: int | None = None,
    now: datetime | None = None,
    org_timezone: str,
    settings: SurveySettings,
) -> Response:
    """Validate and store one completed questionnaire of ``version``; returns the Response.

    ``means="callback"`` marks answers recorded by an interviewer (``recorded_by_id``), whose
    facts get source "callback". The region is the contact's unless given; customer likewise.
    Writes one ExperienceObservation per scored item, a TextEntry per free-text answer, a
    FollowUpTask when a score is low or the text is a complaint, and an audit row. Raises
    AnswersInvalid (problems keyed by question id) or SurveyError; nothing is stored then.
    ``org_timezone`` and ``settings`` (complaint words, days to follow up) come from the caller's
    configuration.
    """
    if means not in (ResponseMeans.SURVEY, ResponseMeans.CALLBACK):
        raise SurveyError.one("means", "方式须为 survey 或 callback", "Means must be survey or callback.")
    questionnaire = questionnaire_of(version)
    clean = check_answers(questionnaire, answers)
    region = (
        region_id or (contact.region_id if contact else None) or (campaign.region_id if campaign else None)
    )
    if region is None:
        raise SurveyError.one("region_id", "请指定区域", "A region is needed to attribute the answers.")
    who = Attribution(
        region_id=region,
        customer_id=customer_id
        or (contact.customer_id if contact else None)
        or (campaign.customer_id if campaign else None),
        service_id=service_id or (campaign.service_id if campaign else None),
        tier_id=tier_id or (campaign.tier_id if campaign else None),
        ticket_id=ticket_id,
        contact_id=contact.id if contact else None,
    )
    limits = Thresholds(
        csat_max=campaign.csat_threshold if campaign else 2,
        nps_max=campaign.nps_threshold if campaign else 6,
        complaint_words=settings.complaint_words,
    )
    written = write_response(
        session, questionnaire=questionnaire, version_id=version.id,
        campaign_id=campaign.id if campaign else None, clean=clean, who=who, means=means,
        language=language, nonce=nonce, invitation_id=None, now=now or utcnow(),
        org_timezone=org_timezone, anonymous=False, limits=limits,
        followup_days=settings.followup_days, recorded_by_id=recorded_by_id,
    )  # fmt: skip
    response = session.get(Response, written.response_id)
    assert response is not None
    return response
