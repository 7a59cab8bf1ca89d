"""A NUL character (0x00) in a cell of a past survey answers file (session 18). On PostgreSQL the
dry run already failed with `psycopg.DataError: PostgreSQL text fields cannot contain NUL (0x00)
bytes` for a NUL in the source id (staged to find repeats) or the ticket id (looked up), and
applying failed the same way on the comment texts' INSERT for one in a free-text answer: a 500 on
the page, a traceback in `perception surveys import-responses`. SQLite stored them. A NUL in a
coded answer or a heading was named already (not a choice, an unknown heading). Now every cell
holding one is its row's problem (`nul_character`, English and Chinese) on both databases, in the
dry run already, and nothing is stored."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.facts import TextEntry
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions
from perception.surveys.models import Response
from perception.surveys.services.history_import import import_responses
from tests.conftest import csrf_token, login

COLUMNS = ("source_id", "submitted_at", "language", "channel", "customer", "ticket", "csat", "low_reasons",
           "ces", "improve")  # fmt: skip


@pytest.fixture
def campaign(make_campaign: Any) -> Any:
    return make_campaign("csat_transactional")


@pytest.fixture
def answers(db_session: Any, org: Any) -> Any:
    """A file of two responses whose second (row 3) holds a NUL in ``column``."""
    from perception.kpi.models import Ticket
    from perception.setup.models.catalog import Service

    desk = Service(code="DESK", name_zh="服务台", name_en="Service desk")
    db_session.add(desk)
    db_session.flush()
    ticket = "T-1"
    db_session.add(Ticket(external_id=ticket, service_id=desk.id, region_id=org["R1"]["region"].id,
                          priority="P3", opened_at=datetime(2026, 2, 9), status="open"))  # fmt: skip
    db_session.flush()

    def make(column: str) -> bytes:
        good = ["LS-1", "2026-02-10 14:00", "en", "phone", "R1-C", "", "2", "slow_response;not_fixed", "3",
                "too slow"]  # fmt: skip
        bad = ["LS-2", *good[1:5], ticket, *good[6:]]
        at = COLUMNS.index(column)
        bad[at] = bad[at][:1] + "\x00" + bad[at][1:]
        return "\n".join(",".join(row) for row in (COLUMNS, good, bad)).encode() + b"\n"

    return make


def _nothing_stored(session: Any) -> bool:
    return [session.scalar(select(func.count()).select_from(m)) for m in (Response, TextEntry)] == [0, 0]


@pytest.mark.parametrize("column", ["source_id", "ticket", "improve", "csat", "language"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_nul_in_a_cell_is_the_rows_problem(
    db_session: Any, campaign: Any, answers: Any, column: str, dry_run: bool
) -> None:
    with pytest.raises(KpiImportError) as info:
        import_responses(db_session, campaign, ImportOptions(dry_run=dry_run), org_timezone=DEFAULT_TIMEZONE,
                         data=answers(column), filename="h.csv")  # fmt: skip
    (found,) = info.value.problems
    assert (found.row, found.field, found.code) == (3, column, "nul_character")
    assert "NUL character (0x00)" in found.text("en") and "空字符（0x00）" in found.text("zh")
    assert _nothing_stored(db_session)


def test_a_nul_in_a_heading_is_an_unknown_heading(db_session: Any, campaign: Any, answers: Any) -> None:
    data = answers("improve").replace(b"improve", b"impro\x00ve", 1)
    with pytest.raises(KpiImportError) as info:
        import_responses(db_session, campaign, ImportOptions(dry_run=False), org_timezone=DEFAULT_TIMEZONE,
                         data=data)  # fmt: skip
    assert [(p.code, p.field) for p in info.value.problems] == [("unknown_heading", "impro\\0ve")]
    assert _nothing_stored(db_session)


def test_the_page_the_api_and_the_command_name_the_row(
    client: Any, db_session: Any, campaign: Any, answers: Any, make_user: Any, runner: Any, tmp_path: Any
) -> None:
    from perception.core.users import issue_token

    make_user("owner1", "system_owner")
    login(client, "owner1")
    page = f"/surveys/campaigns/{campaign.id}/history"
    upload = (io.BytesIO(answers("improve")), "h.csv")
    answer = client.post(
        page, data={"csrf_token": csrf_token(client, page), "upload": upload},
        content_type="multipart/form-data", headers={"Accept-Language": "zh-CN"},
    )  # fmt: skip
    shown = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "第 3 行，列“improve”" in shown and "空字符" in shown, shown[:300]
    _, secret = issue_token(db_session, make_user("ana", "analyst"), "t")
    answer = client.post(
        f"/api/v1/campaigns/{campaign.id}/responses/import",
        data={"file": (io.BytesIO(answers("source_id")), "h.csv")}, content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {secret}"},
    )  # fmt: skip
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    (error,) = answer.get_json()["errors"]
    assert (error["row"], error["field"], error["code"]) == (3, "source_id", "nul_character")
    path = tmp_path / "answers.csv"
    path.write_bytes(answers("ticket"))
    command = ["surveys", "import-responses", str(path), "--campaign", campaign.code, "--apply"]
    out = runner.invoke(args=command)
    assert out.exit_code == 1 and "Row 3, column ticket" in out.output and "NUL" in out.output, out.output
    assert _nothing_stored(db_session)
