"""SLA attainment per standard with a version change in mid-period, and the breach list.

24x7 SLA (so covered minutes = elapsed minutes). DESK response standard: version 1 (limit 60 min,
80 % required) in force until 2026-04-02 (exclusive), version 2 (limit 30 min, 90 %) from then on.

  ticket  opened (local)  response after  version  within?
  V-0     03-31 10:00     45 min          v1       yes
  V-1     04-01 10:00     45 min          v1       yes (would miss under v2)
  V-2     04-01 11:00     70 min          v1       no
  V-3     04-02 10:00     45 min          v2       no  (would pass under v1)
  V-4     04-03 10:00     20 min          v2       yes
March: 1/1 = 100 % vs 80 % -> met (+20 points). April: 2/4 = 50 % vs (80+80+90+90)/4 = 85 % -> not met
(-35 points); periods met 1 of 2.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from perception.kpi.services.sla import attainment_by_standard, breaches
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import add_sla, add_standard, csv_bytes, ticket_row

AS_OF = datetime(2026, 5, 1)
CASES = [
    ("V-0", "2026-03-31 10:00", 45),
    ("V-1", "2026-04-01 10:00", 45),
    ("V-2", "2026-04-01 11:00", 70),
    ("V-3", "2026-04-02 10:00", 45),
    ("V-4", "2026-04-03 10:00", 20),
]


@pytest.fixture
def changed(db_session, catalog):
    add_sla(db_session, "SLA-247", [catalog["DESK"]], covered="24x7")
    add_standard(
        db_session,
        "DESK-RESP",
        catalog["DESK"],
        [
            {
                "metric": "response_within_target_share",
                "target": 80,
                "time_limit_minutes": 60,
                "effective_from": date(2026, 1, 1),
                "effective_to": date(2026, 4, 2),
            },
            {
                "metric": "response_within_target_share",
                "target": 90,
                "time_limit_minutes": 30,
                "effective_from": date(2026, 4, 2),
            },
        ],
    )
    rows = []
    for external_id, opened, minutes in CASES:
        start = datetime.fromisoformat(opened)
        rows.append(
            ticket_row(
                external_id,
                opened=opened,
                first_response=str(start + timedelta(minutes=minutes)),
                resolved="",
                closed="",
                status="open",
            )
        )
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))


def test_attainment_uses_the_version_in_force_per_ticket(db_session, changed):
    (result,) = attainment_by_standard(db_session, date(2026, 3, 1), date(2026, 5, 1), as_of=AS_OF)
    assert (result.standard_code, result.kind) == ("DESK-RESP", "response")
    assert result.labels == ("2026-03", "2026-04")
    assert result.measured == (1, 4) and result.hits == (1, 2)
    march, april = result.result.periods
    assert (march.value, march.target, march.met, march.margin) == (100.0, 80.0, True, 20.0)
    assert (april.value, april.target, april.met, april.margin) == (50.0, 85.0, False, -35.0)
    assert (result.result.n_met, result.result.n_measured) == (1, 2)


def test_breaches_name_ticket_and_overrun(db_session, changed):
    listed = breaches(db_session, date(2026, 3, 1), date(2026, 5, 1), as_of=AS_OF)
    assert [(b.external_id, b.kind, b.limit_minutes, b.actual_minutes, b.over_minutes) for b in listed] == [
        ("V-3", "response", 30.0, 45.0, 15.0),
        ("V-2", "response", 60.0, 70.0, 10.0),
    ]
    assert not listed[0].overdue and listed[0].service_code == "DESK" and listed[0].customer_code == "R1-C"


def test_unanswered_ticket_past_its_limit_is_an_overdue_breach(db_session, catalog):
    add_sla(db_session, "SLA-247", [catalog["DESK"]], covered="24x7")
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
    row = ticket_row(
        "O-1", opened="2026-04-10 10:00", first_response="", resolved="", closed="", status="open"
    )
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes([row]))
    as_of = datetime(2026, 4, 10, 3, 0)  # 11:00 local: 60 minutes after opening
    (breach,) = breaches(db_session, date(2026, 4, 6), date(2026, 4, 13), as_of=as_of)
    assert breach.overdue and breach.over_minutes == pytest.approx(30.0)
    (result,) = attainment_by_standard(db_session, date(2026, 4, 1), date(2026, 5, 1), as_of=as_of)
    assert result.measured == (1,) and result.hits == (0,)


def test_the_attainment_page_loads_the_tickets_once_for_both_tables(db_session, changed, monkeypatch):
    """Issue 19: attainment and breaches come from one ticket load, with the same results."""
    import perception.kpi.services.sla as sla

    start, end = date(2026, 3, 1), date(2026, 5, 1)
    rows, listed = attainment_by_standard(db_session, start, end), breaches(db_session, start, end)
    loads: list[int] = []
    load = sla.load_frame
    monkeypatch.setattr(sla, "load_frame", lambda *a, **k: loads.append(1) or load(*a, **k))
    both = sla.attainment_and_breaches(db_session, start, end)
    assert len(loads) == 1
    assert both[0] == rows
    assert [(b.ticket_id, b.kind, b.limit_minutes) for b in both[1]] == [
        (b.ticket_id, b.kind, b.limit_minutes) for b in listed
    ]
