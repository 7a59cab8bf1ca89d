"""Finding tickets: the one query behind the tickets page and the API's ticket list.

``TicketQuery`` holds the filters either of them offers: the user's region scope, one region, one
service, a status, the start of the ticket id, and the days the ticket was opened on (calendar days
in the organisation's time zone, ``[opened_from, opened_to)`` like every other period here).
``find_tickets`` answers one page of them, newest first, with the number of tickets matching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from perception.core.clock import DEFAULT_TIMEZONE
from perception.kpi.models import Ticket, TicketStatus


@dataclass(frozen=True)
class TicketQuery:
    region_ids: frozenset[int] | None = None  # the user's scope; None = every region
    region_id: int | None = None
    service_id: int | None = None
    status: TicketStatus | None = None
    id_prefix: str = ""  # the ticket id (external_id) starts with this
    opened_from: date | None = None  # opened on or after this day
    opened_to: date | None = None  # opened before this day
    timezone: str = DEFAULT_TIMEZONE  # the zone of the days above


@dataclass(frozen=True)
class TicketPage:
    tickets: Sequence[Ticket]
    total: int  # tickets matching the query, on every page


def ticket_status(text: str | None) -> TicketStatus | None:
    """The status a filter asks for; None (no filter) for an empty or unknown one."""
    try:
        return TicketStatus((text or "").strip())
    except ValueError:
        return None


def _utc_start(day: date, timezone: str) -> datetime:
    """The naive-UTC moment a local calendar day begins (tickets store naive UTC)."""
    local = datetime.combine(day, time(), tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC).replace(tzinfo=None)


def _stmt(q: TicketQuery) -> Select[Any]:
    stmt = select(Ticket)
    if q.region_ids is not None:
        stmt = stmt.where(Ticket.region_id.in_(sorted(q.region_ids)))
    for column, wanted in (
        (Ticket.region_id, q.region_id),
        (Ticket.service_id, q.service_id),
        (Ticket.status, q.status),
    ):
        if wanted is not None:
            stmt = stmt.where(column == wanted)
    if q.id_prefix.strip():
        stmt = stmt.where(Ticket.external_id.startswith(q.id_prefix.strip(), autoescape=True))
    if q.opened_from is not None:
        stmt = stmt.where(Ticket.opened_at >= _utc_start(q.opened_from, q.timezone))
    if q.opened_to is not None:
        stmt = stmt.where(Ticket.opened_at < _utc_start(q.opened_to, q.timezone))
    return stmt


def find_tickets(session: Session, q: TicketQuery, *, limit: int, offset: int = 0) -> TicketPage:
    """One page of the tickets matching ``q``, newest opened first."""
    stmt = _stmt(q)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(limit).offset(offset)
    )
    return TicketPage(tickets=rows.all(), total=int(total))
