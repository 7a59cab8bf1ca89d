"""A NUL character (0x00) in a ticket file's free-text cell: SQLite stored it, PostgreSQL refused
the whole statement with a database error (a 500 on the upload page, a traceback in the CLI).
Observed while measuring the import (session 17): `psycopg.DataError: PostgreSQL text fields
cannot contain NUL (0x00) bytes`. Now the row's problem names the cell on both databases and
nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from perception.kpi.models import Ticket
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import csv_bytes, ticket_row


@pytest.mark.parametrize("column", ["engineer", "contact", "id"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_nul_in_a_text_cell_is_the_rows_problem(db_session, catalog, tmp_path, column, dry_run):
    rows = [ticket_row(f"N-{i}") for i in range(4)]
    rows[2][column] = "李\x00工" if column != "id" else "N-\x002"
    path = tmp_path / "tickets.csv"
    path.write_bytes(csv_bytes(rows))
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=dry_run), data=path)
    (found,) = info.value.problems
    assert (found.row, found.field, found.code) == (4, column, "nul_character")
    assert "NUL" in found.text("en") and "空字符" in found.text("zh")
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_an_api_batch_with_a_nul_is_refused_the_same_way(db_session, catalog):
    item = {**ticket_row("API-1"), "engineer": "a\x00b"}
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=False), items=[item])
    assert [(p.row, p.field, p.code) for p in info.value.problems] == [
        (1, "engineer", "nul_character")
    ]  # the first object
