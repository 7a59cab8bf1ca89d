"""What every analysis view shares: the filters from the query string (parsed once, inside the
user's scope, the default period ending in the organisation's current week), the choices of the
filter form, and showing an operation's problems in the user's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, request
from sqlalchemy import select

from perception.analysis.labels import dimension_label
from perception.analysis.services.filters import AnalysisFilters, FilterError, OutOfScope, filters_for_user
from perception.core.authz import scoped
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.i18n import is_zh, lang_code, localized
from perception.core.models.org import CustomerOrg, Region
from perception.setup.models.catalog import Service, ServiceTier


@dataclass(frozen=True)
class FilterChoices:
    regions: list[tuple[int, str]]
    services: list[tuple[int, str]]
    tiers: list[tuple[int, str]]
    customers: list[tuple[int, str]]


def flash_problems(exc: UserError) -> None:
    """Show an operation's problems (its writes undone by ``atomic()``) in the user's language."""
    for problem in exc.problems:
        flash(problem.text(lang_code()), "error")


def current_filters() -> tuple[AnalysisFilters, FilterError | None]:
    """The request's filters within the user's scope; 404 for a region/customer out of scope; on a
    malformed value the defaults, and the error to show next to the field."""
    today = current_clock().today()
    try:
        return filters_for_user(orm(), request.args, today=today), None
    except OutOfScope:
        abort(404)
    except FilterError as exc:
        flash_problems(exc)
        keep = {k: v for k, v in request.args.items() if k != exc.field}
        try:
            return filters_for_user(orm(), keep, today=today), exc
        except (FilterError, OutOfScope):
            return filters_for_user(orm(), {}, today=today), exc


def filter_choices() -> FilterChoices:
    session = orm()
    regions = session.scalars(scoped(select(Region).order_by(Region.code), Region))
    services = session.scalars(select(Service).where(Service.active.is_(True)).order_by(Service.code))
    tiers = session.scalars(select(ServiceTier).order_by(ServiceTier.rank))
    customers = session.scalars(scoped(select(CustomerOrg).order_by(CustomerOrg.code), CustomerOrg))
    return FilterChoices(
        regions=[(r.id, f"{r.code} {localized(r)}") for r in regions],
        services=[(s.id, f"{s.code} {localized(s)}") for s in services],
        tiers=[(t.id, localized(t)) for t in tiers],
        customers=[(c.id, f"{c.code} {localized(c)}") for c in customers],
    )


def page_context(filters: AnalysisFilters, error: FilterError | None, **extra: Any) -> dict[str, Any]:
    return {
        "filters": filters,
        "filter_error": error,
        "choices": filter_choices(),
        "qargs": filters.query_args(),
        "zh": is_zh(),
        "dimension_label": dimension_label,
        **extra,
    }
