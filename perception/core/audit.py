"""The audit log: automatic before/after images of domain data, and explicit security events.

Every model with ``__audited__ = True`` is audited on flush, so no service can forget to.
Audit rows are inserted on the same connection inside the same transaction as the change they
describe: a rolled-back change leaves no audit row, and a committed one always has its row.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NEVER_SET, NO_VALUE

from perception.core.models.audit import AuditEntry
from perception.core.models.base import utcnow

_cli_actor: contextvars.ContextVar[tuple[int | None, str] | None] = contextvars.ContextVar(
    "perception_cli_actor", default=None
)


@contextmanager
def acting_as(name: str, user_id: int | None = None) -> Iterator[None]:
    """Attribute changes made outside a request (CLI, jobs) to a named actor."""
    token = _cli_actor.set((user_id, name))
    try:
        yield
    finally:
        _cli_actor.reset(token)


def current_actor() -> tuple[int | None, str, str | None]:
    if has_request_context():
        user = getattr(g, "user", None)
        address = request.remote_addr
        if user is not None:
            return user.id, user.username, address
        public = getattr(g, "audit_actor_name", None)
        return None, public or "anonymous", address
    cli = _cli_actor.get()
    if cli is not None:
        return cli[0], cli[1], None
    return None, "system", None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    return str(value)


def _columns(obj: Any) -> list[str]:
    exclude: frozenset[str] = getattr(type(obj), "__audit_exclude__", frozenset())
    return [attr.key for attr in inspect(obj).mapper.column_attrs if attr.key not in exclude]


# SQLAlchemy's markers for "no value loaded" are not values: written as JSON they became the
# number 4 (issue 18). They never reach an image.
_MARKERS = (NO_VALUE, NEVER_SET)


def _is_marker(value: Any) -> bool:
    return any(value is marker for marker in _MARKERS)


def _snapshot(obj: Any) -> dict[str, Any]:
    """The stored values. A column a new row never set was inserted as NULL, unless the database
    fills it (a server default): then its value is unknown here and left out."""
    state = inspect(obj)
    columns = state.mapper.columns
    image: dict[str, Any] = {}
    for key in _columns(obj):
        value = state.attrs[key].loaded_value
        if _is_marker(value):
            if columns[key].server_default is not None or columns[key].server_onupdate is not None:
                continue
            value = None
        image[key] = _jsonable(value)
    return image


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _columns(obj):
        hist = state.attrs[key].history
        if hist.has_changes():
            old = [v for v in hist.deleted if not _is_marker(v)]
            new = [v for v in hist.added if not _is_marker(v)]
            if old or not hist.deleted:
                before[key] = _jsonable(old[0]) if old else None
            # else: the old value was never loaded, so it is not known here; left out
            after[key] = _jsonable(new[0]) if new else None
    return before, after


def _object_id(obj: Any) -> str | None:
    # New objects have their primary key after the INSERT but no identity key yet in after_flush.
    state = inspect(obj)
    values = state.mapper.primary_key_from_instance(obj)
    if any(v is None for v in values):
        return None
    return ",".join(str(part) for part in values)


def _row(action: str, obj: Any, before: dict | None, after: dict | None) -> dict[str, Any]:
    actor_id, actor_name, address = current_actor()
    region_id = getattr(obj, "region_id", None)
    return {
        "at": utcnow(),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "address": address,
        "action": action,
        "object_type": type(obj).__name__,
        "object_id": _object_id(obj),
        "region_id": region_id if isinstance(region_id, int) else None,
        "summary": None,
        "before": before,
        "after": after,
    }


@event.listens_for(Session, "before_flush")
def _refuse_audit_rewrites(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry):
            raise PermissionError("The audit log is append-only.")


@event.listens_for(Session, "after_flush")
def _audit_flush(session: Session, flush_context: Any) -> None:
    rows: list[dict[str, Any]] = []
    for obj in session.new:
        if getattr(type(obj), "__audited__", False):
            rows.append(_row("create", obj, None, _snapshot(obj)))
    for obj in session.dirty:
        if getattr(type(obj), "__audited__", False) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after or before:
                rows.append(_row("update", obj, before, after))
    for obj in session.deleted:
        if getattr(type(obj), "__audited__", False):
            rows.append(_row("delete", obj, _snapshot(obj), None))
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def record(
    session: Session,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    region_id: int | None = None,
    summary: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_name: str | None = None,
) -> None:
    """An explicit event (login, denial, import, export ...) in the caller's transaction."""
    actor_id, name, address = current_actor()
    session.add(
        AuditEntry(
            at=utcnow(),
            actor_id=actor_id,
            actor_name=actor_name or name,
            address=address,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            region_id=region_id,
            summary=summary,
            before=before,
            after=after,
        )
    )
    session.flush()
