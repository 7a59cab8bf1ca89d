"""Hostile uploads to the ticket and KPI import (issue 18, "Uploads and bad input").

Today a 324 KB workbook unpacking to a million rows held a worker for minutes and hundreds of
MB, and one of 69 KB with three million empty rows for 31 s and 500 MB; a CSV saved by Excel for
Mac (bare CR line endings) was not read. The one upload reader bounds a workbook before reading
it: the answer is a 413 naming the limit in both languages, and the request allocates little
(measured with tracemalloc; the time is printed by ``bench/security_probe.py``, never asserted).
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.kpi.models import Ticket
from tests.conftest import csrf_token, post_form
from tests.upload_bombs import empty_rows_workbook, mac_csv, million_row_workbook, post_upload

PEAK_LIMIT = 64 * 1024 * 1024  # the probe saw +390 MB and +500 MB


def _upload(client: Any, data: bytes, name: str, lang: str = "en") -> tuple[Any, int]:
    tracemalloc.start()
    try:
        response = post_upload(
            client,
            "/kpi/import",
            {"kind": "tickets", "upload": (data, name)},
            csrf_token(client, "/kpi/import"),
            headers={"Accept-Language": lang},
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return response, peak


@pytest.mark.parametrize(
    "bomb", [million_row_workbook, empty_rows_workbook], ids=["1M rows", "3M empty rows"]
)
def test_workbook_bombs_are_refused_before_reading(login_as, db_session, catalog, bomb):
    data = bomb()
    assert len(data) < 2 * 1024 * 1024  # small on the wire, as the probe's
    client = login_as("analyst")
    response, peak = _upload(client, data, "bomb.xlsx")
    html = response.get_data(as_text=True)
    assert response.status_code == 413, html[:300]
    assert "limited to 200000 rows" in html
    assert peak < PEAK_LIMIT, f"the refusal allocated {peak / 1048576:.0f} MB"
    zh, _ = _upload(client, data, "bomb.xlsx", "zh-CN")
    assert "Excel 文件最多 200000 行" in zh.get_data(as_text=True)
    assert db_session.scalar(select(func.count(Ticket.id))) == 0


def test_unpacked_size_is_bounded_by_configuration(app, login_as, db_session, catalog, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_UNPACKED_BYTES", 8 * 1024 * 1024)
    response, _ = _upload(login_as("analyst"), empty_rows_workbook(), "empty.xlsx")
    assert response.status_code == 413
    assert "unpacks to 17.2 MB, more than the limit of 8 MB" in response.get_data(as_text=True)


def test_excel_for_mac_csv_with_bare_cr_line_endings(login_as, db_session, catalog):
    lines = [
        "id,service,customer,priority,opened,status",
        "M-1,DESK,R1-C,P3,2026-03-02 09:00,open",
        "M-2,NET,R1-C,P2,2026-03-02 10:00,open",
    ]
    client = login_as("analyst")
    response, _ = _upload(client, mac_csv(lines, "gb18030"), "mac.csv")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    preview = client.get(response.location).get_data(as_text=True)
    assert "This was a dry run" in preview
    applied = post_form(client, response.location + "/apply", {}, token_from=response.location)
    assert applied.status_code == 302
    assert set(db_session.scalars(select(Ticket.external_id))) == {"M-1", "M-2"}
