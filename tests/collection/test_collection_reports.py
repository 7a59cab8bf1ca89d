"""The report lifecycle, one report per point and week, revisions and the analysis facts."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from perception.collection.models.reports import CollectionReport, ReportEntry
from perception.collection.services import reports as collection_reports
from perception.collection.services.entries import parse_entries
from perception.collection.services.errors import CollectionError
from perception.core.models.facts import ExperienceObservation, TextEntry
from tests.collection.conftest import WEEK, dynamic, feedback, requirement


def _facts(db_session):
    obs = db_session.scalar(
        select(func.count())
        .select_from(ExperienceObservation)
        .where(ExperienceObservation.source == "feedback")
    )
    texts = dict(
        db_session.execute(
            select(TextEntry.kind, func.count())
            .where(TextEntry.source == "feedback")
            .group_by(TextEntry.kind)
        ).all()
    )
    return obs, texts


def test_lifecycle_draft_submit_return_resubmit_accept(db_session, org, cat, collector, make_user, put):
    organiser = make_user("org1", "organiser")
    report = put("R1", WEEK, [dynamic(), feedback(rating=2), requirement()], collector)
    assert report.status == "draft" and report.revision == 0
    assert _facts(db_session) == (0, {})  # drafts do not count

    collection_reports.submit_report(db_session, report, collector, now=datetime(2026, 3, 8))
    assert (report.status, report.revision, report.first_submitted_at) == (
        "submitted",
        1,
        datetime(2026, 3, 8),
    )
    assert _facts(db_session) == (1, {"feedback": 1, "requirement": 1})
    with pytest.raises(CollectionError) as locked:
        collection_reports.save_entries(db_session, report, [], collector)
    assert locked.value.problems[0].field == "status"

    with pytest.raises(CollectionError) as no_comment:
        collection_reports.return_report(db_session, report, organiser, "  ")
    assert no_comment.value.problems[0].field == "comment"
    collection_reports.return_report(db_session, report, organiser, "评分依据不清 / explain the rating")
    assert report.status == "returned" and report.organiser_comment.startswith("评分依据")
    assert _facts(db_session) == (0, {})  # returned content is withdrawn from analysis

    # Editing after the return keeps what was submitted as revision 1.
    entries = parse_entries(
        db_session, [feedback(rating=3, text="已补充说明")], report.region_id, report.week_start
    )
    collection_reports.save_entries(db_session, report, entries, collector)
    collection_reports.submit_report(db_session, report, collector, now=datetime(2026, 3, 12))
    assert report.status == "resubmitted" and report.revision == 2
    assert report.first_submitted_at == datetime(2026, 3, 8) and report.submitted_at == datetime(2026, 3, 12)
    first, second = report.revisions
    assert [e["kind"] for e in first.entries] == ["dynamic", "feedback", "requirement"]
    assert first.entries[1]["rating"] == 2
    assert [(e["kind"], e["rating"]) for e in second.entries] == [("feedback", 3)]
    assert _facts(db_session) == (1, {"feedback": 1})

    collection_reports.accept_report(db_session, report, organiser)
    assert report.status == "accepted" and report.reviewed_by_id == organiser.id
    assert _facts(db_session) == (1, {"feedback": 1})  # accepted keeps its facts
    with pytest.raises(CollectionError):
        collection_reports.return_report(db_session, report, organiser, "too late")


def test_feedback_fact_carries_dimension_scale_and_tier(db_session, cat, collector, put):
    report = put(
        "R1",
        WEEK,
        [feedback(dimension="staff_attitude", rating=5)],
        collector,
        submit_at=datetime(2026, 3, 8),
    )
    obs = db_session.scalar(select(ExperienceObservation).where(ExperienceObservation.source == "feedback"))
    entry = report.entries[0]
    assert (obs.source_id, obs.kind, obs.dimension, obs.value, obs.scale_min, obs.scale_max) == (
        entry.id,
        "rating",
        "staff_attitude",
        5.0,
        1.0,
        5.0,
    )
    assert obs.period_start == WEEK and obs.tier_id == cat["GOLD"].id and obs.service_id == cat["DESK"].id


def test_one_report_per_point_and_week(db_session, org, collector, put):
    first = put("R1", WEEK, [], collector)
    again = collection_reports.open_report(
        db_session, org["R1"]["point"], date(2026, 3, 5), collector, now=datetime(2026, 6, 1)
    )
    assert again.id == first.id  # any day of the week opens the same report
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(
            CollectionReport(
                region_id=org["R1"]["region"].id,
                collection_point_id=org["R1"]["point"].id,
                week_start=WEEK,
                status="draft",
                revision=0,
            )
        )
        db_session.flush()


def test_future_weeks_cannot_be_opened(db_session, org, collector):
    with pytest.raises(CollectionError) as exc:
        collection_reports.open_report(
            db_session, org["R1"]["point"], date(2026, 3, 9), collector, now=datetime(2026, 3, 5)
        )
    assert exc.value.problems[0].field == "week"


def test_only_the_points_collector_may_change_it(db_session, make_user, collector, put):
    other = make_user("col_r2", "collector", region="R2")
    report = put("R1", WEEK, [], collector)
    with pytest.raises(CollectionError):
        collection_reports.submit_report(db_session, report, other)


def test_every_bad_row_is_reported_and_nothing_stored(db_session, org, cat, collector):
    rows = [
        feedback(),
        feedback(rating=7),
        dynamic(date="next tuesday", category="weather"),
        requirement(customer="R2-C"),
    ]
    with pytest.raises(CollectionError) as exc:
        collection_reports.put_report(
            db_session, org["R1"]["point"], WEEK, rows, collector, now=datetime(2026, 6, 1)
        )
    found = {(p.row, p.field) for p in exc.value.problems}
    assert found == {
        (2, "rating"),
        (3, "date"),
        (3, "category"),
        (4, "customer"),
    }  # another region's customer
    assert all(p.zh and p.en for p in exc.value.problems)
    assert db_session.scalar(select(func.count()).select_from(ReportEntry)) == 0


def test_labels_and_chinese_headers_are_accepted(db_session, cat):
    region_id = cat["R1"]["region"].id
    (entry,) = parse_entries(
        db_session,
        [
            {
                "类型": "用户反馈与建议",
                "客户": "r1-c",
                "维度": "故障处理效果",
                "评分": "4",
                "渠道": "Phone callback",
                "内容": "处理及时",
            }
        ],
        region_id,
        WEEK,
    )
    assert (entry.kind, entry.dimension, entry.rating, entry.means) == (
        "feedback",
        "fault_handling",
        4,
        "callback",
    )


def test_event_dates_are_read_by_the_one_date_parser_and_problems_keep_their_row(db_session, cat):
    region_id = cat["R1"]["region"].id
    written = ["2026-03-04", "2026/3/4", "2026.3.4", "2026年3月4日", datetime(2026, 3, 4, 0, 0)]
    entries = parse_entries(db_session, [dynamic(date=d) for d in written], region_id, WEEK)
    assert {e.event_date for e in entries} == {date(2026, 3, 4)}
    with pytest.raises(CollectionError) as exc:
        parse_entries(db_session, [dynamic(), dynamic(date="2026-02-30")], region_id, WEEK)
    (problem,) = exc.value.problems
    assert (problem.row, problem.field, problem.code, problem.value) == (
        2,
        "date",
        "invalid_date",
        "2026-02-30",
    )
    assert problem.zh.startswith("“2026-02-30”") and "2026-03-02" in problem.en


def test_a_reports_facts_are_declared_rows_of_its_week(db_session, org, cat, collector, make_user, put):
    """Submitting and returning a report writes and withdraws fact rows of its one week, declared so
    (issue 19): they log that week instead of making the analysis pre-aggregates stale
    (data_version.EXPERIENCE_PAST untouched, the week among the transaction's declared weeks)."""
    from perception.kpi.services.data_version import EXPERIENCE_PAST, declared_weeks, read_version

    before = read_version(db_session, EXPERIENCE_PAST)[2]
    report = put("R1", WEEK, [feedback(rating=2), requirement()], collector)
    collection_reports.submit_report(db_session, report, collector, now=datetime(2026, 3, 8))
    assert _facts(db_session)[0] == 1
    collection_reports.return_report(db_session, report, make_user("org1", "organiser"), "fix")
    assert _facts(db_session)[0] == 0
    assert read_version(db_session, EXPERIENCE_PAST)[2] == before
    assert set(declared_weeks(db_session)) == {WEEK}
