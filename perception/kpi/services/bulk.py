"""Set-based writes of validated tickets: a temporary stage table, the diff, and the upsert.

The validated columns go into a temporary table with the driver's fastest path (PostgreSQL:
``COPY ... FROM STDIN`` through psycopg's ``cursor.copy()``; SQLite: ``executemany``). Then two
statements compare and write the whole batch: an UPDATE of existing tickets (matched by
external_id) whose values differ, and an INSERT of the ids not stored yet (a batch at least as
large as the table with its plain indexes set aside and rebuilt, kpi_bulk_indexes). Everything runs on the
caller's connection, inside its transaction, so the import is all-or-nothing. Times travel as
epoch seconds and become timestamps in SQL: SQLite stores SQLAlchemy's own text format
("YYYY-MM-DD HH:MM:SS.ffffff"), PostgreSQL ``timestamp without time zone`` in UTC.
No ORM objects are created: 1,000,000 tickets take seconds, not minutes.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import BindParameter, DateTime, bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from perception.kpi.services.bulk_indexes import indexes_set_aside, worth_setting_aside
from perception.kpi.services.duration_arrays import forget_week_arrays
from perception.kpi.services.ticket_parse import TicketColumns
from perception.kpi.services.ticket_time import Moments

STAGE = "kpi_ticket_stage"
# (column, SQL type); times are epoch seconds in the stage. Free text is TEXT: a value over the
# ticket column's length is staged as it is, then refused with the row's "too long" problem
# (a VARCHAR(n) made PostgreSQL abort the COPY, and the import, with a database error)
STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("row_no", "INTEGER"),
    ("external_id", "TEXT"),
    ("kind", "VARCHAR(12)"),
    ("service_id", "INTEGER"),
    ("region_id", "INTEGER"),
    ("customer_id", "INTEGER"),
    ("tier_id", "INTEGER"),
    ("priority", "VARCHAR(8)"),
    ("contact", "TEXT"),
    ("opened_at", "BIGINT"),
    ("first_response_at", "BIGINT"),
    ("resolved_at", "BIGINT"),
    ("closed_at", "BIGINT"),
    ("engineer", "TEXT"),
    ("status", "VARCHAR(16)"),
    ("reopen_count", "INTEGER"),
    ("transfers", "INTEGER"),
)
_COPY_TYPES = {"INTEGER": "int4", "BIGINT": "int8"}  # PostgreSQL's names of STAGE_COLUMNS' types; else text
TIME_COLUMNS = frozenset({"opened_at", "first_response_at", "resolved_at", "closed_at"})
DATA_COLUMNS = tuple(name for name, _ in STAGE_COLUMNS if name != "row_no")
_NAT = np.iinfo(np.int64).min


def _is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def temp_name(conn: Connection, table: str) -> str:
    """A temporary table's name, qualified so that no table of the database can stand in for it."""
    return f"pg_temp.{table}" if _is_pg(conn) else f"temp.{table}"


def _stage_name(conn: Connection) -> str:
    return temp_name(conn, STAGE)


def stage_value(conn: Connection, column: str, alias: str = "s") -> str:
    """SQL turning the stage's value into the ticket column's stored form."""
    ref = f"{alias}.{column}"
    if column not in TIME_COLUMNS:
        return ref
    if _is_pg(conn):
        return f"(to_timestamp({ref}) AT TIME ZONE 'UTC')"
    return f"(datetime({ref}, 'unixepoch') || '.000000')"


def _differs(conn: Connection, target: str) -> str:
    if _is_pg(conn):
        left = ", ".join(f"{target}.{c}" for c in DATA_COLUMNS)
        right = ", ".join(stage_value(conn, c) for c in DATA_COLUMNS)
        return f"(({left}) IS DISTINCT FROM ({right}))"
    return "(" + " OR ".join(f"{target}.{c} IS NOT {stage_value(conn, c)}" for c in DATA_COLUMNS) + ")"


def _epochs(moments: Moments) -> list[int | None]:
    values = moments.astype("datetime64[s]").astype(np.int64).tolist()
    if not np.isnat(moments).any():
        return values
    return [None if v == _NAT else v for v in values]


def _rows(cols: TicketColumns) -> Iterator[tuple[Any, ...]]:
    return zip(
        cols.row_no,
        cols.external_id,
        cols.kind,
        cols.service_id,
        cols.region_id,
        cols.customer_id,
        cols.tier_id,
        cols.priority,
        cols.contact,
        _epochs(cols.opened),
        _epochs(cols.first_response),
        _epochs(cols.resolved),
        _epochs(cols.closed),
        cols.engineer,
        cols.status,
        cols.reopen_count,
        cols.transfers,
        strict=True,
    )


def tune(conn: Connection) -> dict[str, str]:
    """For this connection while a batch is written. SQLite: a 64 MiB page cache (the default
    2 MiB sends every index insert of a large batch to disk; restored by `untune`; a larger one
    grows the process with the table: 256 MiB held 507 MB resident at 1,000,000 tickets), and
    temporary tables in a file (where SQLite allows the switch): the stage of a 10,000,000-row
    file would hold gigabytes in memory, in a file it sits in the operating system's page cache,
    which gives way under pressure, behind its own cache of 32 MiB, so the import's memory is flat."""
    if _is_pg(conn):
        # PostgreSQL: hash joins of a million staged rows against the table fit in memory instead
        # of spilling in batches (the default work_mem is 4 MB); SET LOCAL ends with the transaction.
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        return {}
    previous = {"cache_size": str(conn.exec_driver_sql("PRAGMA cache_size").scalar())}
    conn.exec_driver_sql("PRAGMA cache_size = -65536")
    if conn.exec_driver_sql("PRAGMA temp_store").scalar() != 1:
        with contextlib.suppress(OperationalError):  # refused inside some transactions
            conn.exec_driver_sql("PRAGMA temp_store = 1")
    conn.exec_driver_sql("PRAGMA temp.cache_size = -32768")
    return previous


def untune(conn: Connection, previous: dict[str, str]) -> None:
    for name, value in previous.items():
        conn.exec_driver_sql(f"PRAGMA {name} = {int(value)}")


def create_stage(conn: Connection, table: str = STAGE) -> None:
    """Create the (empty) temporary stage table (or another table of its columns named ``table``)."""
    drop_stage(conn, table)
    ddl = ", ".join(f"{name} {kind}" for name, kind in STAGE_COLUMNS)
    suffix = " ON COMMIT DROP" if _is_pg(conn) else ""
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {table} ({ddl}){suffix}")


def add_to_stage(conn: Connection, cols: TicketColumns, table: str = STAGE) -> None:
    """Append one chunk of validated tickets to the stage (or to ``table``, made by create_stage)."""
    if _is_pg(conn):
        copy_to_stage(conn, stage_copy_data(conn, cols), table)
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    names = ", ".join(name for name, _ in STAGE_COLUMNS)
    marks = ", ".join("?" for _ in STAGE_COLUMNS)
    cur = raw.cursor()
    try:
        cur.executemany(f"INSERT INTO {temp_name(conn, table)} ({names}) VALUES ({marks})", _rows(cols))  # noqa: S608 - identifiers are module constants
    finally:
        cur.close()


def stage_copy_data(conn: Connection, cols: TicketColumns) -> bytes:
    """A chunk of validated tickets as the data of a binary ``COPY`` into the stage (PostgreSQL),
    formatted in memory without a word to the server, so that one thread can format a chunk
    while another has the connection (kpi_bulk_stream). Binary: the server parses no number (an
    eighth less time to stage a chunk) and text travels as it is, with nothing to escape."""
    import psycopg.copy  # here: an app on SQLite never loads the PostgreSQL driver

    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    out = io.BytesIO()
    with (
        raw.cursor() as cur,
        psycopg.copy.Copy(cur, binary=True, writer=psycopg.copy.FileWriter(out)) as copy,
    ):
        # the columns' types told once: psycopg picks each value's dumper per row otherwise
        # (two fifths of the stage's CPU)
        copy.set_types([_COPY_TYPES.get(kind, "text") for _, kind in STAGE_COLUMNS])
        for row in _rows(cols):
            copy.write_row(row)
    return out.getvalue()


def copy_to_stage(conn: Connection, data: bytes, table: str = STAGE) -> None:
    """Send a chunk formatted by stage_copy_data to the stage (or to ``table``)."""
    names = ", ".join(name for name, _ in STAGE_COLUMNS)
    raw = conn.connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {temp_name(conn, table)} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.write(data)


def close_stage(conn: Connection, table: str = STAGE) -> None:
    """After the last chunk: the planner learns the stage's size (PostgreSQL)."""
    if _is_pg(conn):
        conn.exec_driver_sql(f"ANALYZE {temp_name(conn, table)}")


def stage_tickets(conn: Connection, cols: TicketColumns) -> None:
    """Create the temporary stage table and load the validated tickets into it."""
    create_stage(conn)
    add_to_stage(conn, cols)
    close_stage(conn)


def repeated_keys(
    conn: Connection, stage: str, key: str, limit: int
) -> tuple[list[tuple[int, str, int]], int]:
    """Rows of a stage table (``row_no``, ``key``) whose key an earlier row has: up to ``limit`` of
    (row, key, first row), in file order, and how many there are. Set-based, so a file read in
    chunks is checked across its chunks without holding every key in memory."""
    firsts = (
        f"SELECT {key}, MIN(row_no) AS first_row FROM {stage} "  # noqa: S608 - identifiers are module constants
        f"WHERE {key} <> '' GROUP BY {key} HAVING COUNT(*) > 1"
    )
    body = f"FROM {stage} s JOIN ({firsts}) f ON f.{key} = s.{key} WHERE s.row_no <> f.first_row"
    total = int(conn.exec_driver_sql(f"SELECT COUNT(*) {body}").scalar() or 0)
    if not total:
        return [], 0
    rows = conn.exec_driver_sql(
        f"SELECT s.row_no, s.{key}, f.first_row {body} ORDER BY s.row_no LIMIT {int(limit)}"
    ).all()
    return [(int(r), str(e), int(f)) for r, e, f in rows], total


def repeated_ids(conn: Connection, limit: int) -> tuple[list[tuple[int, str, int]], int]:
    """Staged tickets whose ticket id an earlier row of the file has (``repeated_keys``)."""
    return repeated_keys(conn, _stage_name(conn), "external_id", limit)


def drop_stage(conn: Connection, table: str = STAGE) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {temp_name(conn, table)}")


def diff_counts(conn: Connection) -> tuple[int, int]:
    """(tickets that would be new, existing tickets whose values would change)."""
    sql = (
        f"SELECT SUM(CASE WHEN t.id IS NULL THEN 1 ELSE 0 END), "  # noqa: S608 - identifiers are module constants
        f"SUM(CASE WHEN t.id IS NOT NULL AND {_differs(conn, 't')} THEN 1 ELSE 0 END) "
        f"FROM {_stage_name(conn)} s LEFT JOIN ticket t ON t.external_id = s.external_id"
    )
    new, changed = conn.exec_driver_sql(sql).one()
    return int(new or 0), int(changed or 0)


def changed_sample(conn: Connection, limit: int = 20) -> list[dict[str, Any]]:
    """Up to ``limit`` changing tickets: row, external id and {column: (stored, incoming)}."""
    pairs = ", ".join(f"t.{c} AS old_{c}, {stage_value(conn, c)} AS new_{c}" for c in DATA_COLUMNS)
    sql = (
        f"SELECT s.row_no, s.external_id, {pairs} FROM {_stage_name(conn)} s "  # noqa: S608 - identifiers are module constants
        f"JOIN ticket t ON t.external_id = s.external_id WHERE {_differs(conn, 't')} "
        f"ORDER BY s.row_no LIMIT {int(limit)}"
    )
    out: list[dict[str, Any]] = []
    for row in conn.exec_driver_sql(sql).mappings():
        changes = {}
        for c in DATA_COLUMNS:
            old, new = row[f"old_{c}"], row[f"new_{c}"]
            if _shown(old) != _shown(new):
                changes[c] = (_shown(old), _shown(new))
        out.append({"row": row["row_no"], "external_id": row["external_id"], "changes": changes})
    return out


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text_value = str(value)
    return text_value[:19] if text_value[:4].isdigit() and len(text_value) >= 19 else text_value


def newly_closed(conn: Connection) -> list[str]:
    """External ids of the staged tickets that this batch closes: new closed tickets, and stored
    ones not closed yet (a closed ticket posted again closes nothing)."""
    sql = (
        f"SELECT s.external_id FROM {_stage_name(conn)} s "  # noqa: S608 - identifiers are module constants
        "LEFT JOIN ticket t ON t.external_id = s.external_id "
        "WHERE s.status = 'closed' AND (t.id IS NULL OR t.status <> 'closed') ORDER BY s.row_no"
    )
    return [row[0] for row in conn.exec_driver_sql(sql)]


def _touched_days(conn: Connection, table: str = STAGE) -> list[tuple[int, int]]:
    """(region, UTC day as days since 1970-01-01) of every ticket the stage is about to insert or
    change, where it was and where it will be: the durations stored for those weeks and regions
    are no longer the tickets' (kpi.services.duration_arrays.forget_week_arrays)."""
    stage = temp_name(conn, table)
    old_day = (
        "CAST(EXTRACT(EPOCH FROM t.opened_at) AS BIGINT) / 86400"
        if _is_pg(conn)
        else "CAST(strftime('%s', t.opened_at) AS INTEGER) / 86400"
    )
    sql = (
        f"SELECT DISTINCT s.region_id, s.opened_at / 86400 FROM {stage} s "  # noqa: S608 - identifiers are module constants
        f"LEFT JOIN ticket t ON t.external_id = s.external_id WHERE t.id IS NULL OR {_differs(conn, 't')} "
        f"UNION SELECT DISTINCT t.region_id, {old_day} FROM ticket t JOIN {stage} s "
        f"ON t.external_id = s.external_id WHERE {_differs(conn, 't')}"
    )
    return [(int(r), int(d)) for r, d in conn.exec_driver_sql(sql) if r is not None and d is not None]


def apply_stage(
    conn: Connection, batch_id: int, now: datetime, staged: int = 0, table: str = STAGE
) -> tuple[int, int]:
    """Write the staged tickets (``staged`` of them): (inserted, updated). Unchanged tickets are not
    touched; the stored durations of the weeks and regions the written tickets leave or enter are
    forgotten, so pooled percentiles read those weeks from the tickets until compute_kpis stores
    them again. A batch large beside the table is written with the table's plain indexes set aside
    and rebuilt after (kpi_bulk_indexes)."""
    forget_week_arrays(conn, _touched_days(conn, table))
    with indexes_set_aside(conn, "ticket", worth_setting_aside(conn, "ticket", staged)):
        return _upsert(conn, batch_id, now, table)


def _upsert(conn: Connection, batch_id: int, now: datetime, table: str) -> tuple[int, int]:
    """UPDATE the stored tickets the stage changes, INSERT the ones not stored: (inserted, updated)."""
    stage = temp_name(conn, table)
    sets = ", ".join(f"{c} = {stage_value(conn, c)}" for c in DATA_COLUMNS)
    params = {"batch": batch_id, "now": now}
    binds: tuple[BindParameter[Any], ...] = (bindparam("batch"), bindparam("now", type_=DateTime()))
    updated = conn.execute(
        text(
            f"UPDATE ticket SET {sets}, batch_id = :batch, updated_at = :now FROM {stage} s "  # noqa: S608 - identifiers are module constants
            f"WHERE ticket.external_id = s.external_id AND {_differs(conn, 'ticket')}"
        ).bindparams(*binds),
        params,
    ).rowcount
    new = f"FROM {stage} s WHERE NOT EXISTS (SELECT 1 FROM ticket t WHERE t.external_id = s.external_id)"  # noqa: S608 - identifiers are module constants
    inserted = insert_staged(conn, new, batch_id, now)
    return int(inserted), int(updated)


def insert_staged(conn: Connection, rows: str, batch_id: int, now: datetime) -> int:
    """INSERT into the ticket table the staged rows ``rows`` names (``FROM <stage-shaped table> s
    ...``), as this batch's, written ``now``: how many."""
    names = ", ".join(DATA_COLUMNS)
    values = ", ".join(stage_value(conn, c) for c in DATA_COLUMNS)
    return int(
        conn.execute(
            text(
                f"INSERT INTO ticket ({names}, batch_id, updated_at) SELECT {values}, :batch, :now {rows}"  # noqa: S608 - identifiers are module constants
            ).bindparams(bindparam("batch"), bindparam("now", type_=DateTime())),
            {"batch": batch_id, "now": now},
        ).rowcount
    )
