"""Importing past weekly reports with their real submission times (issue 16): today a migrated report
is stamped with the migration's time and shows as late by thousands of hours."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.collection.models.reports import CollectionReport, ReportEntry
from perception.collection.services.board import Completeness, completeness
from perception.core.models.facts import ExperienceObservation
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions

HEADER = "collection_point,week,submitted_at,status,kind,customer,service,dimension,rating,means,text\n"
ROWS = (
    "CP-R1,2026-03-02,2026-03-06 17:00,accepted,feedback,R1-C,DESK,response_speed,4,visit,响应很快\n"
    "CP-R1,2026-03-02,,,requirement,R1-C,,,,,移动端报修\n"
    "CP-R1,2026-03-09,2026-03-13 10:00,submitted,feedback,R1-C,DESK,staff_attitude,2,callback,态度差\n"
)


def run(session: Any, text: str, *, dry_run: bool = False) -> Any:
    from perception.collection.services.report_history import import_reports

    return import_reports(session, ImportOptions(dry_run=dry_run), data=text.encode(), filename="reports.csv")


def test_migrating_through_the_live_api_makes_old_reports_late_by_thousands_of_hours(
    db_session: Any, org: dict[str, Any], cat: dict[str, Any], put: Any
) -> None:
    """The observation as the issue quotes it: the only way in stamps the migration's time."""
    from perception.collection.services.reports import put_report

    migration_day = datetime(2026, 9, 1, 8, 0)
    put_report(db_session, org["R1"]["point"], date(2026, 3, 2), [{"kind": "requirement", "customer": "R1-C",
               "text": "x"}], None, submit=True, source="api", now=migration_day)  # fmt: skip
    cell = completeness(db_session, date(2026, 3, 2), date(2026, 3, 2), now=migration_day,
                        point_ids=[org["R1"]["point"].id])[0]  # fmt: skip
    assert cell.state == Completeness.LATE and cell.lateness_hours > 3000


def test_imported_reports_keep_their_submission_time_entries_and_facts(
    db_session: Any, org: dict[str, Any], cat: dict[str, Any]
) -> None:
    result = run(db_session, HEADER + ROWS)
    assert (result.rows_total, result.rows_new) == (2, 2)
    reports = db_session.scalars(select(CollectionReport).order_by(CollectionReport.week_start)).all()
    # 17:00 in Shanghai is 09:00 UTC; the point's deadline is the next Monday 12:00 local
    assert reports[0].first_submitted_at == datetime(2026, 3, 6, 9, 0) and reports[0].status == "accepted"
    assert reports[1].status == "submitted" and reports[0].source == "import"
    assert db_session.scalar(select(func.count()).select_from(ReportEntry)) == 3
    cells = completeness(db_session, date(2026, 3, 2), date(2026, 3, 9), now=datetime(2026, 9, 1),
                         point_ids=[org["R1"]["point"].id])  # fmt: skip
    assert [c.state for c in sorted(cells, key=lambda c: c.week_start)] == [Completeness.SUBMITTED] * 2
    ratings = db_session.execute(
        select(ExperienceObservation.observed_on, ExperienceObservation.value)
        .where(ExperienceObservation.source == "feedback").order_by(ExperienceObservation.observed_on)
    ).all()  # fmt: skip
    assert ratings == [(date(2026, 3, 2), 4.0), (date(2026, 3, 9), 2.0)]


def test_reimport_changes_nothing_and_a_corrected_file_replaces_the_imported_report(
    db_session: Any, org: dict[str, Any], cat: dict[str, Any]
) -> None:
    run(db_session, HEADER + ROWS)
    again = run(db_session, HEADER + ROWS)
    assert (again.rows_new, again.rows_changed, again.rows_unchanged) == (0, 0, 2)
    fixed = run(db_session, HEADER + ROWS.replace("staff_attitude,2", "staff_attitude,3"))
    assert (fixed.rows_new, fixed.rows_changed) == (0, 1)
    values = db_session.scalars(
        select(ExperienceObservation.value).where(ExperienceObservation.source == "feedback")
        .order_by(ExperienceObservation.value)
    ).all()  # fmt: skip
    assert values == [3.0, 4.0]
    assert db_session.scalar(select(func.count()).select_from(ReportEntry)) == 3


def test_bad_rows_are_named_and_nothing_is_stored(
    db_session: Any, org: dict[str, Any], cat: dict[str, Any]
) -> None:
    text = HEADER + (
        "CP-XX,2026-03-02,2026-03-06 17:00,,feedback,R1-C,DESK,response_speed,4,visit,a\n"
        "CP-R1,2026-03-02,2026-02-06 17:00,,feedback,R1-C,DESK,response_speed,4,visit,a\n"
        "CP-R2,2026-03-09,2026-03-13 10:00,maybe,feedback,R2-C,DESK,response_speed,4,visit,a\n"
        "CP-R2,2026-03-16,2026-03-20 10:00,,feedback,R2-C,DESK,response_speed,9,visit,a\n"
    )
    with pytest.raises(KpiImportError) as exc:
        run(db_session, text)
    found = " | ".join(p.located("en") for p in exc.value.problems)
    assert 'Row 2, column collection_point, value "CP-XX"' in found
    assert 'Row 3, column submitted_at, value "2026-02-06 17:00": earlier than the week' in found
    assert 'Row 4, column status, value "maybe"' in found
    assert "Row 5" in found and "rating" in found
    assert db_session.scalar(select(func.count()).select_from(CollectionReport)) == 0


def test_a_report_entered_in_the_product_is_never_overwritten(
    db_session: Any, org: dict[str, Any], cat: dict[str, Any], put: Any, collector: Any
) -> None:
    from tests.collection.conftest import feedback

    put("R1", date(2026, 3, 2), [feedback()], collector, submit_at=datetime(2026, 3, 8))
    with pytest.raises(KpiImportError) as exc:
        run(db_session, HEADER + ROWS)
    assert any(p.code == "report_exists" and p.row == 2 for p in exc.value.problems)


def test_reports_import_through_api_page_and_cli(
    client: Any, db_session: Any, org: dict[str, Any], cat: dict[str, Any], make_user: Any, runner: Any,
    tmp_path: Any,
) -> None:  # fmt: skip
    import io

    from perception.core.users import issue_token
    from tests.conftest import csrf_token, login

    organiser = make_user("orga", "organiser")
    _, secret = issue_token(db_session, organiser, "t")
    headers = {"Authorization": f"Bearer {secret}"}
    rows = [{"collection_point": "CP-R2", "week": "2026-03-02", "submitted_at": "2026-03-06 17:00",
             "kind": "requirement", "customer": "R2-C", "text": "移动端"}]  # fmt: skip
    dry = client.post("/api/v1/collection/reports/import?dry_run=1", json={"rows": rows}, headers=headers)
    assert dry.status_code == 200 and dry.get_json()["rows_new"] == 1
    done = client.post("/api/v1/collection/reports/import", json={"rows": rows}, headers=headers)
    assert done.status_code == 201
    collector = make_user("col2", "collector", region="R2")
    _, other = issue_token(db_session, collector, "c")
    refused = client.post("/api/v1/collection/reports/import", json={"rows": rows},
                          headers={"Authorization": f"Bearer {other}"})  # fmt: skip
    assert refused.status_code == 403
    login(client, "orga")
    page = "/collection/reports/history"
    assert "Import past weekly reports" in client.get("/collection/board").get_data(as_text=True)
    upload = (io.BytesIO((HEADER + ROWS).encode()), "r.csv")
    checked = client.post(
        page,
        data={"csrf_token": csrf_token(client, page), "upload": upload},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert checked.status_code == 302
    assert "This was a dry run" in client.get(checked.headers["Location"]).get_data(as_text=True)
    applied = client.post(
        checked.headers["Location"] + "/apply", data={"csrf_token": csrf_token(client, page)}
    )
    assert applied.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(CollectionReport)) == 3
    path = tmp_path / "more.csv"
    path.write_text(HEADER + ROWS.replace("CP-R1", "CP-R2").replace("R1-C", "R2-C"), encoding="utf-8")
    out = runner.invoke(args=["collection", "import-reports", str(path), "--apply"])
    assert out.exit_code == 0 and "imported: 2 rows, 1 new, 1 changed, 0 unchanged" in out.output, out.output
