"""The review demo: one signed past review with findings and improvement items (one completed with
its result measured from the data), one open current review; re-running adds nothing."""

from __future__ import annotations

import random
from datetime import date, timedelta

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
