"""A ticket file written into the ticket table while it is still being read (PostgreSQL).

Validating a chunk of the file is this process's work (Python); writing it is the server's (the
ticket table and its indexes). One after the other, a 10,000,000-row history spent about 75 s in
validation and 100 s in the write on a two-core machine, each with the other core idle. Here a
writer thread stages each validated chunk and writes it into the table while the main thread
validates the next one: psycopg waits for the server without holding the GIL, so the two cores
work at once.

The import stays all-or-nothing and its checks stay whole:
- everything is written inside a savepoint of the caller's transaction (the caller opens it), and
  any refusal raises, which rolls it back;
- every row of the file goes to the stage, as on the whole-file path; a chunk is also written
  into the ticket table only while no row of the file has been refused so far and no ticket id
  repeats within the chunk (after the first problem the rest is still validated, so every
  problem is named, but nothing more is written);
- a chunk none of whose tickets is in the table yet is written at once by a plain INSERT (a
  history's first load: nearly every chunk). A chunk with a ticket in the table already (stored
  before, or written by an earlier chunk of this file) is kept aside ("later") and written at the
  end by the set-based diff and upsert (kpi_bulk.apply_stage), as a whole file was before;
- a ticket id twice in the file leaves a row aside beside a ticket this batch wrote, or two rows
  aside: only then, or when the file is refused anyway, the whole stage is searched for repeats
  (kpi_bulk.repeated_keys), which names each with its first row as before.
The stored durations of the weeks and regions the written tickets enter are forgotten at the end
(kpi.services.duration_arrays.forget_week_arrays), in the same transaction.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from types import TracebackType

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection

from perception.kpi.services import bulk as kpi_bulk
from perception.kpi.services.duration_arrays import forget_week_arrays
from perception.kpi.services.ticket_parse import TicketColumns

LATER = "kpi_ticket_later"  # rows whose ticket id is in the table already: written at the end


def streams(conn: Connection) -> bool:
    """Whether a file's tickets are written as they are read on this connection's database.
    SQLite has one writer, in this process: a thread beside it would only take turns with it."""
    return conn.dialect.name == "postgresql"


class StreamWriter:
    """Stage and write validated chunks on a thread of their own, one chunk behind the reading.

    Use as a context manager around the reading (it waits for the last chunk on the way out);
    ``add`` each chunk, ask for the ``repeats`` after the last one, then ``finish`` once the
    whole file is valid. The connection belongs to the writer between the first ``add`` and
    ``repeats``: the caller does not use it meanwhile."""

    def __init__(self, conn: Connection, batch_id: int, now: datetime) -> None:
        self.conn, self.batch_id, self.now = conn, batch_id, now
        self.written = 0
        self.touched: set[tuple[int, int]] = set()
        self.writing = True  # until a row of the file is refused, or an id repeats within a chunk
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ticket-writer")
        self._pending: Future[None] | None = None
        self._stage = kpi_bulk.temp_name(conn, kpi_bulk.STAGE)
        self._later = kpi_bulk.temp_name(conn, LATER)
        kpi_bulk.create_stage(conn)
        kpi_bulk.create_stage(conn, LATER)

    def __enter__(self) -> StreamWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        # Wait for the chunk in the writer's hands: the caller's rollback needs the connection.
        self._pool.shutdown(wait=True)

    def add(self, cols: TicketColumns, clean: bool) -> None:
        """Hand over a validated chunk; ``clean``: no row of the file refused so far."""
        # An id twice in the chunk: the file is refused at the end (its repeats named from the
        # stage); written, the chunk would stop at the unique index with a database error.
        self.writing = self.writing and clean and len(set(cols.external_id)) == len(cols)
        # Formatted here, on the reading thread, which waits for the writer anyway: the writer's
        # thread then only sends bytes and waits for the server, so the server never waits for it.
        data = kpi_bulk.stage_copy_data(self.conn, cols)
        self._wait()
        self._pending = self._pool.submit(self._write, cols, data, self.writing)

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # the writer's error, if any, is raised here

    def _write(self, cols: TicketColumns, data: bytes, write: bool) -> None:
        conn = self.conn
        if not write or not len(cols):
            kpi_bulk.copy_to_stage(conn, data)
            return
        # The chunk's rows are appended to the stage: they lie from its last page on (the free
        # space of that page first; a temporary table is only appended to), with row numbers
        # from the chunk's first.
        pages = f"pg_relation_size('{self._stage}') / current_setting('block_size')::int"
        page = int(conn.exec_driver_sql(f"SELECT GREATEST({pages} - 1, 0)").scalar_one())
        kpi_bulk.copy_to_stage(conn, data)
        first = int(cols.row_no[0])
        chunk = f"FROM {self._stage} s WHERE s.ctid >= '({page},0)'::tid AND s.row_no >= {first}"
        if self._any_stored(chunk):
            conn.exec_driver_sql(f"INSERT INTO {self._later} SELECT s.* {chunk}")  # noqa: S608 - module constants
            return
        self.written += kpi_bulk.insert_staged(conn, chunk, self.batch_id, self.now)
        days = cols.opened.astype("datetime64[D]").astype(np.int64)
        self.touched.update(zip(cols.region_id, days.tolist(), strict=True))

    def _any_stored(self, chunk: str) -> bool:
        """Whether a ticket of the chunk is stored already (or written by an earlier chunk): a
        probe of the ticket id's index per row (a LATERAL with a LIMIT is never turned into a join
        that would read the whole table), stopping at the first."""
        found = self.conn.exec_driver_sql(
            "SELECT 1 FROM (SELECT s.external_id "  # noqa: S608 - module constants
            f"{chunk}) c CROSS JOIN LATERAL "
            "(SELECT 1 FROM ticket t WHERE t.external_id = c.external_id LIMIT 1) stored LIMIT 1"
        ).first()
        return found is not None

    def repeats(self, limit: int) -> tuple[list[tuple[int, str, int]], int]:
        """After the last chunk: rows whose ticket id an earlier row has (kpi_bulk.repeated_keys),
        searched for in the whole stage only when the rows kept aside show one, or when nothing
        more was written (the file is refused anyway and every problem is named)."""
        self._wait()
        if self.writing and not self._repeat_aside():
            return [], 0
        return kpi_bulk.repeated_keys(self.conn, self._stage, "external_id", limit)

    def _repeat_aside(self) -> bool:
        """Whether a row kept aside repeats a ticket this batch wrote, or another row kept aside."""
        found = (
            self.conn.execute(
                text(
                    f"SELECT 1 FROM {self._later} l JOIN ticket t ON t.external_id = l.external_id "  # noqa: S608 - module constants
                    "WHERE t.batch_id = :batch LIMIT 1"
                ),
                {"batch": self.batch_id},
            ).first()
            or self.conn.exec_driver_sql(
                f"SELECT 1 FROM {self._later} GROUP BY external_id HAVING COUNT(*) > 1 LIMIT 1"  # noqa: S608 - module constants
            ).first()
        )
        return found is not None

    def finish(self) -> tuple[int, int]:
        """The whole file is valid: write the rows kept aside, forget the durations of the weeks
        the written tickets entered: (inserted, updated)."""
        self._wait()
        kpi_bulk.close_stage(self.conn, LATER)
        new, changed = kpi_bulk.apply_stage(self.conn, self.batch_id, self.now, table=LATER)
        forget_week_arrays(self.conn, self.touched)
        return self.written + new, changed

    def drop(self) -> None:
        kpi_bulk.drop_stage(self.conn, LATER)
