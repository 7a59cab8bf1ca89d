"""The collection demo: 26 weeks of reports with late and missing ones, a common need in several
regions, the planted cells' ratings, callbacks and a sampling run; re-running adds nothing."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import distinct, func, select

from perception.collection.models.fieldwork import CallbackTask, SampledTicket, SamplingRun
from perception.collection.models.reports import CollectionReport, ReportEntry
from perception.collection.services.board import Completeness, completeness
from perception.core.demo import DemoContext
from perception.core.models.facts import ExperienceObservation, TextEntry
from perception.core.models.org import CollectionPoint, CustomerOrg, Region
from perception.kpi.models import Ticket

TODAY = date(2026, 11, 18)


def _tickets(db_session, rng):
    """A stand-in for the tickets demo: closed tickets over the last twelve weeks in every region."""
    from perception.setup.models.catalog import Service

    services = list(db_session.scalars(select(Service).where(Service.code.in_(("DESK", "NET")))))
    rows = []
    for customer in db_session.scalars(select(CustomerOrg)):
        for i in range(25):
            opened = datetime.combine(TODAY - timedelta(days=rng.randint(8, 84)), time(rng.randint(1, 9), 0))
            service = rng.choice(services)
            rows.append(
                {
                    "external_id": f"D-{customer.code}-{i}",
                    "kind": "incident",
                    "service_id": service.id,
                    "region_id": customer.region_id,
                    "customer_id": customer.id,
                    "priority": "P2",
                    "opened_at": opened,
                    "first_response_at": opened + timedelta(minutes=20),
                    "resolved_at": opened + timedelta(hours=rng.choice((2, 5, 12))),
                    "closed_at": opened + timedelta(hours=13),
                    "engineer": "张工",
                    "status": "closed",
                }
            )
    db_session.execute(Ticket.__table__.insert(), rows)


def test_demo_collection(db_session):
    from perception.collection import demo as collection
    from perception.setup import demo as setup
    from perception.setup import demo_org as org

    ctx = DemoContext(weeks=26, today=TODAY)
    org.load(db_session, ctx)
    setup.load(db_session, ctx)
    ctx.shared["planted"] = {"watermelon": ("DESK", "BJ"), "reverse": ("NET", "SH")}
    _tickets(db_session, random.Random(1))
    collection.load(db_session, ctx)

    points = db_session.scalar(select(func.count()).select_from(CollectionPoint))
    cells = completeness(
        db_session,
        ctx.first_week_start,
        ctx.first_week_start + timedelta(weeks=25),
        now=datetime.combine(TODAY, time(12)),
    )
    assert len(cells) == points * 26
    states = {s: sum(c.state == s for c in cells) for s in Completeness}
    assert states[Completeness.LATE] >= 10 and states[Completeness.MISSING] >= 3
    assert states[Completeness.SUBMITTED] > 0.7 * len(cells)
    assert (
        db_session.scalar(
            select(func.count()).where(CollectionReport.status == "resubmitted").select_from(CollectionReport)
        )
        + db_session.scalar(
            select(func.count()).select_from(CollectionReport).where(CollectionReport.revision == 2)
        )
        > 0
    )

    mobile_regions = db_session.scalar(
        select(func.count(distinct(TextEntry.region_id))).where(
            TextEntry.kind == "requirement",
            TextEntry.text.ilike("%mobile%") | TextEntry.text.like("%移动端%"),
        )
    )
    assert mobile_regions >= 3

    def mean_rating(service, region):
        return db_session.scalar(
            select(func.avg(ExperienceObservation.value))
            .join(Region, Region.id == ExperienceObservation.region_id)
            .where(
                ExperienceObservation.source == "feedback",
                Region.code == region,
                ExperienceObservation.service_id == ctx.shared["services"][service].id,
            )
        )

    assert mean_rating("DESK", "BJ") < 2.6 < 4.2 < mean_rating("NET", "SH")
    assert (
        db_session.scalar(select(func.count()).select_from(ReportEntry).where(ReportEntry.kind == "dynamic"))
        > 20
    )

    completed = db_session.scalar(
        select(func.count()).select_from(CallbackTask).where(CallbackTask.status == "completed")
    )
    assert completed > 50
    run = db_session.scalar(select(SamplingRun))
    confirmed = db_session.scalar(
        select(func.count()).select_from(SampledTicket).where(SampledTicket.status == "confirmed")
    )
    assert run is not None and confirmed > 0.7 * run.sample_size

    before = db_session.scalar(select(func.count()).select_from(ReportEntry))
    collection.load(db_session, ctx)
    assert db_session.scalar(select(func.count()).select_from(ReportEntry)) == before
    assert db_session.scalar(select(func.count()).select_from(SamplingRun)) == 1
