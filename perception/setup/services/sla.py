"""Reading SLAs/OLAs: which agreement covers a service for a customer, and its business calendar.

Public API for the other phases:

- ``calendar_for_sla(sla) -> scoring.calendar.BusinessCalendar``: covered hours text parsed with
  ``BusinessCalendar.parse`` in the SLA's time zone, minus its customer-defined holidays.
- ``sla_for(session, service_id, customer_id, on) -> Sla | None``: the SLA covering a service
  for a customer; the most specific wins: customer-specific, then one for the customer's
  subscription tier, then a general one (customer and tier NULL). Only active SLAs (kind sla)
  whose effective dates include ``on`` (the caller's date, e.g. the organisation's today).
  ``slas_for(session, pairs, on)`` answers the same for many (service_id, customer_id) pairs in
  a fixed number of queries; ``SlaChooser(session, pairs)`` for many pairs and many days (a batch
  of tickets, each on its opening day), with each SLA's calendar built once.
- ``olas_for(session, sla_id)``: the OLAs that support an SLA.
- ``escalation_deadlines(sla, start)``: (rule, UTC deadline) pairs after covered minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from perception.setup.models.catalog import Subscription
from perception.setup.models.standards import AgreementKind, EscalationRule, Sla, SlaService
from scoring.calendar import BusinessCalendar, add_business_seconds

__all__ = ["SlaChooser", "calendar_for_sla", "escalation_deadlines", "olas_for", "sla_for", "slas_for"]


def calendar_for_sla(sla: Sla) -> BusinessCalendar:
    """The SLA's covered hours as a BusinessCalendar, minus its holidays, plus its make-up working
    days (调休) (raises ValueError on bad text or zone)."""
    calendar = BusinessCalendar.parse(
        sla.covered_hours or "24x7", holidays=[h.day for h in sla.holidays], tz=sla.timezone or "UTC"
    )
    return replace(calendar, workdays=frozenset(w.day for w in sla.workdays))


def _effective(on: date) -> ColumnElement[bool]:
    return and_(
        or_(Sla.effective_from.is_(None), Sla.effective_from <= on),
        or_(Sla.effective_to.is_(None), Sla.effective_to > on),
    )


def sla_for(session: Session, service_id: int, customer_id: int | None, on: date) -> Sla | None:
    """The SLA covering ``service_id`` for ``customer_id`` on ``on`` (most specific first)."""
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
        .options(selectinload(Sla.holidays), selectinload(Sla.workdays), selectinload(Sla.escalations))
    )
    candidates = list(session.scalars(stmt).unique())
    if not candidates:
        return None
    return max(candidates, key=_rank)


def _rank(sla: Sla) -> tuple[bool, bool, int]:
    """The most specific SLA wins: customer-specific, then tier-specific, then the newest."""
    return (sla.customer_id is not None, sla.tier_id is not None, sla.id)


def slas_for(
    session: Session, pairs: Iterable[tuple[int, int | None]], on: date
) -> dict[tuple[int, int | None], Sla | None]:
    """``sla_for`` of every (service_id, customer_id) pair, in a fixed number of queries whatever
    their number: the customers' subscription tiers, and the candidate SLAs of the services (with
    their holidays and escalation rules); the most specific candidate is then picked per pair as
    ``sla_for`` does."""
    wanted = set(pairs)
    chooser = SlaChooser(session, wanted, on=on)
    return {(service, customer): chooser.sla_for(service, customer, on) for service, customer in wanted}


class SlaChooser:
    """``sla_for`` of (service_id, customer_id) pairs on any day, and the chosen SLA's calendar,
    from two queries made once: the customers' subscription tiers and every active SLA of the
    services (with its holidays and make-up days), whatever its dates; the SLA in force on a day
    is then picked in Python by ``sla_for``'s rule. A batch of closed tickets asked ``sla_for``
    once per service, customer and opening day, five queries each, and built a calendar each
    time (the feedback check of the demo's tickets: 2.5 % of the test suite's CPU, session 21)."""

    def __init__(
        self, session: Session, pairs: Iterable[tuple[int, int | None]], *, on: date | None = None
    ) -> None:
        """``on``: only SLAs in force on that day will be asked for (``slas_for``): load those alone."""
        wanted = set(pairs)
        services = sorted({service for service, _ in wanted})
        customers = sorted({customer for _, customer in wanted if customer is not None})
        self._tiers: dict[tuple[int, int], int | None] = {}
        if customers:
            subscriptions = select(
                Subscription.customer_id, Subscription.service_id, Subscription.tier_id
            ).where(Subscription.customer_id.in_(customers), Subscription.service_id.in_(services))
            self._tiers = {(c, s): tier for c, s, tier in session.execute(subscriptions)}
        self._by_service: dict[int, list[Sla]] = {}
        if services:
            stmt = (
                select(Sla, SlaService.service_id)
                .join(SlaService, SlaService.sla_id == Sla.id)
                .where(
                    SlaService.service_id.in_(services),
                    Sla.kind == AgreementKind.SLA,
                    Sla.active.is_(True),
                    or_(Sla.customer_id.is_(None), Sla.customer_id.in_(customers)),
                    *([] if on is None else [_effective(on)]),
                )
                .options(
                    selectinload(Sla.holidays), selectinload(Sla.workdays), selectinload(Sla.escalations)
                )
            )
            for sla, service_id in session.execute(stmt):
                self._by_service.setdefault(service_id, []).append(sla)
        self._calendars: dict[int, BusinessCalendar] = {}

    def sla_for(self, service_id: int, customer_id: int | None, on: date) -> Sla | None:
        """As ``sla_for(session, service_id, customer_id, on)``."""
        tier = self._tiers.get((customer_id, service_id)) if customer_id is not None else None
        candidates = [
            sla
            for sla in self._by_service.get(service_id, [])
            if sla.customer_id in (None, customer_id)
            and sla.tier_id in (None, tier)
            and (sla.effective_from is None or sla.effective_from <= on)
            and (sla.effective_to is None or sla.effective_to > on)
        ]
        return max(candidates, key=_rank) if candidates else None

    def calendar_for(self, service_id: int, customer_id: int | None, on: date) -> BusinessCalendar | None:
        """``calendar_for_sla`` of the SLA in force, built once per SLA; None without one."""
        sla = self.sla_for(service_id, customer_id, on)
        if sla is None:
            return None
        if sla.id not in self._calendars:
            self._calendars[sla.id] = calendar_for_sla(sla)
        return self._calendars[sla.id]


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
