"""The surveys phase's background jobs (daily, and "send now" on a campaign's page).

A job runs in its own transaction (``perception.core.transaction.unit_of_work`` on a worker, or
the request's without Redis); it reads the settings and the clock and hands them to the
operations in ``services``.

- ``send_campaign_invitations``: invite what is due for every open personal campaign (or one).
- ``send_campaign_reminders``: remind non-respondents after each campaign's reminder delay.
"""

from __future__ import annotations

from datetime import datetime
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
    session: Session, ticket_id: int, now: str | datetime | None = None, **_: Any
) -> int:
    """Invite the contact of one ticket a service-desk event has just closed (kpi enqueues it by name)."""
    from perception.surveys.services.tickets import invite_for_ticket

    settings = SurveySettings.from_config(current_app.config)
    return invite_for_ticket(session, int(ticket_id), _moment(now), settings)


@job("send_campaign_reminders")
def send_campaign_reminders(session: Session, now: str | datetime | None = None, **_: Any) -> int:
    """Remind non-respondents of open campaigns after the campaign's reminder delay."""
    return send_reminders(session, _moment(now), SurveySettings.from_config(current_app.config))
