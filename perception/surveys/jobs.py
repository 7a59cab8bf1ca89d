"""The surveys phase's background jobs (daily, and "send now" on a campaign's page).

A job runs in its own transaction (``perception.core.transaction.unit_of_work`` on a worker, or
the request's without Redis); it reads the settings and the clock and hands them to the
operations in ``services``.

- ``send_campaign_invitations``: invite what is due for every open personal campaign (or one).
- ``send_campaign_reminders``: remind non-respondents after each campaign's reminder delay.
- ``route_followups``: give new follow-up tasks their owner and tell them; escalate overdue ones.
- ``assign_followup``: the same for one task, asked for by the answer that created it, so its
  owner is told at once rather than at the next hourly run.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from perception.core.clock import current_clock
from perception.core.jobs import job
from perception.surveys.services.campaigns import send_due_invitations
from perception.surveys.services.invitations import send_reminders
from perception.surveys.services.settings import SurveySettings


def _moment(now: str | datetime | None) -> datetime:
    """``now`` as naive UTC: given (a datetime, or ISO text through the queue), else the clock's."""
    if now is None:
        return current_clock().now()
    if isinstance(now, datetime):
        return now.replace(tzinfo=None)
    return datetime.fromisoformat(now).replace(tzinfo=None)


@job("send_campaign_invitations")
def send_campaign_invitations(
    session: Session, campaign_id: int | None = None, now: str | datetime | None = None, **_: Any
) -> int:
    """Invite what is due for every open personal campaign (or one); returns the emails sent."""
    settings = SurveySettings.from_config(current_app.config)
    return send_due_invitations(session, _moment(now), settings, campaign_id=campaign_id)


@job("invite_for_closed_ticket")
def invite_for_closed_ticket(
    session: Session,
    ticket_id: int | None = None,
    now: str | datetime | None = None,
    ticket_ids: list[int] | None = None,
    **_: Any,
) -> int:
    """Invite the contacts of tickets just closed by a ticket import, the API's or a service-desk
    event's (kpi enqueues it by name); returns the emails sent."""
    from perception.surveys.services.tickets import invite_for_ticket

    settings = SurveySettings.from_config(current_app.config)
    moment = _moment(now)
    ids = [int(i) for i in (ticket_ids or [])] + ([int(ticket_id)] if ticket_id is not None else [])
    return sum(invite_for_ticket(session, i, moment, settings) for i in ids)


@job("send_campaign_reminders")
def send_campaign_reminders(session: Session, now: str | datetime | None = None, **_: Any) -> int:
    """Remind non-respondents of open campaigns after the campaign's reminder delay."""
    return send_reminders(session, _moment(now), SurveySettings.from_config(current_app.config))


@job("route_followups")
def route_followups(session: Session, now: str | datetime | None = None, **_: Any) -> int:
    """Assign new follow-up tasks and escalate overdue ones; returns the mails queued."""
    from perception.surveys.services import followup_routing

    clock = current_clock()
    moment = _moment(now)
    notices = followup_routing.assign_new_tasks(session, moment)
    notices += followup_routing.escalate_overdue(session, clock.local(moment).date(), moment)
    return _mail_after_commit(notices)


@job("assign_followup")
def assign_followup(session: Session, task_id: int, now: str | datetime | None = None, **_: Any) -> int:
    """Give one new follow-up task its owner and tell them; returns the mails queued (0 when the
    task was already assigned, e.g. by the hourly run)."""
    from perception.surveys.services import followup_routing

    return _mail_after_commit(followup_routing.assign_new_tasks(session, _moment(now), [int(task_id)]))


def _mail_after_commit(notices: list[Any]) -> int:
    from perception.core.mail import send_email
    from perception.core.transaction import after_commit

    base = SurveySettings.from_config(current_app.config).public_base_url
    for notice in notices:
        subject, text = followup_mail(notice, base)
        after_commit(partial(send_email, notice.to, subject, text))
    return len(notices)


def followup_mail(notice: Any, base_url: str) -> tuple[str, str]:
    """Subject and text of a follow-up notice, in the recipient's language."""
    link = f"{base_url}/surveys/followups/{notice.task_id}"
    due = notice.due_on.isoformat() if notice.due_on else "—"
    if notice.language == "zh":
        if notice.reason == "assigned":
            return (
                f"请跟进低分反馈（{notice.region}，{due} 前）",
                f"一条低分或投诉反馈已分派给您跟进。\n区域：{notice.region}\n截止日期：{due}\n请在截止日期前联系客户并填写处理结果：{link}\n",
            )
        return (
            f"跟进任务已逾期（{notice.region}，截止 {due}）",
            f"区域 {notice.region} 的一条跟进任务已超过截止日期（{due}）仍未完成，请督办。\n{link}\n",
        )
    if notice.reason == "assigned":
        return (
            f"Please follow up a low score ({notice.region}, by {due})",
            f"A low score or complaint has been assigned to you.\nRegion: {notice.region}\nDue: {due}\n"
            f"Contact the customer before the due day and record the outcome: {link}\n",
        )
    return (
        f"Follow-up task overdue ({notice.region}, due {due})",
        f"A follow-up task in {notice.region} passed its due day ({due}) and is still open; "
        f"please see to it.\n{link}\n",
    )
