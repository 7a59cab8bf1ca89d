"""Service-desk events in: verify the signature, read the payload (``intake_adapters``), create or
update the ticket through the ticket import's checks, and hand the consequences to jobs.

Authentication: each request carries ``X-Perception-Timestamp`` (Unix seconds) and
``X-Perception-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<raw body>"`` under the
connection's secret. A timestamp further than the tolerance from now is refused (a captured request
cannot be replayed later), and within the tolerance a replay is the same ticket update again, which
changes nothing (below).

Order and idempotency: an event is keyed by (connection, ticket id, the source's update time). An
update time equal to the newest applied one is a duplicate, an older one is stale (out of order):
both are recorded and change nothing. A newer one is applied. Closing events enqueue the
transactional invitation for that ticket at once (the surveys phase's job, by name: kpi does not
import surveys), and every applied event enqueues the recomputation of the ticket's weeks.
Malformed or unknown events are kept as dead letters with their body and reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.core.errors import Problem, UserError
from perception.core.nul import nul_problems, shown
from perception.kpi.intake_models import EventStatus, IntakeConnection, IntakeEvent
from perception.kpi.models import Ticket
from perception.kpi.services.intake_adapters import ADAPTERS, IntakeError, TicketEvent
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, import_tickets

TIMESTAMP_HEADER = "X-Perception-Timestamp"
SIGNATURE_HEADER = "X-Perception-Signature"


class IntakeAuthError(UserError):
    title_zh = "签名无效。"
    title_en = "The request is not authenticated."


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body (what a service desk, or its relay, sends)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    connection: IntakeConnection,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: datetime,
    tolerance: int,
) -> None:
    """Raise IntakeAuthError (401) unless the request is signed with the secret and recent."""

    def fail(code: str, zh: str, en: str) -> IntakeAuthError:
        return IntakeAuthError([Problem(None, zh, en, code=code)], status=401)

    if not timestamp or not signature:
        raise fail(
            "unsigned",
            f"缺少 {TIMESTAMP_HEADER} 或 {SIGNATURE_HEADER} 请求头",
            f"The {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required.",
        )
    try:
        sent = datetime.fromtimestamp(int(timestamp), UTC).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        raise fail("bad_timestamp", "时间戳应为 Unix 秒数", "The timestamp must be Unix seconds.") from None
    if abs((now - sent).total_seconds()) > tolerance:
        raise fail(
            "stale_timestamp",
            f"时间戳与服务器时间相差超过 {tolerance} 秒（可能是重放）",
            f"The timestamp is more than {tolerance} s from the server's time (a replay?).",
        )
    if not hmac.compare_digest(sign(connection.secret, timestamp, body), signature.strip()):
        raise fail("bad_signature", "签名不匹配", "The signature does not match the body.")


@dataclass(frozen=True)
class Outcome:
    event_id: int
    status: str
    ticket_id: int | None = None
    closed: bool = False
    opened_at: datetime | None = None
    region_id: int | None = None
    problems: tuple[Problem, ...] = ()
    dead: dict[str, Any] | None = None  # the dead letter to keep (``keep_dead``), when status is dead

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "status": self.status,
            "ticket_id": self.ticket_id,
            "errors": [p.as_json() for p in self.problems],
        }


def _dead(
    session: Session,
    connection: IntakeConnection,
    body: str,
    problems: list[Problem],
    now: datetime,
    event: TicketEvent | None = None,
) -> Outcome:
    """The dead letter of a refused event, NOT yet written: the request that refuses it answers 4xx
    and rolls back, so the caller keeps it afterwards in its own transaction (``keep_dead``)."""
    first = problems[0] if problems else Problem(None, "无法处理", "Cannot be processed.")
    # A NUL written \0 (perception.core.nul): no text column keeps one, and a body holding a raw
    # one is no JSON, written so or not.
    row = dict(
        connection_id=connection.id,
        received_at=now,
        status=EventStatus.DEAD,
        body=shown(body),
        event_type=event.event_type[:64] if event else None,
        ticket_ref=event.ref[:64] if event else None,
        source_updated_at=event.updated_at if event else None,
        error_code=first.code[:32],
        error=shown("\n".join(p.located("en") + " / " + p.located("zh") for p in problems))[:4000],
    )
    return Outcome(0, EventStatus.DEAD, problems=tuple(problems), dead=row)


def keep_dead(session: Session, outcome: Outcome) -> int:
    """Write a refused event to the dead-letter list; returns its id."""
    assert outcome.dead is not None
    row = IntakeEvent(**outcome.dead)
    session.add(row)
    session.flush()
    return row.id


def _newest(session: Session, connection_id: int, ref: str) -> datetime | None:
    return session.scalar(
        select(func.max(IntakeEvent.source_updated_at)).where(
            IntakeEvent.connection_id == connection_id,
            IntakeEvent.ticket_ref == ref,
            IntakeEvent.status.in_((EventStatus.APPLIED, EventStatus.REPLAYED)),
        )
    )


def receive(session: Session, connection: IntakeConnection, body: bytes, now: datetime) -> Outcome:
    """Read and apply one authenticated event; a problem makes it a dead letter (never raises for
    the sender's content: the caller answers the outcome's status)."""
    text = body.decode("utf-8", errors="replace")
    try:
        payload = json.loads(body)
    except ValueError:
        problems = [
            Problem(None, "请求体不是有效的 JSON", "The body is not valid JSON.", code="invalid_json")
        ]
        return _dead(session, connection, text, problems, now)
    return apply_payload(session, connection, payload, text, now)


def apply_payload(
    session: Session, connection: IntakeConnection, payload: Any, text: str, now: datetime
) -> Outcome:
    holding_nul = nul_problems(payload)
    if holding_nul:  # no column holds one; PostgreSQL refuses even the lookup of the ticket's events
        return _dead(session, connection, text, holding_nul, now)
    adapter = ADAPTERS.get(connection.kind)
    if adapter is None:
        problems = [Problem("kind", "未知的连接类型", f"Unknown connection kind {connection.kind!r}.")]
        return _dead(session, connection, text, problems, now)
    try:
        event = adapter(payload)
    except IntakeError as exc:
        return _dead(session, connection, text, list(exc.problems), now)
    newest = _newest(session, connection.id, event.ref)
    if newest is not None and event.updated_at <= newest:
        status = EventStatus.DUPLICATE if event.updated_at == newest else EventStatus.STALE
        row = IntakeEvent(
            connection_id=connection.id,
            received_at=now,
            status=status,
            body=text,
            event_type=event.event_type[:64],
            ticket_ref=event.ref[:64],
            source_updated_at=event.updated_at,
        )
        session.add(row)
        session.flush()
        return Outcome(row.id, status)
    ticket_row = dict(event.row)
    ticket_row["service"] = ticket_row.get("service") or (connection.default_service or "")
    ticket_row["customer"] = ticket_row.get("customer") or (connection.default_customer or "")
    try:
        with session.begin_nested():
            import_tickets(
                session,
                ImportOptions(dry_run=False, allow_duplicate=True),
                items=[ticket_row],
                filename=f"intake:{connection.code}",
            )
    except KpiImportError as exc:
        return _dead(session, connection, text, list(exc.problems), now, event)
    ticket = session.scalar(select(Ticket).where(Ticket.external_id == event.ref))
    assert ticket is not None
    row = IntakeEvent(
        connection_id=connection.id,
        received_at=now,
        status=EventStatus.APPLIED,
        body=text,
        event_type=event.event_type[:64],
        ticket_ref=event.ref[:64],
        source_updated_at=event.updated_at,
        ticket_id=ticket.id,
    )
    session.add(row)
    session.flush()
    return Outcome(row.id, EventStatus.APPLIED, ticket.id, event.closes, ticket.opened_at, ticket.region_id)


def replay(session: Session, event: IntakeEvent, now: datetime) -> Outcome:
    """Process a dead letter's body again (an owner fixed the cause, e.g. added the customer)."""
    if event.status != EventStatus.DEAD:
        raise UserError.one(
            "status", "只能重放死信事件", "Only a dead-letter event can be replayed.", code="not_dead"
        )
    try:
        payload = json.loads(event.body)
    except ValueError:
        payload = None
    outcome = (
        apply_payload(session, event.connection, payload, event.body, now)
        if payload is not None
        else _dead(
            session,
            event.connection,
            event.body,
            [Problem(None, "请求体不是有效的 JSON", "The body is not valid JSON.", code="invalid_json")],
            now,
        )
    )
    if outcome.status == EventStatus.DEAD:
        assert outcome.dead is not None
        event.error_code, event.error = outcome.dead["error_code"], outcome.dead["error"]
        outcome = replace(outcome, event_id=event.id)
    else:
        event.status, event.replayed_at, event.ticket_id = EventStatus.REPLAYED, now, outcome.ticket_id
    session.flush()
    return outcome
