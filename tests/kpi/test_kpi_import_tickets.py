"""Ticket import: validation naming row/column/value/reason, all-or-nothing, encodings, Excel,
duplicate files, upsert by ticket id, time zones."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import func, select

from perception.core.models.audit import AuditEntry
from perception.kpi.models import ImportBatch, Ticket
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import csv_bytes, ticket_row


def _count(session, model=Ticket) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _apply(session, data, **kw):
    return import_tickets(session, ImportOptions(dry_run=False, **kw), data=data, filename="t.csv")


def test_bad_row_in_the_middle_stores_nothing(db_session, catalog):
    rows = [ticket_row(f"INC-{i}") for i in range(10)]
    rows[4]["opened"] = "2026-02-30 09:00"  # no such day
    rows[6]["service"] = "NOPE"
    with pytest.raises(KpiImportError) as info:
        _apply(db_session, csv_bytes(rows))
    problems = sorted(info.value.problems, key=lambda p: p.row)
    # Row numbers as the spreadsheet shows them (header = row 1).
    assert [(p.row, p.field, p.value, p.code) for p in problems] == [
        (6, "opened", "2026-02-30 09:00", "bad_datetime"),
        (8, "service", "NOPE", "unknown_service"),
    ]
    assert problems[0].located("en").startswith('Row 6, column opened, value "2026-02-30 09:00": not a valid')
    assert problems[1].located("zh").startswith("第 8 行，列“service”，值“NOPE”：没有这个服务代码")
    assert _count(db_session) == 0
    assert _count(db_session, ImportBatch) == 0


def test_validation_reasons(db_session, catalog):
    rows = [
        ticket_row("A", first_response="2026-03-02 08:00"),  # before opened
        ticket_row("B", status="resolved", resolved="", closed=""),  # resolved without time
        ticket_row("C", priority="urgent"),
        ticket_row("C"),  # duplicate id
        ticket_row("D", reopen_count="-1"),
        ticket_row("E", opened="2099-01-01 00:00", first_response="", resolved="", closed="", status="open"),
    ]
    with pytest.raises(KpiImportError) as info:
        _apply(db_session, csv_bytes(rows))
    codes = {(p.row, p.field, p.code) for p in info.value.problems}
    assert (2, "first_response", "before_opened") in codes
    assert (3, "resolved", "resolved_missing") in codes
    assert (4, "priority", "bad_choice") in codes
    assert (5, "id", "duplicate_id") in codes
    assert (6, "reopen_count", "bad_integer") in codes
    assert (7, "opened", "in_future") in codes
    assert _count(db_session) == 0


def test_missing_required_column(db_session, catalog):
    data = csv_bytes([ticket_row("A")], header=("id", "service", "customer", "priority", "status"))
    with pytest.raises(KpiImportError) as info:
        _apply(db_session, data)
    assert [(p.field, p.code) for p in info.value.problems] == [("opened", "missing_column")]


def test_local_times_become_utc_and_offsets_are_honoured(db_session, catalog):
    rows = [
        ticket_row("TZ-1", opened="2026-03-02 09:00", first_response="2026-03-02T09:30:00+08:00"),
        ticket_row("TZ-2", opened="2026/3/2 9:05", first_response="2026-03-02T01:40:00Z"),
    ]
    _apply(db_session, csv_bytes(rows))
    t1, t2 = db_session.scalars(select(Ticket).order_by(Ticket.external_id)).all()
    # Asia/Shanghai is UTC+8 all year (no DST): 09:00 local = 01:00 UTC.
    assert t1.opened_at == datetime(2026, 3, 2, 1, 0) and t1.first_response_at == datetime(2026, 3, 2, 1, 30)
    assert t2.opened_at == datetime(2026, 3, 2, 1, 5) and t2.first_response_at == datetime(2026, 3, 2, 1, 40)


def test_gb18030_file_with_chinese_headers_and_names(db_session, catalog):
    header = (
        "工单号",
        "服务",
        "区域",
        "客户",
        "优先级",
        "联系人",
        "创建时间",
        "首次响应时间",
        "解决时间",
        "状态",
        "处理人",
    )
    row = {
        "工单号": "GB-1",
        "服务": "服务台",
        "区域": "北京",
        "客户": "北京客户",
        "优先级": "P1",
        "联系人": "王伟",
        "创建时间": "2026-03-02 09:00",
        "首次响应时间": "2026-03-02 09:10",
        "解决时间": "2026-03-02 10:00",
        "状态": "已解决",
        "处理人": "赵工",
    }
    data = csv_bytes([row], encoding="gb18030", header=header)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really not UTF-8
    result = _apply(db_session, data)
    assert result.encoding == "gb18030" and result.rows_new == 1
    ticket = db_session.scalar(select(Ticket))
    assert (ticket.engineer, ticket.contact, ticket.status) == ("赵工", "王伟", "resolved")
    assert ticket.service_id == catalog["DESK"].id and ticket.region_id == catalog["R1"]["region"].id
    assert ticket.tier_id == catalog["GOLD"].id  # from the customer's subscription


def test_utf8_bom_semicolons(db_session, catalog):
    text = "\ufeffid;service;customer;priority;opened;status\nS-1;NET;R2-C;P3;2026-03-03 10:00;open\n"
    result = _apply(db_session, text.encode("utf-8"))
    assert result.encoding == "utf-8-sig"
    ticket = db_session.scalar(select(Ticket))
    assert ticket.region_id == catalog["R2"]["region"].id  # from the customer when no region column


def test_xlsx_import_and_row_cap(db_session, catalog):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "service", "customer", "priority", "opened", "first_response", "status"])
    for i in range(3):
        sheet.append(
            [f"X-{i}", "DESK", "R1-C", "P2", datetime(2026, 3, 2, 9, i), datetime(2026, 3, 2, 9, 30), "open"]
        )
    buf = io.BytesIO()
    book.save(buf)
    data = buf.getvalue()
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=True, max_excel_rows=2), data=data)
    assert info.value.problems[0].code == "too_many_rows"
    assert "2" in info.value.problems[0].text("en")
    result = _apply(db_session, data)
    assert result.file_format == "xlsx" and result.rows_new == 3


def test_size_limit_message(db_session, catalog):
    data = csv_bytes([ticket_row(f"Z-{i}") for i in range(50)])
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=True, max_bytes=1024), data=data)
    problem = info.value.problems[0]
    assert problem.code == "too_large" and "MB" in problem.text("en") and "上限" in problem.text("zh")


def test_dry_run_then_upsert_by_external_id(db_session, catalog):
    first = csv_bytes([ticket_row(f"U-{i}", status="open", resolved="", closed="") for i in range(4)])
    dry = import_tickets(db_session, ImportOptions(dry_run=True), data=first)
    assert (dry.rows_new, dry.rows_changed, dry.rows_unchanged) == (4, 0, 0)
    assert _count(db_session) == 0  # a dry run stores no ticket
    applied = _apply(db_session, first)
    assert (applied.rows_new, applied.rows_changed) == (4, 0)

    second_rows = [ticket_row(f"U-{i}", status="open", resolved="", closed="") for i in range(4)]
    second_rows[1] = ticket_row("U-1")  # now closed and resolved
    second_rows.append(ticket_row("U-9"))
    second = csv_bytes(second_rows)
    preview = import_tickets(db_session, ImportOptions(dry_run=True), data=second)
    assert (preview.rows_new, preview.rows_changed, preview.rows_unchanged) == (1, 1, 3)
    assert preview.sample[0]["external_id"] == "U-1"
    assert preview.sample[0]["changes"]["status"] == ("open", "closed")
    result = _apply(db_session, second)
    assert (result.rows_new, result.rows_changed, result.rows_unchanged) == (1, 1, 3)
    assert _count(db_session) == 5
    ticket = db_session.scalar(select(Ticket).where(Ticket.external_id == "U-1"))
    assert ticket.status == "closed" and ticket.resolved_at == datetime(2026, 3, 2, 3, 0)
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "import").order_by(AuditEntry.id)
    ).all()
    assert len(audit) == 2 and "1 new, 1 changed, 3 unchanged" in audit[-1].summary


def test_same_file_twice_is_recognised(db_session, catalog):
    data = csv_bytes([ticket_row("D-1")])
    first = _apply(db_session, data)
    preview = import_tickets(db_session, ImportOptions(dry_run=True), data=data)
    assert preview.duplicate_of == first.batch_id and preview.rows_unchanged == 1
    with pytest.raises(KpiImportError) as info:
        _apply(db_session, data)
    assert info.value.problems[0].code == "duplicate_file"
    assert f"batch {first.batch_id}" in info.value.problems[0].text("en")
    again = _apply(db_session, data, allow_duplicate=True)
    assert again.rows_unchanged == 1 and _count(db_session) == 1


def test_region_scope_refuses_other_regions(db_session, catalog):
    rows = [ticket_row("R-1"), ticket_row("R-2", region="R2", customer="R2-C")]
    own = frozenset({catalog["R1"]["region"].id})
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=False, allowed_regions=own), data=csv_bytes(rows))
    assert [(p.row, p.code) for p in info.value.problems] == [(3, "region_forbidden")]
    assert _count(db_session) == 0
