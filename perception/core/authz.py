"""Authorisation, decided in ONE place from the logged-in user.

Nothing here reads a role, region or customer from the request: the user is loaded by the auth
layer (session cookie or API token) and every decision derives from it.

- Permissions map to roles (PERMISSIONS). Views declare what they need with ``@require(...)``.
- Region scoping: a user bound to a region (every collector; optionally a regional manager) sees
  only objects of that region; a customer representative sees only their customer's objects.
  ``scoped()`` filters queries, ``get_or_404()`` fetches one object. An object outside the
  user's scope is reported exactly like a missing one (404), so ids cannot be probed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, has_request_context, redirect, request, url_for
from sqlalchemy import Select, false, select

from perception.core.extensions import orm
from perception.core.models.auth import Role, User

T = TypeVar("T")


class Permission(enum.StrEnum):
    VIEW_SETUP = "view_setup"
    MANAGE_SETUP = "manage_setup"
    CONFIRM_STANDARD_PROVIDER = "confirm_standard_provider"
    CONFIRM_STANDARD_CUSTOMER = "confirm_standard_customer"
    VIEW_COLLECTION = "view_collection"
    SUBMIT_REPORT = "submit_report"
    ORGANISE_REPORTS = "organise_reports"
    RECORD_CALLBACK = "record_callback"
    MANAGE_SAMPLING = "manage_sampling"
    MANAGE_SURVEYS = "manage_surveys"
    VIEW_SURVEYS = "view_surveys"
    MANAGE_KPI = "manage_kpi"
    VIEW_KPI = "view_kpi"
    VIEW_ANALYSIS = "view_analysis"
    MANAGE_TEXT_ANALYSIS = "manage_text_analysis"
    VIEW_MARKET = "view_market"
    MANAGE_MARKET = "manage_market"
    VIEW_REVIEW = "view_review"
    EDIT_REVIEW = "edit_review"
    SIGN_REVIEW = "sign_review"
    MANAGE_IMPROVEMENTS = "manage_improvements"
    ADMIN_USERS = "admin_users"
    VIEW_AUDIT = "view_audit"
    USE_API = "use_api"
    MANAGE_FOLLOWUPS = "manage_followups"


_STAFF = frozenset(Role) - {Role.CUSTOMER_REP}
_ALL = frozenset(Role)

PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_SETUP: _STAFF | {Role.CUSTOMER_REP},
    Permission.MANAGE_SETUP: frozenset({Role.SYSTEM_OWNER}),
    Permission.CONFIRM_STANDARD_PROVIDER: frozenset({Role.SYSTEM_OWNER, Role.MANAGER}),
    Permission.CONFIRM_STANDARD_CUSTOMER: frozenset({Role.CUSTOMER_REP}),
    Permission.VIEW_COLLECTION: frozenset(
        {Role.COLLECTOR, Role.ORGANISER, Role.SYSTEM_OWNER, Role.ANALYST, Role.MANAGER, Role.REVIEWER}
    ),
    Permission.SUBMIT_REPORT: frozenset({Role.COLLECTOR}),
    Permission.ORGANISE_REPORTS: frozenset({Role.ORGANISER, Role.SYSTEM_OWNER}),
    Permission.RECORD_CALLBACK: frozenset({Role.COLLECTOR, Role.ORGANISER}),
    Permission.MANAGE_SAMPLING: frozenset({Role.ORGANISER, Role.ANALYST, Role.SYSTEM_OWNER}),
    Permission.MANAGE_SURVEYS: frozenset({Role.SYSTEM_OWNER, Role.ANALYST}),
    Permission.VIEW_SURVEYS: frozenset(
        {Role.SYSTEM_OWNER, Role.ANALYST, Role.MANAGER, Role.ORGANISER, Role.COLLECTOR, Role.REVIEWER}
    ),
    Permission.MANAGE_KPI: frozenset({Role.SYSTEM_OWNER, Role.ANALYST}),
    Permission.VIEW_KPI: frozenset(
        {Role.SYSTEM_OWNER, Role.ANALYST, Role.MANAGER, Role.REVIEWER, Role.ORGANISER, Role.COLLECTOR}
    ),
    Permission.VIEW_ANALYSIS: frozenset(
        {Role.SYSTEM_OWNER, Role.ANALYST, Role.MANAGER, Role.REVIEWER, Role.MARKET, Role.COLLECTOR}
    ),
    Permission.MANAGE_TEXT_ANALYSIS: frozenset({Role.ANALYST, Role.SYSTEM_OWNER}),
    Permission.VIEW_MARKET: frozenset({Role.MARKET, Role.MANAGER, Role.SYSTEM_OWNER, Role.ANALYST}),
    Permission.MANAGE_MARKET: frozenset({Role.MARKET, Role.ANALYST, Role.SYSTEM_OWNER}),
    Permission.VIEW_REVIEW: frozenset({Role.REVIEWER, Role.SYSTEM_OWNER, Role.MANAGER, Role.ANALYST}),
    Permission.EDIT_REVIEW: frozenset({Role.REVIEWER, Role.SYSTEM_OWNER}),
    Permission.SIGN_REVIEW: frozenset({Role.SYSTEM_OWNER, Role.CUSTOMER_REP}),
    Permission.MANAGE_IMPROVEMENTS: frozenset({Role.SYSTEM_OWNER, Role.MANAGER, Role.ANALYST, Role.REVIEWER}),
    Permission.ADMIN_USERS: frozenset({Role.SYSTEM_OWNER}),
    Permission.VIEW_AUDIT: frozenset({Role.SYSTEM_OWNER}),
    Permission.USE_API: _ALL,
    Permission.MANAGE_FOLLOWUPS: frozenset({Role.COLLECTOR, Role.ORGANISER, Role.MANAGER, Role.SYSTEM_OWNER}),
}


def current_user() -> User | None:
    return getattr(g, "user", None)


@dataclass(frozen=True)
class KeyScope:
    """What an API key narrows its user's rights to (None / empty: not narrowed).

    A key never widens: its roles are intersected with the user's, and a region or customer of
    the key applies on top of the user's own. Set on ``g.key_scope`` by the API's authentication;
    every check below reads it for the request's own user."""

    roles: frozenset[Role] = frozenset()
    region_ids: frozenset[int] = frozenset()
    customer_id: int | None = None
    read_only: bool = False


def key_scope(user: User | None) -> KeyScope | None:
    """The scope of the API key this request came with, when ``user`` is the request's user."""
    if not has_request_context() or user is None or user is not getattr(g, "user", None):
        return None
    return getattr(g, "key_scope", None)


def effective_roles(user: User) -> frozenset[Role]:
    scope = key_scope(user)
    return user.roles & scope.roles if scope is not None and scope.roles else user.roles


def effective_customer(user: User) -> int | None:
    scope = key_scope(user)
    return user.customer_id if scope is None or scope.customer_id is None else scope.customer_id


def can(permission: Permission, user: User | None = None) -> bool:
    user = user if user is not None else current_user()
    if user is None or not user.active:
        return False
    return bool(effective_roles(user) & PERMISSIONS[permission])


def deny(reason: str, *, object_type: str | None = None, object_id: Any = None) -> None:
    """Record a permission denial and answer 403. The audit row is written after the request's own
    transaction has rolled back, in a transaction of its own, so it survives the refusal."""
    from perception.core.audit import record
    from perception.core.transaction import write_afterwards

    summary = f"{request.method} {request.path}: {reason}"
    write_afterwards(
        lambda session: record(
            session, "permission_denied", object_type=object_type, object_id=object_id, summary=summary
        )
    )
    abort(403)


def require(*permissions: Permission) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """View decorator: the user must be logged in and hold at least one of the permissions."""

    def decorator(view: Callable[..., T]) -> Callable[..., T]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if request.blueprint == "api":
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not any(can(p, user) for p in permissions):
                deny("missing permission " + "/".join(p.value for p in permissions))
            return view(*args, **kwargs)

        wrapped.required_permissions = permissions  # type: ignore[attr-defined]
        return wrapped

    return decorator


def login_required(view: Callable[..., T]) -> Callable[..., T]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if request.blueprint == "api":
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def region_scope(user: User | None = None) -> frozenset[int] | None:
    """The regions a user may see: None means every region."""
    user = user if user is not None else current_user()
    if user is None:
        return frozenset()
    regions: frozenset[int] | None
    if user.region_id is not None:
        regions = frozenset({user.region_id})
    elif user.has_role(Role.COLLECTOR):
        regions = frozenset()  # a collector without a region sees nothing rather than everything
    else:
        regions = None
    scope = key_scope(user)
    if scope is not None and scope.region_ids:
        regions = scope.region_ids if regions is None else regions & scope.region_ids
    return regions


def _region_clause(model: Any, regions: frozenset[int]) -> Any:
    custom = getattr(model, "region_clause", None)
    if custom is not None:
        return custom(regions)
    column = getattr(model, "region_id", None)
    if column is None:
        return None
    return column.in_(regions)


def scoped(stmt: Select[Any], model: Any, user: User | None = None) -> Select[Any]:
    """Restrict a SELECT over ``model`` to what the user may see.

    A model is region-scoped through its ``region_id`` column, or a classmethod
    ``region_clause(region_ids)`` when its region is indirect. A customer-bound user is further
    restricted to rows whose ``customer_id`` is theirs; models without a customer link are hidden
    from customer users unless the model sets ``__customer_visible__ = True``.
    """
    user = user if user is not None else current_user()
    if user is None:
        return stmt.where(false())
    regions = region_scope(user)
    if regions is not None:
        clause = _region_clause(model, regions)
        if clause is not None:
            stmt = stmt.where(clause)
        elif not getattr(model, "__region_free__", False):
            stmt = stmt.where(false())
    customer_id = effective_customer(user)
    key_bound = (scope := key_scope(user)) is not None and scope.customer_id is not None
    if customer_id is not None and (key_bound or not effective_roles(user) - {Role.CUSTOMER_REP}):
        custom = getattr(model, "customer_clause", None)
        column = getattr(model, "customer_id", None)
        if custom is not None:
            stmt = stmt.where(custom(customer_id))
        elif column is not None:
            stmt = stmt.where(column == customer_id)
        elif not getattr(model, "__customer_visible__", False):
            stmt = stmt.where(false())
    return stmt


def get_or_404(model: type[T], object_id: Any, user: User | None = None) -> T:
    """Fetch one object the user may see; anything else (missing or out of scope) is a 404."""
    try:
        key = int(object_id)
    except (TypeError, ValueError):
        abort(404)
    pk = model.__mapper__.primary_key[0]  # type: ignore[attr-defined]
    obj = orm().scalar(scoped(select(model).where(pk == key), model, user))
    if obj is None:
        abort(404)
    return obj


def in_scope(obj: Any, user: User | None = None) -> bool:
    """Whether an already-loaded object is visible to the user (for objects reached indirectly)."""
    model = type(obj)
    pk = model.__mapper__.primary_key[0]
    return orm().scalar(scoped(select(pk).where(pk == getattr(obj, pk.key)), model, user)) is not None
