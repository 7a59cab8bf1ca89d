"""Hostile uploads to a collection report's import (issue 18, "Uploads and bad input").

Today the report import read a whole workbook before counting its rows (a 324 KB file of a million
rows held a worker for minutes) and answered a CSV saved by Excel for Mac ("CSV (Macintosh)",
bare CR line endings) with a 500. Both go through the one upload reader now.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.collection.models.reports import ReportEntry
from tests.conftest import csrf_token, post_form
from tests.upload_bombs import empty_rows_workbook, mac_csv, million_row_workbook, post_upload

PEAK_LIMIT = 64 * 1024 * 1024


def _open_report(c: Any) -> str:
    return post_form(c, "/collection/reports/open", {"week": "2026-W10"}, token_from="/collection/").headers[
        "Location"
    ]


def _import(c: Any, url: str, data: bytes, name: str, lang: str = "en") -> tuple[Any, int]:
    token = csrf_token(c, url)
    tracemalloc.start()
    try:
        response = post_upload(
            c, url + "/import", {"file": (data, name)}, token, headers={"Accept-Language": lang}
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return response, peak


@pytest.mark.parametrize(
    "bomb", [million_row_workbook, empty_rows_workbook], ids=["1M rows", "3M empty rows"]
)
def test_workbook_bombs_are_refused_before_reading(login_as, db_session, cat, bomb):
    c = login_as("collector")
    url = _open_report(c)
    response, peak = _import(c, url, bomb(), "week.xlsx")
    html = response.get_data(as_text=True)
    assert response.status_code in (413, 422), html[:300]
    assert "Nothing was imported." in html
    assert "limited to 2000 rows" in html or "more than the limit of 32 MB" in html
    assert peak < PEAK_LIMIT, f"the refusal allocated {peak / 1048576:.0f} MB"
    zh, _ = _import(c, url, bomb(), "week.xlsx", "zh-CN")
    assert "Excel 文件" in zh.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(ReportEntry)) == 0


def test_excel_for_mac_csv_is_read(login_as, db_session, cat):
    c = login_as("collector")
    url = _open_report(c)
    lines = [
        "kind,customer,service,dimension,rating,means,category,date,text,urgency",
        "feedback,R1-C,DESK,response_speed,4,visit,,,响应及时,",
        "requirement,R1-C,,,,,,,移动端报修,high",
    ]
    response, _ = _import(c, url, mac_csv(lines, "gb18030"), "mac.csv")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    texts = set(db_session.scalars(select(ReportEntry.text)))
    assert texts == {"响应及时", "移动端报修"}
