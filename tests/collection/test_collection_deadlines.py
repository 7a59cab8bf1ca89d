"""Deadlines and completeness: the following week's weekday/time in the region's time zone,
late / missing across a week boundary and in two time zones, rates per region."""

from __future__ import annotations

from datetime import date, datetime, time

from perception.collection.services.board import (
    Completeness,
    classify,
    completeness,
    region_completeness,
    report_deadline,
)
from tests.collection.conftest import feedback


def test_deadline_is_next_weeks_weekday_in_local_time():
    # Week 2026-W10 starts Monday 2 March; due Monday 9 March 12:00 Beijing time = 04:00 UTC.
    assert report_deadline(date(2026, 3, 2), 1, time(12, 0), "Asia/Shanghai") == datetime(2026, 3, 9, 4, 0)
    # Any day of the week names the same ISO week.
    assert report_deadline(date(2026, 3, 8), 1, time(12, 0), "Asia/Shanghai") == datetime(2026, 3, 9, 4, 0)
    # Due Sunday 23:00 of the next week.
    assert report_deadline(date(2026, 3, 2), 7, time(23, 0), "Asia/Shanghai") == datetime(2026, 3, 15, 15, 0)


def test_same_wall_clock_deadline_differs_by_time_zone():
    shanghai = report_deadline(date(2026, 3, 2), 1, time(12, 0), "Asia/Shanghai")  # UTC+8
    urumqi = report_deadline(date(2026, 3, 2), 1, time(12, 0), "Asia/Urumqi")  # UTC+6
    london_winter = report_deadline(date(2026, 3, 2), 1, time(12, 0), "Europe/London")  # GMT
    london_summer = report_deadline(date(2026, 6, 1), 1, time(12, 0), "Europe/London")  # BST = UTC+1
    assert (urumqi - shanghai).total_seconds() == 2 * 3600
    assert london_winter == datetime(2026, 3, 9, 12, 0)
    assert london_summer == datetime(2026, 6, 8, 11, 0)


def test_deadline_across_the_year_boundary():
    # 2026 has 53 ISO weeks: W53 starts Monday 28 Dec 2026, its report is due Monday 4 Jan 2027.
    assert report_deadline(date(2026, 12, 28), 1, time(9, 0), "Asia/Shanghai") == datetime(2027, 1, 4, 1, 0)


def test_classify_states_and_lateness():
    deadline = datetime(2026, 3, 9, 4, 0)
    assert classify(deadline, datetime(2026, 3, 1), False, None) == (Completeness.NOT_STARTED, None)
    assert classify(deadline, datetime(2026, 3, 1), True, None) == (Completeness.DRAFT, None)
    assert classify(deadline, datetime(2026, 3, 20), True, datetime(2026, 3, 9, 4, 0)) == (
        Completeness.SUBMITTED,
        None,
    )
    assert classify(deadline, datetime(2026, 3, 20), True, datetime(2026, 3, 9, 7, 30)) == (
        Completeness.LATE,
        3.5,
    )
    assert classify(deadline, datetime(2026, 3, 10, 4, 0), False, None) == (Completeness.MISSING, 24.0)


def test_submission_near_midnight_crosses_the_week_boundary(db_session, org, collector, put):
    """Sunday 23:30 in Beijing is still Sunday locally but Sunday 15:30 UTC; with the deadline on
    Sunday 23:59 of the following week it is on time, one hour later (Monday 00:30) it is late."""
    point = org["R1"]["point"]
    point.report_due_weekday, point.report_due_time = 7, time(23, 59)
    on_time = put("R1", date(2026, 3, 2), [feedback()], collector, submit_at=datetime(2026, 3, 15, 15, 30))
    late = put("R1", date(2026, 3, 9), [feedback()], collector, submit_at=datetime(2026, 3, 22, 16, 30))
    cells = {
        c.week_start: c
        for c in completeness(
            db_session, date(2026, 3, 2), date(2026, 3, 16), now=datetime(2026, 3, 31), point_ids=[point.id]
        )
    }
    assert cells[date(2026, 3, 2)].state == Completeness.SUBMITTED
    assert cells[date(2026, 3, 2)].report_id == on_time.id
    assert cells[date(2026, 3, 9)].state == Completeness.LATE
    assert cells[date(2026, 3, 9)].report_id == late.id
    # Deadline Sunday 22 March 23:59 CST = 15:59 UTC; submitted 16:30 UTC -> 31 minutes late.
    assert cells[date(2026, 3, 9)].lateness_hours == round(31 / 60, 2)
    # Week 16 March: nothing submitted, deadline Sunday 29 March passed -> missing, 2 days overdue.
    assert cells[date(2026, 3, 16)].state == Completeness.MISSING
    assert cells[date(2026, 3, 16)].lateness_hours == round(
        (datetime(2026, 3, 31) - datetime(2026, 3, 29, 15, 59)).total_seconds() / 3600, 2
    )


def test_same_submission_is_late_in_shanghai_and_on_time_in_london(db_session, org, make_user, put):
    org["R2"]["region"].timezone = "Europe/London"
    c1 = make_user("c1", "collector", region="R1")
    c2 = make_user("c2", "collector", region="R2")
    moment = datetime(2026, 3, 9, 8, 0)  # Monday 16:00 in Beijing, 08:00 in London; due Monday 12:00 local
    put("R1", date(2026, 3, 2), [feedback()], c1, submit_at=moment)
    put("R2", date(2026, 3, 2), [feedback(customer="R2-C")], c2, submit_at=moment)
    cells = {
        c.region_id: c
        for c in completeness(db_session, date(2026, 3, 2), date(2026, 3, 2), now=datetime(2026, 4, 1))
    }
    assert cells[org["R1"]["region"].id].state == Completeness.LATE
    assert cells[org["R1"]["region"].id].lateness_hours == 4.0
    assert cells[org["R2"]["region"].id].state == Completeness.SUBMITTED


def test_first_submission_decides_lateness_after_a_return(db_session, org, collector, make_user, put):
    from perception.collection.services import reports as collection_reports

    organiser = make_user("org1", "organiser")
    report = put("R1", date(2026, 3, 2), [feedback()], collector, submit_at=datetime(2026, 3, 9, 1, 0))
    collection_reports.return_report(db_session, report, organiser, "Add the customer name")
    collection_reports.submit_report(db_session, report, collector, now=datetime(2026, 3, 12))
    cell = completeness(
        db_session,
        date(2026, 3, 2),
        date(2026, 3, 2),
        now=datetime(2026, 4, 1),
        point_ids=[org["R1"]["point"].id],
    )[0]
    assert cell.state == Completeness.SUBMITTED
    assert cell.status == "resubmitted"


def test_region_completeness_rate(db_session, org, collector, put):
    # Weeks 2, 9, 16, 23 March; deadlines Mondays 12:00 CST. "now" = Tue 24 March 00:00 UTC:
    # weeks 2, 9 and 16 are due (the last due Monday 23 March 04:00 UTC), week 23 is not.
    put("R1", date(2026, 3, 2), [feedback()], collector, submit_at=datetime(2026, 3, 8))  # on time
    put("R1", date(2026, 3, 9), [feedback()], collector, submit_at=datetime(2026, 3, 16, 10, 0))  # 6 h late
    put("R1", date(2026, 3, 23), [feedback()], collector)  # a draft, not yet due
    cells = completeness(
        db_session,
        date(2026, 3, 2),
        date(2026, 3, 23),
        now=datetime(2026, 3, 24),
        region_ids=[org["R1"]["region"].id],
    )
    states = [c.state for c in sorted(cells, key=lambda c: c.week_start)]
    assert states == [Completeness.SUBMITTED, Completeness.LATE, Completeness.MISSING, Completeness.DRAFT]
    (rate,) = region_completeness(cells)
    assert (rate.counted, rate.on_time, rate.late, rate.missing) == (3, 1, 1, 1)
    assert rate.rate == 2 / 3 and rate.on_time_rate == 1 / 3
    assert rate.mean_lateness_hours == 6.0


def test_weeks_before_a_point_became_active_are_not_missing(db_session, org, collector, put):
    """Issue 17: the demo's signed H1 review called 80-85% of weekly reports missing because the
    points only started reporting in June; a point's active_from bounds what it can miss."""
    point = org["R1"]["point"]
    put("R1", date(2026, 3, 16), [feedback()], collector, submit_at=datetime(2026, 3, 20))
    region = [org["R1"]["region"].id]
    before = completeness(
        db_session, date(2026, 3, 2), date(2026, 3, 16), now=datetime(2026, 4, 1), region_ids=region
    )
    assert [c.state for c in before].count(Completeness.MISSING) == 2  # today: weeks 2 and 9 March missing
    point.active_from = date(2026, 3, 16)
    db_session.flush()
    cells = completeness(
        db_session, date(2026, 3, 2), date(2026, 3, 16), now=datetime(2026, 4, 1), region_ids=region
    )
    assert [(c.week_start, c.state) for c in cells] == [(date(2026, 3, 16), Completeness.SUBMITTED)]
    (rate,) = region_completeness(cells)
    assert (rate.counted, rate.missing, rate.rate) == (1, 0, 1.0)
    point.active_from = date(2026, 3, 12)  # mid-week: the week of 9 March counts from then on
    db_session.flush()
    cells = completeness(
        db_session, date(2026, 3, 2), date(2026, 3, 16), now=datetime(2026, 4, 1), region_ids=region
    )
    assert [c.week_start for c in cells] == [date(2026, 3, 9), date(2026, 3, 16)]
