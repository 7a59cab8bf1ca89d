"""Inserting many rows of a history import: on SQLite straight through the driver's ``executemany``
with the values in the exact text forms SQLAlchemy stores (its per-row parameter processing costs
more than the insert itself at 100,000 responses); on PostgreSQL SQLAlchemy's own batched insert
("insertmanyvalues"), which is already fast there."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Table, insert
from sqlalchemy.engine import Connection

from perception.kpi.services.data_version import mark_written


def _as_sqlite(column_type: Any) -> Callable[[Any], Any] | None:
    """The converter to SQLAlchemy's SQLite storage form of a column type (None: as is)."""
    if isinstance(column_type, DateTime):
        return lambda v: None if v is None else datetime.strftime(v, "%Y-%m-%d %H:%M:%S.%f")
    if isinstance(column_type, Date):
        return lambda v: None if v is None else date.isoformat(v)
    if isinstance(column_type, JSON):
        return lambda v: None if v is None else json.dumps(v)
    return None


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), list(rows))
        return
    keys = list(rows[0])
    converters = [_as_sqlite(table.c[key].type) for key in keys]
    marks = ", ".join("?" for _ in keys)
    sql = f"INSERT INTO {table.name} ({', '.join(keys)}) VALUES ({marks})"  # noqa: S608 - model identifiers
    values = [
        tuple(row[k] if f is None else f(row[k]) for k, f in zip(keys, converters, strict=True))
        for row in rows
    ]
    mark_written(conn, table.name)  # the driver's cursor goes past SQLAlchemy's write counters
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, values)
    finally:
        cursor.close()  # an open cursor keeps its table locked against DROP in this connection
