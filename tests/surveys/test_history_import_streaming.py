"""Survey-history import read in chunks (issue 19, bounded memory): chunks are checked and written
as they come, yet a bad row or a repeated source id in a later chunk stores nothing at all (the
earlier chunks' writes are rolled back), and a path is imported like bytes. READ_ROWS is made tiny
so a few rows span several chunks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.facts import ExperienceObservation
from perception.kpi.models import ImportBatch
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions
from perception.surveys.models import Response
from perception.surveys.services import history_import
from perception.surveys.services.history_import import import_responses

HEADER = "source_id,submitted_at,language,channel,customer,csat,low_reasons,ces,improve\n"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: Any) -> None:
    monkeypatch.setattr(history_import, "READ_ROWS", 2)


@pytest.fixture
def campaign(make_campaign: Any) -> Any:
    return make_campaign("csat_transactional")


def _lines(n: int, **bad: str) -> str:
    lines = [f"S-{i},2026-01-{i + 1:02d} 09:30,zh,survey,R1-C,4,,6,好" for i in range(n)]
    for index, line in bad.items():
        lines[int(index.removeprefix("row"))] = line
    return HEADER + "\n".join(lines) + "\n"


def _run(session: Any, campaign: Any, data: Any, dry_run: bool = False) -> Any:
    return import_responses(session, campaign, ImportOptions(dry_run=dry_run), org_timezone=DEFAULT_TIMEZONE,
                            data=data, filename="history.csv")  # fmt: skip


def _count(session: Any, model: Any = Response) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_path_is_imported_in_chunks_and_again_changes_nothing(db_session, campaign, tmp_path: Path):
    path = tmp_path / "history.csv"
    path.write_text(_lines(7), encoding="utf-8")
    first = _run(db_session, campaign, path)
    assert (first.rows_total, first.rows_new) == (7, 7)
    assert _count(db_session) == 7 and _count(db_session, ExperienceObservation) > 0
    again = _run(db_session, campaign, path)
    assert (again.rows_new, again.rows_changed, again.rows_unchanged) == (0, 0, 7)


def test_a_bad_answer_in_the_last_chunk_rolls_back_the_chunks_written(db_session, campaign):
    text = _lines(7, row6="S-6,2026-01-07 09:30,zh,survey,R1-C,9,,6,")  # csat 9 of 5, row 8
    with pytest.raises(KpiImportError) as info:
        _run(db_session, campaign, text.encode())
    assert [(p.row, p.field, p.value) for p in info.value.problems] == [(8, "csat", "9")]
    assert _count(db_session) == 0 and _count(db_session, ExperienceObservation) == 0
    assert _count(db_session, ImportBatch) == 0


def test_a_source_id_repeated_in_a_later_chunk_is_named_and_nothing_stored(db_session, campaign):
    text = _lines(7, row5="S-1,2026-01-06 09:30,zh,survey,R1-C,3,,5,")  # row 7 repeats row 3
    with pytest.raises(KpiImportError) as info:
        _run(db_session, campaign, text.encode())
    (found,) = info.value.problems
    assert (found.row, found.field, found.value, found.code) == (7, "source_id", "S-1", "duplicate_source")
    assert "row 3" in found.text("en") and "第 3 行" in found.text("zh")
    assert _count(db_session) == 0


def test_a_repeat_within_one_chunk_is_named_once(db_session, campaign, monkeypatch):
    monkeypatch.setattr(history_import, "READ_ROWS", 50)
    text = _lines(4, row3="S-0,2026-01-04 09:30,zh,survey,R1-C,3,,5,")
    with pytest.raises(KpiImportError) as info:
        _run(db_session, campaign, text.encode(), dry_run=True)
    assert [(p.row, p.code) for p in info.value.problems] == [(5, "duplicate_source")]
