"""What a scoped viewer may see of a standard's confirmation (issue 18): a general standard is
confirmed by every customer it binds, and its trail names each customer's representative. A
representative sees their own organisation's steps and the provider's; a regional team sees those
of its region's customers; neither sees who confirmed for a customer outside that scope (only how
many did)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.authz import region_scope
from perception.core.models.auth import Role, User
from perception.core.models.org import CustomerOrg
from perception.setup.models.standards import StandardEvent


def viewer_customer(user: User | None) -> int | None:
    """The customer a viewer is confined to: a representative with no other role; else None."""
    if user is None or user.customer_id is None or user.roles - {Role.CUSTOMER_REP}:
        return None
    return user.customer_id


def viewer_customers(session: Session, user: User | None) -> frozenset[int] | None:
    """The customers whose confirmations a viewer may see by name: a representative's own, a
    region-bound viewer's region's customers; None means every customer."""
    own = viewer_customer(user)
    if own is not None:
        return frozenset({own})
    regions = region_scope(user)
    if regions is None:
        return None
    in_regions = select(CustomerOrg.id).where(CustomerOrg.region_id.in_(sorted(regions)))
    return frozenset(session.scalars(in_regions))


def other_customers_people(
    session: Session, user_ids: Iterable[int | None], customers: frozenset[int]
) -> set[int]:
    """Of these users, those who belong to a customer outside ``customers``."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return set()
    stmt = select(User.id).where(
        User.id.in_(ids), User.customer_id.is_not(None), User.customer_id.not_in(sorted(customers))
    )
    return set(session.scalars(stmt))


def event_visible(event: StandardEvent, customers: frozenset[int], outsiders: set[int]) -> bool:
    return (event.customer_id is None or event.customer_id in customers) and event.user_id not in outsiders


def redact_export(session: Session, body: dict[str, Any], customers: frozenset[int]) -> dict[str, Any]:
    """An exported standard (perception.setup.services.standard_io.export_standard) as a viewer
    confined to ``customers`` (see ``viewer_customers``) may read it."""
    own = set(session.scalars(select(CustomerOrg.code).where(CustomerOrg.id.in_(sorted(customers)))))
    others = {
        name
        for (name,) in session.execute(
            select(User.username).where(
                User.customer_id.is_not(None), User.customer_id.not_in(sorted(customers))
            )
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
            if (e.get("customer") is None or e.get("customer") in own) and e.get("user") not in others
        ]
    if "bound_customers" in body:
        body["bound_customers"] = [c for c in body["bound_customers"] if c in customers]
    return body
