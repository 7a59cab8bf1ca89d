"""A ticket file written into the ticket table while it is still being read (PostgreSQL).

Validating a chunk of the file is this process's work (Python); writing it is the server's (the
ticket table and its indexes). One after the other, a 10,000,000-row history spent about 75 s in
each on a two-core machine, the other core idle. Here a writer thread stages each validated chunk
and writes it into the table while the main thread validates the next one: psycopg waits for the
server without holding the GIL, so the two cores work at once.

The import stays all-or-nothing and its checks stay whole:
- everything is written inside a savepoint of the caller's transaction (the caller opens it), and
  any refusal raises, which rolls it back;
- a chunk is written only while no row of the file has been refused so far; after the first
  problem the rest of the file is still validated (every problem is named) but nothing more is
  written;
- every chunk's (row, ticket id) goes to a key table, so an id repeated anywhere in the file is
  found at the end (kpi_bulk.repeated_keys) and refuses the file, as before;
- only a chunk of tickets none of which is stored yet, and with no id twice, is written at once,
  by a plain INSERT (a history's first load: nearly every chunk). A chunk that touches stored
  tickets is kept in the stage and written at the end by the set-based diff and upsert
  (kpi_bulk.apply_stage), as a whole file was before: its hash joins over the whole stage beat
  probing the table chunk by chunk.
The stored durations of the weeks and regions the written tickets enter are forgotten at the end
(kpi.services.duration_arrays.forget_week_arrays), in the same transaction.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from types import TracebackType

import numpy as np
from sqlalchemy.engine import Connection

from perception.kpi.services import bulk as kpi_bulk
from perception.kpi.services.duration_arrays import forget_week_arrays
from perception.kpi.services.ticket_parse import TicketColumns

CHUNK = "kpi_ticket_chunk"  # one chunk, as it is written
KEYS = "kpi_ticket_keys"  # (row, ticket id) of every row of the file, for the repeats at the end


def streams(conn: Connection) -> bool:
    """Whether a file's tickets are written as they are read on this connection's database.
    SQLite has one writer, in this process: a thread beside it would only take turns with it."""
    return conn.dialect.name == "postgresql"


class StreamWriter:
    """Stage and write validated chunks on a thread of their own, one chunk behind the reading.

    Use as a context manager around the reading (it waits for the last chunk on the way out);
    ``add`` each chunk, then ``finish`` once the whole file is valid. The connection belongs to
    the writer between the first ``add`` and ``finish``: the caller does not use it meanwhile."""

    def __init__(self, conn: Connection, batch_id: int, now: datetime) -> None:
        self.conn, self.batch_id, self.now = conn, batch_id, now
        self.inserted = 0
        self.touched: set[tuple[int, int]] = set()
        self.writing = True  # until a row is refused or an id repeats within a chunk
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ticket-writer")
        self._pending: Future[None] | None = None
        kpi_bulk.create_stage(conn)
        kpi_bulk.create_stage(conn, CHUNK)
        kpi_bulk.drop_stage(conn, KEYS)
        keys = "row_no INTEGER, external_id TEXT"
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {KEYS} ({keys}) ON COMMIT DROP")

    def __enter__(self) -> StreamWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        # Wait for the chunk in the writer's hands: the caller's rollback needs the connection.
        self._pool.shutdown(wait=True)

    def add(self, cols: TicketColumns, clean: bool) -> None:
        """Hand over a validated chunk; ``clean``: no row of the file refused so far."""
        self._wait()
        if not clean or len(set(cols.external_id)) != len(cols):
            self.writing = False
        self._pending = self._pool.submit(self._write, cols, self.writing)

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # the writer's error, if any, is raised here

    def _write(self, cols: TicketColumns, write: bool) -> None:
        conn = self.conn
        chunk = kpi_bulk.temp_name(conn, CHUNK)
        conn.exec_driver_sql(f"TRUNCATE {chunk}")
        kpi_bulk.add_to_stage(conn, cols, CHUNK)
        conn.exec_driver_sql(
            f"INSERT INTO {kpi_bulk.temp_name(conn, KEYS)} (row_no, external_id) "  # noqa: S608 - module constants
            f"SELECT row_no, external_id FROM {chunk}"
        )
        if write and not self._any_stored(chunk):
            self.inserted += kpi_bulk.insert_tickets(conn, chunk, self.batch_id, self.now)
            days = cols.opened.astype("datetime64[D]").astype(np.int64)
            self.touched.update(zip(cols.region_id, days.tolist(), strict=True))
        elif write:
            stage = kpi_bulk.temp_name(conn, kpi_bulk.STAGE)
            conn.exec_driver_sql(f"INSERT INTO {stage} SELECT * FROM {chunk}")  # noqa: S608 - module constants

    def _any_stored(self, chunk: str) -> bool:
        """Whether a ticket of the chunk is stored already: a probe of the ticket id's index per
        row (a LATERAL with a LIMIT is never turned into a join that would read the whole table),
        stopping at the first."""
        found = self.conn.exec_driver_sql(
            f"SELECT 1 FROM {chunk} s CROSS JOIN LATERAL "  # noqa: S608 - module constants
            "(SELECT 1 FROM ticket t WHERE t.external_id = s.external_id LIMIT 1) stored LIMIT 1"
        ).first()
        return found is not None

    def repeats(self, limit: int) -> tuple[list[tuple[int, str, int]], int]:
        """After the last chunk: rows whose ticket id an earlier row has (kpi_bulk.repeated_keys)."""
        self._wait()
        return kpi_bulk.repeated_keys(self.conn, kpi_bulk.temp_name(self.conn, KEYS), "external_id", limit)

    def finish(self) -> tuple[int, int]:
        """The whole file is valid: write the chunks kept for the end, forget the durations of the
        weeks the written tickets entered: (inserted, updated)."""
        self._wait()
        kpi_bulk.close_stage(self.conn)
        new, changed = kpi_bulk.apply_stage(self.conn, self.batch_id, self.now)
        forget_week_arrays(self.conn, self.touched)
        return self.inserted + new, changed

    def drop(self) -> None:
        for table in (CHUNK, KEYS):
            kpi_bulk.drop_stage(self.conn, table)
