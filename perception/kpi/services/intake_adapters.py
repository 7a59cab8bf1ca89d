"""The payload shapes service desks post, read into one ticket event: the ticket's id, its update time
(the order of events) and a row in the ticket import's columns (so an event is checked exactly like
an imported ticket).

Shapes, from each product's public documentation of its outgoing webhooks / REST messages:
- ServiceNow: an outbound REST message of an incident or request record, flat or under ``result``
  (Table API style): ``number``, ``state`` / ``incident_state`` (1 new, 2 in progress, 3 on hold,
  6 resolved, 7 closed, 8 cancelled), ``priority`` (1..5), ``opened_at``, ``resolved_at``,
  ``closed_at``, ``sys_updated_on`` (UTC, as the Table API writes them without display values),
  ``company``, ``business_service``, ``caller_id`` (an email or ``{"email": ...}``),
  ``assigned_to``, ``reopen_count``, ``sys_class_name``.
- Jira Service Management: the ``jira:issue_created`` / ``jira:issue_updated`` webhook: ``issue.key``
  and ``issue.fields`` (``status.statusCategory.key`` "done" means resolved; a status named
  Closed/Done/Resolved decides between resolved and closed; ``priority.name``, ``created``,
  ``updated``, ``resolutiondate``, ``reporter.emailAddress``, ``assignee.displayName``,
  ``issuetype.name``).
- Zammad: the default trigger webhook payload ``{"ticket": {...}, "article": {...}}`` with
  ``number``, ``state`` (new, open, pending reminder, pending close, closed, merged),
  ``priority`` ("1 low", "2 normal", "3 high"), ``created_at``, ``updated_at``,
  ``first_response_at``, ``close_at``, ``organization``, ``group``, ``customer.email``,
  ``owner.firstname/lastname``.
- GLPI (10+ webhooks): ``{"event": "new"|"update", "itemtype": "Ticket", "item": {...}}`` with
  ``id``, ``status`` (1 new, 2 assigned, 3 planned, 4 waiting, 5 solved, 6 closed), ``priority``
  (1..6), ``date``, ``date_mod``, ``takeintoaccountdate``, ``solvedate``, ``closedate``,
  ``entity`` / ``entities_id``, ``itilcategory``, ``type`` (1 incident, 2 request). GLPI writes its
  server's wall-clock time: read as the region's local time, like an imported file.
- generic: ``{"ticket_id", "updated_at", "status", "priority", "service", "customer", "region",
  "opened_at", "first_response_at", "resolved_at", "closed_at", "contact", "engineer", "kind"}``.
Service and customer are matched by code or name; a connection supplies them when the payload has
none (Jira issues usually name neither).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from perception.core.errors import Problem, UserError


class IntakeError(UserError):
    """An event that cannot be read as a ticket (unknown shape, missing field, bad value)."""

    title_zh = "无法处理该事件。"
    title_en = "The event cannot be processed."


def refuse(field: str | None, zh: str, en: str, code: str = "invalid_event") -> IntakeError:
    return IntakeError([Problem(field, zh, en, code=code)], status=422)


@dataclass(frozen=True)
class TicketEvent:
    ref: str
    event_type: str
    updated_at: datetime  # naive UTC (or the source's wall clock when it gives no offset)
    row: dict[str, Any]  # ticket import columns

    @property
    def closes(self) -> bool:
        return self.row.get("status") == "closed"


_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def instant(value: Any, field: str, *, utc_when_naive: bool = False) -> datetime:
    """A timestamp as naive UTC; a value without offset stays as written (or is UTC if told so)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value  # Jira's "timestamp" is milliseconds
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    if not isinstance(value, str) or not value.strip():
        raise refuse(field, f"缺少时间字段 {field}", f"The time field {field} is missing.", "missing_field")
    text = value.strip().replace(" ", "T", 1)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise refuse(
            field, f"{field} 不是时间：{value}", f"{field} is not a date-time: {value}", "bad_time"
        ) from None
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _iso(value: Any, field: str, *, utc_when_naive: bool = False) -> str:
    """A time for the ticket row: with an explicit offset when the source's time is UTC."""
    if value in (None, ""):
        return ""
    moment = instant(value, field)
    has_offset = isinstance(value, int | float) or bool(_OFFSET.search(str(value).strip()))
    return moment.isoformat(sep=" ") + ("Z" if has_offset or utc_when_naive else "")


def _get(data: Mapping[str, Any], *path: str) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str:
    if isinstance(value, Mapping):  # ServiceNow reference fields: {"value": ..., "display_value": ...}
        value = value.get("display_value") or value.get("email") or value.get("name") or value.get("value")
    return "" if value is None else str(value).strip()


def _need(value: Any, field: str) -> str:
    text = _text(value)
    if not text:
        raise refuse(field, f"缺少字段 {field}", f"The field {field} is missing.", "missing_field")
    return text


def _mapping(payload: Any, key: str | None = None) -> Mapping[str, Any]:
    data = payload.get(key) if (key and isinstance(payload, Mapping)) else payload
    if not isinstance(data, Mapping):
        where = key or "body"
        raise refuse(where, f"{where} 应为 JSON 对象", f"{where} must be a JSON object.", "unknown_shape")
    return data


def servicenow(payload: Any) -> TicketEvent:
    record = _mapping(payload)
    if isinstance(record.get("result"), Mapping):
        record = record["result"]
    state = _text(record.get("incident_state") or record.get("state"))
    status = {
        "1": "open",
        "2": "in_progress",
        "3": "pending",
        "6": "resolved",
        "7": "closed",
        "8": "cancelled",
    }
    if state not in status:
        raise refuse("state", f"无法识别的状态 {state!r}", f"Unknown state {state!r}.", "bad_value")
    priority = _text(record.get("priority")) or "3"
    ref = _need(record.get("number"), "number")
    row = {
        "id": ref,
        "kind": "request" if _text(record.get("sys_class_name")) == "sc_request" else "incident",
        "status": status[state],
        "priority": {"5": "4"}.get(priority, priority),
        "opened": _iso(record.get("opened_at"), "opened_at", utc_when_naive=True),
        "resolved": _iso(record.get("resolved_at"), "resolved_at", utc_when_naive=True),
        "closed": _iso(record.get("closed_at"), "closed_at", utc_when_naive=True),
        "customer": _text(record.get("company")),
        "service": _text(record.get("business_service")),
        "contact": _text(record.get("caller_id")),
        "engineer": _text(record.get("assigned_to")),
        "reopen_count": _text(record.get("reopen_count")),
    }
    updated = instant(record.get("sys_updated_on"), "sys_updated_on")
    return TicketEvent(ref, "servicenow:" + status[state], updated, row)


def jira(payload: Any) -> TicketEvent:
    data = _mapping(payload)
    event = _text(data.get("webhookEvent"))
    if event not in ("jira:issue_created", "jira:issue_updated"):
        raise refuse(
            "webhookEvent", f"不处理的事件 {event!r}", f"Unhandled event {event!r}.", "unknown_event"
        )
    issue = _mapping(data, "issue")
    fields = _mapping(issue, "fields")
    ref = _need(issue.get("key"), "issue.key")
    name = _text(_get(fields, "status", "name")).lower()
    category = _text(_get(fields, "status", "statusCategory", "key")).lower()
    if name in ("closed", "done", "已关闭", "完成"):
        status = "closed"
    elif name in ("resolved", "已解决") or category == "done":
        status = "resolved"
    elif name in ("cancelled", "canceled", "declined"):
        status = "cancelled"
    else:
        status = "open" if category in ("new", "") else "in_progress"
    priority = {"highest": "1", "high": "2", "medium": "3", "low": "4", "lowest": "4"}.get(
        _text(_get(fields, "priority", "name")).lower(), "3"
    )
    resolved = fields.get("resolutiondate")
    updated_raw = fields.get("updated") or data.get("timestamp")
    row = {
        "id": ref,
        "kind": "request" if "request" in _text(_get(fields, "issuetype", "name")).lower() else "incident",
        "status": status,
        "priority": priority,
        "opened": _iso(fields.get("created"), "fields.created"),
        "resolved": _iso(resolved, "fields.resolutiondate"),
        "closed": _iso(updated_raw, "fields.updated") if status == "closed" else "",
        "contact": _text(_get(fields, "reporter", "emailAddress")),
        "engineer": _text(_get(fields, "assignee", "displayName")),
    }
    return TicketEvent(ref, event, instant(updated_raw, "fields.updated"), row)


def zammad(payload: Any) -> TicketEvent:
    ticket = _mapping(payload, "ticket")
    ref = _need(ticket.get("number") or ticket.get("id"), "ticket.number")
    state = _text(ticket.get("state")).lower()
    status = {
        "new": "open",
        "open": "in_progress",
        "pending reminder": "pending",
        "pending close": "resolved",
        "closed": "closed",
        "merged": "cancelled",
    }.get(state)
    if status is None:
        raise refuse("ticket.state", f"无法识别的状态 {state!r}", f"Unknown state {state!r}.", "bad_value")
    priority = _text(ticket.get("priority")).split(" ", 1)[0]
    owner_value = ticket.get("owner")
    owner: Mapping[str, Any] = owner_value if isinstance(owner_value, Mapping) else {}
    closed = ticket.get("close_at") or (ticket.get("updated_at") if status == "closed" else None)
    row = {
        "id": ref,
        "kind": "incident",
        "status": status,
        "priority": {"1": "4", "2": "3", "3": "2"}.get(priority, "3"),
        "opened": _iso(ticket.get("created_at"), "ticket.created_at"),
        "first_response": _iso(ticket.get("first_response_at"), "ticket.first_response_at"),
        "resolved": _iso(closed, "ticket.close_at") if status in ("resolved", "closed") else "",
        "closed": _iso(closed, "ticket.close_at") if status == "closed" else "",
        "customer": _text(ticket.get("organization")),
        "service": _text(ticket.get("group")),
        "contact": _text(_get(ticket, "customer", "email")),
        "engineer": " ".join(p for p in (_text(owner.get("firstname")), _text(owner.get("lastname"))) if p),
    }
    return TicketEvent(ref, "zammad:" + status, instant(ticket.get("updated_at"), "ticket.updated_at"), row)


def glpi(payload: Any) -> TicketEvent:
    data = _mapping(payload)
    if _text(data.get("itemtype") or "Ticket") != "Ticket":
        raise refuse("itemtype", "只处理工单（Ticket）", "Only Ticket items are handled.", "unknown_event")
    item = _mapping(data, "item")
    ref = _need(item.get("id"), "item.id")
    status = {
        "1": "open",
        "2": "in_progress",
        "3": "in_progress",
        "4": "pending",
        "5": "resolved",
        "6": "closed",
    }.get(_text(item.get("status")))
    if status is None:
        raise refuse("item.status", "无法识别的状态", f"Unknown status {item.get('status')!r}.", "bad_value")
    priority = _text(item.get("priority")) or "3"
    row = {
        "id": f"GLPI-{ref}",
        "kind": "request" if _text(item.get("type")) == "2" else "incident",
        "status": status,
        "priority": {"5": "2", "6": "1", "1": "4", "2": "4"}.get(priority, priority),
        "opened": _iso(item.get("date"), "item.date"),
        "first_response": _iso(item.get("takeintoaccountdate"), "item.takeintoaccountdate"),
        "resolved": _iso(item.get("solvedate"), "item.solvedate"),
        "closed": _iso(item.get("closedate"), "item.closedate"),
        "customer": _text(item.get("entity") or item.get("entities_id")),
        "service": _text(item.get("itilcategory")),
        "contact": _text(item.get("requester_email")),
    }
    event = "glpi:" + _text(data.get("event") or "update")
    return TicketEvent(f"GLPI-{ref}", event, instant(item.get("date_mod"), "item.date_mod"), row)


def generic(payload: Any) -> TicketEvent:
    data = _mapping(payload)
    ref = _need(data.get("ticket_id"), "ticket_id")
    known = {
        "ticket_id",
        "updated_at",
        "status",
        "priority",
        "service",
        "customer",
        "region",
        "opened_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "contact",
        "engineer",
        "kind",
        "event",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise refuse(
            unknown[0], f"无法识别的字段 {unknown[0]}", f"Unknown field {unknown[0]}.", "unknown_field"
        )
    row = {
        "id": ref,
        "status": _need(data.get("status"), "status"),
        "priority": _text(data.get("priority")),
        "service": _text(data.get("service")),
        "customer": _text(data.get("customer")),
        "region": _text(data.get("region")),
        "contact": _text(data.get("contact")),
        "engineer": _text(data.get("engineer")),
        "kind": _text(data.get("kind")),
    }
    for column, key in (
        ("opened", "opened_at"),
        ("first_response", "first_response_at"),
        ("resolved", "resolved_at"),
        ("closed", "closed_at"),
    ):
        row[column] = _iso(data.get(key), key)
    return TicketEvent(
        ref, _text(data.get("event")) or "generic", instant(data.get("updated_at"), "updated_at"), row
    )


ADAPTERS: dict[str, Callable[[Any], TicketEvent]] = {
    "servicenow": servicenow,
    "jira": jira,
    "zammad": zammad,
    "glpi": glpi,
    "generic": generic,
}
