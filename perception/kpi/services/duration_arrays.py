"""The covered seconds behind the percentile KPIs, stored per region and week (issue 19).

compute_kpis measures every ticket opened in a week (covered seconds to first response and to
resolution) and keeps only each group's P50/P90; pooling several groups again needed the tickets,
and reloading them (SQL, SLA calendars, business seconds) took 16 s for 14 weeks of 1,000,000
tickets. Now compute_kpis also stores, per week and region, each service x tier group's durations
sorted (kpi.models.KpiDurationArray), and a page pools those arrays (kpi.services.pooled).

``Segments`` is the one in-memory form both sources give: per segment (a service x region x tier x
period group) its keys and, per duration column, a run of sorted values in one flat array. From the
stored rows it is a decoding; from tickets (a week no computation covered, the partial weeks at a
period's edges) one sort by (group, value).

A ticket import forgets the arrays of the weeks and regions whose tickets it inserts or changes
(``forget_week_arrays``, from kpi.services.bulk): until compute_kpis stores them again, those weeks
are pooled from the tickets, so a pooled percentile is never older than the tickets.

Public API: ``store_week_arrays``, ``load_week_segments``, ``forget_week_arrays``,
``segments_from_tickets``, ``Segments``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Table, delete, insert, select
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.core.models.org import Region
from perception.kpi.models import Granularity, KpiDurationArray
from perception.kpi.services.arrays import distinct_rows

F64 = NDArray[np.float64]
Values = NDArray[np.float64] | NDArray[np.int32]
I64 = NDArray[np.int64]
COLUMNS = ("response_s", "resolution_s")
_INT_MAX = 2**31 - 1


@dataclass
class Column:
    """One duration column of the segments: their values sorted within each segment, back to back.
    Stored arrays of whole seconds stay 32-bit integers (half the bytes to gather and select; the
    same numbers as their float64 form), ticket-measured ones are float64."""

    values: Values
    count: I64  # per segment
    offset: I64  # per segment: where its run starts in ``values``


@dataclass
class Segments:
    service: I64
    region: I64
    tier: I64
    period: I64  # the period's first day as days since 1970-01-01
    response_s: Column
    resolution_s: Column

    def __len__(self) -> int:
        return int(self.service.size)

    def take(self, mask: NDArray[np.bool_]) -> Segments:
        """The segments where ``mask`` holds (the values stay shared; offsets index them)."""

        def col(c: Column) -> Column:
            return Column(c.values, c.count[mask], c.offset[mask])

        return Segments(
            self.service[mask],
            self.region[mask],
            self.tier[mask],
            self.period[mask],
            col(self.response_s),
            col(self.resolution_s),
        )


def _empty_column() -> Column:
    return Column(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


def empty_segments() -> Segments:
    z = np.zeros(0, dtype=np.int64)
    return Segments(z, z, z, z, _empty_column(), _empty_column())


def concat_segments(parts: Sequence[Segments]) -> Segments:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_segments()
    if len(parts) == 1:
        return parts[0]

    def col(name: str) -> Column:
        cols: list[Column] = [getattr(p, name) for p in parts]
        shifts = np.cumsum([0] + [c.values.size for c in cols[:-1]])
        return Column(
            np.concatenate([c.values for c in cols]),
            np.concatenate([c.count for c in cols]),
            np.concatenate([c.offset + s for c, s in zip(cols, shifts, strict=True)]),
        )

    def keys(name: str) -> I64:
        return np.concatenate([getattr(p, name) for p in parts])

    return Segments(
        keys("service"), keys("region"), keys("tier"), keys("period"), col("response_s"), col("resolution_s")
    )


def segments_from_tickets(
    service: I64, region: I64, tier: I64, period: I64, response_s: F64, resolution_s: F64
) -> Segments:
    """Group tickets by (service, region, tier, period) and sort each group's durations (NaN, not
    measured, left out)."""
    if service.size == 0:
        return empty_segments()
    (s, r, t, p), codes = distinct_rows(service, region, tier, period)
    size = int(s.size)

    def col(values: F64) -> Column:
        valid = ~np.isnan(values)
        c, v = codes[valid], values[valid]
        order = np.lexsort((v, c))
        count = np.bincount(c, minlength=size).astype(np.int64)
        return Column(v[order], count, np.cumsum(count) - count)

    return Segments(s, r, t, p, col(response_s), col(resolution_s))


def _encode(values: F64) -> tuple[str, F64 | NDArray[np.int32]]:
    whole = values.size == 0 or bool(
        np.all(values == np.round(values)) and values.min() >= -_INT_MAX and values.max() <= _INT_MAX
    )
    return ("<i4", values.astype("<i4")) if whole else ("<f8", values.astype("<f8"))


def _day(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def store_week_arrays(
    session: Session,
    weeks: Sequence[date],
    region_ids: frozenset[int] | None,
    service: I64,
    region: I64,
    tier: I64,
    local_day: NDArray[np.datetime64],
    response_s: F64,
    resolution_s: F64,
) -> int:
    """Replace the stored arrays of ``weeks`` (Mondays) for the regions (None: every region) with
    those of the given tickets (opened in those weeks); a region without tickets gets an empty row,
    so "computed, nothing there" differs from "not computed". Returns the rows written."""
    if not weeks:
        return 0
    regions = sorted(region_ids) if region_ids is not None else list(session.scalars(select(Region.id)))
    stmt = delete(KpiDurationArray).where(
        KpiDurationArray.granularity == Granularity.WEEK,
        KpiDurationArray.period_start >= min(weeks),
        KpiDurationArray.period_start <= max(weeks),
    )
    if region_ids is not None:
        stmt = stmt.where(KpiDurationArray.region_id.in_(regions))
    session.execute(stmt)
    monday = local_day.astype("datetime64[D]")
    monday = monday - ((monday.astype(np.int64) - 4) % 7)  # 1970-01-01 was a Thursday
    segs = segments_from_tickets(service, region, tier, monday.astype(np.int64), response_s, resolution_s)
    # Segments come sorted by (service, region, tier, period); a row holds one region and period.
    (row_region, row_period), row_of = distinct_rows(segs.region, segs.period)
    by_row: dict[tuple[int, int], NDArray[np.intp]] = {}
    if len(segs):
        order = np.argsort(row_of, kind="stable")
        bounds = np.searchsorted(row_of[order], np.arange(row_region.size + 1))
        for k in range(row_region.size):
            by_row[(int(row_region[k]), int(row_period[k]))] = order[bounds[k] : bounds[k + 1]]
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for week in weeks:
        day = _day(week)
        for region_id in regions:
            idx = by_row.get((int(region_id), day), np.zeros(0, dtype=np.intp))
            parts = {}
            for name in COLUMNS:
                c: Column = getattr(segs, name)
                parts[name] = gather(c.values, c.offset[idx], c.count[idx])
            both = np.concatenate([parts["response_s"], parts["resolution_s"]])
            dtype, _ = _encode(both)
            header = np.stack(
                [segs.service[idx], segs.tier[idx], segs.response_s.count[idx], segs.resolution_s.count[idx]],
                axis=1,
            ).astype("<i4")
            rows.append(
                {
                    "granularity": Granularity.WEEK,
                    "period_start": week,
                    "region_id": int(region_id),
                    "dtype": dtype,
                    "segments": header.tobytes(),
                    "response": parts["response_s"].astype(dtype).tobytes(),
                    "resolution": parts["resolution_s"].astype(dtype).tobytes(),
                    "stored_at": now,
                }
            )
    if rows:
        session.execute(insert(cast(Table, KpiDurationArray.__table__)), rows)
    return len(rows)


def backfill_week_arrays(
    session: Session, start: date, end: date, *, region_ids: frozenset[int] | None = None
) -> int:
    """Store the arrays of the weeks starting in [start, end) (Mondays) from the tickets, measured
    as compute_kpis measures them, without recomputing the KPI values: for a database whose values
    were computed before the arrays existed. Call it with compute_kpis' windows (the SLA in force on
    a window's last day measures it). Flushes, never commits; returns the rows written."""
    from perception.kpi.services.ticket_frame import load_durations

    d = load_durations(session, start, end, region_ids=region_ids)
    weeks = []
    cursor = start
    while cursor < end:
        weeks.append(cursor)
        cursor += timedelta(weeks=1)
    rows = store_week_arrays(
        session, weeks, region_ids, d.service, d.region, d.tier, d.local_day, d.response_s, d.resolution_s
    )
    session.flush()
    return rows


def forget_week_arrays(conn: Connection, touched: Iterable[tuple[int, int]]) -> int:
    """Delete the stored arrays of the weeks and regions of tickets that changed: ``touched`` holds
    (region, UTC day as days since 1970-01-01) of each ticket's opening; a region's local day is at
    most a day away from the UTC day, so the weeks of the day before and after go too. Returns the
    rows deleted."""
    weeks: dict[int, set[date]] = {}
    epoch = date(1970, 1, 1)
    for region_id, day in touched:
        for d in (day - 1, day, day + 1):
            local = epoch + timedelta(days=d)
            weeks.setdefault(region_id, set()).add(local - timedelta(days=local.weekday()))
    deleted = 0
    t = KpiDurationArray
    for region_id, mondays in sorted(weeks.items()):
        result = conn.execute(delete(t).where(t.region_id == region_id, t.period_start.in_(sorted(mondays))))
        deleted += int(result.rowcount or 0)
    return deleted


def gather(values: Values, offset: I64, count: I64) -> Values:
    """The runs [offset, offset + count) of ``values``, back to back (in ``values``' dtype)."""
    total = int(count.sum())
    if total == 0:
        return values[:0].copy()
    filled = count > 0
    offset, count = offset[filled], count[filled]
    if np.array_equal(offset[1:], offset[:-1] + count[:-1]):
        # The runs lie back to back already (a period's segments, as load_week_segments reads them).
        return values[int(offset[0]) : int(offset[0]) + total].copy()
    # Each index is the one before plus one, except at a run's start, which jumps to its offset:
    # one cumulative sum instead of repeat + arange + add over every value.
    step = np.ones(total, dtype=np.int64)
    starts = np.cumsum(count) - count
    step[starts[1:]] = offset[1:] - (offset[:-1] + count[:-1]) + 1
    step[0] = offset[0]
    return values[np.cumsum(step, out=step)]


def load_week_segments(
    session: Session, start: date, end: date, region_ids: Iterable[int]
) -> tuple[Segments, list[date]]:
    """The stored segments of the weeks starting in [start, end) (Mondays) and ``region_ids``, and
    the weeks whose rows cover every one of those regions; segments of other weeks are left out."""
    regions = sorted(set(region_ids))
    weeks: list[date] = []
    cursor = start
    while cursor < end:
        weeks.append(cursor)
        cursor += timedelta(weeks=1)
    if not weeks or not regions:
        return empty_segments(), weeks if not regions else []
    wanted = set(regions)
    found: dict[date, list[Any]] = {}
    for row in _stored_rows(session, start, end, regions):
        if row.region_id in wanted:
            found.setdefault(row.period_start, []).append(row)
    covered = [w for w in weeks if len(found.get(w, ())) == len(regions)]
    rows = [row for w in covered for row in found[w]]
    if not rows:
        return empty_segments(), covered
    headers = [np.frombuffer(r.segments, dtype="<i4").reshape(-1, 4) for r in rows]
    sizes = np.array([h.shape[0] for h in headers], dtype=np.int64)
    header = np.concatenate(headers).astype(np.int64) if headers else np.zeros((0, 4), dtype=np.int64)
    region = np.repeat(np.array([r.region_id for r in rows], dtype=np.int64), sizes)
    days = {w: _day(w) for w in covered}
    period = np.repeat(np.array([days[r.period_start] for r in rows], dtype=np.int64), sizes)

    whole = all(r.dtype == "<i4" for r in rows)

    def col(attr: str, count: I64) -> Column:
        values: Values
        if whole:
            values = np.frombuffer(b"".join(getattr(r, attr) for r in rows), dtype="<i4").astype(np.int32)
        else:
            values = np.concatenate(
                [np.frombuffer(getattr(r, attr), dtype=r.dtype).astype(np.float64) for r in rows]
            )
        return Column(values, count, np.cumsum(count) - count)

    segs = Segments(
        header[:, 0],
        region,
        header[:, 1],
        period,
        col("response", header[:, 2]),
        col("resolution", header[:, 3]),
    )
    return segs, covered


class _StoredRow(NamedTuple):
    period_start: date
    region_id: int
    dtype: str
    segments: bytes
    response: bytes
    resolution: bytes


def _stored_rows(session: Session, start: date, end: date, regions: list[int]) -> list[_StoredRow]:
    """The stored rows of the weeks in [start, end) (of ``regions`` when under 1000). On PostgreSQL
    through the driver's binary cursor: the bytea columns arrive as they are stored, where text
    transfer doubles them as hex and decodes them again (a year of a national provider's arrays is
    40 MB)."""
    t = KpiDurationArray
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        stmt = select(t.period_start, t.region_id, t.dtype, t.segments, t.response, t.resolution).where(
            t.granularity == Granularity.WEEK, t.period_start >= start, t.period_start < end
        )
        if len(regions) < 1000:
            stmt = stmt.where(t.region_id.in_(regions))
        return [_StoredRow(*row) for row in conn.execute(stmt)]
    session.flush()
    params: tuple[Any, ...] = (str(Granularity.WEEK), start, end)
    if len(regions) < 1000:
        params += (regions,)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor(binary=True) as cur:
        cur.execute(_pg_sql(len(regions) < 1000), params)
        return [_StoredRow(p, r, d, bytes(a), bytes(b), bytes(c)) for p, r, d, a, b, c in cur.fetchall()]


def _pg_sql(by_region: bool) -> str:
    sql = (
        "SELECT period_start, region_id, dtype, segments, response, resolution FROM kpi_duration_array"
        " WHERE granularity = %s AND period_start >= %s AND period_start < %s"
    )
    return sql + " AND region_id = ANY(%s)" if by_region else sql
