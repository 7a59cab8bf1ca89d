"""The review demo: one signed past review with findings and improvement items (one completed with
its result measured from the data), one open current review; re-running adds nothing."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from perception.core.demo import DemoContext
from perception.review.models import ImprovementItem, Review

TODAY = date(2026, 11, 18)


def test_demo_has_a_signed_past_and_an_open_current_review(db_session, observe):
    from perception.review import demo as review
    from perception.setup import demo_org as org
    from perception.setup.models.catalog import Service

    ctx = DemoContext(weeks=26, today=TODAY)
    org.load(db_session, ctx)
    desk = Service(code="DESK", name_zh="服务台", name_en="Service desk")
    db_session.add(desk)
    db_session.flush()
    ctx.shared["planted"] = {"watermelon": ("DESK", "GD")}
    gd = ctx.shared["regions"]["GD"]
    rng = random.Random(1)
    completed_on = TODAY - timedelta(weeks=9)
    for week in range(-10, 8):  # weekly answers around the completion date, better afterwards
        good = 0.35 if week < 0 else 0.75
        values = [5 if rng.random() < good else 2 for _ in range(20)]
        observe(gd, desk, "csat", values, day=completed_on + timedelta(weeks=week))

    review.load(db_session, ctx)
    review.load(db_session, ctx)  # idempotent

    reviews = db_session.scalars(select(Review).order_by(Review.period_start)).all()
    assert [(r.code, r.status) for r in reviews] == [("2026-H1", "signed"), ("2026-H2", "open")]
    past = reviews[0]
    assert past.snapshot is not None and past.owner_signatory and len(past.findings) == 3
    assert all(f.evidence_section for f in past.findings)
    assert db_session.scalar(select(func.count(ImprovementItem.id))) == 3
    done = db_session.scalar(select(ImprovementItem).where(ImprovementItem.status == "completed"))
    assert done.metric == "csat_share" and done.region_id == gd.id and done.metric_service_id == desk.id
    assert done.result["status"] == "measured" and done.result["improved"]
    assert done.result["baseline"]["n"] == 160 and done.result["after"]["n"] == 160
    overdue = db_session.scalar(select(ImprovementItem).where(ImprovementItem.status == "in_progress"))
    assert overdue.overdue_on(TODAY)


def _months(start: date, end: date) -> list[date]:
    out, day = [], start.replace(day=1)
    while day < end:
        out.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return out


def test_every_demo_review_period_has_data_in_each_of_its_months(demo_session):
    """Issue 17, "a demo that tells the truth": the demo's signed H1 review covered a half-year of
    which the demo had about four weeks of data. Every month of every demo review's period that
    has run two weeks holds survey answers, submitted weekly reports and tickets, whatever the
    demo's ``--weeks`` (older weeks are thinner, not missing)."""
    from perception.collection.models.reports import CollectionReport
    from perception.kpi.models import Ticket
    from perception.surveys.models import Response

    today = date(2026, 12, 5)  # the H1 review is signed, H2 open: 48 weeks back to 2026-01-01
    db_session = demo_session(3, today)
    reviews = db_session.scalars(select(Review).order_by(Review.period_start)).all()
    assert [(r.code, r.status) for r in reviews] == [("2026-H1", "signed"), ("2026-H2", "open")]

    def per_month(column, *where) -> dict[date, int]:
        counts: dict[date, int] = {}
        for (moment,) in db_session.execute(select(column).where(*where)):
            day = moment.date() if isinstance(moment, datetime) else moment
            counts[day.replace(day=1)] = counts.get(day.replace(day=1), 0) + 1
        return counts

    answers = per_month(Response.submitted_at)
    reports = per_month(CollectionReport.week_start, CollectionReport.first_submitted_at.is_not(None))
    tickets = per_month(Ticket.opened_at)
    for review in reviews:
        months = [
            m for m in _months(review.period_start, review.period_end) if m <= today - timedelta(days=14)
        ]
        assert months, review.code
        for month in months:
            assert answers.get(month, 0) > 0, (review.code, month, "survey answers")
            assert reports.get(month, 0) > 0, (review.code, month, "weekly reports")
            assert tickets.get(month, 0) > 0, (review.code, month, "tickets")
    # Thinner, not missing: January (history) has answers, but fewer than November (full weeks).
    assert 0 < answers[date(2026, 1, 1)] < answers[date(2026, 11, 1)]
