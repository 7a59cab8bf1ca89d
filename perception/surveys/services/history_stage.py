"""The source ids of a survey-history file read in chunks (kpi_key_stage): a source id repeated in
a later chunk is found without holding every id in memory. Within a chunk the row checker finds
repeats itself (history_rows.parse_rows); the stage holds each chunk's first rows only, so every
repeat it finds is one across chunks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Connection

from perception.kpi.services.key_stage import KeyStage

STAGE = KeyStage("history_source_stage")


def create(conn: Connection) -> None:
    STAGE.create(conn)


def add(conn: Connection, rows: Iterable[tuple[str, int]]) -> None:
    """Append (source id, row) pairs."""
    STAGE.add(conn, rows)


def repeats(conn: Connection, limit: int) -> tuple[list[tuple[int, str, int]], int]:
    """Up to ``limit`` of (row, source id, its first row) in file order, and how many there are."""
    return STAGE.repeats(conn, limit)


def drop(conn: Connection) -> None:
    STAGE.drop(conn)
