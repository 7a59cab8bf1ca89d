"""What a post-ticket (transactional) invitation asks about: the ticket's number, its service and
the local day it closed, for the invitation mail and the survey page ("about ticket INC0012345,
Service desk, closed 2026-12-05").

Only personal invitations carry a ticket; an anonymous campaign never does (it cannot be
transactional, ``campaigns._check_whole``), so nothing here can tie an anonymous answer to a
person. The line is the respondent's own value: the survey page's cached rendering holds a marker
where it goes and each request puts it in, escaped (``respondent.page_cache``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from perception.core.periods import local_date
from perception.core.transaction import Db, core
from perception.kpi.models import Ticket
from perception.setup.models.catalog import Service
from perception.surveys.models import Invitation, table_of


@dataclass(frozen=True)
class TicketAbout:
    ref: str  # the service desk's ticket number (Ticket.external_id)
    service_zh: str | None
    service_en: str | None
    closed_on: date | None  # in the organisation's time zone

    def service(self, lang: str) -> str:
        zh, en = self.service_zh or self.service_en, self.service_en or self.service_zh
        return (zh if lang.startswith("zh") else en) or ""

    def line(self, lang: str) -> str:
        """The sentence in the current locale (the caller sets it: a page's, or a mail's)."""
        service, day = self.service(lang), self.closed_on.isoformat() if self.closed_on else ""
        if service and day:
            return _(
                "About ticket %(ref)s, %(service)s, closed %(day)s", ref=self.ref, service=service, day=day
            )
        if service:
            return _("About ticket %(ref)s, %(service)s", ref=self.ref, service=service)
        return _("About ticket %(ref)s", ref=self.ref)

    def html(self, lang: str) -> Markup:
        return Markup('<p class="survey-about">{}</p>').format(self.line(lang))


_INV, _TICKET, _SERVICE = table_of(Invitation), table_of(Ticket), table_of(Service)
ABOUT = (
    select(_TICKET.c.external_id, _TICKET.c.closed_at, _SERVICE.c.name_zh, _SERVICE.c.name_en)
    .select_from(_INV)
    .join(_TICKET, _TICKET.c.id == _INV.c.ticket_id)
    .outerjoin(_SERVICE, _SERVICE.c.id == func.coalesce(_INV.c.service_id, _TICKET.c.service_id))
    .where(_INV.c.id == bindparam("invitation_id"))
)


def from_row(ref: str, closed_at: datetime | None, zh: str | None, en: str | None, tz: str) -> TicketAbout:
    return TicketAbout(ref, zh, en, local_date(closed_at, tz) if closed_at is not None else None)


def ticket_about(session: Db, invitation_id: int, org_timezone: str) -> TicketAbout | None:
    """The ticket an invitation asks about, or None (a relationship survey, or the ticket is gone)."""
    row = core(session).execute(ABOUT, {"invitation_id": invitation_id}).first()
    return from_row(*row, org_timezone) if row is not None else None


def ticket_about_by_id(
    session: Session, ticket_id: int, service_id: int | None, org_timezone: str
) -> TicketAbout | None:
    """The same for a ticket about to be invited (the invitation is being written)."""
    row = session.execute(
        select(Ticket.external_id, Ticket.closed_at, Service.name_zh, Service.name_en)
        .outerjoin(Service, Service.id == func.coalesce(service_id, Ticket.service_id))
        .where(Ticket.id == ticket_id)
    ).first()
    return from_row(*row, org_timezone) if row is not None else None


EXAMPLE_TICKET = "INC0012345"


def example_about(session: Db, campaign_id: int, today: date) -> TicketAbout | None:
    """The line a preview or test link of a post-ticket campaign shows: an example ticket of the
    campaign's service (if it names one) closed today; None for any other campaign. Core reads:
    a test link's pages run on the request's Core connection as the personal pages do."""
    from perception.surveys.models import Campaign, CampaignKind

    campaigns, services = table_of(Campaign), table_of(Service)
    row = session.execute(
        select(campaigns.c.kind, services.c.name_zh, services.c.name_en)
        .outerjoin(services, services.c.id == campaigns.c.service_id)
        .where(campaigns.c.id == campaign_id)
    ).first()
    if row is None or row[0] != CampaignKind.TRANSACTIONAL:
        return None
    return TicketAbout(EXAMPLE_TICKET, row[1], row[2], today)
