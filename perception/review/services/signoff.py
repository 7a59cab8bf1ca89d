"""The review workspace's writes: findings and decisions while it is open, the system owner's
sign-off that freezes it, and the optional countersignature of a customer representative.

Freezing: sign-off computes the content from the data once more (findings included) and stores
it in ``Review.snapshot`` with its SHA-256 (the slow sections taken from the page's stored copy
when that copy is current: ``current_slow_sections``); from then on every page and PDF of the review renders
from the snapshot, and every write below refuses a signed review. A customer representative may
countersign the frozen review afterwards; that adds a signature and changes no content.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.clock import Clock
from perception.core.models.auth import Role, User
from perception.core.models.org import CustomerOrg
from perception.core.webhooks import emit
from perception.review.models import (
    FindingKind,
    ImprovementItem,
    ImprovementSource,
    Review,
    ReviewCountersignature,
    ReviewFinding,
    ReviewStatus,
)
from perception.review.services import register as review_register
from perception.review.services.blocks import evidence_anchors
from perception.review.services.errors import ReviewError
from perception.review.services.sections import SECTION_CODES, compute_content, content_hash
from perception.setup.services.rep_mail import notify_representatives


def require_open(review: Review) -> None:
    if review.signed:
        raise ReviewError.one(
            "review",
            "回顾已签署，内容只读",
            "The review is signed and read only.",
            code="review_signed",
            status=409,
        )


def add_finding(
    session: Session,
    review: Review,
    *,
    kind: str,
    text: str,
    text_en: str | None = None,
    evidence_section: str,
    evidence_key: str | None = None,
    evidence_note: str | None = None,
    author: User | None = None,
    today: date,
    anchors: list[dict[str, object]] | None = None,
) -> ReviewFinding:
    """Add a finding or decision linked to evidence: a section, usually one of its rows.

    An evidence row is checked against the live content of ``today``, the organisation's date
    the page offering the rows was computed for. ``anchors``
    (perception.review.services.blocks.evidence_anchors of that content) lets the caller avoid
    computing the content twice; without it the content is computed here.
    """
    require_open(review)
    text = (text or "").strip()
    english = (text_en or "").strip()
    if kind not in tuple(FindingKind):
        raise ReviewError.one("kind", "请选择“发现”或“决定”", "Choose finding or decision.")
    for field, value in (("text", text), ("text_en", english)):
        if len(value) > 5000:
            raise ReviewError.one(field, "内容最多 5000 字", "Write at most 5000 characters.")
    if not text and not english:  # one language is enough; the other PDF then shows it too
        raise ReviewError.one(
            "text",
            "请填写内容（中文或英文，最多 5000 字）",
            "Write the text in Chinese or English (at most 5000 characters).",
        )
    if evidence_section not in SECTION_CODES:
        raise ReviewError.one(
            "evidence_section",
            "每项发现都须链接到证据：请选择一个章节",
            "Link the finding to evidence: choose a section.",
        )
    label = None
    key = (evidence_key or "").strip() or None
    if key is not None:
        if anchors is None:
            anchors = evidence_anchors(compute_content(session, review, today=today))
        anchor = next((a for a in anchors if a["key"] == key), None)
        if anchor is None or anchor["section"] != evidence_section:
            raise ReviewError.one(
                "evidence_key",
                "所选证据不在该章节中",
                "The selected evidence is not a row of that section.",
            )
        label = anchor["label"]
    position = (
        session.scalar(select(func.max(ReviewFinding.position)).where(ReviewFinding.review_id == review.id))
        or 0
    ) + 1
    finding = ReviewFinding(
        review_id=review.id,
        position=position,
        kind=kind,
        text=text,
        text_en=english or None,
        evidence_section=evidence_section,
        evidence_key=key,
        evidence_label=label,  # type: ignore[arg-type]
        evidence_note=(evidence_note or "").strip() or None,
        author_id=author.id if author else None,
    )
    session.add(finding)
    session.flush()
    return finding


def delete_finding(session: Session, finding: ReviewFinding) -> None:
    require_open(finding.review)
    session.delete(finding)
    session.flush()


def raise_improvement(
    session: Session,
    finding: ReviewFinding,
    *,
    title: str,
    today: date,
    user: User | None = None,
    title_en: str | None = None,
) -> ImprovementItem:
    """Create an improvement item from a finding (source: review finding, evidence copied); a
    title not given is the finding's text in that language."""
    zh, en = title.strip(), (title_en or "").strip()
    if not zh and not en:
        zh, en = finding.text[:200], (finding.text_en or "")[:200]
    description = "\n\n".join(part for part in (finding.text, finding.text_en) if part)
    data = review_register.ItemInput(
        title=zh,
        title_en=en or None,
        description=description,
        source=ImprovementSource.REVIEW_FINDING,
        source_ref=f"finding:{finding.id}",
        evidence=f"{finding.evidence_section}:{finding.evidence_key or ''}",
        review_id=finding.review_id,
        finding_id=finding.id,
        owner_id=user.id if user else None,
    )
    return review_register.create_item(session, data, today=today, user_id=user.id if user else None)


def sign(
    session: Session, review: Review, user: User, *, clock: Clock, base_url: str | None = None
) -> Review:
    """The system owner signs: compute the content one last time (as of the clock's today) and
    freeze it. With ``base_url``, every customer's representatives are told by mail that their
    view of the review waits for their countersignature."""
    require_open(review)
    if not user.has_role(Role.SYSTEM_OWNER):
        raise ReviewError.one(
            "user", "只有体系负责人可以签署回顾", "Only the system owner signs the review.", status=403
        )
    now, today = clock.now(), clock.today()
    if today < review.period_end:
        # The period's last weeks would be missing from the frozen content (issue 18).
        last = review.period_end - timedelta(days=1)
        raise ReviewError.one(
            "review",
            f"回顾周期到 {last.isoformat()} 才结束，结束后才能签署",
            f"The review period runs until {last.isoformat()}; sign it after the period has ended.",
            code="period_not_ended",
            status=409,
        )
    content = compute_content(
        session, review, today=today, now=now, precomputed=current_slow_sections(session, review, today, now)
    )
    review.snapshot = content
    review.snapshot_sha256 = content_hash(content)
    review.frozen_at = now
    review.status = ReviewStatus.SIGNED
    review.owner_signed_by_id = user.id
    review.owner_signatory = user.display_name
    review.owner_signed_at = now
    session.flush()
    record(
        session,
        "review_signed",
        object_type="Review",
        object_id=review.id,
        summary=f"{review.code} signed by {user.username}; snapshot {review.snapshot_sha256[:12]}",
    )
    event = {"review_id": review.id, "code": review.code, "snapshot_sha256": review.snapshot_sha256}
    emit(session, "review.signed", {**event, "signed_at": now.isoformat() + "Z"}, now)
    if base_url is not None:
        notify_representatives(
            session,
            session.scalars(select(CustomerOrg.id)),
            subject={
                "zh": f"回顾 {review.label_zh} 已签署，等待贵单位会签",
                "en": f"Review {review.label_en} is signed and awaits your countersignature",
            },
            body={
                "zh": f"体系负责人已签署 {review.label_zh} 的体系回顾。"
                "贵单位的服务标准、体验结果和相关发现已可查看，请审阅后会签。",
                "en": f"The system owner signed the system review {review.label_en}. Your "
                "organisation's standards, experience results and the findings about them are "
                "ready: please read them and countersign.",
            },
            base_url=base_url,
        )
    return review


def current_slow_sections(
    session: Session, review: Review, today: date, now: datetime
) -> dict[str, Any] | None:
    """The page's stored slow sections (perception.review.page_cache) when they are what computing
    them now would give, else None (sign-off then computes them). Current means made from the
    inputs as they are now (their signature as of ``today``) and, since the health section counts
    the collection reports that were due by its ``now``, from the same report states as at ``now``
    (a deadline of the period may have passed since the copy was computed)."""
    from perception.collection.services.board import completeness
    from perception.review import page_cache
    from perception.review.services.sections import SectionContext

    cached = page_cache.load(session, review, "en", page_cache.current_basis(session, review, today))
    if cached is None or not cached.fresh:
        return None
    ctx = SectionContext(session, review, today, now)

    def states(moment: datetime) -> list[tuple[object, ...]]:
        cells = completeness(session, ctx.week_start, ctx.last_week, now=moment)
        return [(c.collection_point_id, c.week_start, c.state, c.counted) for c in cells]

    if states(cached.computed_at) != states(now):
        return None
    return cached.content


def countersign(session: Session, review: Review, user: User, *, clock: Clock) -> ReviewCountersignature:
    """A customer representative countersigns their customer's view of a signed review (optional;
    one countersignature per customer)."""
    if not user.has_role(Role.CUSTOMER_REP) or user.customer_id is None:
        raise ReviewError.one(
            "user", "只有客户代表可以会签", "Only a customer representative countersigns.", status=403
        )
    if not review.signed:
        raise ReviewError.one(
            "review", "体系负责人签署后客户代表才能会签", "The system owner signs first.", status=409
        )
    if countersignature_of(session, review, user.customer_id) is not None:
        raise ReviewError.one(
            "review",
            "贵单位已会签本次回顾",
            "Your organisation already countersigned this review.",
            status=409,
        )
    signature = ReviewCountersignature(
        review_id=review.id,
        customer_id=user.customer_id,
        user_id=user.id,
        signatory=user.display_name,
        signed_at=clock.now(),
    )
    session.add(signature)
    session.flush()
    record(
        session,
        "review_countersigned",
        object_type="Review",
        object_id=review.id,
        summary=f"{review.code} countersigned by {user.username} for customer {user.customer_id}",
    )
    return signature


def countersignature_of(session: Session, review: Review, customer_id: int) -> ReviewCountersignature | None:
    return session.scalar(
        select(ReviewCountersignature).where(
            ReviewCountersignature.review_id == review.id, ReviewCountersignature.customer_id == customer_id
        )
    )
