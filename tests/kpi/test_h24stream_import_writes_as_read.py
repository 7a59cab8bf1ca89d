"""Issue 19 (a 10,000,000-ticket history imported at the rate of a 1,000,000 one): on PostgreSQL
a file applied at once is written into the ticket table while it is read (kpi_bulk_stream), one
chunk behind the validation. What the whole-file path guaranteed must still hold, on both
databases: the same table afterwards, every refusal storing nothing (a bad row after chunks were
written, an id twice in one chunk or across chunks, a file applied before), the counts, and the
stored durations of the weeks the tickets enter forgotten. CHUNK_ROWS is made tiny so a few rows
span several chunks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from perception.kpi.models import ImportBatch, ImportStatus, KpiDurationArray, Ticket
from perception.kpi.services import bulk_stream, ticket_import, ticket_parse
from perception.kpi.services.compute import compute_kpis
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import csv_bytes, ticket_row

APPLY = ImportOptions(dry_run=False)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(ticket_import, "CHUNK_ROWS", 3)


@pytest.fixture
def written_chunks(monkeypatch) -> list[int]:
    """How many tickets each chunk written as it was read put into the table, in order."""
    calls: list[int] = []
    real = bulk_stream.StreamWriter._write

    def counting(self, cols, data, write):
        before = self.written
        real(self, cols, data, write)
        if write:
            calls.append(self.written - before)

    monkeypatch.setattr(bulk_stream.StreamWriter, "_write", counting)
    return calls


def _at(external_id: str, opened: datetime, **kw: str) -> dict[str, str]:
    """A closed ticket opened at ``opened``: first response 20 minutes, resolution 2 hours later."""

    def shown(t: datetime) -> str:
        return t.strftime("%Y-%m-%d %H:%M")

    return ticket_row(
        external_id,
        opened=shown(opened),
        first_response=shown(opened + timedelta(minutes=20)),
        resolved=shown(opened + timedelta(hours=2)),
        closed=shown(opened + timedelta(hours=3)),
        **kw,
    )


def _file(tmp_path: Path, rows: list[dict[str, str]], name: str = "tickets.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows))
    return path


def _count(session, model=Ticket) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _stored(session) -> dict[str, tuple]:
    rows = session.execute(
        select(Ticket.external_id, Ticket.priority, Ticket.engineer, Ticket.opened_at, Ticket.closed_at)
    ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def _is_pg(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def test_a_history_is_written_chunk_by_chunk_as_it_is_read(db_session, catalog, tmp_path, written_chunks):
    rows = [_at(f"H-{i}", datetime(2026, 3, 2 + i % 5, 9, i)) for i in range(10)]
    result = import_tickets(db_session, APPLY, data=_file(tmp_path, rows), filename="history.csv")
    assert (result.rows_total, result.rows_new, result.rows_changed) == (10, 10, 0)
    assert _count(db_session) == 10
    stored = _stored(db_session)
    utc = (datetime(2026, 3, 4, 1, 7), datetime(2026, 3, 4, 4, 7))  # the region keeps +8
    assert stored["H-7"] == ("P2", "李工", *utc)
    batch = db_session.get(ImportBatch, result.batch_id)
    assert (batch.status, batch.rows_new, batch.filename, batch.file_format) == (
        ImportStatus.APPLIED,
        10,
        "history.csv",
        "csv",
    )
    assert batch.sha256 == ticket_import.sha256((tmp_path / "tickets.csv").read_bytes())
    # PostgreSQL writes each chunk of three as it comes (the last one holds one row); SQLite
    # writes the whole stage at the end.
    assert written_chunks == ([3, 3, 3, 1] if _is_pg(db_session) else [])


def test_each_chunk_is_written_before_the_one_after_the_next_is_read(
    db_session, catalog, tmp_path, written_chunks, monkeypatch
):
    events: list[int] = []  # how many chunks were written when each chunk was read
    real_parse = ticket_parse.parse_tickets

    def parse(table, *args, **kwargs):
        events.append(len(written_chunks))
        return real_parse(table, *args, **kwargs)

    monkeypatch.setattr(ticket_import, "parse_tickets", parse)
    import_tickets(db_session, APPLY, data=_file(tmp_path, [ticket_row(f"O-{i}") for i in range(12)]))
    if _is_pg(db_session):
        # the writer is one chunk behind at most: chunk k is written before chunk k + 2 is read
        assert events[0] == 0 and all(written >= k - 1 for k, written in enumerate(events)), events
        assert written_chunks == [3, 3, 3, 3]
    else:  # SQLite has one writer, in this process: the whole stage is written after the reading
        assert (events, written_chunks) == ([0, 0, 0, 0], [])


def test_new_and_stored_tickets_in_one_file_leave_what_the_dry_run_promised(db_session, catalog, tmp_path):
    before = [ticket_row(f"M-{i}") for i in range(6)]
    import_tickets(db_session, APPLY, data=_file(tmp_path, before, "before.csv"))
    rows = [
        ticket_row("N-1"), ticket_row("N-2"), ticket_row("N-3"),  # a chunk of new tickets
        ticket_row("M-0", priority="P1"), ticket_row("N-4"), ticket_row("M-1"),  # changed, new, same
        ticket_row("N-5"), ticket_row("N-6"), ticket_row("N-7"),  # new again
        ticket_row("M-2", engineer="王工"),  # changed, alone in the last chunk
    ]  # fmt: skip
    path = _file(tmp_path, rows, "mixed.csv")
    dry = import_tickets(db_session, ImportOptions(dry_run=True), data=path)
    applied = import_tickets(db_session, APPLY, data=path)
    counts = (applied.rows_new, applied.rows_changed, applied.rows_unchanged)
    assert counts == (dry.rows_new, dry.rows_changed, dry.rows_unchanged) == (7, 2, 1)
    stored = _stored(db_session)
    assert len(stored) == 13
    assert stored["M-0"][0] == "P1" and stored["M-2"][1] == "王工" and stored["M-1"][:2] == ("P2", "李工")
    assert {ticket_import.ImportStatus.APPLIED} == set(
        db_session.scalars(select(ImportBatch.status).where(ImportBatch.id == applied.batch_id))
    )


def test_a_bad_row_after_written_chunks_takes_them_back(db_session, catalog, tmp_path, written_chunks):
    rows = [ticket_row(f"B-{i}") for i in range(10)]
    rows[9]["priority"] = "P9"  # spreadsheet row 11, the fourth chunk
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, APPLY, data=_file(tmp_path, rows))
    assert [(p.row, p.field, p.code) for p in info.value.problems] == [(11, "priority", "bad_choice")]
    assert written_chunks == ([3, 3, 3] if _is_pg(db_session) else [])  # written, then taken back
    assert _count(db_session) == 0 and _count(db_session, ImportBatch) == 0
    # the session goes on: the same file, mended, imports whole
    rows[9]["priority"] = "P3"
    assert import_tickets(db_session, APPLY, data=_file(tmp_path, rows)).rows_new == 10


def test_a_refused_import_leaves_no_mark_of_what_it_took_back(db_session, catalog, tmp_path, written_chunks):
    """Session 18: on PostgreSQL the chunks written before the refusal left the "tickets written"
    mark on the connection (data_version), so the caller's next commit moved every counter made
    from the tickets; the savepoint that takes the rows back now takes the mark back too."""
    from perception.kpi.services.data_version import pending_writes

    before = pending_writes(db_session)  # the catalogue's own writes
    rows = [ticket_row(f"M-{i}") for i in range(10)]
    rows[9]["priority"] = "P9"
    with pytest.raises(KpiImportError):
        import_tickets(db_session, APPLY, data=_file(tmp_path, rows))
    assert written_chunks == ([3, 3, 3] if _is_pg(db_session) else [])
    assert pending_writes(db_session) == before


def test_an_id_twice_in_one_chunk_is_named_not_a_database_error(
    db_session, catalog, tmp_path, written_chunks
):
    rows = [ticket_row(f"T-{i}") for i in range(9)]
    rows[4] = ticket_row("T-3")  # rows 5 and 6 of the spreadsheet, the second chunk
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, APPLY, data=_file(tmp_path, rows))
    assert [(p.row, p.value, p.code) for p in info.value.problems] == [(6, "T-3", "duplicate_id")]
    assert written_chunks == ([3] if _is_pg(db_session) else [])  # nothing after the repeat
    assert _count(db_session) == 0


def test_an_id_repeated_chunks_later_is_named_and_nothing_stays(db_session, catalog, tmp_path):
    rows = [ticket_row(f"R-{i}") for i in range(9)]
    rows[8] = ticket_row("R-0")  # row 10 repeats row 2, after two chunks were written
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, APPLY, data=_file(tmp_path, rows))
    (found,) = info.value.problems
    assert (found.row, found.value, found.code) == (10, "R-0", "duplicate_id")
    assert "row 2" in found.text("en")
    assert _count(db_session) == 0


def test_a_stored_ticket_listed_twice_is_named_and_nothing_stays(db_session, catalog, tmp_path):
    import_tickets(db_session, APPLY, data=_file(tmp_path, [ticket_row("S-0")], "first.csv"))
    rows = [ticket_row(f"S-{i}") for i in range(1, 8)]
    rows[1] = ticket_row("S-0", priority="P1")  # row 3: a stored ticket, kept aside
    rows[6] = ticket_row("S-0", priority="P3")  # row 8: the same again, kept aside too
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, APPLY, data=_file(tmp_path, rows))
    assert [(p.row, p.value, p.code) for p in info.value.problems] == [(8, "S-0", "duplicate_id")]
    assert _count(db_session) == 1 and _stored(db_session)["S-0"][0] == "P2"


def test_a_file_applied_before_is_refused_after_its_chunks_were_written(
    db_session, catalog, tmp_path, written_chunks
):
    path = _file(tmp_path, [ticket_row(f"A-{i}") for i in range(7)])
    first = import_tickets(db_session, APPLY, data=path)
    db_session.execute(delete(Ticket))  # the tickets are gone; the batch that brought them is not
    written_chunks.clear()
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, APPLY, data=path)
    assert [p.code for p in info.value.problems] == ["duplicate_file"]
    assert written_chunks == ([3, 3, 1] if _is_pg(db_session) else [])
    assert _count(db_session) == 0
    assert list(db_session.scalars(select(ImportBatch.id))) == [first.batch_id]
    again = import_tickets(db_session, ImportOptions(dry_run=False, allow_duplicate=True), data=path)
    assert (again.rows_new, again.duplicate_of) == (7, first.batch_id)


def test_a_dry_runs_batch_applied_keeps_its_row(db_session, catalog, tmp_path):
    store = tmp_path / "kept"
    path = _file(tmp_path, [ticket_row(f"K-{i}") for i in range(5)])
    dry = import_tickets(
        db_session, ImportOptions(dry_run=True, store_dir=store), data=path, filename="k.csv"
    )
    batch = db_session.get(ImportBatch, dry.batch_id)
    applied = ticket_import.apply_dry_run(db_session, batch, ImportOptions(store_dir=store))
    assert applied.batch_id == dry.batch_id and _count(db_session) == 5
    assert (batch.status, batch.rows_new, batch.filename) == (ImportStatus.APPLIED, 5, "k.csv")
    assert _count(db_session, ImportBatch) == 1


def test_the_weeks_the_written_tickets_enter_lose_their_stored_durations(db_session, catalog, tmp_path):
    monday = date(2026, 3, 2)
    first = [_at(f"W-{i}", datetime(2026, 3, 2 + 7 * (i % 3), 9)) for i in range(6)]
    import_tickets(db_session, APPLY, data=_file(tmp_path, first, "first.csv"))
    compute_kpis(db_session, monday, monday + timedelta(weeks=3), as_of=datetime(2026, 4, 1))
    r1 = catalog["R1"]["region"].id
    stored_weeks = set(
        db_session.scalars(select(KpiDurationArray.period_start).where(KpiDurationArray.region_id == r1))
    )
    assert {monday, monday + timedelta(weeks=1), monday + timedelta(weeks=2)} <= stored_weeks
    late = [_at(f"L-{i}", datetime(2026, 3, 11, 10)) for i in range(4)]  # the second week only
    import_tickets(db_session, APPLY, data=_file(tmp_path, late, "late.csv"))
    kept = set(
        db_session.scalars(select(KpiDurationArray.period_start).where(KpiDurationArray.region_id == r1))
    )
    assert monday + timedelta(weeks=1) not in kept
    assert monday + timedelta(weeks=2) in kept  # a week no written ticket enters keeps its durations


def test_chunks_spanning_many_pages_of_the_stage_are_written_whole(
    db_session, catalog, tmp_path, written_chunks, monkeypatch
):
    """Each chunk is read back from the stage's pages it was appended to: with chunks of 300 long
    rows (some 40 to a page) every chunk starts inside the previous chunk's last page."""
    monkeypatch.setattr(ticket_import, "CHUNK_ROWS", 300)
    rows = [
        _at(f"P-{i:04d}", datetime(2026, 3, 2, 8) + timedelta(minutes=i), contact="联系人" * 50)
        for i in range(1000)
    ]
    result = import_tickets(db_session, APPLY, data=_file(tmp_path, rows))
    assert result.rows_new == 1000 and _count(db_session) == 1000
    assert set(_stored(db_session)) == {f"P-{i:04d}" for i in range(1000)}
    assert written_chunks == ([300, 300, 300, 100] if _is_pg(db_session) else [])
