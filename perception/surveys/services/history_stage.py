"""The source ids of a history file read in chunks, staged so that a source id repeated in a
later chunk is found without holding every id in memory: a temporary table of (row, source id)
on the caller's connection, one set-based query at the end. Within a chunk the row checker
finds repeats itself (history_rows.parse_rows); the stage holds each chunk's first rows only, so
every repeat it finds is one across chunks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Connection

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
    stage = _name(conn)
    firsts = (
        f"SELECT source, MIN(row_no) AS first_row FROM {stage} "  # noqa: S608 - a module constant
        "GROUP BY source HAVING COUNT(*) > 1"
    )
    body = f"FROM {stage} s JOIN ({firsts}) f ON f.source = s.source WHERE s.row_no <> f.first_row"
    total = int(conn.exec_driver_sql(f"SELECT COUNT(*) {body}").scalar() or 0)
    if not total:
        return [], 0
    found = conn.exec_driver_sql(
        f"SELECT s.row_no, s.source, f.first_row {body} ORDER BY s.row_no LIMIT {int(limit)}"
    )
    return [(int(r), str(s), int(f)) for r, s, f in found], total


def drop(conn: Connection) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_name(conn)}")
