"""Helpers shared by the KPI views: the user's region scope, language, and filter choices."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import request
from sqlalchemy import select

from perception.core.authz import Permission, can, region_scope, scoped
from perception.core.extensions import db
from perception.core.i18n import is_zh, localized
from perception.core.models.org import Region
from perception.core.periods import week_start
from perception.kpi.services.messages import KpiError, KpiImportError
from perception.kpi.views import bp
from perception.setup.models.catalog import Service, ServiceTier


def lang() -> str:
    return "zh" if is_zh() else "en"


def scope() -> frozenset[int] | None:
    """The regions the logged-in user may see (None = every region)."""
    return region_scope()


def regions() -> list[Region]:
    return list(db.session.scalars(scoped(select(Region).order_by(Region.code), Region)))


def services() -> list[Service]:
    return list(db.session.scalars(select(Service).order_by(Service.code)))


def tiers() -> list[ServiceTier]:
    return list(db.session.scalars(select(ServiceTier).order_by(ServiceTier.rank)))


def int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value else None


def date_arg(name: str, default: date) -> date:
    text = (request.args.get(name) or "").strip()
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        raise KpiError(name, "日期格式为 2026-03-02", "use a date like 2026-03-02") from None


def default_weeks(today: date, weeks: int = 13) -> tuple[date, date]:
    end = week_start(today) + timedelta(weeks=1)
    return end - timedelta(weeks=weeks), end


def problems_text(exc: KpiImportError) -> list[str]:
    return [p.describe(lang()) for p in exc.problems]


def error_text(exc: KpiError) -> str:
    return exc.text(lang())


def name_of(obj: Any) -> str:
    return f"{obj.code} · {localized(obj)}" if obj is not None else "—"


@bp.context_processor
def _context() -> dict[str, Any]:
    return {"can_manage_kpi": can(Permission.MANAGE_KPI)}
