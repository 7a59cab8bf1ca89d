"""Weekly-report and callback history imports read in chunks (issue 19, bounded memory): both read
and held the whole file before a row was checked. Now they read READ_ROWS rows at a time (made
tiny here so a few rows span several chunks) and stay all-or-nothing: a bad row in the last chunk
stores nothing and names its row, column and reason; a report whose rows span chunks is stored
once with all its entries; a source id repeated across chunks is named with both rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.collection.models.fieldwork import CallbackAttempt, CallbackTask
from perception.collection.models.reports import CollectionReport, ReportEntry, ReportRevision
from perception.collection.services import callback_history, report_history
from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.facts import ExperienceObservation
from perception.kpi.models import ImportBatch
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions
from perception.surveys.models import Response

REPORTS = "collection_point,week,submitted_at,status,kind,customer,service,dimension,rating,means,text\n"
CALLS = "source_id,called_at,outcome,customer,service,ticket,contact_name,phone,note,resolved,on_time,csat\n"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_history, "READ_ROWS", 2)
    monkeypatch.setattr(callback_history, "READ_ROWS", 2)


def _count(session: Any, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)))


def _file(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _report_rows() -> list[str]:
    """Two reports of R1's point: the first of five rows (three chunks), interleaved with the second."""
    first = "CP-R1,2026-03-02,2026-03-06 17:00,accepted,feedback,R1-C,DESK,response_speed,{r},visit,第{i}条\n"
    second = "CP-R1,2026-03-09,2026-03-13 10:00,submitted,requirement,R1-C,,,,,移动端报修{i}\n"
    rows = [first.format(r=1 + i % 5, i=i) for i in range(5)]
    rows.insert(3, second.format(i=0))
    return rows


def _import_reports(session: Any, path: Path, dry_run: bool = False) -> Any:
    return report_history.import_reports(
        session, ImportOptions(dry_run=dry_run), data=path, filename=path.name
    )


def test_a_report_whose_rows_span_chunks_is_stored_once_with_every_entry(
    db_session: Any, org: dict[str, Any], cat: dict[str, Any], tmp_path: Path
) -> None:
    path = _file(tmp_path, REPORTS + "".join(_report_rows()), "reports.csv")
    checked = _import_reports(db_session, path, dry_run=True)
    assert (checked.rows_total, checked.rows_new) == (2, 2) and _count(db_session, CollectionReport) == 0
    result = _import_reports(db_session, path)
    assert (result.rows_total, result.rows_new) == (2, 2)
    reports = db_session.scalars(select(CollectionReport).order_by(CollectionReport.week_start)).all()
    assert [r.first_submitted_at for r in reports] == [
        datetime(2026, 3, 6, 9, 0),
        datetime(2026, 3, 13, 2, 0),
    ]
    assert [r.status for r in reports] == ["accepted", "submitted"]
    assert [e.text for e in sorted(reports[0].entries, key=lambda e: e.position)] == [
        f"第{i}条" for i in range(5)
    ]
    assert [len(r.revisions) for r in reports] == [1, 1] and len(reports[0].revisions[0].entries) == 5
    ratings = db_session.scalars(
        select(ExperienceObservation.value).where(ExperienceObservation.source == "feedback")
        .order_by(ExperienceObservation.value)
    ).all()  # fmt: skip
    assert ratings == [1.0, 2.0, 3.0, 4.0, 5.0]
    again = _import_reports(db_session, path)
    assert (again.rows_new, again.rows_changed, again.rows_unchanged) == (0, 0, 2)
    rows = _report_rows()
    rows[5] = rows[5].replace("第4条", "第四条")  # the last row of the first report, third chunk
    fixed = _import_reports(db_session, _file(tmp_path, REPORTS + "".join(rows), "fixed.csv"))
    assert (fixed.rows_new, fixed.rows_changed, fixed.rows_unchanged) == (0, 1, 1)
    assert _count(db_session, ReportEntry) == 6 and _count(db_session, ReportRevision) == 2
    assert _count(db_session, ExperienceObservation) == 5


def test_a_bad_report_row_in_the_last_chunk_stores_nothing_and_is_named(
    db_session: Any, org: dict[str, Any], cat: dict[str, Any], tmp_path: Path
) -> None:
    rows = _report_rows()
    rows[5] = rows[5].replace("response_speed,5", "response_speed,9")  # row 7, the third chunk
    with pytest.raises(KpiImportError) as info:
        _import_reports(db_session, _file(tmp_path, REPORTS + "".join(rows), "bad.csv"))
    located = [p.located("en") for p in info.value.problems]
    assert len(located) == 1 and located[0].startswith("Row 7, column rating"), located
    assert _count(db_session, CollectionReport) == 0 and _count(db_session, ReportEntry) == 0
    assert _count(db_session, ImportBatch) == 0


def _calls(n: int) -> list[str]:
    return [
        f"C{i},2026-03-0{1 + i % 9} 10:00,completed,R1-C,DESK,,,,,yes,yes,{1 + i % 5}\n"
        if i % 3
        else f"C{i},2026-03-05 11:00,no_answer,R1-C,DESK,,李女士,,busy,,,\n"
        for i in range(n)
    ]


def _import_calls(session: Any, campaign: Any, path: Path) -> Any:
    return callback_history.import_callbacks(
        session, campaign, ImportOptions(dry_run=False), org_timezone=DEFAULT_TIMEZONE, data=path
    )


def test_calls_in_chunks_are_stored_and_again_change_nothing(
    db_session: Any, campaign: Any, tmp_path: Path
) -> None:
    path = _file(tmp_path, CALLS + "".join(_calls(7)), "calls.csv")
    result = _import_calls(db_session, campaign, path)
    assert (result.rows_total, result.rows_new) == (7, 7)
    assert _count(db_session, CallbackTask) == 7 and _count(db_session, Response) == 4
    again = _import_calls(db_session, campaign, path)
    assert (again.rows_new, again.rows_changed, again.rows_unchanged) == (0, 0, 7)


def test_a_bad_call_in_the_last_chunk_stores_nothing_and_is_named(
    db_session: Any, campaign: Any, tmp_path: Path
) -> None:
    rows = _calls(8)
    rows[7] = rows[7].replace(",yes,yes,3", ",yes,yes,6")  # row 9, the fifth chunk: csat outside 1-5
    with pytest.raises(KpiImportError) as info:
        _import_calls(db_session, campaign, _file(tmp_path, CALLS + "".join(rows), "bad.csv"))
    located = [p.located("en") for p in info.value.problems]
    assert located == [located[0]] and located[0].startswith('Row 9, column csat, value "6"'), located
    assert _count(db_session, CallbackTask) == 0 and _count(db_session, Response) == 0
    assert _count(db_session, CallbackAttempt) == 0 and _count(db_session, ImportBatch) == 0


def test_a_source_id_repeated_across_chunks_is_named_with_both_rows(
    db_session: Any, campaign: Any, tmp_path: Path
) -> None:
    rows = _calls(6)
    rows[5] = rows[5].replace("C5,", "C1,")  # row 7 (third chunk) repeats row 3 (first chunk)
    with pytest.raises(KpiImportError) as info:
        _import_calls(db_session, campaign, _file(tmp_path, CALLS + "".join(rows), "repeat.csv"))
    (found,) = info.value.problems
    assert (found.row, found.field, found.value, found.code) == (7, "source_id", "C1", "duplicate_source")
    assert "row 3" in found.text("en")
    assert _count(db_session, CallbackTask) == 0 and _count(db_session, Response) == 0
