"""Importing entries: CSV (UTF-8 and GB18030), pasted cells, Excel; all or nothing with rows named."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import func, select

from perception.collection.models.reports import ReportEntry
from perception.collection.services import report_import as collection_import
from perception.collection.services.errors import CollectionError
from perception.core.models.audit import AuditEntry
from tests.collection.conftest import WEEK
from tests.conftest import post_form

HEADER = "kind,customer,service,dimension,rating,means,category,date,text,urgency\n"
GOOD = "feedback,R1-C,DESK,response_speed,4,visit,,,响应及时,\n"
BAD = "feedback,R1-C,DESK,response_speed,9,visit,,,评分超出范围,\n"
REQ = "requirement,R1-C,,,,,,,移动端报修,high\n"


def _count(db_session):
    return db_session.scalar(select(func.count()).select_from(ReportEntry))


def test_bad_row_in_the_middle_stores_nothing_and_names_the_row(db_session, collector, put):
    report = put("R1", WEEK, [], collector)
    data = (HEADER + GOOD + GOOD + BAD + REQ).encode()
    with pytest.raises(CollectionError) as exc:
        collection_import.import_entries(db_session, report, "week.csv", data, collector)
    (problem,) = exc.value.problems
    assert (problem.row, problem.field) == (4, "rating")  # header is row 1; the bad line is the 4th
    assert "第 4 行" in problem.located("zh")
    assert _count(db_session) == 0


def test_good_file_is_appended_and_audited(db_session, collector, put):
    report = put("R1", WEEK, [], collector)
    added = collection_import.import_entries(
        db_session, report, "week.csv", (HEADER + GOOD + REQ).encode(), collector
    )
    assert added == 2 and [e.kind for e in report.entries] == ["feedback", "requirement"]
    audit = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert "2 entries" in audit.summary


def test_gb18030_csv_with_chinese_headers_and_blank_lines(db_session, collector, put):
    report = put("R1", WEEK, [], collector)
    text = "类型,客户,类别,日期,描述,预期影响\n用户动态信息,R1-C,供应商变更,2026/3/4,更换网络供应商,\n\n"
    assert (
        collection_import.import_entries(db_session, report, "w.csv", text.encode("gb18030"), collector) == 1
    )
    entry = report.entries[0]
    assert (entry.kind, entry.category, entry.event_date.isoformat()) == (
        "dynamic",
        "supplier_change",
        "2026-03-04",
    )


def test_pasted_tab_separated_cells(db_session, collector, put):
    report = put("R1", WEEK, [], collector)
    pasted = "kind\tcustomer\ttext\turgency\nrequirement\tR1-C\t报表自动推送\tcritical\n"
    assert collection_import.import_entries(db_session, report, None, pasted, collector) == 1
    assert report.entries[0].urgency == "critical"


def test_excel_workbook(db_session, collector, put):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Kind", "Customer", "Dimension", "Rating", "Means", "Text"])
    ws.append(["feedback", "R1-C", "training_effect", 5, "questionnaire", "培训很有帮助"])
    ws.append(["feedback", "R1-C", "training_effect", 4.5, "questionnaire", "half a point"])
    buf = io.BytesIO()
    wb.save(buf)
    report = put("R1", WEEK, [], collector)
    with pytest.raises(CollectionError) as exc:
        collection_import.import_entries(db_session, report, "w.xlsx", buf.getvalue(), collector)
    assert [(p.row, p.field) for p in exc.value.problems] == [(3, "rating")]
    assert _count(db_session) == 0


def test_unknown_column_is_refused(db_session, collector, put):
    report = put("R1", WEEK, [], collector)
    with pytest.raises(CollectionError) as exc:
        collection_import.import_entries(
            db_session, report, "w.csv", b"kind,customer,text,colour\n", collector
        )
    assert exc.value.problems[0].field == "colour"


def test_import_over_http_shows_row_errors(login_as, db_session, cat):
    c = login_as("collector")
    url = post_form(c, "/collection/reports/open", {"week": "2026-W10"}, token_from="/collection/").headers[
        "Location"
    ]
    bad = (HEADER + GOOD + BAD + REQ).encode()
    response = post_form(
        c,
        url + "/import",
        {"file": (io.BytesIO(bad), "week.csv")},
        token_from=url,
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Nothing was imported." in html and "Row 3, column rating" in html
    assert _count(db_session) == 0
    ok = post_form(c, url + "/import", {"pasted": HEADER + GOOD + REQ}, token_from=url)
    assert ok.status_code == 302 and _count(db_session) == 2


def test_import_refused_once_submitted(db_session, collector, put):
    report = put("R1", WEEK, [], collector, submit_at=datetime(2026, 3, 8))
    with pytest.raises(CollectionError) as exc:
        collection_import.import_entries(db_session, report, "w.csv", (HEADER + GOOD).encode(), collector)
    assert exc.value.problems[0].field == "status"
