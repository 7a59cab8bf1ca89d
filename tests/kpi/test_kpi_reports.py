"""The monthly SLA-failure report checked against a hand-computed case, its CSV and PDF forms.

24x7 SLA for DESK and NET (covered minutes = elapsed minutes). DESK: 90 % of tickets responded
within 30 minutes. NET: every ticket resolved within 120 minutes. March 2026, report made on
2026-04-01 00:00 UTC.

  R1 DESK  a response 10 (ok)  b response 40 (over 10)  c response 20 (ok)
           d opened 03-30 23:00 local = 15:00 UTC, never answered: 33 h = 1980 min, over by 1950
           -> response 2/4 = 50 % vs 90 % required: not met; 2 breaches; worst overrun 1950 min
  R2 NET   e resolved in 100 (ok)  f resolved in 150 (over 30)
           -> resolution 1/2 = 50 % vs 100 %: not met; 1 breach; worst 30
  Total: 6 tickets, response 50 % (2/4) vs 90 %, resolution 50 % (1/2) vs 100 %, 3 breaches.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest

from perception.kpi.services.report_csv import report_csv
from perception.kpi.services.report_pdf import report_pdf
from perception.kpi.services.reports import MONTHLY, QUARTERLY, report_period, sla_failure_report
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import add_sla, add_standard, csv_bytes, ticket_row

AS_OF = datetime(2026, 4, 1, 0, 0)


def _at(opened: str, minutes: int) -> str:
    return str(datetime.fromisoformat(opened) + timedelta(minutes=minutes))


@pytest.fixture
def march(db_session, catalog):
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
    add_standard(
        db_session,
        "NET-RES",
        catalog["NET"],
        [
            {
                "metric": "resolution_minutes",
                "comparator": "<=",
                "target": 120,
                "unit": "min",
                "effective_from": date(2026, 1, 1),
            },
        ],
    )
    opened = "2026-03-10 10:00"
    desk = dict(resolved="", closed="", status="in_progress")
    net = dict(service="NET", region="R2", customer="R2-C", first_response="", closed="", status="resolved")
    rows = [
        ticket_row("a", opened=opened, first_response=_at(opened, 10), **desk),
        ticket_row("b", opened=opened, first_response=_at(opened, 40), **desk),
        ticket_row("c", opened=opened, first_response=_at(opened, 20), **desk),
        ticket_row("d", opened="2026-03-30 23:00", first_response="", resolved="", closed="", status="open"),
        ticket_row("e", opened=opened, resolved=_at(opened, 100), **net),
        ticket_row("f", opened=opened, resolved=_at(opened, 150), **net),
        ticket_row("april", opened="2026-04-01 10:00", first_response="2026-04-01 11:00", **desk),
    ]
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))


def test_report_period():
    assert report_period(MONTHLY, "2026-03", date(2026, 5, 5)) == (date(2026, 3, 1), date(2026, 4, 1))
    assert report_period(MONTHLY, None, date(2026, 5, 5)) == (date(2026, 4, 1), date(2026, 5, 1))
    assert report_period(QUARTERLY, None, date(2026, 5, 5)) == (date(2026, 1, 1), date(2026, 4, 1))
    assert report_period(QUARTERLY, "2026-Q4", date(2026, 5, 5)) == (date(2026, 10, 1), date(2027, 1, 1))


def test_monthly_numbers_match_the_hand_computed_case(db_session, march):
    report = sla_failure_report(db_session, MONTHLY, date(2026, 3, 1), date(2026, 4, 1), as_of=AS_OF)
    desk, net = report.lines
    assert (desk.period, desk.region_code, desk.service_code, desk.tickets) == ("2026-03", "R1", "DESK", 4)
    assert (desk.response_measured, desk.response_hits, desk.response_share) == (4, 2, 50.0)
    assert (desk.response_required, desk.response_met) == (90.0, False)
    assert desk.resolution_share is None and desk.resolution_met is None
    assert (desk.breaches, desk.worst_over_minutes) == (2, 1950.0)
    assert (net.region_code, net.service_code, net.tickets) == ("R2", "NET", 2)
    assert (net.resolution_measured, net.resolution_hits, net.resolution_share) == (2, 1, 50.0)
    assert (net.resolution_required, net.resolution_met, net.breaches, net.worst_over_minutes) == (
        100.0,
        False,
        1,
        30.0,
    )
    total = report.total
    assert (total.tickets, total.response_share, total.resolution_share, total.breaches) == (6, 50.0, 50.0, 3)
    assert report.breach_count == 3 and report.escalations == 0
    assert [(b.external_id, round(b.over_minutes)) for b in report.breaches] == [
        ("d", 1950),
        ("f", 30),
        ("b", 10),
    ]
    assert report.breaches[0].overdue


def test_csv_in_both_languages(db_session, march):
    report = sla_failure_report(db_session, MONTHLY, date(2026, 3, 1), date(2026, 4, 1), as_of=AS_OF)
    zh = report_csv(report, "zh")
    assert zh.startswith("\ufeff")  # Excel reads UTF-8 with a BOM
    rows = list(csv.reader(io.StringIO(zh.lstrip("\ufeff"))))
    assert rows[0][:4] == ["期间", "区域", "服务", "工单数"]
    assert (
        rows[1][:8] == ["2026-03", "北京", "服务台", "4", "4", "2", "50.00", "90.00"] and rows[1][8] == "否"
    )
    assert rows[-1][1] == "合计" and rows[-1][3] == "6"
    en = list(csv.reader(io.StringIO(report_csv(report, "en", "breaches").lstrip("\ufeff"))))
    assert en[0][0] == "Ticket" and [r[0] for r in en[1:]] == ["d", "f", "b"] and en[1][-1] == "yes"


def test_pdf_in_both_languages(db_session, march):
    pypdf = pytest.importorskip("pypdf")
    report = sla_failure_report(db_session, MONTHLY, date(2026, 3, 1), date(2026, 4, 1), as_of=AS_OF)
    for lang, phrase in (("zh", "违约工单"), ("en", "Breaches")):
        pdf = report_pdf(report, lang, organisation="Demo")
        text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        assert pdf.startswith(b"%PDF") and phrase in text and "2026-03" in text


def test_quarterly_lines_per_month(db_session, march):
    report = sla_failure_report(db_session, QUARTERLY, date(2026, 1, 1), date(2026, 4, 1), as_of=AS_OF)
    assert report.label == "2026-Q1" and [line.period for line in report.lines] == ["2026-03", "2026-03"]
    assert report.breaches == () and report.breach_count == 3
