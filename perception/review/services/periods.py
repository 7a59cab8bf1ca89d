"""Review periods and the creation of each period's review, with reminders to the system owner.

Periods come from the setting ``REVIEW_PERIODS`` (default ``"H1,H2"``), which the caller reads
and hands to ``parse_periods``: either the half-years ``H1,H2`` or month ranges such as
``"1-6,7-12"`` or ``"4-9,10-3"`` (a range may wrap the year end, e.g. a fiscal half from October
to March). The ranges must tile the twelve months without gaps or overlaps. A period is
``[start, end)`` in dates.

``ensure_review`` creates the review of the period containing a day when it is missing; the
daily job ``ensure_reviews`` (perception.review.jobs) calls it and then ``send_reminders``: the
system owner(s) get one email when a review is created and one when its period end is
``REVIEW_REMINDER_DAYS`` (default 21) days away or less and it is unsigned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.errors import Problem
from perception.core.models.auth import Role, User, UserRole
from perception.core.transaction import after_commit
from perception.review.models import Review, ReviewStatus
from perception.review.services.errors import ReviewError

DEFAULT_PERIODS = "H1,H2"
DEFAULT_REMINDER_DAYS = 21
HALVES = {"H1": (1, 6), "H2": (7, 6)}


class ReviewConfigError(ReviewError):
    """The setting REVIEW_PERIODS cannot be read."""


def _setting_problem(zh: str, en: str) -> ReviewConfigError:
    return ReviewConfigError([Problem("REVIEW_PERIODS", zh, en, code="invalid_setting")])


@dataclass(frozen=True)
class PeriodSpec:
    """A yearly recurring period: first month (1..12), length in months and its short name."""

    start_month: int
    months: int
    name: str  # "H1", "H2", or "" for month ranges


@dataclass(frozen=True)
class ReviewPeriod:
    code: str
    start: date
    end: date  # exclusive
    label_zh: str
    label_en: str


def parse_periods(text: str | None) -> tuple[PeriodSpec, ...]:
    """``"H1,H2"`` or month ranges ``"1-6,7-12"`` / ``"4-9,10-3"`` -> period specs, checked to
    cover each month exactly once."""
    raw = [part.strip().upper() for part in (text or DEFAULT_PERIODS).split(",") if part.strip()]
    if not raw:
        raise _setting_problem("REVIEW_PERIODS 为空", "REVIEW_PERIODS is empty")
    specs: list[PeriodSpec] = []
    for part in raw:
        if part in HALVES:
            first, length = HALVES[part]
            specs.append(PeriodSpec(first, length, part))
            continue
        try:
            first_s, last_s = part.split("-")
            first, last = int(first_s), int(last_s)
        except ValueError:
            raise _setting_problem(
                f"无法识别的回顾周期“{part}”，请写 H1,H2 或月份范围如 1-6,7-12",
                f"cannot read review period {part!r}: use H1,H2 or month ranges such as 1-6,7-12",
            ) from None
        if not (1 <= first <= 12 and 1 <= last <= 12):
            raise _setting_problem(f"月份须在 1 到 12 之间：{part}", f"months must be 1..12: {part}")
        specs.append(PeriodSpec(first, (last - first) % 12 + 1, ""))
    covered = [((spec.start_month - 1 + i) % 12) + 1 for spec in specs for i in range(spec.months)]
    if sorted(covered) != list(range(1, 13)):
        raise _setting_problem(
            "回顾周期必须不重叠地覆盖全年 12 个月", "review periods must cover the 12 months exactly once"
        )
    return tuple(sorted(specs, key=lambda s: s.start_month))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _period(spec: PeriodSpec, year: int) -> ReviewPeriod:
    start = date(year, spec.start_month, 1)
    end = _add_months(start, spec.months)
    last = _add_months(start, spec.months - 1)
    if spec.name:
        half_zh = "上半年" if spec.name == "H1" else "下半年"
        return ReviewPeriod(f"{year}-{spec.name}", start, end, f"{year} 年{half_zh}", f"{year} {spec.name}")
    return ReviewPeriod(
        f"{start:%Y-%m}",
        start,
        end,
        f"{start.year} 年 {start.month} 月至 {last.year} 年 {last.month} 月",
        f"{start:%b %Y} – {last:%b %Y}",
    )


def period_for(day: date, specs: Sequence[PeriodSpec]) -> ReviewPeriod:
    """The configured period containing ``day``."""
    for year in (day.year - 1, day.year):
        for spec in specs:
            period = _period(spec, year)
            if period.start <= day < period.end:
                return period
    # Impossible once parsed: the periods tile the year.
    raise _setting_problem(f"没有包含 {day} 的回顾周期", f"no review period contains {day}")


def previous_period(period: ReviewPeriod, specs: Sequence[PeriodSpec]) -> ReviewPeriod:
    return period_for(period.start - timedelta(days=1), specs)


def previous_review(session: Session, review: Review) -> Review | None:
    """The latest review that ended on or before this one started."""
    return session.scalar(
        select(Review)
        .where(Review.period_end <= review.period_start, Review.id != review.id)
        .order_by(Review.period_end.desc())
        .limit(1)
    )


def ensure_review(session: Session, day: date, specs: Sequence[PeriodSpec]) -> tuple[Review, bool]:
    """The review of the period containing ``day``, created when missing. Returns (review, created)."""
    period = period_for(day, specs)
    existing = session.scalar(select(Review).where(Review.code == period.code))
    if existing is not None:
        return existing, False
    review = Review(
        code=period.code,
        label_zh=period.label_zh,
        label_en=period.label_en,
        period_start=period.start,
        period_end=period.end,
        status=ReviewStatus.OPEN,
    )
    session.add(review)
    session.flush()
    return review, True


def owner_addresses(session: Session) -> list[str]:
    """E-mail addresses of the active system owners (and the one named in PerceptionSystem)."""
    ids: set[int] = set(
        session.scalars(select(UserRole.user_id).where(UserRole.role == Role.SYSTEM_OWNER.value))
    )
    try:
        from perception.setup.models.standards import PerceptionSystem

        named = session.scalar(select(PerceptionSystem.system_owner_id).limit(1))
        if named is not None:
            ids.add(named)
    except ImportError:  # pragma: no cover - setup phase absent
        pass
    if not ids:
        return []
    users = session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True)))
    return sorted({u.email for u in users if u.email})


def _link(review: Review, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/reviews/{review.id}"


def reminder_text(review: Review, kind: str, base_url: str) -> tuple[str, str]:
    """Subject and body (Chinese first, then English) of a 'created' or 'due' reminder."""
    link = _link(review, base_url)
    end = (review.period_end - timedelta(days=1)).isoformat()
    if kind == "created":
        subject = f"回顾已创建 / Review created: {review.label_zh} / {review.label_en}"
        body = (
            f"{review.label_zh}的体系回顾已创建，周期截至 {end}。请安排评审人员在周期结束后完成回顾与签署。\n"
            f"{link}\n\n"
            f"The system review for {review.label_en} has been created; the period ends on {end}. "
            f"Please plan the reviewers' work and the sign-off after the period ends.\n{link}\n"
        )
    else:
        subject = f"回顾即将到期 / Review due: {review.label_zh} / {review.label_en}"
        body = (
            f"{review.label_zh}的回顾周期将于 {end} 结束，回顾尚未签署。请组织评审、填写发现与决定并签署。\n"
            f"{link}\n\n"
            f"The review period {review.label_en} ends on {end} and the review is not signed yet. "
            f"Please run the review, record findings and decisions, and sign it off.\n{link}\n"
        )
    return subject, body


def send_reminders(
    session: Session,
    today: date,
    *,
    now: datetime,
    base_url: str,
    days_before: int = DEFAULT_REMINDER_DAYS,
) -> list[tuple[str, str]]:
    """Send each open review's 'created' and 'period end approaching' reminders once.

    Returns (review code, kind) for every reminder sent. Without an owner address nothing is
    marked as sent, so the reminder goes out once an address exists. The mails leave once the
    transaction that marks them as sent has committed: a rolled-back run sends nothing and the
    next run tries again.
    """
    from perception.core.mail import send_email

    addresses = owner_addresses(session)
    sent: list[tuple[str, str]] = []
    if not addresses:
        return sent
    reviews = session.scalars(
        select(Review).where(Review.status == ReviewStatus.OPEN).order_by(Review.period_start)
    )
    for review in reviews:
        due = review.period_end - timedelta(days=days_before) <= today
        for kind, pending in (
            ("created", review.created_reminder_sent_at is None and not due),
            ("due", review.reminder_sent_at is None and due),
        ):
            if not pending:
                continue
            subject, body = reminder_text(review, kind, base_url)
            for address in addresses:
                after_commit(partial(send_email, address, subject, body))
            if kind == "created":
                review.created_reminder_sent_at = now
            else:
                review.reminder_sent_at = now
                review.created_reminder_sent_at = review.created_reminder_sent_at or now
            sent.append((review.code, kind))
    session.flush()
    return sent
