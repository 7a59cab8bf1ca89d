"""A NUL character (0x00) in a cell of a KPI values file, probed in session 18 on both databases in
every column (kpi, service, region, tier, period, value, n, target), dry run and applied: the file
holds only codes and numbers, so a cell with a NUL is no known code or no number, and each was
already its row's named problem in both languages (e.g. `no service with this code`), with nothing
stored, on SQLite and PostgreSQL alike (no statement ever carried the NUL). This keeps it so, on
the page as well; the import has no text column for take_nul_cells to guard. The value a problem
shows now writes the NUL \\0 (it was an invisible character in the page)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.kpi.models import ImportBatch, KpiDefinition, KpiValue
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions
from perception.kpi.services.value_import import import_kpi_values
from tests.conftest import post_form

COLUMNS = ("kpi", "service", "region", "tier", "period", "value", "n", "target")
GOOD = ("RING2", "DESK", "R1", "GOLD", "2026-W02", "91", "100", "95")
REASONS = {"kpi": "unknown_kpi", "service": "unknown_service", "region": "unknown_region",
           "tier": "unknown_tier", "period": "bad_period", "value": "bad_number", "n": "bad_integer",
           "target": "bad_number"}  # fmt: skip


@pytest.fixture
def ring(db_session: Any, catalog: Any) -> None:
    db_session.add(KpiDefinition(code="RING2", name_zh="两声接听率", name_en="Answered by 2nd ring", unit="%",
                                 direction="higher", default_target=95.0))  # fmt: skip
    db_session.flush()


def _file(column: str) -> bytes:
    """Two values; the second (row 3) holds a NUL in ``column``."""
    bad = list(GOOD)
    at = COLUMNS.index(column)
    bad[at] = bad[at][:1] + "\x00" + bad[at][1:]
    other = [v.replace("W02", "W01") for v in GOOD]
    return "\n".join(",".join(row) for row in (COLUMNS, other, bad)).encode() + b"\n"


def _nothing_stored(session: Any) -> bool:
    return [session.scalar(select(func.count()).select_from(m)) for m in (KpiValue, ImportBatch)] == [0, 0]


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_nul_in_a_cell_is_the_rows_problem(db_session: Any, ring: Any, column: str, dry_run: bool) -> None:
    with pytest.raises(KpiImportError) as info:
        import_kpi_values(db_session, ImportOptions(dry_run=dry_run), data=_file(column), filename="v.csv")
    (found,) = info.value.problems
    assert (found.row, found.field, found.code) == (3, column, REASONS[column])
    assert "\\0" in (found.value or "")  # shown where it is (an invisible character before)
    assert found.text("en") and found.text("zh") != found.text("en")
    assert _nothing_stored(db_session)


def test_the_page_names_the_row(login_as: Any, db_session: Any, ring: Any) -> None:
    client = login_as("analyst")
    fields = {"kind": "kpi_values", "upload": (io.BytesIO(_file("service")), "values.csv")}
    answer = post_form(client, "/kpi/import", fields, token_from="/kpi/import",
                       content_type="multipart/form-data")  # fmt: skip
    shown = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "Row 3, column service" in shown, shown[:300]
    assert _nothing_stored(db_session)
