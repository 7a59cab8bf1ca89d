"""The KPI pages as people meet them: permissions, region scoping, the upload -> dry run -> apply
flow with CSRF, errors shown by row, reports as page/CSV/PDF, both languages."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from perception.kpi.models import Ticket
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.conftest import post_form
from tests.kpi.conftest import add_sla, add_standard, csv_bytes, ticket_row


@pytest.fixture
def tickets(db_session, catalog):
    add_sla(db_session, "SLA-247", [catalog["DESK"], catalog["NET"]], covered="24x7")
    add_standard(
        db_session,
        "DESK-RESP",
        catalog["DESK"],
        [
            {
                "metric": "response_within_target_share",
                "target": 90,
                "time_limit_minutes": 30,
                "effective_from": date(2026, 1, 1),
            },
        ],
    )
    rows = [
        ticket_row("W-R1", first_response="2026-03-02 10:00"),
        ticket_row("W-R2", region="R2", customer="R2-C", service="NET"),
    ]
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))
    return {t.external_id: t for t in db_session.scalars(select(Ticket))}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("analyst", 200),
        ("collector", 200),
        ("manager", 200),
        ("reviewer", 200),
        ("market", 403),
        ("customer_rep", 403),
    ],
)
def test_who_sees_the_kpi_pages(login_as, role, status):
    client = login_as(role)
    assert client.get("/kpi/").status_code == status


def test_collector_sees_only_own_region(login_as, tickets):
    client = login_as("collector", region="R1")
    page = client.get("/kpi/tickets").get_data(as_text=True)
    assert "W-R1" in page and "W-R2" not in page
    assert client.get(f"/kpi/tickets/{tickets['W-R1'].id}").status_code == 200
    other = client.get(f"/kpi/tickets/{tickets['W-R2'].id}")
    missing = client.get("/kpi/tickets/999999")
    assert other.status_code == missing.status_code == 404


def test_ticket_page_filters(login_as, tickets, catalog):
    client = login_as("analyst")

    def listed(query: str) -> str:
        response = client.get(f"/kpi/tickets?{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    page = listed(f"service={catalog['NET'].id}")
    assert "W-R2" in page and "W-R1" not in page
    page = listed("q=W-R1&status=closed&from=2026-03-02&to=2026-03-03")
    assert "W-R1" in page and "W-R2" not in page
    assert "W-R1" not in listed("from=2026-03-03")
    bad = listed("from=2026-02-30")
    assert "is not a valid date; write it as 2026-03-02." in bad and "W-R1" in bad  # the filter is dropped


def test_bad_dates_are_shown_and_the_default_period_used(login_as, tickets):
    client = login_as("analyst")
    values = client.get("/kpi/values?from=2026-13-01").get_data(as_text=True)
    assert "is not a valid date; write it as 2026-03-02." in values
    reversed_range = client.get("/kpi/attainment?from=2026-04-01&to=2026-03-01").get_data(as_text=True)
    assert "the end must be after the start" in reversed_range
    chinese = login_as("manager", language="zh_CN").get("/kpi/attainment?to=明天").get_data(as_text=True)
    assert "不是有效日期，请写成 2026-03-02。" in chinese


def test_collector_cannot_import(login_as):
    client = login_as("collector")
    assert client.get("/kpi/import").status_code == 403


def test_upload_dry_run_then_apply(login_as, db_session, catalog):
    client = login_as("analyst")
    data = csv_bytes([ticket_row("UP-1"), ticket_row("UP-2")])
    response = post_form(
        client,
        "/kpi/import",
        {"kind": "tickets", "upload": (io.BytesIO(data), "desk.csv")},
        token_from="/kpi/import",
    )
    assert response.status_code == 302 and "/kpi/imports/" in response.location
    preview = client.get(response.location).get_data(as_text=True)
    assert "This was a dry run" in preview
    assert db_session.scalar(select(func.count(Ticket.id))) == 0
    applied = post_form(client, response.location + "/apply", {}, token_from=response.location)
    assert applied.status_code == 302
    assert db_session.scalar(select(func.count(Ticket.id))) == 2
    history = client.get("/kpi/imports").get_data(as_text=True)
    assert "desk.csv" in history


def test_upload_with_a_bad_row_shows_it_and_stores_nothing(login_as, db_session, catalog):
    client = login_as("analyst")
    rows = [ticket_row("BAD-1"), ticket_row("BAD-2", priority="urgent"), ticket_row("BAD-3")]
    response = post_form(
        client,
        "/kpi/import",
        {"kind": "tickets", "upload": (io.BytesIO(csv_bytes(rows)), "x.csv")},
        token_from="/kpi/import",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422  # as the collection and setup imports answer
    assert "Row 3, column priority, value &#34;urgent&#34;: expected one of: P1, P2, P3, P4" in page
    assert db_session.scalar(select(func.count(Ticket.id))) == 0


def test_upload_without_csrf_is_refused(login_as, catalog):
    client = login_as("analyst")
    data = {"kind": "tickets", "upload": (io.BytesIO(csv_bytes([ticket_row("C-1")])), "c.csv")}
    assert client.post("/kpi/import", data=data).status_code == 400


def test_pages_render(login_as, tickets):
    client = login_as("analyst")
    for path in (
        "/kpi/",
        "/kpi/tickets",
        "/kpi/values",
        "/kpi/definitions",
        "/kpi/attainment?from=2026-03-01&to=2026-04-01",
        "/kpi/escalations",
        "/kpi/escalations?all=1",
        "/kpi/reports/monthly?period=2026-03",
        "/kpi/reports/quarterly?period=2026-Q1",
        "/kpi/definitions/new",
        "/kpi/import",
        "/kpi/imports",
    ):
        assert client.get(path).status_code == 200, path


def test_report_downloads(login_as, tickets):
    client = login_as("manager")
    csv_response = client.get("/kpi/reports/monthly?period=2026-03&format=csv&lang=zh")
    assert csv_response.mimetype == "text/csv"
    assert csv_response.get_data(as_text=True).lstrip("\ufeff").startswith("期间,区域,服务")
    pdf = client.get("/kpi/reports/monthly?period=2026-03&format=pdf&lang=en")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    bad = client.get("/kpi/reports/monthly?period=March")
    assert bad.status_code == 200 and "use a month like 2026-03" in bad.get_data(as_text=True)


def test_chinese_pages(login_as, tickets):
    client = login_as("analyst", language="zh_CN")
    page = client.get("/kpi/reports/monthly?period=2026-03").get_data(as_text=True)
    assert "月度 SLA 未达标报告" in page and "按时响应率" in page


def test_definition_form(login_as, db_session):
    client = login_as("analyst")
    data = {
        "code": "call_2ring",
        "name_zh": "两声接听率",
        "name_en": "Answered by 2nd ring",
        "unit": "%",
        "direction": "higher",
        "metric": "answered_by_2nd_ring_share",
        "standard_id": "",
    }
    response = post_form(client, "/kpi/definitions/new", data, token_from="/kpi/definitions/new")
    assert response.status_code == 302
    again = post_form(client, "/kpi/definitions/new", data, token_from="/kpi/definitions/new")
    assert "a KPI with this code already exists" in again.get_data(as_text=True)


def test_upload_over_the_size_limit_says_so(app, login_as, catalog):
    client = login_as("analyst")
    old = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 314573  # 0.3 MB; the body stays under the test client's spool size
    try:
        big = io.BytesIO(b"x" * 400_000)
        response = post_form(
            client, "/kpi/import", {"kind": "tickets", "upload": (big, "big.csv")}, token_from="/kpi/import"
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = old
    assert response.status_code == 413
    assert "more than the limit of 0.3 MB" in response.get_data(as_text=True)
