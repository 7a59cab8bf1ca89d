"""A NUL character (0x00) in a cell of a past callbacks file (session 18). On PostgreSQL the dry run
already failed with `psycopg.DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes`
when the NUL was in the source id (staged to find repeats) or the ticket id (looked up), and
applying failed the same way on the callback task's INSERT for a NUL in contact_name, phone,
engineer or note: a 500 on the page, a traceback in `perception collection import-callbacks`.
SQLite stored them. Now every cell holding one is its row's problem (`nul_character`, English and
Chinese) on both databases, in the dry run already, and nothing is stored."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.collection.models.fieldwork import CallbackAttempt, CallbackTask
from perception.core.clock import DEFAULT_TIMEZONE
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions
from perception.surveys.models import Response
from tests.conftest import csrf_token, login

COLUMNS = ("source_id", "called_at", "outcome", "customer", "service", "ticket", "contact_name", "phone",
           "engineer", "note", "resolved", "on_time", "csat")  # fmt: skip


@pytest.fixture
def calls(make_ticket: Any) -> Any:
    """A file of two completed calls whose second (row 3) holds a NUL in ``column``."""
    ticket = make_ticket().external_id

    def make(column: str) -> bytes:
        good = ["C1", "2026-03-05 10:00", "completed", "R1-C", "DESK", "", "王先生", "13800000000", "李工",
                "已解决", "yes", "yes", "4"]  # fmt: skip
        bad = ["C2", *good[1:5], ticket, *good[6:]]
        at = COLUMNS.index(column)
        bad[at] = bad[at][:1] + "\x00" + bad[at][1:]
        return "\n".join(",".join(row) for row in (COLUMNS, good, bad)).encode() + b"\n"

    return make


def _nothing_stored(session: Any) -> bool:
    counts = [session.scalar(select(func.count()).select_from(m)) for m in (CallbackAttempt, Response)]
    imported = select(func.count()).select_from(CallbackTask).where(CallbackTask.source_ref.is_not(None))
    return counts == [0, 0] and session.scalar(imported) == 0


@pytest.mark.parametrize(
    "column", ["source_id", "ticket", "contact_name", "phone", "engineer", "note", "outcome", "customer"]
)
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_nul_in_a_cell_is_the_rows_problem(
    db_session: Any, campaign: Any, calls: Any, column: str, dry_run: bool
) -> None:
    from perception.collection.services.callback_history import import_callbacks

    with pytest.raises(KpiImportError) as info:
        import_callbacks(db_session, campaign, ImportOptions(dry_run=dry_run), org_timezone=DEFAULT_TIMEZONE,
                         data=calls(column))  # fmt: skip
    (found,) = info.value.problems
    assert (found.row, found.field, found.code) == (3, column, "nul_character")
    assert "NUL character (0x00)" in found.text("en") and "空字符（0x00）" in found.text("zh")
    assert _nothing_stored(db_session)


def test_the_page_and_the_api_name_the_row(
    client: Any, db_session: Any, campaign: Any, calls: Any, make_user: Any
) -> None:
    from perception.core.users import issue_token

    make_user("orga", "organiser")
    login(client, "orga")
    page = f"/collection/callbacks/{campaign.id}/history"
    answer = client.post(
        page, data={"csrf_token": csrf_token(client, page), "upload": (io.BytesIO(calls("note")), "c.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    shown = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Row 3, column note" in shown and "NUL character" in shown
    _, secret = issue_token(db_session, make_user("orgb", "organiser"), "t")
    answer = client.post(
        f"/api/v1/collection/callbacks/{campaign.id}/import?dry_run=1",
        data={"file": (io.BytesIO(calls("source_id")), "c.csv")}, content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {secret}", "Accept-Language": "zh-CN"},
    )  # fmt: skip
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    (error,) = answer.get_json()["errors"]
    assert (error["row"], error["field"], error["code"]) == (3, "source_id", "nul_character")
    assert _nothing_stored(db_session)
