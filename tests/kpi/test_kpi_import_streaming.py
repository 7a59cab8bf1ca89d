"""Ticket import read in chunks (issue 19, bounded memory): a file given by path is validated and
staged a chunk at a time, yet stays all-or-nothing (a bad row in the last chunk stores nothing),
finds a ticket id repeated across chunks, keeps the spreadsheet's row numbers, and is refused over
its limits before a row is read. CHUNK_ROWS is made tiny so a few rows span several chunks."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from perception.core import uploads
from perception.kpi.models import ImportBatch, Ticket
from perception.kpi.services import ticket_import
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import csv_bytes, ticket_row


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(ticket_import, "CHUNK_ROWS", 3)


def _count(session, model=Ticket) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _file(tmp_path: Path, data: bytes, name: str = "tickets.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_path_is_imported_in_chunks_and_again_changes_nothing(db_session, catalog, tmp_path):
    path = _file(tmp_path, csv_bytes([ticket_row(f"S-{i}") for i in range(10)]))
    first = import_tickets(db_session, ImportOptions(dry_run=False), data=path, filename=path.name)
    assert (first.rows_total, first.rows_new, first.rows_changed) == (10, 10, 0)
    assert _count(db_session) == 10
    again = import_tickets(
        db_session, ImportOptions(dry_run=False, allow_duplicate=True), data=path, filename=path.name
    )
    assert (again.rows_new, again.rows_changed, again.rows_unchanged) == (0, 0, 10)


def test_a_bad_row_in_the_last_chunk_stores_nothing(db_session, catalog, tmp_path):
    rows = [ticket_row(f"L-{i}") for i in range(10)]
    rows[9]["service"] = "NOPE"  # the tenth data row: spreadsheet row 11, in the fourth chunk
    path = _file(tmp_path, csv_bytes(rows))
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=False), data=path)
    assert [(p.row, p.field, p.value, p.code) for p in info.value.problems] == [
        (11, "service", "NOPE", "unknown_service")
    ]
    assert _count(db_session) == 0 and _count(db_session, ImportBatch) == 0


def test_a_ticket_id_repeated_across_chunks_is_named_with_both_rows(db_session, catalog, tmp_path):
    rows = [ticket_row(f"D-{i}") for i in range(8)]
    rows[7] = ticket_row("D-1")  # row 9 (third chunk) repeats row 3 (first chunk)
    path = _file(tmp_path, csv_bytes(rows))
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=False), data=path)
    (found,) = info.value.problems
    assert (found.row, found.field, found.value, found.code) == (9, "id", "D-1", "duplicate_id")
    assert "row 3" in found.text("en") and "第 3 行" in found.text("zh")
    assert _count(db_session) == 0


def test_blank_lines_keep_the_spreadsheet_row_numbers_across_chunks(db_session, catalog, tmp_path):
    text = csv_bytes([ticket_row(f"B-{i}") for i in range(6)]).decode()
    lines = text.split("\r\n")
    lines.insert(3, "")  # a blank line after the second data row
    lines[7] = lines[7].replace("DESK", "NOPE")  # the sixth data row, now on spreadsheet row 8
    path = _file(tmp_path, "\r\n".join(lines).encode())
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=True), data=path)
    assert [(p.row, p.code) for p in info.value.problems] == [(8, "unknown_service")]


def test_gb18030_path_is_decoded_by_the_same_rule(db_session, catalog, tmp_path):
    header = ("工单号", "服务", "客户", "优先级", "创建时间", "状态", "处理工程师")
    rows = [{**ticket_row(f"G-{i}"), "处理工程师": "张伟"} for i in range(5)]
    mapped = [
        {"工单号": r["id"], "服务": r["service"], "客户": r["customer"], "优先级": r["priority"],
         "创建时间": r["opened"], "状态": "open", "处理工程师": r["处理工程师"]}
        for r in rows
    ]  # fmt: skip
    path = _file(tmp_path, csv_bytes(mapped, encoding="gb18030", header=header))
    result = import_tickets(db_session, ImportOptions(dry_run=False), data=path)
    assert (result.encoding, result.rows_new) == ("gb18030", 5)
    assert set(db_session.scalars(select(Ticket.engineer))) == {"张伟"}


def test_an_undecodable_path_is_refused_in_both_languages(db_session, catalog, tmp_path):
    path = _file(tmp_path, b"id,service\r\n\x81\x30\xff\xff,DESK\r\n")
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=True), data=path)
    (problem,) = info.value.problems
    assert problem.code == "bad_encoding" and "GB18030" in problem.text("en") and "编码" in problem.text("zh")


def test_over_limit_files_are_refused_before_a_row_is_read(db_session, catalog, tmp_path, monkeypatch):
    path = _file(tmp_path, csv_bytes([ticket_row(f"Z-{i}") for i in range(50)]))

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was read")

    monkeypatch.setattr(uploads, "scan_source", no_reading)
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=True, max_bytes=1024), data=path)
    assert info.value.problems[0].code == "too_large"


def test_an_xlsx_path_streams_and_its_row_cap_holds(db_session, catalog, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "service", "customer", "priority", "opened", "status"])
    for i in range(7):
        sheet.append([f"X-{i}", "DESK", "R1-C", "P2", datetime(2026, 3, 2, 9, i), "open"])
    buf = io.BytesIO()
    book.save(buf)
    path = _file(tmp_path, buf.getvalue(), "tickets.xlsx")
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=True, max_excel_rows=5), data=path)
    assert info.value.problems[0].code == "too_many_rows"
    result = import_tickets(db_session, ImportOptions(dry_run=False), data=path)
    assert (result.file_format, result.rows_new) == ("xlsx", 7)


def test_a_dry_run_keeps_the_path_and_applies_it_later(db_session, catalog, tmp_path):
    store = tmp_path / "kept"
    path = _file(tmp_path, csv_bytes([ticket_row(f"K-{i}") for i in range(7)]))
    options = ImportOptions(dry_run=True, store_dir=store)
    dry = import_tickets(db_session, options, data=path, filename=path.name)
    assert dry.rows_new == 7 and _count(db_session) == 0
    batch = db_session.get(ImportBatch, dry.batch_id)
    applied = ticket_import.apply_dry_run(db_session, batch, options)
    assert applied.rows_new == 7 and _count(db_session) == 7
    assert not list(store.iterdir())


def test_a_header_without_rows_is_an_empty_file(db_session, catalog, tmp_path):
    path = _file(tmp_path, b"id,service,customer,priority,opened,status\r\n\r\n")
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=True), data=path)
    assert [p.code for p in info.value.problems] == ["empty_file"]
