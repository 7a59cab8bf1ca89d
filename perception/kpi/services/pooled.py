"""Percentile KPIs of pooled groups, from the durations behind the stored values.

A percentile is not an average: the P90 of two regions' tickets is not the n-weighted mean of the two
regions' P90s (issue 14 measured the mean understating the pooled P90 by 7-12%). When a page shows a
percentile KPI over several stored groups (regions, tiers, services pooled), it asks this module,
which takes the type-7 percentile (scoring.ticket_kpis, numpy's default ``method="linear"``) over
the durations of all of them: the covered business seconds the stored values were computed from.

Issue 19: those durations come from the arrays compute_kpis stores per region and week
(kpi.services.duration_arrays), sorted per group, so pooling is a merge instead of reloading and
re-measuring the tickets (16 s for 14 weeks of 1,000,000 tickets): a group of one stored array
reads its order statistics directly, a group of several selects them with ``np.partition`` over the
concatenated arrays; either way the value is numpy's percentile of the union, exactly. Only what
no computation covers is measured from the tickets (kpi_ticket_frame.load_durations): the days of
a period's partial first and last weeks, weeks with a region not computed, and months.

A page pools the same durations several ways (per service and region, per service, all together),
so those loaded for a period and scope are kept for the rest of the database transaction (in the
connection's ``info``) and forgotten at its end, at a savepoint's rollback and at the first statement
that may write: a page never sees figures older than its own transaction, and never pays the load
twice.

Public API: ``pooled_percentiles(session, start, end, keys, ...) -> {(code, key..., period): (minutes, n)}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, event, select
from sqlalchemy.orm import Session

from perception.core.models.org import Region
from perception.kpi.models import Granularity
from perception.kpi.services.arrays import distinct_rows
from perception.kpi.services.duration_arrays import (
    Column,
    Segments,
    concat_segments,
    gather,
    load_week_segments,
    segments_from_tickets,
)
from perception.kpi.services.ticket_frame import load_durations
from perception.kpi.services.ticket_time import period_starts

#: Stored KPI codes that are percentiles: (duration column, percentile).
PERCENTILE_KPIS: dict[str, tuple[str, float]] = {
    "TK_RESPONSE_P50": ("response_s", 50.0),
    "TK_RESPONSE_P90": ("response_s", 90.0),
    "TK_RESOLUTION_P50": ("resolution_s", 50.0),
    "TK_RESOLUTION_P90": ("resolution_s", 90.0),
}

#: Grouping columns a caller may keep; the others are pooled.
KEYS = ("service", "region", "tier")

PooledKey = tuple[object, ...]

_KEPT = "perception.kpi.pooled.tickets"
#: Statements that change no rows; any other statement on the connection forgets the kept tickets.
_READS = ("SELECT", "SAVEPOINT", "RELEASE", "SET", "SHOW", "PRAGMA")


def _kept(
    session: Session, start: date, end: date, region_ids: frozenset[int] | None, granularity: str | None
) -> Segments:
    session.flush()  # before the kept copy is looked at: a pending change would forget it
    info = session.connection().info
    key = (start, end, region_ids, granularity)
    found = info.get(_KEPT, {}).get(key)
    if found is None:
        found = _load(session, start, end, region_ids, granularity)
        info.setdefault(_KEPT, {})[key] = found
    return found  # type: ignore[no-any-return]


def _load(
    session: Session, start: date, end: date, region_ids: frozenset[int] | None, granularity: str | None
) -> Segments:
    """The segments of the tickets opened in [start, end): whole weeks from the stored arrays where
    every region in scope was computed, the rest from the tickets."""
    parts: list[Segments] = []
    from_tickets: list[tuple[date, date]] = []
    first = start + timedelta(days=(7 - start.weekday()) % 7)  # the first Monday on or after start
    last = end - timedelta(days=end.weekday())  # the last Monday on or before end
    if granularity in (Granularity.WEEK, None) and first < last:
        regions = region_ids if region_ids is not None else frozenset(session.scalars(select(Region.id)))
        stored, covered = load_week_segments(session, first, last, regions)
        parts.append(stored)
        done = set(covered)
        cursor, lo = start, start
        while cursor < end:
            step = first if cursor < first else (cursor + timedelta(weeks=1) if cursor < last else end)
            if cursor in done:
                if lo < cursor:
                    from_tickets.append((lo, cursor))
                lo = step
            cursor = step
        if lo < end:
            from_tickets.append((lo, end))
    else:
        from_tickets.append((start, end))
    for lo, hi in from_tickets:
        d = load_durations(session, lo, hi, region_ids=region_ids)
        period = period_starts(d.local_day, granularity or Granularity.WEEK).astype("datetime64[D]")
        parts.append(
            segments_from_tickets(
                d.service, d.region, d.tier, period.astype(np.int64), d.response_s, d.resolution_s
            )
        )
    return concat_segments(parts)


# The kept tickets live in the connection's info for one transaction at most: forgotten when a
# transaction begins, commits or rolls back (savepoints too), and when any statement that may write
# runs on the connection (an import's Core INSERT as much as an ORM flush).
@event.listens_for(Engine, "before_cursor_execute")
def _forget_on_write(
    conn: Connection, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    if _KEPT in conn.info and not statement.lstrip()[:9].upper().startswith(_READS):
        del conn.info[_KEPT]


def _forget(conn: Connection, *_: Any) -> None:
    conn.info.pop(_KEPT, None)


for _name in ("begin", "commit", "rollback", "rollback_savepoint"):
    event.listen(Engine, _name, _forget)


def pooled_percentiles(
    session: Session,
    start: date,
    end: date,
    keep: Sequence[str],
    *,
    region_ids: frozenset[int] | None = None,
    service_id: int | None = None,
    tier_id: int | None = None,
    granularity: str | None = Granularity.WEEK,
) -> dict[PooledKey, tuple[float, int]]:
    """Per percentile KPI code, the kept columns (``keep`` from KEYS, in that order) and the period
    start: (value in covered minutes, tickets measured), over the tickets opened in [start, end) in
    the given scope with every other column pooled. Keys: ``(code, *kept ids, period_start)``.
    ``granularity=None``: [start, end) is one period (keyed by ``start``); tier -1 is "no tier"."""
    unknown = set(keep) - set(KEYS)
    if unknown:
        raise ValueError(f"unknown grouping columns {sorted(unknown)}")
    segs = _kept(session, start, end, region_ids, granularity)
    mask = np.ones(len(segs), dtype=bool)
    if service_id is not None:
        mask &= segs.service == service_id
    if tier_id is not None:
        mask &= segs.tier == tier_id
    if not mask.any():
        return {}
    if not mask.all():
        segs = segs.take(mask)
    period = segs.period if granularity is not None else np.full(len(segs), _day(start), dtype=np.int64)
    columns = [getattr(segs, k) for k in KEYS if k in keep]
    distinct, group = distinct_rows(*columns, period)
    size = int(distinct[0].size)
    starts = [date.fromisoformat(str(d)) for d in distinct[-1].astype("datetime64[D]").tolist()]
    out: dict[PooledKey, tuple[float, int]] = {}
    for column in ("response_s", "resolution_s"):
        wanted = [(code, q) for code, (col, q) in PERCENTILE_KPIS.items() if col == column]
        qs, n = _grouped_percentiles(getattr(segs, column), group, size, [q for _, q in wanted])
        ids = [c.tolist() for c in distinct[:-1]]
        values = (qs / 60.0).tolist()
        counts = n.tolist()
        for g in np.flatnonzero(n).tolist():
            key = tuple(c[g] for c in ids)
            for j, (code, _) in enumerate(wanted):
                out[(code, *key, starts[g])] = (values[g][j], counts[g])
    return out


def _day(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _grouped_percentiles(
    col: Column, group: NDArray[np.intp], size: int, q: list[float]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Type-7 percentiles (scoring.ticket_kpis.grouped_percentiles' formula) of the union of each
    group's segments, and the values counted. A group of one non-empty segment is already sorted;
    a group of several is gathered and its order statistics selected with ``np.partition``."""
    n = np.bincount(group, weights=col.count, minlength=size).astype(np.int64)
    filled = col.count > 0
    pieces = np.bincount(group[filled], minlength=size)
    p = np.asarray(q, dtype=np.float64) / 100.0
    h = (np.maximum(n, 1) - 1)[:, None] * p[None, :]
    lo = np.floor(h).astype(np.intp)
    hi = np.minimum(lo + 1, np.maximum(n, 1)[:, None] - 1)
    if pieces.max(initial=0) <= 1:
        values = col.values
        base = np.zeros(size, dtype=np.int64)
        base[group[filled]] = col.offset[filled]
    else:
        order = np.argsort(group, kind="stable")
        values = gather(col.values, col.offset[order], col.count[order])
        base = np.cumsum(n) - n
        # Every group's order statistics at once, as lists: a repeated kth selects nothing twice.
        kth = np.sort(np.concatenate([lo, hi], axis=1), axis=1).tolist()
        starts, sizes = base.tolist(), n.tolist()
        for g in np.flatnonzero(pieces > 1).tolist():
            a = starts[g]
            values[a : a + sizes[g]].partition(kth[g])
    out = np.full((size, p.size), np.nan)
    has = n > 0
    at = base[has, None]
    x_lo = values[at + lo[has]].astype(np.float64)
    x_hi = values[at + hi[has]].astype(np.float64)
    out[has] = x_lo + (h[has] - lo[has]) * (x_hi - x_lo)
    return out, n
