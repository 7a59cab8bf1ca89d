"""Tickets of a period as NumPy columns, with business durations and targets: the one loader that
KPI computation, SLA attainment, breach lists and the SLA-failure reports share.

One SELECT (kpi_ticket_fetch) returns the tickets relevant to [start, end) (opened in it, or opened
earlier and still open at its start, which the backlog needs) as NumPy arrays.
The covering SLA of every (service, customer) pair is looked up in one batch (setup_sla.slas_for,
on the period's last day) and its covered hours become a scoring.calendar.BusinessCalendar;
durations are covered seconds (business_seconds_from) per calendar, so weekends and holidays
outside the covered hours do not count. A ticket without an SLA is measured in elapsed time.
Targets come from kpi_targets (the standard version in force on the ticket's local opening day).

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
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.base import utcnow
from perception.core.models.org import Region
from perception.kpi.services.arrays import distinct_rows
from perception.kpi.services.targets import TargetBook, TicketTargets
from perception.kpi.services.ticket_fetch import RawTickets, fetch_tickets
from perception.kpi.services.ticket_time import day_start_window, period_starts, utc_to_local
from perception.setup.models.standards import Sla
from perception.setup.services.sla import calendar_for_sla, slas_for
from scoring.calendar import BusinessCalendar, business_seconds_from

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
    priority: I64  # code: kpi_ticket_fetch.PRIORITIES[code] is the name
    unresolved: NDArray[np.bool_]
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
    raw = fetch_tickets(session, lo, hi, region_ids)
    return _build(session, raw, start, end, as_of or utcnow(), book)


@dataclass
class TicketDurations:
    """What a percentile needs of the tickets opened in a period: their groups, local opening day
    and covered seconds, the same values as load_frame's for these tickets."""

    service: I64
    region: I64
    tier: I64
    local_day: NDArray[np.datetime64]
    response_s: F64
    resolution_s: F64

    def __len__(self) -> int:
        return int(self.service.size)


def sla_day(end: date, now: datetime) -> date:
    """The day whose SLAs measure the tickets of a period ending before ``end`` (load_durations):
    its last day, or today while it runs. A result kept from these durations keys on it (the
    clock is an input: a running period is measured under today's SLAs)."""
    return min(end, now.date() + timedelta(days=1)) - timedelta(days=1)


def load_durations(
    session: Session, start: date, end: date, *, region_ids: frozenset[int] | None = None
) -> TicketDurations:
    """The tickets opened in [start, end) (local day) with their covered seconds to first response
    and to resolution, measured as load_frame measures them (the SLA in force on the period's last
    day, as of now) but without the backlog, per-ticket targets and elapsed times, which a
    percentile does not need."""
    zones = region_zones(session)
    in_scope = {DEFAULT_TIMEZONE, *(z for r, z in zones.items() if region_ids is None or r in region_ids)}
    lo, _ = day_start_window(start, in_scope)
    _, hi = day_start_window(end, in_scope)
    raw = fetch_tickets(session, lo, hi, region_ids, opened_only=True)
    local_day = _local_days(session, raw.opened, raw.region)
    keep = (local_day >= np.datetime64(start, "D")) & (local_day < np.datetime64(end, "D"))
    if not keep.all():
        raw = RawTickets(**{k: v[keep] for k, v in raw.__dict__.items()})
        local_day = local_day[keep]
    resolved = raw.resolved.copy()
    resolved[raw.unresolved] = np.datetime64("NaT")  # a reopened ticket is not resolved
    sla = _sla_ids(session, raw.service, raw.customer, sla_day(end, utcnow()))
    response_s = np.full(sla.size, np.nan)
    resolution_s = np.full(sla.size, np.nan)
    for sla_id, cal in calendars(session, sla).items():
        mask = sla == sla_id
        opened = raw.opened[mask]
        response_s[mask], resolution_s[mask] = business_seconds_from(
            cal, opened, [raw.first_response[mask], resolved[mask]]
        )
    return TicketDurations(
        service=raw.service,
        region=raw.region,
        tier=raw.tier,
        local_day=local_day,
        response_s=response_s,
        resolution_s=resolution_s,
    )


def load_open_frame(
    session: Session, *, as_of: datetime | None = None, region_ids: frozenset[int] | None = None
) -> TicketFrame:
    """Every unresolved ticket (escalation); SLAs as in force on ``as_of``'s date."""
    as_of = as_of or utcnow()
    raw = fetch_tickets(session, None, None, region_ids)
    return _build(session, raw, date(1970, 1, 1), as_of.date() + timedelta(days=2), as_of, None)


def _build(
    session: Session, raw: RawTickets, start: date, end: date, as_of: datetime, book: TargetBook | None
) -> TicketFrame:
    resolved = raw.resolved.copy()
    resolved[raw.unresolved] = np.datetime64("NaT")  # a reopened ticket is not resolved
    local_day = _local_days(session, raw.opened, raw.region)
    sla = _sla_ids(
        session, raw.service, raw.customer, min(end, as_of.date() + timedelta(days=1)) - timedelta(days=1)
    )
    frame_targets = (book or TargetBook.load(session)).ticket_targets(
        raw.service, raw.tier, raw.customer, raw.priority, local_day
    )
    durations = _durations(session, sla, raw.opened, raw.first_response, resolved, as_of)
    return TicketFrame(
        id=raw.id,
        service=raw.service,
        region=raw.region,
        customer=raw.customer,
        tier=raw.tier,
        priority=raw.priority,
        unresolved=raw.unresolved,
        reopen=raw.reopen,
        transfers=raw.transfers,
        opened=raw.opened,
        first_response=raw.first_response,
        resolved=resolved,
        local_day=local_day,
        sla=sla,
        targets=frame_targets,
        in_period=(local_day >= np.datetime64(start, "D")) & (local_day < np.datetime64(end, "D")),
        as_of=as_of,
        **durations,
    )


def region_zones(session: Session) -> dict[int, str]:
    """Each region's own time zone (the default zone where a region has none)."""
    return {r.id: r.timezone or DEFAULT_TIMEZONE for r in session.execute(select(Region.id, Region.timezone))}


def _local_days(session: Session, opened: NDArray[np.datetime64], region: I64) -> NDArray[np.datetime64]:
    """Each ticket's opening day in its region's time zone: converted once per zone, not per
    region, and each zone's tickets found through a table indexed by region id (ids are row ids),
    not a sort of them (a national provider's 100 regions share a zone or a few: a pass over its
    2,000,000 tickets of five months per region was 0.6 s of the SLA attainment page, issue 19)."""
    out = np.empty(opened.size, dtype="datetime64[D]")
    if not region.size:
        return out
    zones = region_zones(session)
    low = int(region.min())
    present = (np.flatnonzero(np.bincount(region - low)) + low).tolist()
    zone_of = {r: zones.get(r, DEFAULT_TIMEZONE) for r in present}
    named = sorted(set(zone_of.values()))
    if len(named) == 1:
        return utc_to_local(opened, named[0]).astype("datetime64[D]")
    for zone in named:
        in_zone = np.zeros(present[-1] - low + 1, dtype=bool)
        in_zone[[r - low for r, z in zone_of.items() if z == zone]] = True
        mask = in_zone[region - low]
        out[mask] = utc_to_local(opened[mask], zone).astype("datetime64[D]")
    return out


def _sla_ids(session: Session, service: I64, customer: I64, on: date) -> I64:
    out = np.full(service.size, -1, dtype=np.int64)
    if service.size == 0:
        return out
    (services, customers), inverse = distinct_rows(service, customer)
    pairs = [
        (svc, cust if cust >= 0 else None)
        for svc, cust in zip(services.tolist(), customers.tolist(), strict=True)
    ]
    slas = slas_for(session, pairs, on)
    found = np.full(services.size, -1, dtype=np.int64)
    for k, pair in enumerate(pairs):
        sla = slas[pair]
        found[k] = sla.id if sla is not None else -1
    return found[inverse]


def calendars(session: Session, sla_ids: I64) -> dict[int, BusinessCalendar]:
    """The business calendar of each SLA id (-1 or an unknown id: always covered), the SLAs and
    their holidays and make-up working days read in one go."""
    ids = np.unique(sla_ids).tolist()
    known = [i for i in ids if i >= 0]
    slas: dict[int, Sla] = {}
    if known:
        stmt = (
            select(Sla)
            .where(Sla.id.in_(known))
            .options(selectinload(Sla.holidays), selectinload(Sla.workdays))
        )
        slas = {sla.id: sla for sla in session.scalars(stmt)}
    out: dict[int, BusinessCalendar] = {}
    for sla_id in ids:
        sla = slas.get(sla_id)
        out[sla_id] = calendar_for_sla(sla) if sla is not None else BusinessCalendar.always()
    return out


def _durations(
    session: Session,
    sla: I64,
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
        f, r = first[mask], resolved[mask]
        ends = [f, r, np.where(np.isnat(f), now, f), np.where(np.isnat(r), now, r)]
        names = ("response_s", "resolution_s", "response_elapsed_s", "resolution_elapsed_s")
        for name, seconds in zip(names, business_seconds_from(cal, o, ends), strict=True):
            out[name][mask] = seconds
    return out


def periods_of(frame: TicketFrame, granularity: str) -> NDArray[np.datetime64]:
    return period_starts(frame.local_day, granularity)
