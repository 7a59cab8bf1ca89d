"""The source ids of a history file read in chunks, staged so that a source id repeated in a
later chunk is found without holding every id in memory: a temporary table of (row, source id)
on the caller's connection, one set-based query at the end. Within a chunk the row checker
finds repeats itself (history_rows.parse_rows); the stage holds each chunk's first rows only, so
every repeat it finds is one across chunks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Connection

from perception.kpi.services.bulk import repeated_keys

STAGE = "history_source_stage"


def _name(conn: Connection) -> str:
    return f"pg_temp.{STAGE}" if conn.dialect.name == "postgresql" else f"temp.{STAGE}"


def create(conn: Connection) -> None:
    drop(conn)
    suffix = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE} (row_no INTEGER, source VARCHAR(64)){suffix}")


def add(conn: Connection, rows: Iterable[tuple[str, int]]) -> None:
    """Append (source id, row) pairs."""
    raw = conn.connection.driver_connection
    assert raw is not None
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    cur = raw.cursor()
    try:
        cur.executemany(
            f"INSERT INTO {_name(conn)} (row_no, source) VALUES ({mark}, {mark})",  # noqa: S608 - a module constant
            [(row, source) for source, row in rows],
        )
    finally:
        cur.close()


def repeats(conn: Connection, limit: int) -> tuple[list[tuple[int, str, int]], int]:
    """Up to ``limit`` of (row, source id, its first row) in file order, and how many there are."""
    return repeated_keys(conn, _name(conn), "source", limit)


def drop(conn: Connection) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_name(conn)}")
