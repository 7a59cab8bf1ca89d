"""Ticket import: file or API batch -> validation -> dry run or all-or-nothing upsert, audited.

The flow (same for the web upload, the JSON API and the CLI):

1. read the file (kpi_files: format, encoding, size) or the API's array of objects;
2. validate every column (kpi_ticket_parse); any problem refuses the whole import with every
   problem named (row, column, value, reason): nothing is stored;
3. stage the rows and compare them with what is stored (kpi_bulk): new, changed, unchanged;
4. dry run: keep the upload (``store_dir``) and an ImportBatch in status ``dry_run`` showing what
   would change; apply: UPDATE changed + INSERT new in the caller's transaction, mark the batch
   ``applied`` and record an "import" audit entry with the counts. On PostgreSQL a file applied
   is written while it is read, inside a savepoint, each chunk as soon as it is valid
   (kpi_bulk_stream): the same checks, the same table afterwards, in less time;
5. a batch of objects (the API's, a service-desk event's) is live data: the tickets it closes get
   their transactional survey invitation at once: ``tickets_closed`` is sent, and the kpi phase's
   wiring (``perception.kpi.closes``) asks for the surveys phase's job, which applies each
   campaign's sampling and the contact's frequency cap. A file is history and is left to each
   campaign's daily scan.

The same file (SHA-256 of its bytes) applied before is recognised and refused unless
``allow_duplicate``: re-applying it would change nothing, and saying so beats a silent no-op.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from blinker import Namespace
from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.models.base import utcnow
from perception.core.uploads import DEFAULT_MAX_UNPACKED_BYTES, Source, check_size, scan_source
from perception.kpi.models import ImportBatch, ImportKind, ImportStatus
from perception.kpi.services import bulk as kpi_bulk
from perception.kpi.services.arrays import no_gc
from perception.kpi.services.bulk_stream import StreamWriter, streams
from perception.kpi.services.codebook import Codebook, match_columns
from perception.kpi.services.files import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_EXCEL_ROWS,
    Table,
    TableStream,
    read_table,
    sha256,
    stream_table,
    table_from_items,
)
from perception.kpi.services.messages import (
    MAX_PROBLEMS,
    ImportProblem,
    KpiImportError,
    ProblemList,
    problem,
    refused,
)
from perception.kpi.services.ticket_parse import TICKET_COLUMNS, TicketColumns, parse_tickets

# Sent (sender: the session; ``ticket_ids``) when an applied batch of objects closes tickets.
tickets_closed = Namespace().signal("tickets-closed")

CHUNK_ROWS = 20_000  # rows validated and staged at a time: the import's memory, whatever the file's length


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = True
    allow_duplicate: bool = False
    user_id: int | None = None
    allowed_regions: frozenset[int] | None = None  # None = every region
    store_dir: Path | None = None  # where a dry run keeps the upload until it is applied
    max_bytes: int = DEFAULT_MAX_BYTES
    max_excel_rows: int = DEFAULT_MAX_EXCEL_ROWS
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES


@dataclass(frozen=True)
class ImportResult:
    batch_id: int
    kind: str
    dry_run: bool
    rows_total: int
    rows_new: int
    rows_changed: int
    rows_unchanged: int
    file_format: str
    encoding: str | None
    seconds: float
    duplicate_of: int | None = None  # an applied batch with the same content
    sample: tuple[dict[str, Any], ...] = ()
    notes: tuple[ImportProblem, ...] = field(default=())  # e.g. ignored columns
    # seconds per step: read, validate, stage, write (a file written as it is read: in "validate")
    phases: tuple[tuple[str, float], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "kind": self.kind,
            "dry_run": self.dry_run,
            "rows_total": self.rows_total,
            "rows_new": self.rows_new,
            "rows_changed": self.rows_changed,
            "rows_unchanged": self.rows_unchanged,
            "file_format": self.file_format,
            "encoding": self.encoding,
            "seconds": round(self.seconds, 3),
            "duplicate_of": self.duplicate_of,
            "sample": [
                {"row": s["row"], "external_id": s.get("external_id"), "changes": s["changes"]}
                for s in self.sample
            ],
            "notes": [n.as_json() for n in self.notes],
        }


def items_digest(items: Any) -> tuple[bytes, str]:
    """Canonical bytes and SHA-256 of an API batch (so the same batch twice is recognised)."""
    data = json.dumps(items, sort_keys=True, ensure_ascii=False, default=str).encode()
    return data, sha256(data)


def find_duplicate(session: Session, kind: str, digest: str) -> ImportBatch | None:
    return session.scalar(
        select(ImportBatch)
        .where(
            ImportBatch.kind == kind,
            ImportBatch.sha256 == digest,
            ImportBatch.status == ImportStatus.APPLIED,
        )
        .order_by(ImportBatch.id.desc())
        .limit(1)
    )


def refuse_duplicate(previous: ImportBatch) -> KpiImportError:
    when = (previous.applied_at or previous.created_at).strftime("%Y-%m-%d %H:%M")
    return refused("duplicate_file", when=when, batch=previous.id)


def unknown_column_notes(table: Table, spec: dict[str, tuple[str, ...]]) -> tuple[ImportProblem, ...]:
    _, unknown = match_columns(table.header, spec)
    return tuple(problem(1, table.header[i], None, "unknown_column") for i in unknown if table.header[i])


def load_source(data: Source | None, items: Any, options: ImportOptions) -> tuple[Table, str, int]:
    """(table, sha256, size) from file bytes (or a path, read whole) or an API array."""
    if isinstance(data, Path):
        check_size(data.stat().st_size, options.max_bytes, KpiImportError)
        data = data.read_bytes()
    if data is not None:
        return (
            read_table(
                data,
                max_bytes=options.max_bytes,
                max_excel_rows=options.max_excel_rows,
                max_unpacked_bytes=options.max_unpacked_bytes,
            ),
            sha256(data),
            len(data),
        )
    raw, digest = items_digest(items)
    return table_from_items(items), digest, len(raw)


def prepare_batch(
    session: Session,
    kind: str,
    options: ImportOptions,
    *,
    filename: str | None,
    file_format: str,
    encoding: str | None,
    digest: str,
    size: int,
    batch: ImportBatch | None,
) -> tuple[ImportBatch, int | None]:
    """The ImportBatch row for this run (reusing a dry run's row on apply) and a duplicate's id."""
    previous = find_duplicate(session, kind, digest)
    if previous is not None and not options.dry_run and not options.allow_duplicate:
        raise refuse_duplicate(previous)
    if batch is None:
        channel = "api" if file_format == "json" else "file"
        batch = new_batch(session, kind, options, filename, channel)
        describe_batch(batch, file_format, encoding, digest, size)
        session.flush()
    return batch, previous.id if previous is not None else None


def new_batch(
    session: Session, kind: str, options: ImportOptions, filename: str | None, channel: str = "file"
) -> ImportBatch:
    """A new ImportBatch row (flushed: its id is known); what the file is, ``describe_batch``."""
    batch = ImportBatch(
        kind=kind,
        channel=channel,
        filename=(filename or "")[:255] or None,
        sha256="",
        created_by_id=options.user_id,
    )
    session.add(batch)
    session.flush()
    return batch


def describe_batch(
    batch: ImportBatch, file_format: str, encoding: str | None, digest: str, size: int
) -> None:
    """What the batch's file is: its format, encoding, SHA-256 and size."""
    batch.file_format, batch.encoding, batch.sha256, batch.size_bytes = file_format, encoding, digest, size


def finish_batch(
    session: Session, batch: ImportBatch, options: ImportOptions, counts: tuple[int, int, int], started: float
) -> None:
    total, new, changed = counts
    batch.rows_total, batch.rows_new, batch.rows_changed = total, new, changed
    batch.rows_unchanged = total - new - changed
    batch.seconds = time.perf_counter() - started
    if options.dry_run:
        batch.status = ImportStatus.DRY_RUN
    else:
        batch.status = ImportStatus.APPLIED
        batch.applied_at = utcnow()
        record(
            session,
            "import",
            object_type="ImportBatch",
            object_id=batch.id,
            summary=(
                f"{batch.kind}: {total} rows, {new} new, {changed} changed, {batch.rows_unchanged} unchanged "
                f"({batch.file_format}{', ' + batch.encoding if batch.encoding else ''}"
                f"{', ' + batch.filename if batch.filename else ''})"
            ),
            after={"rows_total": total, "rows_new": new, "rows_changed": changed},
        )
    session.flush()


def keep_upload(options: ImportOptions, digest: str, data: Source | None) -> None:
    if options.dry_run and options.store_dir is not None and data is not None:
        options.store_dir.mkdir(parents=True, exist_ok=True)
        target = options.store_dir / f"{digest}.upload"
        if isinstance(data, Path):
            shutil.copyfile(data, target)  # in blocks: a large file is never held whole
        else:
            target.write_bytes(data)


def stored_upload(options: ImportOptions, batch: ImportBatch) -> Path:
    """The path of the upload a dry run kept (checked against its digest, read in blocks)."""
    path = (options.store_dir or Path(".")) / f"{batch.sha256}.upload"
    if options.store_dir is None or not path.is_file():
        raise refused("batch_gone")
    if scan_source(path)[0] != batch.sha256:
        raise refused("batch_gone")
    return path


def forget_upload(options: ImportOptions, batch: ImportBatch) -> None:
    if options.store_dir is not None:
        (options.store_dir / f"{batch.sha256}.upload").unlink(missing_ok=True)


def read_chunks(
    data: Source | None, items: Any, options: ImportOptions, chunk_rows: int
) -> tuple[TableStream, Iterator[Table]]:
    """A file (bytes or path) as a stream of Tables of ``chunk_rows`` rows, or an API batch as one
    Table; the stream carries the header, format, encoding, digest and size."""
    if data is not None:
        stream = stream_table(
            data,
            chunk_rows=chunk_rows,
            max_bytes=options.max_bytes,
            max_excel_rows=options.max_excel_rows,
            max_unpacked_bytes=options.max_unpacked_bytes,
        )
        return stream, stream.chunks
    raw, digest = items_digest(items)
    table = table_from_items(items)
    return TableStream(table.header, iter(()), "json", None, digest, len(raw)), iter([table])


def import_tickets(
    session: Session,
    options: ImportOptions,
    *,
    data: Source | None = None,
    items: Any = None,
    filename: str | None = None,
    batch: ImportBatch | None = None,
) -> ImportResult:
    """Validate and (unless ``options.dry_run``) upsert tickets by external id. Raises
    KpiImportError naming every problem; nothing is stored then. Flushes, never commits.

    ``data`` is the file's bytes or its path; a path is read in chunks of CHUNK_ROWS rows, each
    validated and appended to the stage table, so memory stays flat whatever the file's length
    (a repeated ticket id is found in the stage, across chunks). Only when every row of the file
    is valid does the stage reach the ticket table, in two set-based statements."""
    started = time.perf_counter()
    with no_gc():  # the big lists die before the collector runs again (see kpi_arrays.no_gc)
        source, chunks = read_chunks(data, items, options, CHUNK_ROWS)
        marks = [("read", time.perf_counter())]
        problems = ProblemList(source.header)
        book = Codebook.load(session)
        notes = unknown_column_notes(Table(source.header, (), 0, "", None), TICKET_COLUMNS)
        closing: list[str] = []
        conn = session.connection()
        previous = kpi_bulk.tune(conn)
        file_format, encoding = source.file_format, source.encoding

        def validated() -> Iterator[TicketColumns]:
            """Each chunk's valid tickets; a missing required column refuses the file at once."""
            nonlocal file_format, encoding
            for table in chunks:
                file_format, encoding = table.file_format, table.encoding
                columns = parse_tickets(table, book, problems, options.allowed_regions, check_repeats=False)
                if columns is None:  # a required column is missing: nothing else to check
                    raise KpiImportError(problems.items, total=problems.count)
                yield columns

        def refuse_repeats(repeats: list[tuple[int, str, int]], repeated: int) -> None:
            column = _id_heading(source.header)
            for row_no, external_id, first in repeats:
                problems.add(problem(row_no, column, external_id, "duplicate_id", other=first))
            problems.count += repeated - len(repeats)
            marks.append(("validate", time.perf_counter()))
            if problems:
                raise KpiImportError(problems.items, total=problems.count)

        def batch_row(batch: ImportBatch | None) -> tuple[ImportBatch, int | None]:
            return prepare_batch(
                session,
                ImportKind.TICKETS,
                options,
                filename=filename,
                file_format=file_format,
                encoding=encoding,
                digest=source.digest,
                size=source.size,
                batch=batch,
            )

        total = 0
        sample: tuple[dict[str, Any], ...] = ()
        try:
            if data is not None and not options.dry_run and streams(conn):
                # A file applied at once is written while it is read (kpi_bulk_stream), all of it
                # inside a savepoint: whatever refuses it takes back what was written.
                with session.begin_nested():
                    if batch is None:
                        batch = new_batch(session, ImportKind.TICKETS, options, filename)
                    with StreamWriter(conn, batch.id, utcnow()) as writer:
                        for columns in validated():
                            total += len(columns)
                            writer.add(columns, clean=not problems)
                        refuse_repeats(*writer.repeats(MAX_PROBLEMS))
                        describe_batch(batch, file_format, encoding, source.digest, source.size)
                        batch, duplicate = batch_row(batch)
                        marks.append(("stage", time.perf_counter()))
                        new, changed = writer.finish()
                        writer.drop()
            else:
                kpi_bulk.create_stage(conn)
                for columns in validated():
                    total += len(columns)
                    kpi_bulk.add_to_stage(conn, columns)
                    del columns
                kpi_bulk.close_stage(conn)
                refuse_repeats(*kpi_bulk.repeated_ids(conn, MAX_PROBLEMS))
                batch, duplicate = batch_row(batch)
                marks.append(("stage", time.perf_counter()))
                if options.dry_run:
                    new, changed = kpi_bulk.diff_counts(conn)
                    sample = tuple(kpi_bulk.changed_sample(conn))
                else:
                    # A batch of objects (the API, a service-desk event) is live data: what it closes
                    # is asked about at once. A file is history, left to the campaigns' daily scan.
                    closing = kpi_bulk.newly_closed(conn) if data is None else []
                    new, changed = kpi_bulk.apply_stage(conn, batch.id, utcnow(), staged=total)
        finally:
            kpi_bulk.drop_stage(conn)
            kpi_bulk.untune(conn, previous)
    marks.append(("write", time.perf_counter()))
    if closing:
        tickets_closed.send(session, ticket_ids=closed_ticket_ids(session, closing))
    finish_batch(session, batch, options, (total, new, changed), started)
    keep_upload(options, source.digest, data)
    if not options.dry_run:
        forget_upload(options, batch)
    return ImportResult(
        batch_id=batch.id,
        kind=ImportKind.TICKETS,
        dry_run=options.dry_run,
        rows_total=total,
        rows_new=new,
        rows_changed=changed,
        rows_unchanged=total - new - changed,
        file_format=file_format,
        encoding=encoding,
        seconds=time.perf_counter() - started,
        duplicate_of=duplicate,
        sample=sample,
        notes=notes,
        phases=tuple(
            (name, round(at - (marks[i - 1][1] if i else started), 3)) for i, (name, at) in enumerate(marks)
        ),
    )


def closed_ticket_ids(session: Session, external_ids: list[str]) -> list[int]:
    """The ids of the tickets a batch closed (looked up in chunks: a batch may be large)."""
    from perception.kpi.models import Ticket

    ids: list[int] = []
    for start in range(0, len(external_ids), 500):
        chunk = external_ids[start : start + 500]
        ids += session.scalars(select(Ticket.id).where(Ticket.external_id.in_(chunk)).order_by(Ticket.id))
    return ids


def _id_heading(header: tuple[str, ...]) -> str:
    found, _ = match_columns(header, TICKET_COLUMNS)
    index = found.get("external_id")
    return header[index] if index is not None else TICKET_COLUMNS["external_id"][0]


def apply_dry_run(session: Session, batch: ImportBatch, options: ImportOptions) -> ImportResult:
    """Apply a file checked earlier by a dry run (the upload kept under ``options.store_dir``)."""
    from perception.kpi.services.value_import import import_kpi_values

    if batch.status != ImportStatus.DRY_RUN:
        raise refused("batch_gone")
    options = replace(options, dry_run=False)
    data = stored_upload(options, batch)
    run = import_tickets if batch.kind == ImportKind.TICKETS else import_kpi_values
    return run(session, options, data=data, filename=batch.filename, batch=batch)
