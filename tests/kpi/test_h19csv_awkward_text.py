"""Awkward text survives the import's faster reader and stage (issue 19).

- The stage is written on PostgreSQL by COPY with its columns' types set once (kpi_bulk), and its
  free-text columns are TEXT: cells holding a tab, a newline, a carriage return, a backslash, the
  two characters ``\\N`` (COPY's NULL marker), quotes, Chinese text, full-width spaces, are stored
  as the cell said (stripped), an empty cell and a missing column as NULL, on whichever database
  the suite runs (run it on SQLite and on PostgreSQL); a ticket id or contact over its length is
  refused with the row's "too long" problem (on PostgreSQL the stage's VARCHAR(n) aborted the
  import with a database error before), and nothing is stored.
- The CSV reader strips a chunk's cells column by column after transposing it: the same columns,
  row numbers and chunks as the row-by-row strip it replaced, short and long rows, blank lines,
  whole-file reads included.
"""

from __future__ import annotations

import csv
import io
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from perception.core import uploads
from perception.kpi.models import Ticket
from perception.kpi.services import ticket_import
from perception.kpi.services.files import read_table, stream_table
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import HEADER, csv_bytes, ticket_row

AWKWARD = [
    "a\tb",
    "line one\nline two",
    "crlf\r\ninside",
    "bare\rreturn",
    "back\\slash",
    "\\N",
    "\\\\N",
    "ends with \\",
    "\\t literally",
    '他说"好"',
    "'single' and \"double\"",
    "  padded both  ",
    "\u3000全角空格\u3000",
    "中\u3000间",
    " \t edge tab and newline \n ",
    "张三（工程部）",
    "",
    "   ",
    "\u3000",
    "NULL",
    "\\.",
]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(ticket_import, "CHUNK_ROWS", 4)  # several COPY blocks, several reader chunks


def _stored(session) -> dict[str, tuple[Any, ...]]:
    rows = session.execute(
        select(
            Ticket.external_id, Ticket.contact, Ticket.engineer, Ticket.kind, Ticket.priority, Ticket.status
        )
    ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_awkward_cells_are_stored_as_written(db_session, catalog, tmp_path: Path):
    rows = [ticket_row(f"AW-{i}", contact=text, engineer=AWKWARD[-1 - i]) for i, text in enumerate(AWKWARD)]
    ids = ["id\\back", "id\\N", "  id padded ", "工单\u3000一"]  # ticket ids with awkward text too
    rows += [ticket_row(ext, contact="", engineer="x") for ext in ids]
    path = tmp_path / "awkward.csv"
    path.write_bytes(csv_bytes(rows))

    result = import_tickets(db_session, ImportOptions(dry_run=False), data=path)

    assert result.rows_new == len(rows)
    expected = {
        row["id"].strip(): (row["contact"].strip() or None, row["engineer"].strip() or None) for row in rows
    }
    stored = _stored(db_session)
    assert {k: v[:2] for k, v in stored.items()} == expected
    assert stored["AW-5"][0] == "\\N" and stored["AW-19"][0] == "NULL"  # text, not NULL
    assert {v[2:] for v in stored.values()} == {("incident", "P2", "closed")}
    again = import_tickets(db_session, ImportOptions(dry_run=False, allow_duplicate=True), data=path)
    assert (again.rows_new, again.rows_changed) == (0, 0)  # what is stored compares equal to the file


def test_a_missing_column_is_stored_as_null(db_session, catalog, tmp_path: Path):
    header = tuple(h for h in HEADER if h not in ("contact", "engineer"))
    path = tmp_path / "narrow.csv"
    path.write_bytes(csv_bytes([ticket_row(f"M-{i}") for i in range(6)], header=header))
    import_tickets(db_session, ImportOptions(dry_run=False), data=path)
    assert set(_stored(db_session).values()) == {(None, None, "incident", "P2", "closed")}


def test_a_bad_awkward_cell_is_named_and_nothing_is_stored(db_session, catalog, tmp_path: Path):
    rows = [ticket_row(f"E-{i}", contact=AWKWARD[i]) for i in range(7)]
    rows[4]["id"] = "I\\d" + "x" * 63  # 65 characters: too long
    rows[5]["service"] = " NO\tPE\u3000"
    rows[6]["contact"] = "a\tb\\" + "长" * 197  # 201 characters: too long
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(rows))
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=False), data=path)
    assert [(p.row, p.field, p.value, p.code) for p in info.value.problems] == [
        (6, "id", "I\\d" + "x" * 63, "too_long"),
        (7, "service", "NO\tPE", "unknown_service"),
        (8, "contact", "a\tb\\" + "长" * 73 + "...", "too_long"),  # shown cut to 80
    ]
    assert _stored(db_session) == {}


# --- the reader: column-wise strip against the row-wise strip it replaced -----------------------


def _row_wise(data: bytes, chunk_rows: int) -> list[tuple[tuple[str, ...], tuple[list[str], ...], int, Any]]:
    """The reader before: each row's cells stripped into a new list, then the rows transposed."""
    stream = uploads.stream_rows(data, uploads.Limits(10**8, 10**6, 10**9), KpiImportError)
    _, first = next(stream.rows)
    header = [c.strip() for c in first]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    out = []
    while block := list(islice(stream.rows, chunk_rows)):
        numbers = tuple(number for number, _ in block)
        body = [[c.strip() for c in row[:width]] for _, row in block]
        body = [r if len(r) == width else (list(r) + [""] * width)[:width] for r in body]
        columns = tuple(map(list, zip(*body, strict=True))) if body else tuple([] for _ in range(width))
        contiguous = numbers[-1] - numbers[0] == len(numbers) - 1
        out.append((tuple(header), columns, numbers[0], None if contiguous else numbers))
    return out


def _column_wise(
    data: bytes, chunk_rows: int
) -> list[tuple[tuple[str, ...], tuple[list[str], ...], int, Any]]:
    stream = stream_table(data, chunk_rows=chunk_rows)
    return [(t.header, t.columns, t.first_row, t.row_numbers) for t in stream.chunks]


cell = st.one_of(st.sampled_from(AWKWARD), st.text(alphabet=" \t\u3000ab中\\\"'\n,", max_size=6))
row = st.lists(cell, min_size=0, max_size=6)  # short, full and long rows against a 4-cell header


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=1, max_size=12), chunk_rows=st.integers(1, 5))
def test_the_column_wise_reader_gives_the_rows_of_the_row_wise_one(rows, chunk_rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["id", " 联系人 ", "b", "c"])
    writer.writerows(rows)
    data = buf.getvalue().encode()
    try:
        expected = _row_wise(data, chunk_rows)
    except KpiImportError:
        with pytest.raises(KpiImportError):
            _column_wise(data, chunk_rows)
        return
    if not expected:  # every data row blank: the new reader refuses the file as before
        with pytest.raises(KpiImportError):
            _column_wise(data, chunk_rows)
        return
    assert _column_wise(data, chunk_rows) == expected
    whole = read_table(data)
    assert whole.columns == tuple(sum((list(c[i]) for _, c, _, _ in expected), []) for i in range(4))
