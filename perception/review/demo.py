"""Demo review (runs last): the previous period's review signed by the system owner, with findings
and decisions linked to evidence and improvement items (one completed, its result measured from
the demo data), and the current period's review open.

The completed item measures CSAT of the planted watermelon cell (``ctx.shared["planted"]``; else
the service x region with the most CSAT answers): baseline the 8 weeks ending two weeks before
completion, result the 8 weeks after ``completed_on`` (nine weeks before the demo's today, so the
window is complete when the demo has at least 19 weeks of data). Re-running adds nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.core.clock import Clock, current_clock
from perception.core.demo import DemoContext
from perception.core.models.auth import User
from perception.core.models.facts import ExperienceObservation
from perception.core.models.org import Region
from perception.review import settings
from perception.review.models import ImprovementItem, Review, ReviewFinding
from perception.review.services import periods as review_periods
from perception.review.services import register as review_register
from perception.review.services import signoff as review_signoff
from perception.review.services.blocks import evidence_anchors
from perception.review.services.sections import compute_content
from perception.setup.models.catalog import Service


def _clock_at(day: date, hour: int) -> Clock:
    """The organisation's clock stopped at ``hour`` o'clock local time on ``day``."""
    clock = current_clock()
    local = datetime.combine(day, time(hour), tzinfo=ZoneInfo(clock.timezone))
    return replace(clock, fixed_now=local.astimezone(UTC).replace(tzinfo=None))


def _csat_scope(session: Session, ctx: DemoContext, start: date, end: date) -> tuple[int | None, int | None]:
    cell = (ctx.shared.get("planted") or {}).get("watermelon")
    if cell:
        service = session.scalar(select(Service.id).where(Service.code == cell[0]))
        region = session.scalar(select(Region.id).where(Region.code == cell[1]))
        if service and region:
            return service, region
    obs = ExperienceObservation
    row = session.execute(
        select(obs.service_id, obs.region_id)
        .where(obs.kind == "csat", obs.observed_on >= start, obs.observed_on < end)
        .group_by(obs.service_id, obs.region_id)
        .order_by(func.count(obs.id).desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def _item(
    session: Session, title: str, data: dict[str, Any], today: date, created: datetime
) -> ImprovementItem:
    existing = session.scalar(select(ImprovementItem).where(ImprovementItem.title == title))
    if existing is not None:
        return existing
    item = review_register.create_item(
        session, review_register.ItemInput(title=title, **data), today=today, user_id=data.get("owner_id")
    )
    item.created_at = created
    return item


def _findings(session: Session, review: Review, author: User | None, today: date) -> list[Any]:
    if review.findings:
        return list(review.findings)
    content = compute_content(session, review, today=today)
    anchors = evidence_anchors(content)
    summary = content.get("summary") or []
    notes = [
        (
            "finding",
            "内部 KPI 全部达标，但该区域客户满意度明显偏低：典型的“西瓜效应”，需要查明原因。",
            "Every internal KPI is met, yet customer satisfaction in this region is clearly low: a "
            "typical watermelon; find out why.",
        ),
        (
            "finding",
            "部分采集点每周报告迟交、缺交，影响需求与反馈的及时汇总。",
            "Some collection points submit their weekly reports late or not at all, which delays "
            "the consolidation of needs and feedback.",
        ),
        (
            "decision",
            "将上述问题纳入持续改进登记册，由服务经理负责，下一次回顾时衡量效果。",
            "Enter these problems in the continual improvement register, owned by the service "
            "manager; measure the effect at the next review.",
        ),
    ]
    made = []
    for i, (kind, text, text_en) in enumerate(notes):
        target = summary[i] if i < len(summary) else None
        section, key = (target["section"], target["key"]) if target else ("health", None)
        if key is not None and not any(a["key"] == key for a in anchors):
            key = None
        made.append(
            review_signoff.add_finding(
                session,
                review,
                kind=kind,
                text=text,
                text_en=text_en,
                evidence_section=section,
                evidence_key=key,
                author=author,
                today=today,
                anchors=anchors,
            )
        )
    return made


def covers(today: date) -> date:
    """The start of the previous review period: the demo signs that period's review, so its data
    covers every month of it (issue 17: a signed review over months without data told no truth)."""
    specs = settings.review_periods()
    return review_periods.previous_period(review_periods.period_for(today, specs), specs).start


def load(session: Session, ctx: DemoContext) -> None:
    specs = settings.review_periods()
    today = ctx.today
    current, _ = review_periods.ensure_review(session, today, specs)
    period = review_periods.previous_period(review_periods.period_for(today, specs), specs)
    previous, _ = review_periods.ensure_review(session, period.start, specs)
    owner = session.scalar(select(User).where(User.username == "owner"))
    reviewer = session.scalar(select(User).where(User.username == "reviewer"))
    manager = session.scalar(select(User).where(User.username == "manager"))
    if not previous.signed and owner is not None:
        sign_on = min(previous.period_end + timedelta(days=5), today)
        raised = datetime.combine(sign_on - timedelta(days=1), time(10))
        findings = _findings(session, previous, reviewer, today)
        completed_on = max(today - timedelta(weeks=9), previous.period_start)
        service_id, region_id = _csat_scope(
            session, ctx, completed_on - timedelta(weeks=10), completed_on + timedelta(weeks=8)
        )
        owner_id = manager.id if manager else owner.id
        _item(
            session,
            "缩短西瓜单元的故障处理时间并在关单前电话确认",
            {
                "title_en": "Shorten fault handling in the watermelon cell and call before closing",
                "description": "KPI 达标但客户满意度低：关单前由工程师电话确认问题已解决，复发工单优先处理。",
                "source": "review_finding",
                "source_ref": f"finding:{findings[0].id}",
                "finding_id": findings[0].id,
                "review_id": previous.id,
                "business_case": "满意度回升可减少投诉与续约风险。",
                "value": 5,
                "effort": 3,
                "owner_id": owner_id,
                "due_on": completed_on,
                "status": "completed",
                "completed_on": completed_on,
                "metric": "csat_share",
                "metric_service_id": service_id,
                "region_id": region_id,
                "baseline_from": completed_on - timedelta(weeks=10),
                "baseline_to": completed_on - timedelta(weeks=2),
                "target_value": 0.6,
            },
            today,
            raised,
        )
        _item(
            session,
            "采集点每周报告按时率提升到 95%",
            {
                "title_en": "Raise on-time weekly reports of collection points to 95%",
                "description": "周五提醒、周一中午截止；连续两周缺交的采集点由体系负责人约谈。",
                "source": "review_finding",
                "source_ref": f"finding:{findings[1].id}",
                "finding_id": findings[1].id,
                "review_id": previous.id,
                "value": 4,
                "effort": 2,
                "owner_id": owner_id,
                "due_on": today - timedelta(days=14),
                "status": "in_progress",
            },
            today,
            raised,
        )
        _item(
            session,
            "新兴需求“远程桌面支持”移交市场拓展部门评估",
            {
                "title_en": "Hand the emerging need for remote desktop support to market expansion",
                "description": "多个区域客户提出远程支持需求，评估作为新服务包。",
                "source": "alert",
                "review_id": previous.id,
                "value": 3,
                "effort": 4,
                "owner_id": owner_id,
                "due_on": today + timedelta(days=45),
                "status": "approved",
            },
            today,
            raised,
        )
        session.flush()
        review_signoff.sign(session, previous, owner, clock=_clock_at(sign_on, 16))
    if not current.findings:
        review_signoff.add_finding(
            session,
            current,
            kind="finding",
            text="本期回顾进行中：请评审人员补充发现并链接证据。",
            text_en="This period's review is under way: reviewers, add findings and link their evidence.",
            evidence_section="health",
            author=reviewer,
            today=today,
        )
    session.flush()
    # The review pages' slow sections, as the job computes them once the data has changed: the
    # first opening after the demo reads them (perception.review.page_cache).
    from perception.core.models.base import utcnow
    from perception.review import page_cache

    for review in (previous, current):
        page_cache.prepare(session, review, today=today, now=utcnow(), font_path=settings.cjk_font_path())
        session.expire(review)  # its collections as stored, not as loaded while computing
    findings = session.scalar(
        select(func.count(ReviewFinding.id)).where(ReviewFinding.review_id == previous.id)
    )
    ctx.summary.append(
        f"Reviews: {previous.code} signed ({findings} findings and decisions), {current.code} open; "
        f"{session.scalar(select(func.count(ImprovementItem.id)))} improvement items."
    )
