"""An import's problems are listed as a person fixing the file reads it: by row, then by the
column's place in the file (a probe's answer named rows 4, 5, 3 in that order: the checks ran a
column at a time). The cap on how many are listed keeps the first rows' problems, on the CLI,
the web import page (zh and en) and the service alike."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.kpi.models import Ticket
from perception.kpi.services.messages import MAX_PROBLEMS, KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.conftest import post_form
from tests.kpi.conftest import HEADER, csv_bytes, ticket_row

# status before service, reopen_count before priority: the file's order is not the checks' order
SHUFFLED = ("id", "status", "kind", "region", "customer", "tier", "reopen_count", "priority", "service",
            "contact", "opened", "first_response", "resolved", "closed", "engineer")  # fmt: skip
assert sorted(SHUFFLED) == sorted(HEADER)


def _rows() -> list[dict[str, str]]:
    return [
        ticket_row("A"),  # row 2
        ticket_row("B", reopen_count="x"),  # row 3
        ticket_row("A"),  # row 4: the id of row 2
        ticket_row("C", priority="urgent", service="NOPE"),  # row 5
        ticket_row("D", status="gone", opened="2026-13-01 09:00"),  # row 6
        ticket_row("E", priority="P9"),  # row 7
    ]


# (row, column) in the order a person reads SHUFFLED's file
EXPECTED = [
    (3, "reopen_count"),
    (4, "id"),
    (5, "priority"),
    (5, "service"),
    (6, "status"),
    (6, "opened"),
    (7, "priority"),
]


def _problems(session: Any, data: bytes) -> KpiImportError:
    with pytest.raises(KpiImportError) as info:
        import_tickets(session, ImportOptions(dry_run=False), data=data, filename="t.csv")
    return info.value


def test_problems_are_listed_by_row_then_by_the_column_s_place_in_the_file(db_session, catalog):
    error = _problems(db_session, csv_bytes(_rows(), header=SHUFFLED))
    assert [(p.row, p.field) for p in error.problems] == EXPECTED
    assert error.total == len(EXPECTED)
    assert db_session.scalar(select(func.count(Ticket.id))) == 0


def test_a_file_read_in_chunks_lists_its_problems_by_row(db_session, catalog, monkeypatch, tmp_path):
    """A repeated id is found after every chunk is read; it still takes its row's place."""
    monkeypatch.setattr("perception.kpi.services.ticket_import.CHUNK_ROWS", 2)
    path = tmp_path / "t.csv"
    path.write_bytes(csv_bytes(_rows(), header=SHUFFLED))
    error = _problems(db_session, path)  # type: ignore[arg-type]
    assert [(p.row, p.field) for p in error.problems] == EXPECTED


def test_the_cap_keeps_the_first_rows_problems(db_session, catalog):
    """Two problems a row on MAX_PROBLEMS rows: the list is the first half's rows, each row's
    problems in the file's column order, and the count is of them all."""
    rows = [ticket_row(f"T{i}", reopen_count="x", priority="urgent") for i in range(MAX_PROBLEMS)]
    error = _problems(db_session, csv_bytes(rows))
    listed = [(p.row, p.field) for p in error.problems]
    first = [(2 + i, column) for i in range(MAX_PROBLEMS // 2) for column in ("priority", "reopen_count")]
    assert listed == first
    assert error.total == 2 * MAX_PROBLEMS


def test_the_cli_lists_problems_by_row(runner, catalog, tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_bytes(csv_bytes(_rows(), header=SHUFFLED))
    result = runner.invoke(args=["kpi", "import-tickets", str(path), "--apply"])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.startswith("Row ")]
    assert [tuple(line.split(", ")[:2]) for line in lines] == [
        (f"Row {row}", f"column {column}") for row, column in EXPECTED
    ]


@pytest.mark.parametrize(
    ("lang", "row_text", "column_text"),
    [("en", "Row {}", "column {}"), ("zh-CN", "第 {} 行", "列“{}”")],
)
def test_the_import_page_lists_problems_by_row(login_as, db_session, catalog, lang, row_text, column_text):
    client = login_as("analyst")
    data = csv_bytes(_rows(), header=SHUFFLED)
    response = post_form(
        client,
        "/kpi/import",
        {"kind": "tickets", "upload": (io.BytesIO(data), "x.csv")},
        token_from="/kpi/import",
        headers={"Accept-Language": lang},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    places = [page.find(f"<li>{row_text.format(row)}") for row, _ in EXPECTED]
    assert -1 not in places and places == sorted(places), places
    sep = "，" if lang.startswith("zh") else ", "
    located = [f"{row_text.format(row)}{sep}{column_text.format(column)}" for row, column in EXPECTED]
    found = [page.find(text) for text in located]
    assert -1 not in found and found == sorted(found), (located, found)
