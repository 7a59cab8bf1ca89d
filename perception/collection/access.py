"""What the signed-in user may see of the collection phase: region scoping through authz, plus a
collector's restriction to their own collection point. Anything else is a 404."""

from __future__ import annotations

from typing import Any

from flask import abort, g
from sqlalchemy import select

from perception.collection.models.reports import CollectionReport
from perception.collection.services.reports import restrict_to_point
from perception.core.authz import Permission, can, region_scope, scoped
from perception.core.extensions import orm
from perception.core.models.auth import User


def user() -> User:
    current: User = g.user
    return current


def visible(stmt: Any, model: Any = CollectionReport) -> Any:
    return restrict_to_point(scoped(stmt, model), model, user())


def report_or_404(report_id: int) -> CollectionReport:
    report = orm().scalar(visible(select(CollectionReport).where(CollectionReport.id == report_id)))
    if report is None:
        abort(404)
    return report


def may_edit(report: CollectionReport) -> bool:
    u = user()
    return (
        report.editable
        and can(Permission.SUBMIT_REPORT, u)
        and u.collection_point_id is not None
        and u.collection_point_id == report.collection_point_id
    )


def may_organise() -> bool:
    return can(Permission.ORGANISE_REPORTS, user())


def scope_regions() -> frozenset[int] | None:
    return region_scope(user())


def point_scope() -> list[int] | None:
    """The collection points whose cells the user sees (None: every point in their regions)."""
    u = user()
    if may_organise() or not can(Permission.SUBMIT_REPORT, u):
        return None
    return [u.collection_point_id] if u.collection_point_id else []
