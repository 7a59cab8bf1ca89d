"""A NUL character (0x00) in a text cell of a file imported into a weekly report (session 18):
SQLite stored it in the entry; on PostgreSQL the entries' INSERT failed with `psycopg.DataError:
PostgreSQL text fields cannot contain NUL (0x00) bytes` and the report page answered 500. A NUL in
a coded cell (kind, customer) was named already, as an unknown value, and one in pasted cells is
the form field's 400 (perception.web.parameters). Now a text cell holding one is its row's
problem (`nul_character`, English and Chinese) on both databases, the page answers 422 with it,
and nothing is stored."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.collection.models.reports import ReportEntry
from perception.collection.services import report_import as collection_import
from perception.collection.services.errors import CollectionError
from tests.collection.conftest import WEEK
from tests.conftest import post_form

HEADER = "kind,customer,service,dimension,rating,means,category,date,text,impact,contact,area,urgency\n"
ROWS = {  # one row each, a NUL in the column named
    "text": "feedback,R1-C,DESK,response_speed,4,visit,,,响\x00应及时,,,,\n",
    "contact": "feedback,R1-C,DESK,response_speed,4,visit,,,响应及时,,王\x00先生,,\n",
    "impact": "dynamic,R1-C,,,,,other,2026-03-04,核心系统升级,两\x00天停机,,,\n",
    "area": "requirement,R1-C,,,,,,,移动端报修,,,服务\x00台,high\n",
}


def _count(session: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(ReportEntry)))


@pytest.mark.parametrize("column", list(ROWS))
def test_a_nul_in_a_text_cell_is_the_rows_problem(
    db_session: Any, collector: Any, put: Any, cat: Any, column: str
) -> None:
    report = put("R1", WEEK, [], collector)
    data = (HEADER + ROWS[column]).encode()
    with pytest.raises(CollectionError) as info:
        collection_import.import_entries(db_session, report, "week.csv", data, collector)
    (found,) = info.value.problems
    assert (found.row, found.field, found.code) == (2, column, "nul_character")
    assert "NUL character (0x00)" in found.text("en") and "空字符（0x00）" in found.text("zh")
    assert _count(db_session) == 0


def test_a_nul_in_a_workbook_cell_makes_it_unreadable(
    db_session: Any, collector: Any, put: Any, cat: Any
) -> None:
    """An .xlsx cannot carry one: its XML refuses the character (the one upload reader's refusal)."""
    from tests.upload_bombs import workbook

    report = put("R1", WEEK, [], collector)
    data = workbook(("kind", "customer", "text"), iter([("requirement", "R1-C", "报\x00修")]))
    with pytest.raises(CollectionError) as info:
        collection_import.import_entries(db_session, report, "week.xlsx", data, collector)
    assert [p.code for p in info.value.problems] == ["bad_format"]
    assert _count(db_session) == 0


def test_the_report_page_answers_422_naming_the_row(login_as: Any, db_session: Any, cat: Any) -> None:
    c = login_as("collector")
    url = post_form(c, "/collection/reports/open", {"week": "2026-W10"}, token_from="/collection/").headers[
        "Location"
    ]
    for lang, expected in (("en", "Row 2, column text"), ("zh-CN", "第 2 行，列“text”")):
        upload = {"file": (io.BytesIO((HEADER + ROWS["text"]).encode()), "week.csv")}
        answer = post_form(c, url + "/import", upload, token_from=url, content_type="multipart/form-data",
                           headers={"Accept-Language": lang})  # fmt: skip
        shown = answer.get_data(as_text=True)
        assert answer.status_code == 422 and expected in shown, shown[:300]
        assert "NUL character" in shown or "空字符" in shown
    pasted = post_form(c, url + "/import", {"pasted": HEADER + ROWS["area"]}, token_from=url)
    assert pasted.status_code == 400 and "“pasted”" in pasted.get_data(as_text=True)
    assert _count(db_session) == 0
