"""What a customer representative may see of a standard's confirmation (issue 18): a general
standard is confirmed by every customer it binds, and its trail names each customer's
representative. A representative sees their own organisation's steps and the provider's, never
who confirmed for another customer (only how many did)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.auth import Role, User
from perception.core.models.org import CustomerOrg
from perception.setup.models.standards import StandardEvent


def viewer_customer(user: User | None) -> int | None:
    """The customer a viewer is confined to: a representative with no other role; else None."""
    if user is None or user.customer_id is None or user.roles - {Role.CUSTOMER_REP}:
        return None
    return user.customer_id


def other_customers_people(session: Session, user_ids: Iterable[int | None], customer_id: int) -> set[int]:
    """Of these users, those who belong to another customer."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return set()
    stmt = select(User.id).where(
        User.id.in_(ids), User.customer_id.is_not(None), User.customer_id != customer_id
    )
    return set(session.scalars(stmt))


def event_visible(event: StandardEvent, customer_id: int, outsiders: set[int]) -> bool:
    return event.customer_id in (None, customer_id) and event.user_id not in outsiders


def redact_export(session: Session, body: dict[str, Any], customer_id: int) -> dict[str, Any]:
    """An exported standard (perception.setup.services.standard_io.export_standard) as a
    representative of ``customer_id`` may read it."""
    own = session.scalar(select(CustomerOrg.code).where(CustomerOrg.id == customer_id))
    others = {
        name
        for (name,) in session.execute(
            select(User.username).where(User.customer_id.is_not(None), User.customer_id != customer_id)
        )
    }
    for version in body.get("versions", []):
        for key in ("need_confirmed_by", "customer_confirmed_by"):
            if version.get(key) in others:
                version[key] = None
                version[key.replace("_by", "_at")] = None
        version["events"] = [
            e
            for e in version.get("events", [])
            if e.get("customer") in (None, own) and e.get("user") not in others
        ]
    if "bound_customers" in body:
        body["bound_customers"] = [c for c in body["bound_customers"] if c == customer_id]
    return body
