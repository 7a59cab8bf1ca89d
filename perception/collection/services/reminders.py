"""Report reminders, run hourly by the scheduler (``report_reminders`` in jobs/schedule.py).

For every active collection point and each recent week whose report has not been submitted:
- "due soon": the deadline falls within the next ``DUE_SOON_HOURS`` hours;
- "missing": the deadline passed less than ``MISSING_WINDOW`` ago (older gaps are left to the
  organiser's board rather than mailed again and again).
Each reminder goes out once per (point, week, kind): the ReportReminder row's unique key is the
record, claimed in a savepoint so two schedulers never both send, and the mails go out after the
claim is committed. Recipients are the point's lead and its active collectors with an email
address. Mails carry both languages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from perception.collection.models.reports import CollectionReport, ReminderKind, ReportReminder
from perception.collection.services.board import point_deadline
from perception.core.jobs import job
from perception.core.models.auth import User
from perception.core.models.base import utcnow
from perception.core.models.org import CollectionPoint, Region
from perception.core.periods import iso_week_label, local_date, week_start
from perception.core.transaction import after_commit

DUE_SOON_HOURS = 24
MISSING_WINDOW = timedelta(days=14)


def recipients(session: Session, point: CollectionPoint) -> list[str]:
    users = session.scalars(
        select(User).where(
            User.active.is_(True),
            or_(User.collection_point_id == point.id, User.id == (point.lead_id or -1)),
        )
    )
    return sorted({u.email for u in users if u.email})


def due_reminders(session: Session, now: datetime) -> list[tuple[CollectionPoint, Region, Any, str]]:
    """(point, region, week_start, kind) for every reminder that should go out at ``now``."""
    out = []
    points = session.execute(
        select(CollectionPoint, Region)
        .join(Region, Region.id == CollectionPoint.region_id)
        .where(CollectionPoint.active.is_(True))
    ).all()
    for point, region in points:
        this_week = week_start(local_date(now, region.timezone))
        weeks = [this_week - timedelta(weeks=i) for i in range(0, 4)]
        submitted = set(
            session.scalars(
                select(CollectionReport.week_start).where(
                    CollectionReport.collection_point_id == point.id,
                    CollectionReport.week_start.in_(weeks),
                    CollectionReport.first_submitted_at.is_not(None),
                )
            )
        )
        for week in weeks:
            if week in submitted:
                continue
            deadline = point_deadline(point, region, week)
            if now < deadline <= now + timedelta(hours=DUE_SOON_HOURS):
                out.append((point, region, week, ReminderKind.DUE_SOON.value))
            elif deadline < now <= deadline + MISSING_WINDOW:
                out.append((point, region, week, ReminderKind.MISSING.value))
    return out


def _message(point: CollectionPoint, region: Region, week: Any, kind: str) -> tuple[str, str]:
    label = iso_week_label(week)
    deadline = point_deadline(point, region, week)
    local = deadline.replace(tzinfo=UTC).astimezone(ZoneInfo(region.timezone))
    when = f"{local:%Y-%m-%d %H:%M} ({region.timezone})"
    if kind == ReminderKind.DUE_SOON:
        subject = f"采集报告即将到期 / Collection report due soon: {point.code} {label}"
        zh = f"{point.name_zh} 的 {label} 周采集报告尚未提交，截止时间为 {when}。请及时提交。"
        en = f"The {label} collection report of {point.name_en} has not been submitted; it is due at {when}."
    else:
        subject = f"采集报告缺失 / Collection report missing: {point.code} {label}"
        zh = f"{point.name_zh} 的 {label} 周采集报告已超过截止时间（{when}）仍未提交，请尽快补交。"
        en = f"The {label} collection report of {point.name_en} was due at {when} and is still missing."
    return subject, f"{zh}\n\n{en}\n"


@job("report_reminders")
def report_reminders(session: Session, now: str | None = None, **_: Any) -> int:
    """Send the due-soon and missing reminders not sent yet; returns how many went out."""
    from perception.core.mail import send_email

    moment = datetime.fromisoformat(now).replace(tzinfo=None) if now else utcnow()
    sent = 0
    for point, region, week, kind in due_reminders(session, moment):
        to = recipients(session, point)
        try:
            with session.begin_nested():
                session.add(
                    ReportReminder(
                        region_id=region.id,
                        collection_point_id=point.id,
                        week_start=week,
                        kind=kind,
                        sent_at=moment,
                        recipients=",".join(to),
                    )
                )
        except IntegrityError:
            continue  # already sent (by this job earlier or by another scheduler)
        subject, text = _message(point, region, week, kind)
        for address in to:
            # Mailed once the claim is committed: a run that fails later sends nothing it would
            # send again next hour.
            after_commit(partial(send_email, address, subject, text))
        sent += 1
    session.flush()
    return sent
