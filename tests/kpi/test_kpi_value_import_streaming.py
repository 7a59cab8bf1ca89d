"""KPI value import read in chunks (issue 19, bounded memory): the whole file was read and held
(bytes, text, rows, every parsed value) before a row was checked. Now it is checked and written a
chunk at a time inside a savepoint, yet stays all-or-nothing: a bad row in the last chunk stores
nothing and names its row, column and reason; a key repeated across chunks is named with both
rows. READ_ROWS is made tiny so a few rows span several chunks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.kpi.models import ImportBatch, KpiDefinition, KpiValue
from perception.kpi.services import value_import
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions
from perception.kpi.services.value_import import import_kpi_values

HEADER = "kpi,service,region,period,value,n\n"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(value_import, "READ_ROWS", 3)


@pytest.fixture
def ring(db_session: Any, catalog: dict[str, Any]) -> KpiDefinition:
    definition = KpiDefinition(
        code="RING2", name_zh="两声接听率", name_en="Answered by 2nd ring", unit="%", direction="higher",
        default_target=95.0,
    )  # fmt: skip
    db_session.add(definition)
    db_session.flush()
    return definition


def _rows(n: int) -> list[str]:
    return [f"RING2,DESK,R{1 + i % 2},2026-W{1 + i // 2:02d},{90 + i % 10},100\n" for i in range(n)]


def _file(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "values.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _count(session: Any, model: Any = KpiValue) -> int:
    return int(session.scalar(select(func.count()).select_from(model)))


def test_a_file_in_chunks_is_written_whole_and_again_changes_nothing(
    db_session: Any, ring: KpiDefinition, tmp_path: Path
) -> None:
    path = _file(tmp_path, _rows(10))
    first = import_kpi_values(db_session, ImportOptions(dry_run=False), data=path, filename=path.name)
    assert (first.rows_total, first.rows_new, first.rows_changed) == (10, 10, 0)
    assert _count(db_session) == 10
    stored = db_session.scalars(select(KpiValue).order_by(KpiValue.period_start, KpiValue.region_id)).all()
    assert [(v.value, v.target, v.met) for v in stored[:2]] == [(90.0, 95.0, False), (91.0, 95.0, False)]
    assert all(v.batch_id == first.batch_id for v in stored)
    again = import_kpi_values(
        db_session, ImportOptions(dry_run=False, allow_duplicate=True), data=path, filename=path.name
    )
    assert (again.rows_new, again.rows_changed, again.rows_unchanged) == (0, 0, 10)
    rows = _rows(10)
    rows[8] = rows[8].replace(",98,", ",99,")  # a value of the last chunk changes
    fixed = import_kpi_values(db_session, ImportOptions(dry_run=False), data=_file(tmp_path, rows))
    assert (fixed.rows_new, fixed.rows_changed, fixed.rows_unchanged) == (0, 1, 9)
    assert _count(db_session) == 10


def test_a_bad_row_in_the_last_chunk_stores_nothing_and_is_named(
    db_session: Any, ring: KpiDefinition, tmp_path: Path
) -> None:
    rows = _rows(10)
    rows[9] = rows[9].replace("DESK", "NOPE")  # the tenth data row: spreadsheet row 11, fourth chunk
    with pytest.raises(KpiImportError) as info:
        import_kpi_values(db_session, ImportOptions(dry_run=False), data=_file(tmp_path, rows))
    assert [(p.row, p.field, p.value, p.code) for p in info.value.problems] == [
        (11, "service", "NOPE", "unknown_service")
    ]
    assert "no service" in info.value.problems[0].text("en") and "服务" in info.value.problems[0].text("zh")
    assert _count(db_session) == 0 and _count(db_session, ImportBatch) == 0


def test_a_key_repeated_across_chunks_is_named_with_both_rows(
    db_session: Any, ring: KpiDefinition, tmp_path: Path
) -> None:
    rows = _rows(8)
    rows[7] = rows[1]  # row 9 (third chunk) repeats row 3 (first chunk)
    with pytest.raises(KpiImportError) as info:
        import_kpi_values(db_session, ImportOptions(dry_run=False), data=_file(tmp_path, rows))
    (found,) = info.value.problems
    assert (found.row, found.field, found.code) == (9, "kpi", "duplicate_key")
    assert "row 3" in found.text("en") and "第 3 行" in found.text("zh")
    assert _count(db_session) == 0 and _count(db_session, ImportBatch) == 0


def test_a_key_repeated_within_a_chunk_is_named_before_anything_is_written(
    db_session: Any, ring: KpiDefinition, tmp_path: Path
) -> None:
    rows = _rows(3)
    rows[2] = rows[0]
    with pytest.raises(KpiImportError) as info:
        import_kpi_values(db_session, ImportOptions(dry_run=False), data=_file(tmp_path, rows))
    assert [(p.row, p.code) for p in info.value.problems] == [(4, "duplicate_key")]
    assert _count(db_session) == 0
