"""Tickets of a period as NumPy columns, with business durations and targets: the one loader that
KPI computation, SLA attainment, breach lists and the SLA-failure reports share.

One SELECT returns the tickets relevant to [start, end) (opened in it, or opened earlier and still
open at its start, which the backlog needs) with times as epoch seconds computed by the database.
Per (service, customer) pair the covering SLA is looked up once (setup_sla.sla_for, on the
period's last day) and its covered hours become a scoring.calendar.BusinessCalendar; durations are
covered seconds (business_seconds_array) per calendar, so weekends and holidays outside the covered
hours do not count. A ticket without an SLA is measured in elapsed time. Targets come from
kpi_targets (the standard version in force on the ticket's local opening day).

A ticket not yet responded (resolved) whose covered time since opening already exceeds its limit at
``as_of`` is *overdue*: it counts as a miss in within-target shares and breach lists, because an
SLA is breached by waiting, not only by a late answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import DateTime, bindparam, select, text
from sqlalchemy.orm import Session

from perception.models.base import utcnow
from perception.models.kpi import TicketStatus
from perception.models.org import Region
from perception.models.setup import Sla
from perception.services.kpi_targets import TargetBook, TicketTargets
from perception.services.kpi_time import period_starts, utc_to_local
from perception.services.setup_sla import calendar_for_sla, sla_for
from scoring.calendar import BusinessCalendar, business_seconds_array

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass
class TicketFrame:
    """Column arrays of equal length; ids -1 mean "none", times naive UTC datetime64[s]."""

    id: I64
    service: I64
    region: I64
    customer: I64
    tier: I64
    priority: NDArray[np.str_]
    status: NDArray[np.str_]
    reopen: I64
    transfers: I64
    opened: NDArray[np.datetime64]
    first_response: NDArray[np.datetime64]
    resolved: NDArray[np.datetime64]  # NaT while unresolved (also for a reopened ticket)
    local_day: NDArray[np.datetime64]  # opening day in the region's time zone
    sla: I64
    response_s: F64  # covered seconds to first response, NaN if none yet
    resolution_s: F64
    response_elapsed_s: F64  # covered seconds until first response, or until as_of if none yet
    resolution_elapsed_s: F64
    targets: TicketTargets
    in_period: NDArray[np.bool_]  # opened within [start, end) (local day)
    as_of: datetime

    def __len__(self) -> int:
        return int(self.id.size)

    @property
    def response_overdue(self) -> NDArray[np.bool_]:
        with np.errstate(invalid="ignore"):
            return np.isnan(self.response_s) & (self.response_elapsed_s > self.targets.response_limit_s)

    @property
    def resolution_overdue(self) -> NDArray[np.bool_]:
        with np.errstate(invalid="ignore"):
            return np.isnan(self.resolution_s) & (self.resolution_elapsed_s > self.targets.resolution_limit_s)

    def subset(self, mask: NDArray[np.bool_]) -> TicketFrame:
        def take(value: Any) -> Any:
            return value[mask] if isinstance(value, np.ndarray) else value

        fields = {k: take(v) for k, v in self.__dict__.items() if k != "targets"}
        targets = TicketTargets(**{k: take(v) for k, v in self.targets.__dict__.items()})
        return TicketFrame(**fields, targets=targets)


def _epoch_sql(session: Session, column: str) -> str:
    if session.get_bind().dialect.name == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def _moments(values: list[Any]) -> NDArray[np.datetime64]:
    arr = np.array(values, dtype=np.float64)  # None -> NaN
    out = np.full(arr.size, np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~np.isnan(arr)
    out[ok] = arr[ok].astype(np.int64).astype("datetime64[s]")
    return out


def _ids(values: list[Any]) -> I64:
    return np.array([-1 if v is None else v for v in values], dtype=np.int64)


def _fetch(
    session: Session, lo: datetime | None, hi: datetime | None, region_ids: frozenset[int] | None
) -> list[Any]:
    """Tickets relevant to [lo, hi); both None: every unresolved ticket (for escalation)."""
    cols = ", ".join(
        [
            "id", "service_id", "region_id", "customer_id", "tier_id", "priority", "status",
            "reopen_count", "transfers", _epoch_sql(session, "opened_at"),
            _epoch_sql(session, "first_response_at"), _epoch_sql(session, "resolved_at"),
        ]
    )  # fmt: skip
    unresolved = "status IN ('open', 'in_progress', 'pending')"
    if lo is None or hi is None:
        where = unresolved
    else:
        where = (
            "opened_at < :hi AND status <> 'cancelled' AND "
            f"(opened_at >= :lo OR resolved_at IS NULL OR resolved_at >= :lo OR {unresolved})"
        )
    if region_ids is not None:
        where += " AND region_id IN (" + ",".join(str(int(r)) for r in sorted(region_ids) or [-1]) + ")"
    stmt = text(f"SELECT {cols} FROM ticket WHERE {where}")  # noqa: S608 - constants and ints only
    if lo is None or hi is None:
        return list(session.execute(stmt))
    stmt = stmt.bindparams(bindparam("lo", type_=DateTime()), bindparam("hi", type_=DateTime()))
    return list(session.execute(stmt, {"lo": lo, "hi": hi}))


def load_frame(
    session: Session,
    start: date,
    end: date,
    *,
    region_ids: frozenset[int] | None = None,
    as_of: datetime | None = None,
    book: TargetBook | None = None,
) -> TicketFrame:
    """Tickets relevant to [start, end) (see the module docstring)."""
    lo = datetime.combine(start, time()) - timedelta(days=1)  # local days differ from UTC days by < 1 day
    hi = datetime.combine(end, time()) + timedelta(days=1)
    rows = _fetch(session, lo, hi, region_ids)
    return _build(session, rows, start, end, as_of or utcnow(), book)


def load_open_frame(
    session: Session, *, as_of: datetime | None = None, region_ids: frozenset[int] | None = None
) -> TicketFrame:
    """Every unresolved ticket (escalation); SLAs as in force on ``as_of``'s date."""
    as_of = as_of or utcnow()
    rows = _fetch(session, None, None, region_ids)
    return _build(session, rows, date(1970, 1, 1), as_of.date() + timedelta(days=2), as_of, None)


def _build(
    session: Session, rows: list[Any], start: date, end: date, as_of: datetime, book: TargetBook | None
) -> TicketFrame:
    cols: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(12)]
    region = _ids(cols[2])
    opened = _moments(cols[9])
    status = np.array(cols[6], dtype="<U12")
    unresolved = np.isin(status, TicketStatus.UNRESOLVED)
    resolved = _moments(cols[11])
    resolved[unresolved] = np.datetime64("NaT")
    local_day = _local_days(session, opened, region)
    service, customer, tier = _ids(cols[1]), _ids(cols[3]), _ids(cols[4])
    priority = np.array(cols[5], dtype="<U4")
    sla = _sla_ids(session, service, customer, min(end, as_of.date() + timedelta(days=1)) - timedelta(days=1))
    first = _moments(cols[10])
    frame_targets = (book or TargetBook.load(session)).ticket_targets(
        service, tier, customer, priority, local_day
    )
    durations = _durations(session, sla, region, opened, first, resolved, as_of)
    return TicketFrame(
        id=_ids(cols[0]),
        service=service,
        region=region,
        customer=customer,
        tier=tier,
        priority=priority,
        status=status,
        reopen=np.array(cols[7], dtype=np.int64),
        transfers=np.array(cols[8], dtype=np.int64),
        opened=opened,
        first_response=first,
        resolved=resolved,
        local_day=local_day,
        sla=sla,
        targets=frame_targets,
        in_period=(local_day >= np.datetime64(start, "D")) & (local_day < np.datetime64(end, "D")),
        as_of=as_of,
        **durations,
    )


def region_zones(session: Session) -> dict[int, str]:
    return {r.id: r.timezone or "Asia/Shanghai" for r in session.execute(select(Region.id, Region.timezone))}


def _local_days(session: Session, opened: NDArray[np.datetime64], region: I64) -> NDArray[np.datetime64]:
    zones = region_zones(session)
    out = np.empty(opened.size, dtype="datetime64[D]")
    for region_id in np.unique(region).tolist():
        mask = region == region_id
        out[mask] = utc_to_local(opened[mask], zones.get(region_id) or "Asia/Shanghai").astype(
            "datetime64[D]"
        )
    return out


def _sla_ids(session: Session, service: I64, customer: I64, on: date) -> I64:
    out = np.full(service.size, -1, dtype=np.int64)
    if service.size == 0:
        return out
    pairs, inverse = np.unique(np.stack([service, customer], axis=1), axis=0, return_inverse=True)
    found = np.full(len(pairs), -1, dtype=np.int64)
    for k, (svc, cust) in enumerate(pairs.tolist()):
        sla = sla_for(session, svc, cust if cust >= 0 else None, on)
        found[k] = sla.id if sla is not None else -1
    return found[inverse.ravel()]


def calendars(session: Session, sla_ids: I64) -> dict[int, BusinessCalendar]:
    out: dict[int, BusinessCalendar] = {}
    for sla_id in np.unique(sla_ids).tolist():
        sla = session.get(Sla, sla_id) if sla_id >= 0 else None
        out[sla_id] = calendar_for_sla(sla) if sla is not None else BusinessCalendar.always()
    return out


def _durations(
    session: Session,
    sla: I64,
    region: I64,
    opened: NDArray[np.datetime64],
    first: NDArray[np.datetime64],
    resolved: NDArray[np.datetime64],
    as_of: datetime,
) -> dict[str, F64]:
    naive = as_of if as_of.tzinfo is None else as_of.astimezone(UTC).replace(tzinfo=None)
    now = np.datetime64(naive, "s")
    out = {
        k: np.full(opened.size, np.nan)
        for k in ("response_s", "resolution_s", "response_elapsed_s", "resolution_elapsed_s")
    }
    for sla_id, cal in calendars(session, sla).items():
        mask = sla == sla_id
        o = opened[mask]
        out["response_s"][mask] = business_seconds_array(cal, o, first[mask])
        out["resolution_s"][mask] = business_seconds_array(cal, o, resolved[mask])
        out["response_elapsed_s"][mask] = business_seconds_array(
            cal, o, np.where(np.isnat(first[mask]), now, first[mask])
        )
        out["resolution_elapsed_s"][mask] = business_seconds_array(
            cal, o, np.where(np.isnat(resolved[mask]), now, resolved[mask])
        )
    return out


def periods_of(frame: TicketFrame, granularity: str) -> NDArray[np.datetime64]:
    return period_starts(frame.local_day, granularity)
