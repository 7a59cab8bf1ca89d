"""Reading SLAs/OLAs: which agreement covers a service for a customer, and its business calendar.

Public API for the other phases:

- ``calendar_for_sla(sla) -> scoring.calendar.BusinessCalendar``: covered hours text parsed with
  ``BusinessCalendar.parse`` in the SLA's time zone, minus its customer-defined holidays.
- ``sla_for(session, service_id, customer_id, on=None) -> Sla | None``: the SLA covering a service
  for a customer; the most specific wins: customer-specific, then one for the customer's
  subscription tier, then a general one (customer and tier NULL). Only active SLAs (kind sla)
  whose effective dates include ``on`` (default today).
- ``olas_for(session, sla_id)``: the OLAs that support an SLA.
- ``escalation_deadlines(sla, start)``: (rule, UTC deadline) pairs after covered minutes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from perception.setup.models.catalog import Subscription
from perception.setup.models.standards import AgreementKind, EscalationRule, Sla, SlaService
from scoring.calendar import BusinessCalendar, add_business_seconds

__all__ = ["calendar_for_sla", "escalation_deadlines", "olas_for", "sla_for"]


def calendar_for_sla(sla: Sla) -> BusinessCalendar:
    """The SLA's covered hours as a BusinessCalendar (raises ValueError on bad text or zone)."""
    return BusinessCalendar.parse(
        sla.covered_hours or "24x7", holidays=[h.day for h in sla.holidays], tz=sla.timezone or "UTC"
    )


def _effective(on: date) -> ColumnElement[bool]:
    return and_(
        or_(Sla.effective_from.is_(None), Sla.effective_from <= on),
        or_(Sla.effective_to.is_(None), Sla.effective_to > on),
    )


def sla_for(session: Session, service_id: int, customer_id: int | None, on: date | None = None) -> Sla | None:
    """The SLA covering ``service_id`` for ``customer_id`` on ``on`` (most specific first)."""
    on = on or date.today()
    tier_id = None
    if customer_id is not None:
        tier_id = session.scalar(
            select(Subscription.tier_id).where(
                Subscription.customer_id == customer_id, Subscription.service_id == service_id
            )
        )
    stmt = (
        select(Sla)
        .join(SlaService, SlaService.sla_id == Sla.id)
        .where(
            SlaService.service_id == service_id,
            Sla.kind == AgreementKind.SLA,
            Sla.active.is_(True),
            or_(Sla.customer_id.is_(None), Sla.customer_id == customer_id),
            or_(Sla.tier_id.is_(None), Sla.tier_id == tier_id),
            _effective(on),
        )
        .options(selectinload(Sla.holidays), selectinload(Sla.escalations))
    )
    candidates = list(session.scalars(stmt).unique())
    if not candidates:
        return None

    def rank(sla: Sla) -> tuple[int, int, int]:
        return (sla.customer_id is not None, sla.tier_id is not None, sla.id)  # type: ignore[return-value]

    return max(candidates, key=rank)


def olas_for(session: Session, sla_id: int) -> list[Sla]:
    stmt = select(Sla).where(Sla.kind == AgreementKind.OLA, Sla.supports_sla_id == sla_id).order_by(Sla.code)
    return list(session.scalars(stmt))


def escalation_deadlines(sla: Sla, start: datetime) -> list[tuple[EscalationRule, datetime]]:
    """For each escalation rule, the UTC instant at which ``after_minutes`` of covered time have
    elapsed since ``start`` (scoring.calendar.add_business_seconds)."""
    calendar = calendar_for_sla(sla)
    return [
        (rule, add_business_seconds(calendar, start, rule.after_minutes * 60)) for rule in sla.escalations
    ]
