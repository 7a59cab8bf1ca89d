"""One SELECT of the ticket columns KPI work needs, straight into NumPy arrays.

The database computes what Python would do per row: times as epoch seconds, the priority as a code
1..4, unresolved as 0/1, missing ids as -1. The rows come through the driver's own cursor
(``fetchall`` in C) on the session's connection and transaction, with the cyclic garbage collector
paused while the row tuples exist; SQLAlchemy's row objects would cost more than the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from perception.kpi.models import UNRESOLVED_STATUSES, TicketStatus
from perception.kpi.services.arrays import no_gc
from perception.kpi.services.targets import PRIORITIES

I64 = NDArray[np.int64]


@dataclass
class RawTickets:
    id: I64
    service: I64
    region: I64
    customer: I64  # -1 = none
    tier: I64  # -1 = none
    priority: I64  # code, see PRIORITIES
    unresolved: NDArray[np.bool_]
    reopen: I64
    transfers: I64
    opened: NDArray[np.datetime64]
    first_response: NDArray[np.datetime64]
    resolved: NDArray[np.datetime64]


def _epoch(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def _sql(dialect: str, window: bool, region_ids: frozenset[int] | None, opened_only: bool = False) -> str:
    unresolved = "status IN (" + ", ".join(f"'{s}'" for s in UNRESOLVED_STATUSES) + ")"
    priority = " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(PRIORITIES) if p)
    cols = (
        f"id, service_id, region_id, COALESCE(customer_id, -1), COALESCE(tier_id, -1), "
        f"CASE priority {priority} ELSE 0 END, CASE WHEN {unresolved} THEN 1 ELSE 0 END, "
        f"reopen_count, transfers, {_epoch(dialect, 'opened_at')}, {_epoch(dialect, 'first_response_at')}, "
        f"{_epoch(dialect, 'resolved_at')}"
    )
    mark = "%s" if dialect == "postgresql" else "?"
    if window and opened_only:
        where = f"opened_at < {mark} AND status <> '{TicketStatus.CANCELLED}' AND opened_at >= {mark}"
    elif window:
        where = (
            f"opened_at < {mark} AND status <> '{TicketStatus.CANCELLED}' AND "
            f"(opened_at >= {mark} OR resolved_at IS NULL OR resolved_at >= {mark} OR {unresolved})"
        )
    else:
        where = unresolved
    if region_ids is not None:
        where += " AND region_id IN (" + ",".join(str(int(r)) for r in sorted(region_ids) or [-1]) + ")"
    elif window and opened_only and dialect == "postgresql":
        # Every region's tickets of a short window through the (region_id, opened_at) index: the
        # ticket table's region ids read off that index one probe each (a loose index scan, which
        # PostgreSQL 15 does not plan by itself), then one range per region. Without it a week's
        # tickets (issue 19: the running week's 5,000 of 10,000,000) cost a scan of the whole
        # table (1 s); the planner still scans the table when the window holds too many tickets.
        # Every region id the table holds, not the region table's: the same tickets as without.
        regions = (
            "WITH RECURSIVE r(rid) AS (SELECT MIN(region_id) FROM ticket UNION ALL SELECT "
            "(SELECT MIN(region_id) FROM ticket WHERE region_id > r.rid) FROM r WHERE r.rid IS NOT NULL) "
        )
        return f"{regions}SELECT {cols} FROM ticket WHERE {where} AND region_id IN (SELECT rid FROM r)"  # noqa: S608
    return f"SELECT {cols} FROM ticket WHERE {where}"  # noqa: S608 - constants and ints only


def _bound(dialect: str, moment: datetime) -> Any:
    # SQLite stores SQLAlchemy's text form; comparing with the same form orders correctly.
    return moment if dialect == "postgresql" else moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _moments(values: tuple[Any, ...]) -> NDArray[np.datetime64]:
    seconds = np.array(values, dtype=np.float64)  # None -> NaN
    out = np.full(seconds.size, np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~np.isnan(seconds)
    out[ok] = seconds[ok].astype(np.int64).astype("datetime64[s]")
    return out


def fetch_tickets(
    session: Session,
    lo: datetime | None,
    hi: datetime | None,
    region_ids: frozenset[int] | None,
    *,
    opened_only: bool = False,
) -> RawTickets:
    """Tickets opened before ``hi`` that are relevant from ``lo`` on (opened since, or still open /
    resolved since, not cancelled); ``lo``/``hi`` None: every unresolved ticket. ``opened_only``:
    only the tickets opened in [lo, hi) (no backlog from before ``lo``)."""
    session.flush()
    conn = session.connection()
    dialect = conn.dialect.name
    window = lo is not None and hi is not None
    params: tuple[Any, ...] = ()
    if lo is not None and hi is not None:
        params = (_bound(dialect, hi), _bound(dialect, lo))
        if not opened_only:
            params += (_bound(dialect, lo),)
    raw = conn.connection.driver_connection
    assert raw is not None
    sql = _sql(dialect, window, region_ids, opened_only)
    if dialect == "postgresql":
        return _from_columns(_pg_columns(raw, sql, params))
    cur = raw.cursor()
    with no_gc():
        try:
            cur.execute(sql, params)
            rows = cur.fetchall()
        finally:
            cur.close()
        cols: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in range(12)]
        del rows

        def ints(i: int) -> I64:
            return np.array(cols[i], dtype=np.int64)

        return RawTickets(
            id=ints(0),
            service=ints(1),
            region=ints(2),
            customer=ints(3),
            tier=ints(4),
            priority=ints(5),
            unresolved=ints(6).astype(bool),
            reopen=ints(7),
            transfers=ints(8),
            opened=_moments(cols[9]),
            first_response=_moments(cols[10]),
            resolved=_moments(cols[11]),
        )


_NULL = -(2**63) + 1  # no epoch second a ticket has: stands for NULL in the binary copy
_COLUMNS = 12
# COPY's binary format: a 19-byte header, then per row a 16-bit field count and per field a 32-bit
# length and the value (here always an 8-byte BIGINT), then a 16-bit -1. Reference: PostgreSQL
# documentation, "COPY", section "Binary Format".
_HEADER = 19
_ROW = np.dtype(
    [("fields", ">i2")] + [item for i in range(_COLUMNS) for item in ((f"l{i}", ">i4"), (f"v{i}", ">i8"))]
)


def _pg_columns(raw: Any, sql: str, params: tuple[Any, ...]) -> list[I64]:
    """The query's columns through ``COPY (...) TO STDOUT (FORMAT BINARY)`` with every value a
    non-null BIGINT, so that the rows have one width and NumPy reads them in one go: no Python
    object per value (the tuples of ``fetchall`` cost more than the query itself)."""
    names = ", ".join(f"c{i}" for i in range(_COLUMNS))
    values = ", ".join(f"COALESCE(CAST(c{i} AS BIGINT), {_NULL})" for i in range(_COLUMNS))
    stmt = f"COPY (SELECT {values} FROM ({sql}) AS t({names})) TO STDOUT (FORMAT BINARY)"  # noqa: S608
    # Each row is one block (libpq hands COPY data over a row at a time): added to one growing
    # buffer, not copied into a bytes object each and joined (2,000,000 tickets: 5.2 -> 3.7 s,
    # issue 19).
    data = bytearray()
    with raw.cursor() as cur, cur.copy(stmt, params) as copy:
        for block in copy:
            data += block
    body = memoryview(data)[_HEADER : len(data) - 2]
    if len(body) % _ROW.itemsize:
        raise RuntimeError("unexpected COPY row layout")
    rows = np.frombuffer(body, dtype=_ROW)
    if rows.size and (np.any(rows["fields"] != _COLUMNS) or np.any(rows["l0"] != 8)):
        raise RuntimeError("unexpected COPY row layout")
    return [rows[f"v{i}"].astype(np.int64) for i in range(_COLUMNS)]


def _from_columns(cols: list[I64]) -> RawTickets:
    def moments(values: I64) -> NDArray[np.datetime64]:
        out = values.astype("datetime64[s]")
        out[values == _NULL] = np.datetime64("NaT")
        return out

    return RawTickets(
        id=cols[0],
        service=cols[1],
        region=cols[2],
        customer=cols[3],
        tier=cols[4],
        priority=cols[5],
        unresolved=cols[6].astype(bool),
        reopen=cols[7],
        transfers=cols[8],
        opened=moments(cols[9]),
        first_response=moments(cols[10]),
        resolved=moments(cols[11]),
    )
