"""Ticket rows: the columns a service-desk export may carry, and their validation, column by column.

Every check runs over a whole column (set lookups over distinct values, NumPy comparisons over
date-time arrays); a per-row Python loop runs only to name the rows of a column that failed. Codes
(service, region, customer, tier) are matched through kpi_codebook. Times without an offset are
local times of the ticket's region (Region.timezone) and are stored as naive UTC, truncated to the
second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.base import utcnow
from perception.core.nul import CODE, nul_rows
from perception.kpi.models import TicketKind, TicketStatus
from perception.kpi.services.codebook import Codebook, code_key, match_columns
from perception.kpi.services.files import Table
from perception.kpi.services.messages import ProblemList, problem
from perception.kpi.services.ticket_time import Moments, local_to_utc, parse_datetimes

# canonical name -> accepted header spellings (normalised: lower case, "_" for spaces and dashes)
TICKET_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "ticket_id", "external_id", "ticket", "number", "工单号", "工单编号", "单号"),
    "kind": ("kind", "type", "ticket_type", "类型", "工单类型"),
    "service": ("service", "service_code", "服务", "服务代码"),
    "region": ("region", "region_code", "区域", "地区", "省份"),
    "customer": ("customer", "customer_code", "客户", "客户代码"),
    "tier": ("tier", "service_tier", "level", "服务等级", "等级"),
    "priority": ("priority", "优先级"),
    "contact": ("contact", "联系人"),
    "opened": ("opened", "opened_at", "created", "created_at", "创建时间", "受理时间", "报告时间"),
    "first_response": (
        "first_response",
        "first_response_at",
        "responded",
        "responded_at",
        "首次响应时间",
        "响应时间",
    ),
    "resolved": ("resolved", "resolved_at", "解决时间"),
    "closed": ("closed", "closed_at", "关闭时间"),
    "engineer": ("engineer", "handling_engineer", "assignee", "处理工程师", "处理人", "工程师"),
    "status": ("status", "状态"),
    "reopen_count": ("reopen_count", "reopens", "reopened", "重开次数"),
    "transfers": ("transfers", "handoffs", "转派次数"),
}
REQUIRED_TICKET_COLUMNS = ("external_id", "service", "customer", "priority", "opened", "status")

PRIORITY_ALIASES = {
    "p1": "P1",
    "p2": "P2",
    "p3": "P3",
    "p4": "P4",
    "1": "P1",
    "2": "P2",
    "3": "P3",
    "4": "P4",
}
KIND_ALIASES = {
    "incident": "incident",
    "request": "request",
    "事件": "incident",
    "故障": "incident",
    "请求": "request",
    "服务请求": "request",
    "": "incident",
}
STATUS_ALIASES = {
    **{s.value: s.value for s in TicketStatus},
    "new": "open",
    "assigned": "in_progress",
    "in progress": "in_progress",
    "on_hold": "pending",
    "新建": "open",
    "待处理": "open",
    "处理中": "in_progress",
    "挂起": "pending",
    "已解决": "resolved",
    "已关闭": "closed",
    "关闭": "closed",
    "已取消": "cancelled",
    "取消": "cancelled",
}
FUTURE_TOLERANCE = timedelta(days=1)
_DONE = frozenset({TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value})  # need a resolution time


@dataclass
class TicketColumns:
    """Validated tickets, column-major; times are naive UTC datetime64[s] (NaT = not yet)."""

    row_no: list[int]
    external_id: list[str]
    kind: list[str]
    service_id: list[int]
    region_id: list[int]
    customer_id: list[int]
    tier_id: list[int | None]
    priority: list[str]
    contact: list[str | None]
    opened: Moments
    first_response: Moments
    resolved: Moments
    closed: Moments
    engineer: list[str | None]
    status: list[str]
    reopen_count: list[int]
    transfers: list[int]

    def __len__(self) -> int:
        return len(self.external_id)


class _Checker:
    def __init__(self, table: Table, found: dict[str, int], problems: ProblemList) -> None:
        self.table, self.found, self.problems = table, found, problems

    def column(self, name: str) -> list[str]:
        index = self.found.get(name)
        return self.table.columns[index] if index is not None else [""] * self.table.n_rows

    def header(self, name: str) -> str:
        index = self.found.get(name)
        return self.table.header[index] if index is not None else name

    def flag(
        self, name: str, indices: Iterable[int], code: str, values: list[Any] | None = None, **kw: Any
    ) -> None:
        shown = values if values is not None else self.column(name)
        for i in indices:
            self.problems.add(problem(self.table.row_no(i), self.header(name), shown[i], code, **kw))

    def mapped(
        self, name: str, convert: Callable[[str], Any], code: str, *, required: bool, **kw: Any
    ) -> list[Any]:
        """Map each distinct value once; flag the rows whose value does not convert."""
        values = self.column(name)
        table = {v: convert(v) for v in set(values)}
        bad = {v for v, r in table.items() if r is None and (required or v.strip())}
        if bad:
            for i, v in enumerate(values):
                if v in bad:
                    self.flag(name, [i], "required" if not v.strip() else code, **kw)
        return list(map(table.__getitem__, values))

    def text(self, name: str, limit: int) -> list[str | None]:
        values = self.column(name)
        if values and max(map(len, values)) > limit:
            self.flag(name, (i for i, v in enumerate(values) if len(v) > limit), "too_long", limit=limit)
        values = self.no_nul(name, values)
        return [v.strip() or None for v in values]

    def no_nul(self, name: str, values: list[str]) -> list[str]:
        """Flag the cells holding a NUL character, and return the values without it (the row is
        refused; its values still go to the stage): SQLite stores one, PostgreSQL refuses the
        whole statement (a database error, not the row's message). The one search of a column
        every import shares (``perception.core.nul.nul_rows``)."""
        rows = nul_rows(values)
        if not rows:
            return values
        self.flag(name, rows, CODE)
        return [v.replace("\x00", "") for v in values]

    def moments(self, name: str) -> tuple[Moments, np.ndarray]:
        parsed, is_utc, bad = parse_datetimes(self.column(name))
        self.flag(name, bad, "bad_datetime")
        return parsed, is_utc


COUNT_MAX = 2**31 - 1  # the INTEGER columns that keep counts (32-bit on PostgreSQL)


def whole_count(text: str) -> int | None:
    """A count from 0 to COUNT_MAX in decimal digits of any script ("３" is 3), else None.
    ``isdigit`` would pass "²", which ``int`` refuses, and a count past the column's range reached
    the database as an overflow (a traceback) instead of the row's message."""
    if not text.isdecimal():
        return None
    value = int(text)
    return value if value <= COUNT_MAX else None


def _count(value: str) -> int | None:
    text = value.strip()
    return whole_count(text) if text else 0


def _choice(aliases: dict[str, str]) -> Callable[[str], str | None]:
    return lambda v: aliases.get(v.strip().lower(), aliases.get(v.strip()))


def parse_tickets(
    table: Table,
    book: Codebook,
    problems: ProblemList,
    allowed_regions: frozenset[int] | None = None,
    *,
    check_repeats: bool = True,
) -> TicketColumns | None:
    """Validate every column; problems go to ``problems`` (the caller refuses the import if any).
    None when required columns are missing (nothing else is checked then). ``check_repeats``
    False: a ticket id repeated within ``table`` is left to the caller (a file read in chunks is
    checked for repeats across all its chunks in the stage, kpi_bulk.repeated_ids)."""
    found, _unknown = match_columns(table.header, TICKET_COLUMNS)
    absent = [name for name in REQUIRED_TICKET_COLUMNS if name not in found]
    for name in absent:
        problems.add(problem(1, TICKET_COLUMNS[name][0], None, "missing_column"))
    if absent:  # not `if problems`: an earlier chunk's problems must not stop this chunk's checks
        return None
    c = _Checker(table, found, problems)
    n = table.n_rows

    ids = list(map(str.strip, c.column("external_id")))
    if not all(ids):
        c.flag("external_id", (i for i, v in enumerate(ids) if not v), "required")
    if ids and max(map(len, ids)) > 64:
        c.flag("external_id", (i for i, v in enumerate(ids) if len(v) > 64), "too_long", limit=64)
    ids = c.no_nul("external_id", ids)
    if check_repeats and len(set(ids)) != n:
        first: dict[str, int] = {}
        for i, v in enumerate(ids):
            if v and v in first:
                c.flag("external_id", [i], "duplicate_id", other=table.row_no(first[v]))
            first.setdefault(v, i)

    service = c.mapped("service", lambda v: book.services.get(code_key(v)), "unknown_service", required=True)
    customer = c.mapped(
        "customer", lambda v: book.customers.get(code_key(v)), "unknown_customer", required=True
    )
    region_given = c.mapped(
        "region", lambda v: book.regions.get(code_key(v)), "unknown_region", required=False
    )
    tier_given = c.mapped("tier", lambda v: book.tiers.get(code_key(v)), "unknown_tier", required=False)
    region = [
        r if r is not None else book.customer_region.get(cu)
        for r, cu in zip(region_given, customer, strict=True)
    ]
    missing_region = [i for i, r in enumerate(region) if r is None and customer[i] is not None]
    c.flag("region", missing_region, "region_mismatch")
    if allowed_regions is not None:
        c.flag(
            "region",
            (i for i, r in enumerate(region) if r is not None and r not in allowed_regions),
            "region_forbidden",
        )
    tier = [
        t
        if t is not None
        else book.subscription_tier.get((cu, s))
        if cu is not None and s is not None
        else None
        for t, cu, s in zip(tier_given, customer, service, strict=True)
    ]
    priority = c.mapped(
        "priority", _choice(PRIORITY_ALIASES), "bad_choice", required=True, choices="P1, P2, P3, P4"
    )
    kind = c.mapped("kind", _choice(KIND_ALIASES), "bad_choice", required=False, choices="incident, request")
    status = c.mapped(
        "status", _choice(STATUS_ALIASES), "bad_choice", required=True, choices=", ".join(TicketStatus)
    )
    reopen = c.mapped("reopen_count", _count, "bad_integer", required=False)
    transfers = c.mapped("transfers", _count, "bad_integer", required=False)
    contact, engineer = c.text("contact", 200), c.text("engineer", 120)

    times = {name: c.moments(name) for name in ("opened", "first_response", "resolved", "closed")}
    opened_text = c.column("opened")
    missing = np.flatnonzero(np.isnat(times["opened"][0])).tolist()
    c.flag("opened", [i for i in missing if not opened_text[i].strip()], "required")
    utc = _to_utc(times, region, book)
    _check_order(c, utc, status)
    if table.row_numbers is not None:
        row_no = list(table.row_numbers)
    else:
        row_no = list(range(table.first_row, table.first_row + n))
    return TicketColumns(
        row_no=row_no,
        external_id=ids,
        kind=[k or TicketKind.INCIDENT for k in kind],
        service_id=service,
        region_id=region,  # type: ignore[arg-type]  # None only where a problem was flagged
        customer_id=customer,
        tier_id=tier,
        priority=priority,
        contact=contact,
        opened=utc["opened"],
        first_response=utc["first_response"],
        resolved=utc["resolved"],
        closed=utc["closed"],
        engineer=engineer,
        status=status,
        reopen_count=reopen,
        transfers=transfers,
    )


def _to_utc(
    times: dict[str, tuple[Moments, np.ndarray]], region: list[int | None], book: Codebook
) -> dict[str, Moments]:
    # A row whose region is unknown has a problem flagged already; its zone does not matter.
    zone_of = {
        r: book.region_tz.get(r, DEFAULT_TIMEZONE) if r is not None else DEFAULT_TIMEZONE for r in set(region)
    }
    distinct = set(zone_of.values())
    masks: dict[str, np.ndarray] = {}
    if len(distinct) > 1:
        ids = np.array(region, dtype=np.float64)  # None: NaN, the default zone's
        for tz in distinct:
            regions = [r for r, z in zone_of.items() if z == tz and r is not None]
            masks[tz] = np.isin(ids, regions) | (np.isnan(ids) if zone_of.get(None) == tz else False)
    out: dict[str, Moments] = {}
    for name, (parsed, is_utc) in times.items():
        if len(distinct) <= 1:
            local = local_to_utc(parsed, next(iter(distinct), "UTC"))
        else:
            local = parsed.copy()
            for tz, mask in masks.items():
                local[mask] = local_to_utc(parsed[mask], tz)
        out[name] = np.where(is_utc, parsed, local) if is_utc.any() else local
    return out


def _check_order(c: _Checker, utc: dict[str, Moments], status: list[str | None]) -> None:
    opened, first, resolved, closed = utc["opened"], utc["first_response"], utc["resolved"], utc["closed"]
    now = np.datetime64(utcnow() + FUTURE_TOLERANCE, "s")
    with np.errstate(invalid="ignore"):
        for name, values in utc.items():
            c.flag(name, np.flatnonzero(~np.isnat(values) & (values > now)).tolist(), "in_future")
        for name, values in (("first_response", first), ("resolved", resolved)):
            c.flag(name, np.flatnonzero(~np.isnat(values) & (values < opened)).tolist(), "before_opened")
        ref = np.where(np.isnat(resolved), opened, resolved)
        c.flag("closed", np.flatnonzero(~np.isnat(closed) & (closed < ref)).tolist(), "before_resolved")
    needs = np.fromiter(map(_DONE.__contains__, status), dtype=bool, count=len(status))
    c.flag("resolved", np.flatnonzero(needs & np.isnat(resolved)).tolist(), "resolved_missing")
