"""A NUL character (0x00) in a cell of a past weekly reports file (session 18). The dry run passed
on both databases; applying it, SQLite stored the NUL in the entry, PostgreSQL refused the entries'
INSERT with `psycopg.DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes` (a 500 on
the page's apply step, a traceback in `perception collection import-reports --apply`). A NUL in a
code cell (point, week, status, customer) was named already, as an unknown code. Now every cell
holding one is its row's problem (`nul_character`, English and Chinese) on both databases, in the
dry run already, and nothing is stored."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.collection.models.reports import CollectionReport, ReportEntry
from perception.kpi.models import ImportBatch
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions
from tests.conftest import csrf_token, login

COLUMNS = ("collection_point", "week", "submitted_at", "status", "kind", "customer", "service", "dimension",
           "rating", "means", "text", "contact")  # fmt: skip
GOOD = ("CP-R1", "2026-03-02", "2026-03-06 17:00", "accepted", "feedback", "R1-C", "DESK", "response_speed",
        "4", "visit", "响应很快", "王先生")  # fmt: skip


def _file(column: str) -> bytes:
    """Two reports; the second one's row (row 3) holds a NUL in ``column``."""
    other = [v.replace("R1", "R2") for v in GOOD]
    bad = list(GOOD)
    at = COLUMNS.index(column)
    bad[at] = bad[at][:1] + "\x00" + bad[at][1:]
    return "\n".join(",".join(row) for row in (COLUMNS, other, bad)).encode() + b"\n"


def _nothing_stored(session: Any) -> bool:
    reports = session.scalar(select(func.count()).select_from(CollectionReport))
    entries = session.scalar(select(func.count()).select_from(ReportEntry))
    return reports == entries == 0


@pytest.mark.parametrize("column", ["text", "contact", "collection_point", "week", "submitted_at", "status"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_nul_in_a_cell_is_the_rows_problem(db_session: Any, cat: Any, column: str, dry_run: bool) -> None:
    from perception.collection.services.report_history import import_reports

    with pytest.raises(KpiImportError) as info:
        import_reports(db_session, ImportOptions(dry_run=dry_run), data=_file(column), filename="r.csv")
    (found,) = info.value.problems
    assert (found.row, found.field, found.code) == (3, column, "nul_character")
    assert "\\0" in (found.value or "") and "\x00" not in (found.value or "")  # shown where it is
    assert "NUL character (0x00)" in found.text("en") and "空字符（0x00）" in found.text("zh")
    assert _nothing_stored(db_session)


def test_a_nul_in_a_heading_is_an_unknown_column(db_session: Any, cat: Any) -> None:
    from perception.collection.services.report_history import import_reports

    text = _file("text").replace(b"text", b"te\x00xt", 1)
    with pytest.raises(KpiImportError) as info:
        import_reports(db_session, ImportOptions(dry_run=False), data=text, filename="r.csv")
    assert ("unknown_column", "te\\0xt") in [(p.code, p.field) for p in info.value.problems]
    assert _nothing_stored(db_session)


def test_a_nul_in_a_workbook_cell_makes_it_unreadable(db_session: Any, cat: Any) -> None:
    """An .xlsx cannot carry one: its XML refuses the character (the one upload reader's refusal)."""
    from perception.collection.services.report_history import import_reports
    from tests.upload_bombs import workbook

    bad = [*GOOD[:-2], "响\x00应", GOOD[-1]]
    with pytest.raises(KpiImportError) as info:
        import_reports(db_session, ImportOptions(dry_run=False), data=workbook(COLUMNS, iter([bad])))
    assert [p.code for p in info.value.problems] == ["bad_format"]
    assert _nothing_stored(db_session)


def test_the_page_names_the_row_in_both_languages(
    client: Any, db_session: Any, cat: Any, make_user: Any
) -> None:
    make_user("orga", "organiser")
    login(client, "orga")
    page = "/collection/reports/history"
    for lang, expected in (("en", "Row 3, column text"), ("zh-CN", "第 3 行，列“text”")):
        upload = (io.BytesIO(_file("text")), "r.csv")
        answer = client.post(
            page, data={"csrf_token": csrf_token(client, page), "upload": upload},
            content_type="multipart/form-data", headers={"Accept-Language": lang},
        )  # fmt: skip
        shown = answer.get_data(as_text=True)
        assert answer.status_code == 200, shown[:300]  # the form again, not the dry run's preview
        assert expected in shown and ("NUL character" in shown or "空字符" in shown)
    assert db_session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    assert _nothing_stored(db_session)


def test_the_api_upload_and_the_command_name_the_row(
    client: Any, db_session: Any, cat: Any, make_user: Any, runner: Any, tmp_path: Any
) -> None:
    from perception.core.users import issue_token

    _, secret = issue_token(db_session, make_user("orga", "organiser"), "t")
    answer = client.post(
        "/api/v1/collection/reports/import", data={"file": (io.BytesIO(_file("contact")), "r.csv")},
        headers={"Authorization": f"Bearer {secret}"}, content_type="multipart/form-data",
    )  # fmt: skip
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    (error,) = answer.get_json()["errors"]
    assert (error["row"], error["field"], error["code"]) == (3, "contact", "nul_character")
    assert "空字符" in error["detail_zh"]
    path = tmp_path / "reports.csv"
    path.write_bytes(_file("text"))
    out = runner.invoke(args=["collection", "import-reports", str(path), "--apply"])
    assert out.exit_code == 1 and "Row 3, column text" in out.output and "NUL" in out.output, out.output
    assert _nothing_stored(db_session)
