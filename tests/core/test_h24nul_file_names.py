"""A NUL character in an uploaded file's name (the multipart filename a client sends; no file system
makes one, a crafted request does), observed in session 18. Every import keeps the name: in its
ImportBatch row (ticket, KPI value and history imports, page and API) or in the audit summary
(entries imported into a weekly report). SQLite stored the NUL; PostgreSQL refused the INSERT with
`psycopg.DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes`, a 500. Now the file
field's 400 names it, in both languages, as for any other field (perception.web.parameters), and
nothing is stored."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import func, select

from perception.collection.models.reports import ReportEntry
from perception.core.models.audit import AuditEntry
from perception.kpi.models import ImportBatch
from tests.conftest import post_form
from tests.kpi.conftest import catalog, csv_bytes, ticket_row

__all__ = ["catalog"]  # the KPI phase's fixture, used here

NAME = "desk\x00.csv"


def _shown(response: Any) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _nothing_stored(session: Any) -> bool:
    batches = session.scalar(select(func.count()).select_from(ImportBatch))
    audited = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "import")
    imports = session.scalar(audited)
    return batches == imports == session.scalar(select(func.count()).select_from(ReportEntry)) == 0


def test_the_ticket_import_page_refuses_the_name(login_as: Any, db_session: Any, catalog: Any) -> None:
    client = login_as("analyst")
    for lang, expected in (("en", "the file name of “upload” contains a NUL character"),
                           ("zh-CN", "“upload”的文件名含有不允许的空字符")):  # fmt: skip
        fields = {"kind": "tickets", "upload": (io.BytesIO(csv_bytes([ticket_row("UP-1")])), NAME)}
        answer = post_form(client, "/kpi/import", fields, token_from="/kpi/import",
                           headers={"Accept-Language": lang})  # fmt: skip
        assert answer.status_code == 400 and expected in _shown(answer), _shown(answer)[:300]
    assert _nothing_stored(db_session)


def test_the_report_entries_upload_refuses_the_name(login_as: Any, db_session: Any, catalog: Any) -> None:
    client = login_as("collector")
    opened = post_form(client, "/collection/reports/open", {"week": "2026-W10"}, token_from="/collection/")
    url = opened.headers["Location"]
    upload = (io.BytesIO("kind,customer,text\nrequirement,R1-C,移动端报修\n".encode()), NAME)
    answer = post_form(client, url + "/import", {"file": upload}, token_from=url,
                       content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 400 and "“file”" in _shown(answer), _shown(answer)[:300]
    assert _nothing_stored(db_session)


def test_an_api_upload_refuses_the_name(client: Any, db_session: Any, catalog: Any, make_user: Any) -> None:
    from perception.core.users import issue_token

    _, secret = issue_token(db_session, make_user("orga", "organiser"), "t")
    rows = ("collection_point,week,submitted_at,kind,customer,text\n"
            "CP-R1,2026-03-02,2026-03-06 17:00,requirement,R1-C,移动端报修\n")  # fmt: skip
    answer = client.post(
        "/api/v1/collection/reports/import?dry_run=1", data={"file": (io.BytesIO(rows.encode()), NAME)},
        headers={"Authorization": f"Bearer {secret}"}, content_type="multipart/form-data",
    )  # fmt: skip
    assert answer.status_code == 400 and answer.content_type == "application/problem+json"
    (error,) = answer.get_json()["errors"]
    assert (error["field"], error["code"], error["value"]) == ("file", "nul_character", "desk\\0.csv")
    assert _nothing_stored(db_session)
