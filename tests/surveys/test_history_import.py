"""Importing past survey answers (issue 16): rows mapped to the campaign's questions, checked like
live answers, stored with their real dates into the same facts, idempotent on the source id."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.facts import ExperienceObservation, TextEntry
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions
from perception.surveys.models import Response
from perception.surveys.services.history_import import import_responses

HEADER = "source_id,submitted_at,language,channel,customer,csat,low_reasons,ces,improve\n"


def run(session: Any, campaign: Any, text: str, *, dry_run: bool = False) -> Any:
    return import_responses(
        session,
        campaign,
        ImportOptions(dry_run=dry_run),
        org_timezone=DEFAULT_TIMEZONE,
        data=text.encode(),
        filename="history.csv",
    )


def problems_of(exc: pytest.ExceptionInfo[KpiImportError]) -> list[str]:
    return [p.located("en") for p in exc.value.problems]


@pytest.fixture
def campaign(make_campaign: Any) -> Any:
    return make_campaign("csat_transactional")


def test_rows_become_responses_and_facts_on_their_own_dates(db_session: Any, campaign: Any) -> None:
    text = HEADER + (
        "LS-1,2026-01-05 09:30,zh,survey,R1-C,5,,6,很好\n"
        "LS-2,2026-02-10 14:00,en,phone,R1-C,2,slow_response;not_fixed,3,too slow\n"
        "LS-3,2026-03-02T08:00:00+00:00,en,web,,4,,,\n"
    )
    result = run(db_session, campaign, text)
    assert (result.rows_total, result.rows_new, result.rows_changed) == (3, 3, 0)
    rows = db_session.execute(
        select(Response.submission_nonce, Response.submitted_at, Response.observed_on, Response.means,
               Response.language, Response.customer_id).where(Response.campaign_id == campaign.id)
        .order_by(Response.submission_nonce)
    ).all()  # fmt: skip
    assert [r[0] for r in rows] == ["import:LS-1", "import:LS-2", "import:LS-3"]
    # 09:30 in Shanghai is 01:30 UTC; the day is the organisation's day
    assert rows[0][1] == datetime(2026, 1, 5, 1, 30) and rows[0][2] == date(2026, 1, 5)
    assert rows[1][3] == "callback" and rows[1][4] == "en"
    assert rows[2][1] == datetime(2026, 3, 2, 8, 0)
    days = db_session.execute(
        select(ExperienceObservation.observed_on, ExperienceObservation.kind, ExperienceObservation.value)
        .where(ExperienceObservation.kind == "csat").order_by(ExperienceObservation.observed_on)
    ).all()  # fmt: skip
    assert [(d, v) for d, _, v in days] == [
        (date(2026, 1, 5), 5.0),
        (date(2026, 2, 10), 2.0),
        (date(2026, 3, 2), 4.0),
    ]
    assert db_session.scalar(select(func.count()).select_from(TextEntry)) == 2


def test_reimporting_the_same_file_changes_nothing_and_a_correction_updates(
    db_session: Any, campaign: Any
) -> None:
    text = HEADER + "A,2026-01-05 09:30,zh,survey,R1-C,5,,6,\nB,2026-01-06 09:30,zh,survey,R1-C,4,,,\n"
    run(db_session, campaign, text)
    again = run(db_session, campaign, text)
    assert (again.rows_new, again.rows_changed, again.rows_unchanged) == (0, 0, 2)
    assert db_session.scalar(select(func.count()).select_from(Response)) == 2
    corrected = run(
        db_session,
        campaign,
        text.replace("B,2026-01-06 09:30,zh,survey,R1-C,4", "B,2026-01-06 09:30,zh,survey,R1-C,3"),
    )
    assert (corrected.rows_new, corrected.rows_changed) == (0, 1)
    values = db_session.scalars(
        select(ExperienceObservation.value)
        .where(ExperienceObservation.kind == "csat")
        .order_by(ExperienceObservation.value)
    ).all()
    assert values == [3.0, 5.0]


def test_an_import_declares_the_weeks_it_writes(db_session: Any, campaign: Any, monkeypatch: Any) -> None:
    """The facts an import writes are rows of its rows' weeks, and a corrected row's earlier week,
    declared so (data_version.week_write): the pre-aggregates then read and rebuild those weeks from
    the facts, not every week (undeclared, every import made them stale: at a national provider's
    size the pages read the 9M facts until a whole rebuild, minutes)."""
    from perception.kpi.services import data_version
    from perception.surveys.services import history_import

    declared: list[list[date]] = []
    real = history_import.week_write

    def seen(conn: Any, table: str, weeks: Any, timezone: str, **kw: Any) -> Any:
        declared.append(sorted(weeks))
        return real(conn, table, weeks, timezone, **kw)

    monkeypatch.setattr(history_import, "week_write", seen)
    text = HEADER + "A,2026-01-05 09:30,zh,survey,R1-C,5,,6,\nB,2026-01-14 09:30,zh,survey,R1-C,4,,,\n"
    run(db_session, campaign, text)
    assert data_version.EXPERIENCE_PAST not in data_version.pending_writes(db_session)
    assert sorted(set(data_version.declared_weeks(db_session))) == [date(2026, 1, 5), date(2026, 1, 12)]
    assert declared == [[date(2026, 1, 5), date(2026, 1, 12)]]
    declared.clear()
    run(db_session, campaign, text.replace("B,2026-01-14", "B,2026-02-03"))  # B moved to another week
    # Its rows left one week (withdrawn) and joined another (written): both declared, each time.
    assert declared and all(weeks == [date(2026, 1, 12), date(2026, 2, 2)] for weeks in declared)
    assert data_version.EXPERIENCE_PAST not in data_version.pending_writes(db_session)


def test_dry_run_counts_and_stores_nothing(db_session: Any, campaign: Any) -> None:
    result = run(db_session, campaign, HEADER + "A,2026-01-05 09:30,zh,survey,R1-C,5,,6,\n", dry_run=True)
    assert result.dry_run and result.rows_new == 1
    assert db_session.scalar(select(func.count()).select_from(Response)) == 0


def test_a_column_that_matches_no_question_is_named(db_session: Any, campaign: Any) -> None:
    with pytest.raises(KpiImportError) as exc:
        run(
            db_session, campaign, "source_id,submitted_at,csat,satisfaction_overall\nA,2026-01-05 09:30,5,4\n"
        )
    assert problems_of(exc) == [
        "Row 1, column satisfaction_overall: "
        "this column matches no question of the survey definition and no known column"
    ]


def test_a_missing_required_question_column_is_named(db_session: Any, campaign: Any) -> None:
    with pytest.raises(KpiImportError) as exc:
        run(db_session, campaign, "source_id,submitted_at,ces\nA,2026-01-05 09:30,5\n")
    assert problems_of(exc) == ["Row 1, column csat: a required column is missing"]


def test_answers_outside_the_scale_name_row_column_and_value(db_session: Any, campaign: Any) -> None:
    text = HEADER + "A,2026-01-05 09:30,zh,survey,R1-C,5,,6,\nB,2026-01-06 09:30,zh,survey,R1-C,7,,9,\n"
    with pytest.raises(KpiImportError) as exc:
        run(db_session, campaign, text)
    found = problems_of(exc)
    assert any(p.startswith('Row 3, column csat, value "7"') for p in found), found
    assert any(p.startswith('Row 3, column ces, value "9"') for p in found), found
    assert db_session.scalar(select(func.count()).select_from(Response)) == 0


def test_duplicate_source_ids_in_one_file_are_refused(db_session: Any, campaign: Any) -> None:
    text = HEADER + "A,2026-01-05 09:30,zh,survey,R1-C,5,,6,\nA,2026-01-06 09:30,zh,survey,R1-C,4,,,\n"
    with pytest.raises(KpiImportError) as exc:
        run(db_session, campaign, text)
    assert problems_of(exc) == ['Row 3, column source_id, value "A": the same source id as row 2']


def test_bad_time_language_customer_and_future_are_each_named(db_session: Any, campaign: Any) -> None:
    text = HEADER + (
        "A,2026-13-05 09:30,zh,survey,R1-C,5,,,\n"
        "B,2026-01-05 09:30,fr,survey,R1-C,5,,,\n"
        "C,2026-01-05 09:30,zh,survey,NOPE,5,,,\n"
        "D,2099-01-05 09:30,zh,fax,R1-C,5,,,\n"
    )
    with pytest.raises(KpiImportError) as exc:
        run(db_session, campaign, text)
    found = " | ".join(problems_of(exc))
    assert 'Row 2, column submitted_at, value "2026-13-05 09:30"' in found
    assert 'Row 3, column language, value "fr"' in found
    assert 'Row 4, column customer, value "NOPE"' in found
    assert 'Row 5, column submitted_at, value "2099-01-05 09:30": later than now' in found
    assert 'Row 5, column channel, value "fax"' in found


def test_anonymous_campaign_keeps_no_person_and_only_the_day(db_session: Any, make_campaign: Any) -> None:
    anonymous = make_campaign("csat_transactional", channel="anonymous")
    result = run(db_session, anonymous, "source_id,submitted_at,csat\nA,2026-01-05 09:30,5\n")
    assert result.rows_new == 1
    response = db_session.scalar(select(Response).where(Response.campaign_id == anonymous.id))
    assert response.contact_id is None and response.ticket_id is None
    assert response.submitted_at == datetime(2026, 1, 5)
    with pytest.raises(KpiImportError) as exc:
        run(
            db_session,
            anonymous,
            "source_id,submitted_at,contact,csat\nB,2026-01-05 09:30,r1@example.com,5\n",
        )
    assert problems_of(exc) == [
        "Row 1, column contact: the campaign is anonymous and keeps no link to a person: remove this column"
    ]


def test_limesurvey_and_formbricks_exports_map_by_their_own_headings(db_session: Any, campaign: Any) -> None:
    lime = (
        "id,submitdate,lastpage,startlanguage,seed,csat,low_reasons[slow_response],low_reasons[not_fixed],"
        "low_reasons[other],ces,improve\n"
        "17,2026-01-05 09:30:00,1,zh-Hans,123,2,Y,,电话打不通,4,\n"
    )
    assert run(db_session, campaign, lime).rows_new == 1
    answers = db_session.scalar(select(Response.answers).where(Response.submission_nonce == "import:17"))
    assert (
        answers["low_reasons"] == ["slow_response", "other"] and answers["low_reasons.other"] == "电话打不通"
    )
    formbricks = (
        "Response ID,Timestamp,Finished,Survey ID,"
        '"Overall, how satisfied are you with the service you received this time?"\n'
        "clx1,2026-01-07 10:00:00,true,s1,5\n"
    )
    assert run(db_session, campaign, formbricks).rows_new == 1


def test_the_api_imports_json_rows_and_answers_problems_as_422(client: Any, db_session: Any, campaign: Any,
                                                               make_user: Any) -> None:  # fmt: skip
    from perception.core.users import issue_token

    _, secret = issue_token(db_session, make_user("ana", "analyst"), "t")
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/campaigns/{campaign.id}/responses/import"
    rows = [{"source_id": "X1", "submitted_at": "2026-01-05 09:30", "customer": "R1-C", "csat": 4}]
    dry = client.post(url + "?dry_run=1", json={"responses": rows}, headers=headers)
    assert dry.status_code == 200 and dry.get_json()["rows_new"] == 1
    done = client.post(url, json={"responses": rows}, headers=headers)
    assert done.status_code == 201 and done.get_json()["rows_new"] == 1
    again = client.post(url, json={"responses": rows}, headers=headers)
    assert again.get_json()["rows_unchanged"] == 1
    bad = client.post(url, json={"responses": [{**rows[0], "source_id": "X2", "csat": 9}]}, headers=headers)
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    error = bad.get_json()["errors"][0]
    assert (error["row"], error["field"], error["value"]) == (1, "csat", "9") and error["detail_zh"]
    assert db_session.scalar(select(func.count()).select_from(Response)) == 1


def test_the_page_checks_then_applies_and_the_cli_imports(
    client: Any, db_session: Any, campaign: Any, make_user: Any, runner: Any, tmp_path: Any
) -> None:
    import io

    from tests.conftest import csrf_token, login

    make_user("owner1", "system_owner")
    login(client, "owner1")
    page = f"/surveys/campaigns/{campaign.id}/history"
    text = HEADER + "P1,2026-01-05 09:30,zh,survey,R1-C,5,,6,\n"
    checked = client.post(
        page, data={"csrf_token": csrf_token(client, page), "upload": (io.BytesIO(text.encode()), "h.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert checked.status_code == 302, checked.get_data(as_text=True)[:2000]
    preview = client.get(checked.headers["Location"])
    assert "This was a dry run" in preview.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Response)) == 0
    applied = client.post(
        checked.headers["Location"] + "/apply", data={"csrf_token": csrf_token(client, page)}
    )
    assert applied.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(Response)) == 1
    bad_file = io.BytesIO((HEADER + "P2,2026-01-05 09:30,zh,survey,R1-C,8,,,\n").encode())
    wrong = client.post(
        page, data={"csrf_token": csrf_token(client, page), "upload": (bad_file, "h.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert wrong.status_code == 200 and "Row 2, column csat, value &#34;8&#34;" in wrong.get_data(
        as_text=True
    )
    path = tmp_path / "more.csv"
    path.write_text(HEADER + "P3,2026-01-06 09:30,zh,survey,R1-C,4,,,\n", encoding="utf-8")
    dry = runner.invoke(args=["surveys", "import-responses", str(path), "--campaign", campaign.code])
    assert dry.exit_code == 0 and "dry run" in dry.output and "1 new" in dry.output, dry.output
    done = runner.invoke(
        args=["surveys", "import-responses", str(path), "--campaign", campaign.code, "--apply"]
    )
    assert done.exit_code == 0 and "imported: 1 rows, 1 new" in done.output, done.output
