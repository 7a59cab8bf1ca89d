"""The analysis filters, parsed in ONE place and always intersected with the user's region scope.

Every analysis page, API endpoint, export and chart takes an ``AnalysisFilters``: the period
[start, end) (ISO weeks like ``2026-W10`` or dates; the end week is included), optional region,
service, tier and customer, the trend grain (week or month), and the regions the user may see.
``region_ids`` is None only for a user who sees every region and picked none; otherwise it is the
set of regions the queries are restricted to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.errors import UserError
from perception.core.models.org import CustomerOrg, Region
from perception.core.periods import parse_day, week_from_label, week_start
from perception.setup.models.catalog import Service, ServiceTier

DEFAULT_WEEKS = 13
GRAINS = ("week", "month")


class FilterError(UserError):
    """A filter value that cannot be used: one problem naming the query argument, in zh and en."""


class OutOfScope(LookupError):
    """A region or customer the user may not see was asked for (answered as 404)."""


@dataclass(frozen=True)
class AnalysisFilters:
    start: date  # Monday, inclusive
    end: date  # Monday after the last week, exclusive
    region_ids: frozenset[int] | None = None
    region_id: int | None = None  # the region picked in the form (already inside region_ids)
    service_id: int | None = None
    tier_id: int | None = None
    customer_id: int | None = None
    grain: str = "week"

    @property
    def weeks(self) -> int:
        return (self.end - self.start).days // 7

    def previous(self) -> AnalysisFilters:
        """The same filters over the period of equal length just before this one."""
        span = self.end - self.start
        return replace(self, start=self.start - span, end=self.start)

    def with_region(self, region_id: int) -> AnalysisFilters:
        """Narrowed to one region (which must be inside the current scope)."""
        if self.region_ids is not None and region_id not in self.region_ids:
            raise OutOfScope(region_id)
        return replace(self, region_ids=frozenset({region_id}), region_id=region_id)

    def query_args(self) -> dict[str, str]:
        """The filters as URL query arguments (for links to evidence, exports and charts)."""
        args = {
            "from": self.start.isoformat(),
            "to": (self.end - timedelta(days=1)).isoformat(),
            "grain": self.grain,
        }
        for name, value in (
            ("region", self.region_id),
            ("service", self.service_id),
            ("tier", self.tier_id),
            ("customer", self.customer_id),
        ):
            if value is not None:
                args[name] = str(value)
        return args

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "region_ids": sorted(self.region_ids) if self.region_ids is not None else None,
            "region_id": self.region_id,
            "service_id": self.service_id,
            "tier_id": self.tier_id,
            "customer_id": self.customer_id,
            "grain": self.grain,
        }


def _parse_monday(field: str, raw: str, *, end: bool) -> date:
    """An ISO week (``2026-W10``) or a day (through ``parse_day``, the one parser of typed dates) as
    the Monday of its week; with ``end``, the Monday after it (the period's end is exclusive)."""
    text = str(raw).strip()
    try:
        monday = week_from_label(text) if "-W" in text.upper() else week_start(parse_day(text, field))
    except (ValueError, UserError):  # one message for both: a week is as welcome as a day here
        raise FilterError.one(
            field,
            f"“{raw}”既不是 ISO 周（如 2026-W10）也不是日期（如 2026-03-02）",
            f"{raw!r} is neither an ISO week (2026-W10) nor a date (2026-03-02)",
            code="invalid_period",
            value=text[:80] or None,
        ) from None
    try:
        return monday + timedelta(weeks=1) if end else monday
    except OverflowError:  # the last week of 9999 has no Monday after it
        raise FilterError.one(
            field,
            f"“{raw}”超出可用的日期范围",
            f"{raw!r} is past the last date the product can show",
            code="invalid_period",
            value=text[:80] or None,
        ) from None


def _parse_id(field: str, raw: str | None) -> int | None:
    if raw is None or str(raw).strip() in ("", "0", "all"):
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = -1
    if not 0 <= value < 2**31:  # an INTEGER column holds no more: a larger id is no id
        shown = str(raw)[:40]
        raise FilterError.one(
            field,
            f"“{shown}”不是有效的编号",
            f"{shown!r} is not an id",
            code="invalid_id",
            value=str(raw)[:80],
        )
    return value


# How the existence check names the filters in Chinese.
_FIELD_ZH = {"service": "服务", "tier": "服务等级"}


def _exists(session: Session, model: Any, object_id: int | None, field: str) -> None:
    if object_id is not None and session.get(model, object_id) is None:
        raise FilterError.one(
            field,
            f"不存在编号为 {object_id} 的{_FIELD_ZH.get(field, field)}",
            f"no such {field} {object_id}",
            code="unknown",
            value=str(object_id),
        )


def parse_filters(
    session: Session,
    args: Mapping[str, Any],
    scope: frozenset[int] | None,
    *,
    today: date,
    customer_scope: int | None = None,
) -> AnalysisFilters:
    """Read filters from query arguments (``from``, ``to``, ``region``, ``service``, ``tier``,
    ``customer``, ``grain``) and intersect them with ``scope`` (authz.region_scope()).

    Default period: the last 13 complete ISO weeks plus the current one, ``today`` being the
    organisation's date. A region or customer outside the scope raises OutOfScope (callers answer
    404, as for any object out of scope); a malformed value raises FilterError naming the field.
    """
    end = _parse_monday("to", args["to"], end=True) if args.get("to") else default_filters(today).end
    start = (
        _parse_monday("from", args["from"], end=False)
        if args.get("from")
        else end - timedelta(weeks=DEFAULT_WEEKS + 1)
    )
    if start >= end:
        raise FilterError.one(
            "from", "开始时间晚于结束时间", "the period starts after it ends", code="empty_period"
        )
    if (end - start).days > 7 * 260:
        raise FilterError.one(
            "from", "时间段超过五年", "the period is longer than five years", code="too_long"
        )
    grain = str(args.get("grain") or "week")
    if grain not in GRAINS:
        raise FilterError.one(
            "grain", "粒度只能是周或月", "grain must be week or month", code="invalid_grain", value=grain[:80]
        )
    region_id = _parse_id("region", args.get("region"))
    service_id = _parse_id("service", args.get("service"))
    tier_id = _parse_id("tier", args.get("tier"))
    customer_id = _parse_id("customer", args.get("customer"))
    _exists(session, Service, service_id, "service")
    _exists(session, ServiceTier, tier_id, "tier")
    region_ids = scope
    if region_id is not None:
        if session.get(Region, region_id) is None or (scope is not None and region_id not in scope):
            raise OutOfScope(region_id)
        region_ids = frozenset({region_id})
    if customer_scope is not None:
        if customer_id not in (None, customer_scope):
            raise OutOfScope(customer_id)
        customer_id = customer_scope
    if customer_id is not None:
        customer_region = session.scalar(select(CustomerOrg.region_id).where(CustomerOrg.id == customer_id))
        if customer_region is None or (region_ids is not None and customer_region not in region_ids):
            raise OutOfScope(customer_id)
    return AnalysisFilters(
        start=start,
        end=end,
        region_ids=region_ids,
        region_id=region_id,
        service_id=service_id,
        tier_id=tier_id,
        customer_id=customer_id,
        grain=grain,
    )


def where_facts(model: Any, filters: AnalysisFilters, *, period: bool = True) -> list[Any]:
    """WHERE clauses restricting a facts table (ExperienceObservation, TextEntry, ...) to the filters."""
    clauses: list[Any] = []
    if period:
        clauses += [model.period_start >= filters.start, model.period_start < filters.end]
    if filters.region_ids is not None:
        clauses.append(model.region_id.in_(sorted(filters.region_ids)))
    if filters.service_id is not None and hasattr(model, "service_id"):
        clauses.append(model.service_id == filters.service_id)
    if filters.tier_id is not None and hasattr(model, "tier_id"):
        clauses.append(model.tier_id == filters.tier_id)
    if filters.customer_id is not None and hasattr(model, "customer_id"):
        clauses.append(model.customer_id == filters.customer_id)
    return clauses


def filters_for_user(
    session: Session, args: Mapping[str, Any], *, today: date, user: Any = None
) -> AnalysisFilters:
    """``parse_filters`` with the logged-in user's region (and customer) scope."""
    from perception.core.authz import current_user, region_scope
    from perception.core.models.auth import Role

    user = user if user is not None else current_user()
    customer = getattr(user, "customer_id", None)
    roles: frozenset[Role] = getattr(user, "roles", frozenset())
    customer_scope = customer if customer is not None and not roles - {Role.CUSTOMER_REP} else None
    return parse_filters(session, args, region_scope(user), today=today, customer_scope=customer_scope)


def default_filters(today: date, weeks: int = DEFAULT_WEEKS) -> AnalysisFilters:
    """All regions, the last ``weeks`` complete weeks plus the current one (``today`` being the
    organisation's date): the period a page shows when none is asked for."""
    end = week_start(today) + timedelta(weeks=1)
    return AnalysisFilters(start=end - timedelta(weeks=weeks + 1), end=end)
