"""SLA escalation: open tickets breaching their SLA fire the SLA's escalation rules, each once.

A breach is an unanswered (response) or unresolved (resolution) ticket whose covered time since
opening exceeds its limit (kpi_targets, on the SLA's business calendar). A rule "not recovered
within M minutes" fires when the covered time since the breach reaches M minutes, i.e. covered
time since opening >= limit + M. Each firing inserts one Escalation row, unique per
(ticket, rule, breach): a rule fires once per breach however often the job runs, and concurrent
runs cannot both fire it (the insert runs in a savepoint; the loser's IntegrityError is ignored).
Notifications go by email (perception.core.mail.send_email) and every firing is audited.

Role names in a rule map to people (this module's adapter; setup stores only the names):
provider_project_manager -> the service owner (else managers without a region);
provider_regional_manager -> managers of the ticket's region (else managers without a region);
customer_regional_manager / customer_* -> the customer's representatives (else the customer's
first contact with an email). Addresses in ``notify_emails`` are used as they are.

Run by the ``check_escalations`` job (perception.kpi.services.jobs; hourly through
perception.core.jobs.schedule; deployments that need minute-level escalation run
``perception kpi escalate`` from cron or a loop, or the scheduler with a shorter tick), from the
CLI, or directly in tests with an explicit ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.models.auth import Role, User, UserRole
from perception.core.models.base import utcnow
from perception.core.models.org import Contact, CustomerOrg
from perception.kpi.models import UNRESOLVED_STATUSES, Escalation, Ticket
from perception.kpi.services.ticket_frame import calendars, load_open_frame
from perception.setup.models.catalog import Service
from perception.setup.models.standards import EscalationRule, Sla
from scoring.calendar import add_business_seconds


@dataclass(frozen=True)
class Firing:
    escalation_id: int
    ticket_id: int
    rule_id: int
    breach: str
    recipients: tuple[str, ...]


def _managers(session: Session, region_id: int | None) -> list[str]:
    stmt = select(User.email).join(UserRole).where(User.active.is_(True), UserRole.role == Role.MANAGER.value)
    own = [e for e in session.scalars(stmt.where(User.region_id == region_id)) if e] if region_id else []
    return own or [e for e in session.scalars(stmt.where(User.region_id.is_(None))) if e]


def recipients_for(session: Session, rule: EscalationRule, ticket: Ticket) -> list[str]:
    """Email addresses for a rule's roles and addresses (module docstring)."""
    out: list[str] = list(rule.emails)
    for role in rule.roles:
        if role == "provider_project_manager":
            service = session.get(Service, ticket.service_id)
            owner = session.get(User, service.owner_id) if service and service.owner_id else None
            out += [owner.email] if owner is not None and owner.email else _managers(session, None)
        elif role == "provider_regional_manager":
            out += _managers(session, ticket.region_id)
        elif role.startswith("customer_") and ticket.customer_id is not None:
            reps = session.scalars(
                select(User.email).where(User.customer_id == ticket.customer_id, User.active.is_(True))
            ).all()
            contact = session.scalar(
                select(Contact.email)
                .where(Contact.customer_id == ticket.customer_id, Contact.email.is_not(None))
                .order_by(Contact.id)
                .limit(1)
            )
            out += [e for e in reps if e] or ([contact] if contact else [])
    return sorted(set(out))


def _notify(
    session: Session, ticket: Ticket, rule: EscalationRule, breach: str, to: list[str], due: datetime
) -> None:
    from perception.core.mail import send_email

    customer = session.get(CustomerOrg, ticket.customer_id) if ticket.customer_id else None
    what_zh = "首次响应" if breach == "response" else "解决"
    what_en = "first response" if breach == "response" else "resolution"
    subject = f"[SLA 升级 / escalation] {ticket.external_id} {ticket.priority}"
    text = (
        f"工单 {ticket.external_id}（{customer.name_zh if customer else ''}，{ticket.priority}）"
        f"的{what_zh}已超出服务标准，且在 {rule.after_minutes:g} 分钟（服务时间）内未恢复。\n"
        f"{rule.description_zh or ''}\n\n"
        f"Ticket {ticket.external_id} ({customer.name_en if customer else ''}, {ticket.priority}) missed its "
        f"{what_en} target and was not recovered within {rule.after_minutes:g} covered minutes "
        f"(due {due:%Y-%m-%d %H:%M} UTC).\n{rule.description_en or ''}\n"
    )
    for address in to:
        send_email(address, subject, text)


def check_escalations(session: Session, now: datetime | None = None) -> list[Firing]:
    """Fire every rule that is due for an open breaching ticket and has not fired yet."""
    now = now or utcnow()
    frame = load_open_frame(session, as_of=now)
    if len(frame) == 0:
        return []
    fired_before = {
        (row[0], row[1], row[2])
        for row in session.execute(
            select(Escalation.ticket_id, Escalation.rule_id, Escalation.breach)
            .join(Ticket, Ticket.id == Escalation.ticket_id)
            .where(Ticket.status.in_(UNRESOLVED_STATUSES))
        )
    }
    slas = {s.id: s for s in session.scalars(select(Sla).where(Sla.id.in_(np.unique(frame.sla).tolist())))}
    cals = calendars(session, frame.sla)
    firings: list[Firing] = []
    for breach in ("response", "resolution"):
        pending = np.isnat(frame.first_response) if breach == "response" else np.isnat(frame.resolved)
        limit = frame.targets.response_limit_s if breach == "response" else frame.targets.resolution_limit_s
        elapsed = frame.response_elapsed_s if breach == "response" else frame.resolution_elapsed_s
        with np.errstate(invalid="ignore"):
            candidates = np.flatnonzero(pending & (frame.sla >= 0) & (elapsed > limit))
        for i in candidates.tolist():
            sla = slas[int(frame.sla[i])]
            for rule in sla.escalations:
                key = (int(frame.id[i]), rule.id, breach)
                if key in fired_before or elapsed[i] < limit[i] + rule.after_minutes * 60:
                    continue
                firing = _fire(session, frame, i, rule, breach, float(limit[i]), cals[int(frame.sla[i])], now)
                if firing is not None:
                    firings.append(firing)
                    fired_before.add(key)
    return firings


def _fire(
    session: Session,
    frame: Any,
    i: int,
    rule: EscalationRule,
    breach: str,
    limit_s: float,
    cal: Any,
    now: datetime,
) -> Firing | None:
    ticket = session.get(Ticket, int(frame.id[i]))
    assert ticket is not None
    breached_at = add_business_seconds(cal, ticket.opened_at, limit_s)
    due_at = add_business_seconds(cal, ticket.opened_at, limit_s + rule.after_minutes * 60)
    to = recipients_for(session, rule, ticket)
    escalation = Escalation(
        ticket_id=ticket.id,
        rule_id=rule.id,
        sla_id=rule.sla_id,
        region_id=ticket.region_id,
        customer_id=ticket.customer_id,
        breach=breach,
        breached_at=breached_at,
        due_at=due_at,
        fired_at=now,
        recipients=",".join(to),
        roles=rule.notify_roles,
    )
    try:
        with session.begin_nested():
            session.add(escalation)
    except IntegrityError:
        return None  # another run fired it first
    record(
        session,
        "escalate",
        object_type="Ticket",
        object_id=ticket.id,
        region_id=ticket.region_id,
        summary=f"{ticket.external_id} {breach} breach: rule {rule.id} ({rule.after_minutes:g} min) -> "
        f"{', '.join(to) or rule.notify_roles or '-'}",
    )
    _notify(session, ticket, rule, breach, to, due_at)
    return Firing(escalation.id, ticket.id, rule.id, breach, tuple(to))


def mark_recovered(session: Session, now: datetime | None = None) -> int:
    """Set recovered_at on open escalations whose ticket has since answered/been resolved."""
    now = now or utcnow()
    count = 0
    for escalation in session.scalars(select(Escalation).where(Escalation.recovered_at.is_(None))):
        ticket = escalation.ticket
        done = ticket.first_response_at if escalation.breach == "response" else ticket.resolved_at
        if done is not None or ticket.status not in UNRESOLVED_STATUSES:
            escalation.recovered_at = done or now
            count += 1
    session.flush()
    return count
