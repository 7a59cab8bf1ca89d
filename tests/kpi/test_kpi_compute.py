"""KPI computation from tickets: covered-hours durations across a weekend and a public holiday,
type-7 percentiles (checked against numpy.percentile), within-target shares, FCR, reopen rate,
backlog at period end, stored as KpiValue rows with provenance "computed".

Hand-computed case. SLA covered hours Mon-Fri 09:00-18:00 Asia/Shanghai; Monday 2026-04-06 is a
holiday (Qingming, observed). Standards for DESK: response within 60 covered minutes for 80 % of
P2 tickets; resolution within 240 covered minutes per ticket (required 100 %).

  ticket  opened (local)   first response     covered  resolved           covered
  W-1     Fri 04-03 17:30  Tue 04-07 09:20    30+20=50 Tue 04-07 12:00    30+180=210
  W-2     Fri 04-03 17:00  Tue 04-07 09:15    60+15=75 Tue 04-07 15:00    60+360=420
  W-3     Wed 04-01 10:00  Wed 04-01 10:30    30       Wed 04-01 13:00    180
  W-4     Sat 04-04 11:00  Sat 04-04 11:30    0        Tue 04-07 10:00    60
  W-5     Thu 04-02 16:00  Thu 04-02 17:05    65       Fri 04-03 10:00    120+60=180 (reopened once)
(Sat/Sun and the holiday Monday count zero.) Response within 60: W-1, W-3, W-4 -> 60 %, required
80 % -> not met. Resolution within 240: all but W-2 -> 80 %, required 100 % -> not met.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest
from sqlalchemy import select

from perception.kpi.models import KpiDefinition, KpiValue
from perception.kpi.services.compute import compute_kpis
from perception.kpi.services.ticket_frame import load_frame
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import add_sla, add_standard, csv_bytes, ticket_row

RESPONSE = [50, 75, 30, 0, 65]
RESOLUTION = [210, 420, 180, 60, 180]
AS_OF = datetime(2026, 5, 1)


@pytest.fixture
def week(db_session, catalog):
    add_sla(db_session, "SLA-OFFICE", [catalog["DESK"]], holidays=[date(2026, 4, 6)])
    add_standard(
        db_session,
        "DESK-RESP",
        catalog["DESK"],
        [
            {
                "metric": "response_within_target_share",
                "target": 80,
                "time_limit_minutes": 60,
                "priority": "P2",
                "effective_from": date(2026, 1, 1),
            },
        ],
    )
    add_standard(
        db_session,
        "DESK-RES",
        catalog["DESK"],
        [
            {
                "metric": "resolution_minutes",
                "comparator": "<=",
                "target": 240,
                "unit": "min",
                "effective_from": date(2026, 1, 1),
            },
        ],
    )
    add_standard(
        db_session,
        "DESK-FCR",
        catalog["DESK"],
        [
            {
                "metric": "first_contact_resolution_rate",
                "target": 0.7,
                "unit": "ratio",
                "effective_from": date(2026, 1, 1),
            },
        ],
    )
    times = [
        ("2026-04-03 17:30", "2026-04-07 09:20", "2026-04-07 12:00"),
        ("2026-04-03 17:00", "2026-04-07 09:15", "2026-04-07 15:00"),
        ("2026-04-01 10:00", "2026-04-01 10:30", "2026-04-01 13:00"),
        ("2026-04-04 11:00", "2026-04-04 11:30", "2026-04-07 10:00"),
        ("2026-04-02 16:00", "2026-04-02 17:05", "2026-04-03 10:00"),
    ]
    rows = [
        ticket_row(
            f"W-{i + 1}",
            opened=o,
            first_response=f,
            resolved=r,
            closed="",
            status="resolved",
            reopen_count=1 if i == 4 else 0,
        )
        for i, (o, f, r) in enumerate(times)
    ]
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))
    return catalog


def _values(session) -> dict[tuple[str, date], KpiValue]:
    out = {}
    for value, code in session.execute(select(KpiValue, KpiDefinition.code).join(KpiDefinition)):
        out[(code, value.period_start)] = value
    return out


def test_covered_durations_skip_weekend_and_holiday(db_session, week):
    frame = load_frame(db_session, date(2026, 3, 30), date(2026, 4, 6), as_of=AS_OF)
    order = np.argsort(frame.id)
    assert (frame.response_s[order] / 60).tolist() == RESPONSE
    assert (frame.resolution_s[order] / 60).tolist() == RESOLUTION
    assert frame.in_period.all()


def test_weekly_kpis_are_stored_with_attainment(db_session, week):
    summary = compute_kpis(db_session, date(2026, 3, 30), date(2026, 4, 13), as_of=AS_OF)
    assert summary.tickets == 5
    values = _values(db_session)
    monday = date(2026, 3, 30)
    assert values[("TK_VOLUME", monday)].value == 5
    # Independent reference: NumPy's default percentile is Hyndman & Fan type 7.
    assert values[("TK_RESPONSE_P50", monday)].value == pytest.approx(np.percentile(RESPONSE, 50))
    assert values[("TK_RESPONSE_P90", monday)].value == pytest.approx(np.percentile(RESPONSE, 90))  # 71
    assert values[("TK_RESOLUTION_P90", monday)].value == pytest.approx(np.percentile(RESOLUTION, 90))
    response = values[("TK_RESPONSE_WITHIN", monday)]
    assert (response.value, response.target, response.met, response.n) == (60.0, 80.0, False, 5)
    resolution = values[("TK_RESOLUTION_WITHIN", monday)]
    assert (resolution.value, resolution.target, resolution.met) == (80.0, 100.0, False)
    fcr = values[("TK_FCR", monday)]  # resolved, never reopened, no hand-off: 4 of 5
    assert (fcr.value, fcr.target, fcr.comparator, fcr.met) == (80.0, 70.0, ">=", True)
    assert values[("TK_REOPEN", monday)].value == pytest.approx(20.0)
    # Open at the end of the week (local midnight 04-06): W-1, W-2, W-4 were resolved on 04-07.
    assert values[("TK_BACKLOG", monday)].value == 3
    assert ("TK_BACKLOG", date(2026, 4, 6)) not in values
    assert {v.provenance for v in values.values()} == {"computed"}
    assert all(
        v.region_id == week["R1"]["region"].id and v.tier_id == week["GOLD"].id for v in values.values()
    )


def test_recompute_replaces_computed_values(db_session, week):
    compute_kpis(db_session, date(2026, 3, 30), date(2026, 4, 6), as_of=AS_OF)
    first = len(_values(db_session))
    compute_kpis(db_session, date(2026, 3, 30), date(2026, 4, 6), as_of=AS_OF)
    assert len(_values(db_session)) == first


def test_wall_clock_without_sla(db_session, catalog):
    rows = [
        ticket_row(
            "N-1",
            opened="2026-04-03 17:30",
            first_response="2026-04-07 09:20",
            resolved="",
            closed="",
            status="open",
        )
    ]
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))
    frame = load_frame(db_session, date(2026, 3, 30), date(2026, 4, 6), as_of=AS_OF)
    hours = (datetime(2026, 4, 7, 9, 20) - datetime(2026, 4, 3, 17, 30)).total_seconds()
    assert frame.response_s.tolist() == [hours]  # no SLA: elapsed time, weekend included
