"""Demo surveys: the built-in questionnaires published, three campaigns over the demo weeks and a
few thousand responses from the demo contacts, with their facts and follow-up tasks.

- "CSAT after closed tickets" (national, personal links): each week about ten responses per
  region, attributed to a service the customer subscribes to.
- "Relationship NPS" (national, personal links): one wave half-way, most contacts answer.
- "Six-dimension feedback" (anonymous link of one region).
- "IT service quality (SERVQUAL)" (national, personal links): a sample of contacts over the last
  weeks rate the 22 pairs and share 100 points among the five dimensions (a constant-sum question),
  so the experience page shows the weighted gap beside the unweighted one.

The tickets demo plants two cells (``ctx.shared["planted"]``): the "watermelon" (service, region)
whose KPIs look green gets mostly CSAT 1-3, the "reverse" one mostly 4-5. Responses are written
in bulk with the same row builders as the answer path (``services.facts``, ``services.followup``);
follow-ups older than three weeks are closed with an outcome. Re-running adds nothing.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.demo import DemoContext
from perception.core.models.facts import ExperienceObservation, TextEntry
from perception.core.models.org import Contact, CustomerOrg, Region
from perception.setup.models.catalog import Subscription
from perception.surveys.models import Campaign, FollowUpStatus, FollowUpTask, Invitation, Response, table_of
from perception.surveys.services.definitions import ensure_builtin_surveys, questionnaire_of
from perception.surveys.services.facts import Attribution, comments, observation_rows, text_rows
from perception.surveys.services.followup import Thresholds, followup_reasons, followup_row
from perception.surveys.services.store import check_answers
from surveys import QuestionType, extract_scores

CSAT_BASE = (0.03, 0.05, 0.14, 0.38, 0.40)
CSAT_POOR = (0.22, 0.33, 0.33, 0.08, 0.04)  # the watermelon: green KPIs, unhappy customers
CSAT_GOOD = (0.0, 0.01, 0.04, 0.30, 0.65)
PRAISE = ("工程师响应很快，问题当天就解决了。", "服务态度很好，沟通清楚。", "Quick and friendly, thank you.")
# SERVQUAL: the mean points of 100 respondents give each dimension (reliability first, as in
# Parasuraman, Zeithaml & Berry 1991) and the mean shortfall of perception below expectation.
SERVQUAL_WEIGHTS = {
    "tangibles": 0.11,
    "reliability": 0.32,
    "responsiveness": 0.22,
    "assurance": 0.19,
    "empathy": 0.16,
}
SERVQUAL_SHORTFALL = {
    "tangibles": 0.2,
    "reliability": 1.3,
    "responsiveness": 0.9,
    "assurance": 0.4,
    "empathy": 0.6,
}
SERVQUAL_INVITED = 180  # about two in three answer
GRIPES = (
    "同一个问题反复出现，希望能彻底解决。",
    "工单关闭前没有确认问题是否解决。",
    "响应太慢，等了两天才有人联系。",
    "The fix did not last; the printer failed again the next day.",
    "我要投诉：现场工程师迟到且没有提前通知。",
)
REASONS = ("slow_response", "not_fixed", "poor_quality", "attitude", "not_by_the_book")
CLOSING = (
    "已电话回访客户并道歉，安排复查。",
    "已重新派单处理，客户确认解决。",
    "Called the customer, fixed root cause.",
)


def _at(ctx: DemoContext, week: int, rng: random.Random) -> datetime:
    day = ctx.first_week_start + timedelta(weeks=week, days=rng.randint(0, 4))
    return datetime.combine(day, time(rng.randint(1, 10), rng.randint(0, 59)))


def _campaign(session: Session, code: str, version_id: int, ctx: DemoContext, **values: Any) -> Campaign:
    found = session.scalar(select(Campaign).where(Campaign.code == code))
    if found is not None:
        return found
    start = datetime.combine(ctx.first_week_start, time(0, 0))
    campaign = Campaign(
        code=code,
        version_id=version_id,
        status="open",
        opens_at=start,
        closes_at=datetime.combine(ctx.today + timedelta(days=30), time(0, 0)),
        **values,
    )
    session.add(campaign)
    session.flush()
    return campaign


class _Writer:
    """Collects rows for one campaign and writes them with a handful of bulk INSERTs."""

    def __init__(self, session: Session, campaign: Campaign) -> None:
        self.session = session
        self.campaign = campaign
        self.questionnaire = questionnaire_of(campaign.version)
        self.limits = Thresholds(campaign.csat_threshold, campaign.nps_threshold, ("投诉", "complain"))
        self.pending: list[tuple[dict[str, Any], Attribution, datetime, dict[str, Any] | None]] = []

    def add(
        self, answers: dict[str, Any], who: Attribution, at: datetime, invitation: dict[str, Any] | None
    ) -> None:
        self.pending.append((check_answers(self.questionnaire, answers), who, at, invitation))

    def flush(self, today: datetime) -> int:
        if not self.pending:
            return 0
        anonymous = self.campaign.channel == "anonymous"
        invitation_ids: list[int | None] = [None] * len(self.pending)
        invites = [(i, inv) for i, (_, _, _, inv) in enumerate(self.pending) if inv is not None]
        if invites:
            result = self.session.execute(
                insert(table_of(Invitation)).returning(
                    table_of(Invitation).c.id, sort_by_parameter_order=True
                ),
                [inv for _, inv in invites],
            )
            for (i, _), new_id in zip(invites, result.scalars(), strict=True):
                invitation_ids[i] = new_id
        rows = [
            {
                "campaign_id": self.campaign.id,
                "version_id": self.campaign.version_id,
                "invitation_id": invitation_ids[i],
                "contact_id": None if anonymous else who.contact_id,
                "region_id": who.region_id,
                "customer_id": who.customer_id,
                "service_id": who.service_id,
                "tier_id": who.tier_id,
                "ticket_id": None,
                "means": "survey",
                "language": "zh",
                "answers": clean,
                "submission_nonce": secrets.token_urlsafe(16),
                "submitted_at": datetime.combine(at.date(), time(0, 0)) if anonymous else at,
                "observed_on": at.date(),
                "recorded_by_id": None,
            }
            for i, (clean, who, at, _) in enumerate(self.pending)
        ]
        result = self.session.execute(
            insert(table_of(Response)).returning(table_of(Response).c.id, sort_by_parameter_order=True), rows
        )
        observations: list[dict[str, Any]] = []
        texts: list[dict[str, Any]] = []
        tasks: list[dict[str, Any]] = []
        for response_id, (clean, who, at, _) in zip(result.scalars(), self.pending, strict=True):
            items = extract_scores(self.questionnaire, clean)
            said = comments(self.questionnaire, clean)
            observations += observation_rows(items, response_id, at.date(), who, "survey")
            texts += text_rows(said, response_id, at.date(), who, "survey")
            reasons, detail = followup_reasons(items, said, self.limits)
            if reasons:
                task = followup_row(response_id, self.campaign.id, who, reasons, detail, at.date(), at, 5)
                if at < today - timedelta(weeks=3):
                    task.update(
                        status=FollowUpStatus.DONE,
                        outcome=CLOSING[response_id % len(CLOSING)],
                        closed_at=at + timedelta(days=2),
                    )
                tasks.append(task)
        for model, batch in (
            (ExperienceObservation, observations),
            (TextEntry, texts),
            (FollowUpTask, tasks),
        ):
            if batch:
                self.session.execute(insert(table_of(model)), batch)
        count = len(self.pending)
        self.pending = []
        return count


def _csat_answers(rng: random.Random, probs: tuple[float, ...]) -> dict[str, Any]:
    score = rng.choices(range(1, 6), weights=probs)[0]
    answers: dict[str, Any] = {"csat": score, "ces": min(7, max(1, score + rng.randint(0, 2)))}
    if score <= 2:
        answers["low_reasons"] = rng.sample(REASONS, rng.randint(1, 2))
        if rng.random() < 0.6:
            answers["improve"] = rng.choice(GRIPES)
    elif score == 5 and rng.random() < 0.2:
        answers["improve"] = rng.choice(PRAISE)
    return answers


def load(session: Session, ctx: DemoContext) -> None:
    rng = random.Random(ctx.seed + 4)
    versions = ensure_builtin_surveys(session)
    regions: dict[str, Region] = ctx.shared.get("regions") or {
        r.code: r for r in session.scalars(select(Region).order_by(Region.id))
    }
    by_id = {r.id: code for code, r in regions.items()}
    customers: list[CustomerOrg] = list(
        ctx.shared.get("customers") or session.scalars(select(CustomerOrg).order_by(CustomerOrg.id))
    )
    services = ctx.shared.get("services") or {}
    planted = ctx.shared.get("planted") or {}
    subs: dict[int, list[tuple[int | None, int | None]]] = {}
    subscriptions = select(Subscription.customer_id, Subscription.service_id, Subscription.tier_id).order_by(
        Subscription.id
    )
    for sub_customer, sub_service, sub_tier in session.execute(subscriptions):
        subs.setdefault(sub_customer, []).append((sub_service, sub_tier))
    contacts: dict[int, list[Contact]] = {}
    for contact in session.scalars(select(Contact).order_by(Contact.id)):
        contacts.setdefault(contact.customer_id, []).append(contact)

    def cell_probs(service_id: int | None, region_id: int) -> tuple[float, ...]:
        for key, probs in (("watermelon", CSAT_POOR), ("reverse", CSAT_GOOD)):
            cell = planted.get(key)
            if not cell:
                continue
            service = services.get(cell[0])
            if service is not None and service.id == service_id and by_id.get(region_id) == cell[1]:
                return probs
        return CSAT_BASE

    csat = _campaign(
        session,
        "DEMO-CSAT-TICKETS",
        versions["csat_transactional"].id,
        ctx,
        name_zh="工单关闭后满意度回访",
        name_en="CSAT after closed tickets",
        kind="transactional",
        channel="personal",
        sampling_rate=0.3,
    )
    nps = _campaign(
        session,
        "DEMO-NPS-WAVE",
        versions["nps_relationship"].id,
        ctx,
        name_zh="客户关系调查（半年）",
        name_en="Relationship NPS (half-year)",
    )
    first_region = sorted(regions)[0] if regions else None
    quality = _campaign(
        session,
        "DEMO-SERVQUAL",
        versions["servqual"].id,
        ctx,
        name_zh="IT 服务质量调查（SERVQUAL）",
        name_en="IT service quality (SERVQUAL)",
    )
    anon = _campaign(
        session,
        "DEMO-SIX-ANON",
        versions["six_dimension_feedback"].id,
        ctx,
        name_zh="用户反馈与建议（匿名）",
        name_en="Six-dimension feedback (anonymous)",
        channel="anonymous",
        public_slug="demo-feedback",
        region_id=regions[first_region].id if first_region else None,
    )
    if session.scalar(select(Response.id).where(Response.campaign_id == csat.id).limit(1)) is not None:
        return
    now = datetime.combine(ctx.today, time(12, 0))
    writer = _Writer(session, csat)
    pool = [(c, contact) for c in customers for contact in contacts.get(c.id, [])]
    for week in range(ctx.total_weeks):
        for region in regions.values():
            local = [(c, p) for c, p in pool if c.region_id == region.id]
            for _ in range(ctx.count(week, 10) if local else 0):
                customer, contact = rng.choice(local)
                service_id, tier_id = rng.choice(subs.get(customer.id) or [(None, None)])
                _add_csat(writer, rng, ctx, week, customer, contact, service_id, tier_id, cell_probs)
        for key in ("watermelon", "reverse"):  # enough answers in each planted cell every week
            cell = planted.get(key)
            if not cell or cell[1] not in regions or services.get(cell[0]) is None:
                continue
            local = [(c, p) for c, p in pool if c.region_id == regions[cell[1]].id]
            for _ in range(4 if local else 0):
                customer, contact = rng.choice(local)
                tier = next((t for s, t in subs.get(customer.id, []) if s == services[cell[0]].id), None)
                _add_csat(writer, rng, ctx, week, customer, contact, services[cell[0]].id, tier, cell_probs)
    _unanswered_invitations(session, writer, rng, regions)
    total = writer.flush(now)
    total += _nps_wave(session, nps, ctx, rng, pool, subs, now)
    total += _anonymous(session, anon, ctx, rng, now)
    total += _servqual_wave(session, quality, ctx, rng, pool, subs, now)
    record(session, "demo", object_type="Campaign", summary=f"demo surveys: {total} responses")
    _routing_rule(session)
    ctx.summary.append(f"Surveys: 4 campaigns, {total} responses, follow-up tasks for low scores.")


def _routing_rule(session: Session) -> None:
    """One follow-up routing rule, so the rules page shows one: the Beijing collector owns the
    desktop-support follow-ups of the region (the rest go to the collection point's lead)."""
    from perception.core.models.auth import User
    from perception.setup.models.catalog import Service
    from perception.surveys.models import FollowUpRoute

    owner = session.scalar(select(User).where(User.username == "collector.bj"))
    desk = session.scalar(select(Service).where(Service.code == "DESK"))
    if owner is None or owner.region_id is None or desk is None:
        return
    session.add(FollowUpRoute(region_id=owner.region_id, service_id=desk.id, owner_id=owner.id))
    session.flush()


def _add_csat(
    writer: _Writer,
    rng: random.Random,
    ctx: DemoContext,
    week: int,
    customer: CustomerOrg,
    contact: Contact,
    service_id: int | None,
    tier_id: int | None,
    cell_probs: Any,
) -> None:
    at = _at(ctx, week, rng)
    who = Attribution(customer.region_id, customer.id, service_id, tier_id, None, contact.id)
    invitation = _invitation(writer.campaign, who, at)
    writer.add(_csat_answers(rng, cell_probs(service_id, customer.region_id)), who, at, invitation)


def _unanswered_invitations(
    session: Session, writer: _Writer, rng: random.Random, regions: dict[str, Any]
) -> None:
    """Invitations nobody answered, so response rates look like a real transactional survey's
    (about a quarter to a half, differing by region) rather than the 97-99% of answered-only rows."""
    propensity = {region.id: 0.25 + 0.2 * rng.random() for region in regions.values()}
    silent: list[dict[str, Any]] = []
    for _, who, at, invitation in writer.pending:
        if invitation is None:
            continue
        p = propensity.get(who.region_id, 0.35)
        expected = (1 - p) / p  # unanswered invitations per answered one
        count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        for _ in range(count):
            sent = at - timedelta(days=rng.randint(0, 3), hours=rng.randint(0, 8))
            silent.append(
                {**invitation, "created_at": sent, "sent_at": sent, "opened_at": None, "used_at": None,
                 "reminders_sent": 1, "last_reminded_at": sent + timedelta(days=3)}
            )  # fmt: skip
    if silent:
        session.execute(insert(table_of(Invitation)), silent)


def _invitation(campaign: Campaign, who: Attribution, at: datetime, answered: bool = True) -> dict[str, Any]:
    assert who.contact_id is not None and who.customer_id is not None
    return {
        "campaign_id": campaign.id,
        "contact_id": who.contact_id,
        "region_id": who.region_id,
        "customer_id": who.customer_id,
        "service_id": who.service_id,
        "tier_id": who.tier_id,
        "ticket_id": None,
        "created_at": at - timedelta(days=1),
        "sent_at": at - timedelta(days=1),
        "expires_at": at + timedelta(days=29),
        "reminders_sent": 0,
        "last_reminded_at": None,
        "opened_at": at if answered else None,
        "used_at": at if answered else None,
    }


def _nps_wave(
    session: Session,
    campaign: Campaign,
    ctx: DemoContext,
    rng: random.Random,
    pool: list[tuple[CustomerOrg, Contact]],
    subs: dict[int, list[tuple[int | None, int | None]]],
    now: datetime,
) -> int:
    writer = _Writer(session, campaign)
    week = ctx.history_weeks + ctx.weeks // 2
    silent: list[dict[str, Any]] = []
    for customer, contact in pool:
        service_id, tier_id = (subs.get(customer.id) or [(None, None)])[0]
        who = Attribution(customer.region_id, customer.id, None, tier_id, None, contact.id)
        at = _at(ctx, week, rng)
        if rng.random() > 0.68:  # about two in three answer
            silent.append(_invitation(campaign, who, at, answered=False))
            continue
        score = min(10, max(0, round(rng.gauss(7.8, 1.8))))
        answers: dict[str, Any] = {"nps": score}
        if rng.random() < 0.5:
            answers["reason"] = rng.choice(PRAISE if score >= 9 else GRIPES)
        answers["dimensions"] = {
            row: min(5, max(1, round(rng.gauss(3.2 + score / 5, 0.8))))
            for row in ("response_speed", "fault_handling", "staff_attitude", "service_conformity")
        }
        writer.add(answers, who, at, _invitation(campaign, who, at))
    if silent:
        session.execute(insert(table_of(Invitation)), silent)
    return writer.flush(now)


def _anonymous(
    session: Session, campaign: Campaign, ctx: DemoContext, rng: random.Random, now: datetime
) -> int:
    if campaign.region_id is None:
        return 0
    writer = _Writer(session, campaign)
    who = Attribution(campaign.region_id)
    dims = ("response_speed", "fault_handling", "deliverable_quality", "staff_attitude", "service_conformity")
    for week in range(ctx.total_weeks):
        for _ in range(ctx.count(week, rng.randint(2, 6))):
            answers: dict[str, Any] = {d: rng.choices(range(1, 6), weights=CSAT_BASE)[0] for d in dims}
            if min(answers.values()) <= 2 and rng.random() < 0.7:
                answers["low_detail"] = rng.choice(GRIPES)
            if rng.random() < 0.3:
                answers["requirements"] = rng.choice(
                    ("希望增加周末值班支持。", "计划下季度上线新的 ERP 系统，需要运维支持。")
                )
            writer.add(answers, who, _at(ctx, week, rng), None)
    return writer.flush(now)


def _servqual_wave(
    session: Session,
    campaign: Campaign,
    ctx: DemoContext,
    rng: random.Random,
    pool: list[tuple[CustomerOrg, Contact]],
    subs: dict[int, list[tuple[int | None, int | None]]],
    now: datetime,
) -> int:
    """``SERVQUAL_INVITED`` contacts invited over the eight weeks before the last; about two in three
    answer: each rates the 22 pairs (expectation high, perception short of it by the dimension's
    shortfall) and shares 100 points among the dimensions around ``SERVQUAL_WEIGHTS``."""
    writer = _Writer(session, campaign)
    pairs = [q for q in writer.questionnaire.questions() if q.type == QuestionType.SERVQUAL]
    dims = list(SERVQUAL_WEIGHTS)
    first = max(0, ctx.total_weeks - 9)
    silent: list[dict[str, Any]] = []
    for customer, contact in rng.sample(pool, min(len(pool), SERVQUAL_INVITED)):
        tier_id = (subs.get(customer.id) or [(None, None)])[0][1]
        who = Attribution(customer.region_id, customer.id, None, tier_id, None, contact.id)
        at = _at(ctx, rng.randint(first, ctx.total_weeks - 2), rng)
        if rng.random() > 0.67:
            silent.append(_invitation(campaign, who, at, answered=False))
            continue
        mood = rng.gauss(0, 0.5)  # how well this customer is served overall
        answers: dict[str, Any] = {}
        for question in pairs:
            dim = (
                question.tags.servqual_dimension.value if question.tags.servqual_dimension else "reliability"
            )
            expected = min(7, max(1, round(rng.gauss(6.2, 0.7))))
            perceived = expected - SERVQUAL_SHORTFALL[dim] + mood + rng.gauss(0, 0.9)
            answers[question.id] = {"expectation": expected, "perception": min(7, max(1, round(perceived)))}
        points = [max(0.0, rng.gauss(100 * SERVQUAL_WEIGHTS[d], 6)) for d in dims]
        scaled = [round(100 * p / sum(points) / 5) * 5 for p in points]  # people give round numbers
        scaled[dims.index("reliability")] += 100 - sum(scaled)
        answers["importance"] = dict(zip(dims, scaled, strict=True))
        writer.add(answers, who, at, _invitation(campaign, who, at))
    if silent:
        session.execute(insert(table_of(Invitation)), silent)
    return writer.flush(now)
