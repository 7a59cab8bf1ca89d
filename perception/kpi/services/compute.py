"""Ticket KPIs per service x region x tier x period, computed set-based and stored as KpiValue rows
with provenance "computed" (so computed and imported KPIs are compared the same way).

Per group (tickets opened in the period, by the local day in the ticket's region):
- volume; p50/p90 of first-response and resolution time in covered minutes (scoring.ticket_kpis,
  Hyndman & Fan type 7 percentiles);
- share within target (%): tickets meeting their own time limit (the standard version in force on
  their opening day, measured in the SLA's covered hours) over tickets measured against a limit,
  where an overdue unanswered ticket counts as measured and missed; the required share is the mean
  of those tickets' required shares, so a mid-period version change weighs each ticket by the
  version it was opened under; met = share >= required (scoring.attainment.is_met);
- first-contact resolution and reopen rate (%), judged against the standard in force on the
  period's first day with the metrics first_contact_resolution_rate / reopen_rate;
- backlog: tickets still open at the end of the period (opened before its end, resolved after it
  or not yet), whatever period they were opened in.

Weekly computations also replace the stored durations behind the percentiles of the weeks and regions
they cover (kpi.services.duration_arrays), in the same transaction as the values: pooled percentiles
read them and never see durations older than the values next to them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Table, delete, insert
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.base import utcnow
from perception.kpi.models import Granularity, KpiValue, Provenance
from perception.kpi.services.arrays import distinct_rows
from perception.kpi.services.definitions import ensure_ticket_definitions
from perception.kpi.services.duration_arrays import store_week_arrays
from perception.kpi.services.kpi_cumulative import keep_cumulative_current
from perception.kpi.services.kpi_week_sums import keep_week_sums_current
from perception.kpi.services.targets import TargetBook, met_or_none, share_percent
from perception.kpi.services.ticket_frame import TicketFrame, load_frame, region_zones
from perception.kpi.services.ticket_time import period_end, period_starts, utc_to_local
from scoring.ticket_kpis import TicketKpis, ticket_kpis

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class WithinTarget:
    share: F64  # % of measured tickets within their limit
    required: F64  # % mean required share of the measured tickets
    measured: NDArray[np.int64]
    hits: NDArray[np.int64]
    version: NDArray[np.int64]  # latest standard version applied in the group (-1 none)


@dataclass(frozen=True)
class Groups:
    """Group keys (one row per group) and the KPIs of each group."""

    service: NDArray[np.int64]
    region: NDArray[np.int64]
    tier: NDArray[np.int64]
    period: NDArray[np.datetime64]
    kpis: TicketKpis
    response: WithinTarget
    resolution: WithinTarget

    def __len__(self) -> int:
        return int(self.service.size)


def within_target(
    codes: NDArray[np.intp],
    size: int,
    value_s: F64,
    overdue: NDArray[np.bool_],
    limit_s: F64,
    share: F64,
    version: NDArray[np.int64],
) -> WithinTarget:
    """Per-group share within per-ticket limits (module docstring); NaN where nothing is measured."""
    has = ~np.isnan(limit_s)
    with np.errstate(invalid="ignore"):
        hit = has & ~np.isnan(value_s) & (value_s <= limit_s)
    measured = has & (~np.isnan(value_s) | overdue)
    m = np.bincount(codes, weights=measured, minlength=size)
    h = np.bincount(codes, weights=hit, minlength=size)
    req = np.bincount(codes, weights=np.where(measured, np.nan_to_num(share), 0.0), minlength=size)
    out_share, out_req = np.full(size, np.nan), np.full(size, np.nan)
    np.divide(100.0 * h, m, out=out_share, where=m > 0)
    np.divide(req, m, out=out_req, where=m > 0)
    latest = np.full(size, -1, dtype=np.int64)
    np.maximum.at(latest, codes[measured], version[measured])
    return WithinTarget(out_share, out_req, m.astype(np.int64), h.astype(np.int64), latest)


def group_tickets(frame: TicketFrame, granularity: str, *, by_tier: bool = True) -> Groups:
    """Group the frame's in-period tickets by service x region (x tier) x period."""
    sub = frame.subset(frame.in_period)
    period = period_starts(sub.local_day, granularity)
    tier = sub.tier if by_tier else np.full(len(sub), -1, dtype=np.int64)
    (services, regions, tiers, days), codes = distinct_rows(
        sub.service, sub.region, tier, period.astype(np.int64)
    )
    size = int(services.size)
    kpis = ticket_kpis(
        codes,
        sub.response_s,
        sub.resolution_s,
        sub.reopen,
        n_groups=size,
        first_contact=sub.transfers == 0,
    )
    t = sub.targets
    return Groups(
        service=services,
        region=regions,
        tier=tiers,
        period=days.astype("datetime64[D]"),
        kpis=kpis,
        response=within_target(
            codes,
            size,
            sub.response_s,
            sub.response_overdue,
            t.response_limit_s,
            t.response_share,
            t.response_version,
        ),
        resolution=within_target(
            codes,
            size,
            sub.resolution_s,
            sub.resolution_overdue,
            t.resolution_limit_s,
            t.resolution_share,
            t.resolution_version,
        ),
    )


def backlog_at_period_ends(
    frame: TicketFrame, starts: list[date], granularity: str, zones: dict[int, str]
) -> dict[tuple[int, int, int, date], int]:
    """(service, region, tier, period start) -> tickets open at the period's end (local days)."""
    if not starts or len(frame) == 0:
        return {}
    ends = np.array([period_end(s, granularity) for s in starts], dtype="datetime64[D]")
    resolved_day = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    for region_id in np.unique(frame.region).tolist():
        mask = frame.region == region_id
        zone = zones.get(region_id, DEFAULT_TIMEZONE)
        resolved_day[mask] = utc_to_local(frame.resolved[mask], zone).astype("datetime64[D]")
    first = np.searchsorted(ends, frame.local_day, side="right")  # first period ending after opening
    last = np.where(np.isnat(resolved_day), len(ends), np.searchsorted(ends, resolved_day, side="right"))
    (c_service, c_region, c_tier), inverse = distinct_rows(frame.service, frame.region, frame.tier)
    combos = np.stack([c_service, c_region, c_tier], axis=1)
    diff = np.zeros((len(combos), len(ends) + 1), dtype=np.int64)
    keep = first < last
    np.add.at(diff, (inverse[keep], first[keep]), 1)
    np.add.at(diff, (inverse[keep], last[keep]), -1)
    open_at_end = np.cumsum(diff, axis=1)[:, : len(ends)]
    out: dict[tuple[int, int, int, date], int] = {}
    for c, p in zip(*np.nonzero(open_at_end), strict=True):
        s, r, t = combos[c].tolist()
        out[(s, r, t, starts[p])] = int(open_at_end[c, p])
    return out


@dataclass(frozen=True)
class ComputeSummary:
    start: date
    end: date
    granularity: str
    tickets: int
    groups: int
    values: int
    seconds: float


def _row(
    definition_id: int, key: tuple[int, int, int, date], granularity: str, value: float, **kw: Any
) -> dict[str, Any]:
    service, region, tier, start = key
    return {
        "definition_id": definition_id,
        "service_id": service,
        "region_id": region,
        "tier_id": tier if tier >= 0 else None,
        "tier_key": max(tier, 0),
        "granularity": granularity,
        "period_start": start,
        "period_end": period_end(start, granularity),
        "value": float(value),
        "n": kw.get("n"),
        "target": kw.get("target"),
        "comparator": kw.get("comparator"),
        "met": kw.get("met"),
        "standard_version_id": kw.get("version"),
        "provenance": Provenance.COMPUTED,
    }


def value_rows(
    groups: Groups,
    backlog: dict[tuple[int, int, int, date], int],
    definitions: dict[str, Any],
    book: TargetBook,
    granularity: str,
) -> list[dict[str, Any]]:
    """KpiValue rows for every group and KPI (NaN values are not stored)."""
    ids = {code: d.id for code, d in definitions.items()}
    k = groups.kpis
    rows: list[dict[str, Any]] = []
    starts = [date.fromisoformat(str(p)) for p in groups.period.tolist()]
    for g in range(len(groups)):
        key = (int(groups.service[g]), int(groups.region[g]), int(groups.tier[g]), starts[g])
        rows.append(_row(ids["TK_VOLUME"], key, granularity, k.n[g], n=int(k.n[g])))
        for code, arr, n in (
            ("TK_RESPONSE_P50", k.response_p50, k.n_responded),
            ("TK_RESPONSE_P90", k.response_p90, k.n_responded),
            ("TK_RESOLUTION_P50", k.resolution_p50, k.n_resolved),
            ("TK_RESOLUTION_P90", k.resolution_p90, k.n_resolved),
        ):
            if not np.isnan(arr[g]):
                rows.append(_row(ids[code], key, granularity, arr[g] / 60.0, n=int(n[g])))
        for code, w in (("TK_RESPONSE_WITHIN", groups.response), ("TK_RESOLUTION_WITHIN", groups.resolution)):
            if not np.isnan(w.share[g]):
                required = float(w.required[g])
                rows.append(
                    _row(
                        ids[code],
                        key,
                        granularity,
                        w.share[g],
                        n=int(w.measured[g]),
                        target=required,
                        comparator=">=",
                        met=met_or_none(float(w.share[g]), required, ">="),
                        version=int(w.version[g]) if w.version[g] >= 0 else None,
                    )
                )
        for code, metric, arr, n in (
            ("TK_FCR", "first_contact_resolution_rate", k.fcr_rate, k.n_resolved),
            ("TK_REOPEN", "reopen_rate", k.reopen_rate, k.n_resolved),
        ):
            if np.isnan(arr[g]):
                continue
            value = float(arr[g]) * 100.0
            version = book.group_target(metric, None, key[0], key[2] if key[2] >= 0 else None, key[3])
            target = (
                share_percent(version.target, version.unit)
                if version and version.target is not None
                else None
            )
            comparator = version.comparator if version else None
            rows.append(
                _row(
                    ids[code],
                    key,
                    granularity,
                    value,
                    n=int(n[g]),
                    target=target,
                    comparator=comparator,
                    met=met_or_none(value, target, comparator),
                    version=version.version_id if version else None,
                )
            )
    for key, count in sorted(backlog.items()):
        rows.append(_row(ids["TK_BACKLOG"], key, granularity, count, n=count))
    return rows


def compute_kpis(
    session: Session,
    start: date,
    end: date,
    *,
    granularity: str = Granularity.WEEK,
    region_ids: frozenset[int] | None = None,
    as_of: datetime | None = None,
) -> ComputeSummary:
    """Recompute and store the ticket KPIs of the periods starting in [start, end); replaces the
    computed values of those periods (imported values are never touched). Flushes, never commits."""
    started = time.perf_counter()
    first = period_starts(np.array([start], dtype="datetime64[D]"), granularity)[0]
    start = date.fromisoformat(str(first))
    definitions = ensure_ticket_definitions(session)
    book = TargetBook.load(session)
    frame = load_frame(session, start, end, region_ids=region_ids, as_of=as_of, book=book)
    groups = group_tickets(frame, granularity)
    starts: list[date] = []
    cursor = start
    while cursor < end:
        starts.append(cursor)
        cursor = period_end(cursor, granularity)
    backlog = backlog_at_period_ends(frame, starts, granularity, region_zones(session))
    rows = value_rows(groups, backlog, definitions, book, granularity)
    stmt = delete(KpiValue).where(
        KpiValue.provenance == Provenance.COMPUTED,
        KpiValue.granularity == granularity,
        KpiValue.period_start >= start,
        KpiValue.period_start < end,
        KpiValue.definition_id.in_([d.id for d in definitions.values()]),
    )
    if region_ids is not None:
        stmt = stmt.where(KpiValue.region_id.in_(sorted(region_ids)))
    session.execute(stmt)
    now = utcnow()
    if rows:
        session.execute(insert(cast(Table, KpiValue.__table__)), [{**r, "stored_at": now} for r in rows])
    if granularity == Granularity.WEEK:
        # The durations behind the percentiles, for pooling them later (kpi.services.pooled).
        sub = frame.subset(frame.in_period)
        store_week_arrays(
            session,
            starts,
            region_ids,
            sub.service,
            sub.region,
            sub.tier,
            sub.local_day,
            sub.response_s,
            sub.resolution_s,
        )
    # The weekly values' running sums and weekly sums over the regions follow from the first week
    # rewritten (issue 19: the last write of KPI values here, kpi.services.kpi_cumulative and
    # kpi_week_sums).
    keep_cumulative_current(session, start if granularity == Granularity.WEEK else None, region_ids)
    keep_week_sums_current(session, start if granularity == Granularity.WEEK else None)
    summary = ComputeSummary(start, end, granularity, int(frame.in_period.sum()), len(groups), len(rows), 0.0)
    record(
        session,
        "compute",
        object_type="KpiValue",
        summary=f"ticket KPIs {granularity} {start}..{end}: {summary.tickets} tickets, {len(rows)} values",
    )
    session.flush()
    return ComputeSummary(**{**summary.__dict__, "seconds": time.perf_counter() - started})
