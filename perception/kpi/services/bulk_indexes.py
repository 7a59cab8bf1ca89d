"""A table's secondary indexes set aside while a large batch is written into it, then rebuilt.

Each row a batch inserts goes into every index of the table. Into an index whose order is not the
batch's (the ticket table's ``(region_id, opened_at)``: a file lists tickets by id, not by region
and time), each insert lands on a random page; once the index outgrows the cache (SQLite's 64 MiB
during the import, PostgreSQL's shared buffers) nearly every insert reads and dirties a page that
is not in memory, and the write of 10,000,000 tickets took 31 times the write of 1,000,000.
Building the index afterwards sorts its entries once instead.

Only plain (non-unique) indexes are set aside: a unique index or constraint keeps checking every
row as it is written. The indexes are dropped and rebuilt on the caller's connection, inside its
transaction: if anything fails before the commit, the rollback restores them with the table, so
the import stays all-or-nothing. Only SQLite takes this path (``worth_setting_aside``): its
readers keep reading the snapshot before the write (WAL), indexes included, and it has one writer
anyway. On PostgreSQL ``DROP INDEX`` takes the table's ACCESS EXCLUSIVE lock until the commit, so
every page and job reading tickets would wait through the whole write (minutes for a history of
millions): the import keeps its indexes there and leaves the server's ~40 % saving at 10M rows
(h19imp, session 11) for a lock-free plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

# A batch of at least this many rows, and at least as many as the table holds, is written with the
# table's plain indexes set aside: smaller ones are written faster into the indexes as they are.
LARGE_BATCH_ROWS = 200_000


def worth_setting_aside(conn: Connection, table: str, batch_rows: int) -> bool:
    """Whether a batch of ``batch_rows`` rows written on SQLite is large beside ``table``:
    rebuilding its indexes (a sort of every row, old and new) then costs less than inserting into
    them row by row.
    The table's size is its largest id (at least its row count, read from the primary key's end)."""
    if batch_rows < LARGE_BATCH_ROWS or conn.dialect.name != "sqlite":
        return False
    stored = conn.exec_driver_sql(f"SELECT MAX(id) FROM {table}").scalar()  # noqa: S608 - a module constant
    return batch_rows >= int(stored or 0)


def plain_indexes(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, the statement creating it) of each non-unique index of ``table``."""
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = CAST(%(table)s AS regclass) AND NOT i.indisunique AND NOT i.indisprimary "
            "ORDER BY c.relname",
            {"table": table},
        ).all()
    else:
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
            (table,),
        ).all()
    return [(str(name), str(sql)) for name, sql in rows]


@contextmanager
def indexes_set_aside(conn: Connection, table: str, active: bool = True) -> Iterator[None]:
    """Drop ``table``'s plain indexes for the block and rebuild them after it (when ``active``).
    If the block raises, the indexes are not rebuilt: the caller's rollback brings them back."""
    if not active:
        yield
        return
    indexes = plain_indexes(conn, table)
    for name, _ in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    if conn.dialect.name == "postgresql":
        # the rebuild's sort in memory rather than in runs on disk (the default is 64 MB);
        # SET LOCAL ends with the transaction
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
    yield
    for _, create in indexes:
        conn.exec_driver_sql(create)
