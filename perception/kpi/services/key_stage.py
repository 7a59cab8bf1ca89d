"""Keys of an import file read in chunks, staged so that a key repeated in a later chunk is found
without holding every key in memory: a temporary table of (row, key) on the caller's connection
and one set-based query at the end (kpi_bulk.repeated_keys). Each import finds the repeats
inside a chunk itself and stages only each chunk's first row of a key, so every repeat the stage
finds is one across chunks. Every history import that reads its file in chunks (survey answers,
callbacks, weekly reports, KPI values) uses one of these."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from perception.kpi.services.bulk import repeated_keys


@dataclass(frozen=True)
class KeyStage:
    """A temporary (row_no, key) table named ``table``; ``width`` characters of key."""

    table: str
    width: int = 64

    def _name(self, conn: Connection) -> str:
        return f"pg_temp.{self.table}" if conn.dialect.name == "postgresql" else f"temp.{self.table}"

    def create(self, conn: Connection) -> None:
        self.drop(conn)
        suffix = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {self.table} (row_no INTEGER, source VARCHAR({int(self.width)})){suffix}"
        )

    def add(self, conn: Connection, rows: Iterable[tuple[str, int]]) -> None:
        """Append (key, row) pairs."""
        pairs = [(row, key) for key, row in rows]
        if not pairs:
            return
        raw = conn.connection.driver_connection
        assert raw is not None
        mark = "%s" if conn.dialect.name == "postgresql" else "?"
        cur = raw.cursor()
        try:
            cur.executemany(
                f"INSERT INTO {self._name(conn)} (row_no, source) VALUES ({mark}, {mark})",  # noqa: S608 - a module constant
                pairs,
            )
        finally:
            cur.close()

    def repeats(self, conn: Connection, limit: int) -> tuple[list[tuple[int, str, int]], int]:
        """Up to ``limit`` of (row, key, its first row) in file order, and how many there are."""
        return repeated_keys(conn, self._name(conn), "source", limit)

    def drop(self, conn: Connection) -> None:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self._name(conn)}")
