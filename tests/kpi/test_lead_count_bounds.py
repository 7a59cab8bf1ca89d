"""Counts a user can type past what a count column holds (a reopen count of twenty nines, a
superscript "²") are the row's message, not a traceback: found by the session-12 newcomer check,
where ``perception kpi import-tickets`` ended in "OverflowError: Python int too large to convert
to SQLite INTEGER" (PostgreSQL: a database error) and stored nothing only by accident."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.kpi.models import ImportBatch, KpiDefinition, KpiValue, Ticket
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from perception.kpi.services.ticket_parse import COUNT_MAX, whole_count
from perception.kpi.services.value_import import import_kpi_values
from tests.kpi.conftest import HEADER, csv_bytes, ticket_row

TOO_MANY = "9" * 20
WITH_TRANSFERS = (*HEADER, "transfers")


def _count(session: Any, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)))


def _import(session: Any, rows: list[dict[str, str]]) -> Any:
    data = csv_bytes(rows, header=WITH_TRANSFERS)
    return import_tickets(session, ImportOptions(dry_run=False), data=data, filename="t.csv")


def test_whole_count_takes_decimal_digits_up_to_the_column_s_limit() -> None:
    assert whole_count("0") == 0 and whole_count("３") == 3 and whole_count(str(COUNT_MAX)) == COUNT_MAX
    for text in (str(COUNT_MAX + 1), TOO_MANY, "²", "-1", "1.5", "", "two"):
        assert whole_count(text) is None, text


def test_ticket_counts_past_the_column_are_the_row_s_message(db_session: Any, catalog: Any) -> None:
    rows = [
        ticket_row("A"),
        ticket_row("B", reopen_count=TOO_MANY),
        ticket_row("C", transfers="²"),
        ticket_row("D", reopen_count=str(COUNT_MAX + 1)),
        ticket_row("E", reopen_count=str(COUNT_MAX), transfers="３"),
    ]
    with pytest.raises(KpiImportError) as info:
        _import(db_session, rows)
    problems = [(p.row, p.field, p.value, p.code) for p in info.value.problems]
    assert problems == [
        (3, "reopen_count", TOO_MANY, "bad_integer"),
        (4, "transfers", "²", "bad_integer"),
        (5, "reopen_count", str(COUNT_MAX + 1), "bad_integer"),
    ]  # by row (test_h20imp_problem_order)
    message = info.value.problems[0]
    assert "2,147,483,647" in message.text("en") and "2147483647" in message.text("zh")
    assert _count(db_session, Ticket) == 0 and _count(db_session, ImportBatch) == 0


def test_a_ticket_count_at_the_limit_is_stored(db_session: Any, catalog: Any) -> None:
    rows = [ticket_row("E", reopen_count=str(COUNT_MAX), transfers="３")]
    _import(db_session, rows)
    stored = db_session.scalars(select(Ticket)).one()
    assert (stored.reopen_count, stored.transfers) == (COUNT_MAX, 3)


def test_a_kpi_value_s_n_past_the_column_is_the_row_s_message(
    db_session: Any, catalog: Any, tmp_path: Path
) -> None:
    db_session.add(
        KpiDefinition(code="RING2", name_zh="两声接听率", name_en="Answered by 2nd ring", unit="%",
                      direction="higher", default_target=95.0)
    )  # fmt: skip
    db_session.flush()
    path = tmp_path / "values.csv"
    path.write_text(
        "kpi,service,region,period,value,n\n"
        "RING2,DESK,R1,2026-W01,91,100\n"
        f"RING2,DESK,R1,2026-W02,92,{TOO_MANY}\n"
        "RING2,DESK,R1,2026-W03,93,²\n",
        encoding="utf-8",
    )
    with pytest.raises(KpiImportError) as info:
        import_kpi_values(db_session, ImportOptions(dry_run=False), data=path, filename=path.name)
    problems = [(p.row, p.field, p.code) for p in info.value.problems]
    assert problems == [(3, "n", "bad_integer"), (4, "n", "bad_integer")]
    assert _count(db_session, KpiValue) == 0
