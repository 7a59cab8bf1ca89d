"""Helpers shared by the KPI views: the user's region scope, filter choices and request arguments,
and the texts of the phase's errors in the user's language."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, TypeVar

from flask import request
from sqlalchemy import select

from perception.core.authz import Permission, can, region_scope, scoped
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.i18n import lang_code
from perception.core.models.org import Region
from perception.core.periods import parse_day, week_start
from perception.kpi.views import bp
from perception.setup.models.catalog import Service, ServiceTier

D = TypeVar("D", date, None)


def scope() -> frozenset[int] | None:
    """The regions the logged-in user may see (None = every region)."""
    return region_scope()


def regions() -> list[Region]:
    return list(orm().scalars(scoped(select(Region).order_by(Region.code), Region)))


def services() -> list[Service]:
    return list(orm().scalars(select(Service).order_by(Service.code)))


def tiers() -> list[ServiceTier]:
    return list(orm().scalars(select(ServiceTier).order_by(ServiceTier.rank)))


def int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value else None


def date_arg(name: str, default: D) -> date | D:
    """The date in query argument ``name`` (``default`` when empty); a UserError naming the
    argument when it is not a date."""
    text = (request.args.get(name) or "").strip()
    return parse_day(text, name) if text else default


def default_weeks(today: date, weeks: int = 13) -> tuple[date, date]:
    end = week_start(today) + timedelta(weeks=1)
    return end - timedelta(weeks=weeks), end


def problems_text(exc: UserError) -> list[str]:
    """One line per problem, located (row, column, value), in the user's language."""
    return [p.located(lang_code()) for p in exc.problems]


def error_text(exc: UserError) -> str:
    """The reasons without their location, for a message flashed next to the form it is about."""
    return " ".join(p.text(lang_code()) for p in exc.problems)


@bp.context_processor
def _context() -> dict[str, Any]:
    return {"can_manage_kpi": can(Permission.MANAGE_KPI)}
