"""The survey demo: campaigns and responses over the demo weeks, the planted cells, idempotent."""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import func, select

from perception.core.demo import DemoContext
from perception.core.models.facts import ExperienceObservation
from perception.core.models.org import Region
from perception.surveys.models import Campaign, FollowUpTask, Response


def test_demo_surveys(db_session):
    from perception.setup import demo as setup
    from perception.setup import demo_org as org
    from perception.surveys import demo as demo_surveys

    ctx = DemoContext(weeks=6, today=date(2026, 11, 20))
    org.load(db_session, ctx)
    setup.load(db_session, ctx)
    ctx.shared["planted"] = {"watermelon": ("DESK", "GD"), "reverse": ("NET", "SH")}
    demo_surveys.load(db_session, ctx)
    responses = db_session.scalar(select(func.count(Response.id)))
    assert responses > 700
    assert db_session.scalar(select(func.count(Campaign.id))) == 4
    assert db_session.scalar(select(func.count(FollowUpTask.id))) > 0

    def csat(service_code, region_code):
        service = ctx.shared["services"][service_code]
        region = db_session.scalar(select(Region).where(Region.code == region_code))
        values = db_session.scalars(
            select(ExperienceObservation.value).where(
                ExperienceObservation.kind == "csat",
                ExperienceObservation.service_id == service.id,
                ExperienceObservation.region_id == region.id,
            )
        ).all()
        return np.asarray(values)

    poor, good = csat("DESK", "GD"), csat("NET", "SH")
    assert len(poor) >= 20 and len(good) >= 20
    assert np.mean(poor <= 3) > 0.75  # mostly 1-3
    assert np.mean(good >= 4) > 0.85  # CSAT (share of 4-5) high
    # every observation sits in a Monday-started week inside the demo period
    starts = db_session.scalars(select(ExperienceObservation.period_start).distinct()).all()
    assert all(d.weekday() == 0 and ctx.first_week_start <= d <= ctx.today for d in starts)
    # Believable response rates (issue 17: the demo showed 97-99.7%), differing by region.
    from perception.surveys.services.rates import campaign_rates

    transactional = db_session.scalar(select(Campaign).where(Campaign.code == "DEMO-CSAT-TICKETS"))
    (overall,) = campaign_rates(db_session, transactional, "campaign", None)
    assert 0.2 < overall.rate < 0.55, overall
    by_region = [
        r.rate for r in campaign_rates(db_session, transactional, "region", None) if r.rate is not None
    ]
    assert max(by_region) - min(by_region) > 0.05
    # The SERVQUAL wave asks importance points: the experience page's default period shows the
    # weighted gap, more negative than the unweighted one (reliability matters most and falls shortest).
    from perception.analysis.services.filters import default_filters
    from perception.analysis.services.servqual_weights import servqual_weighting

    weighting = servqual_weighting(db_session, default_filters(ctx.today))
    assert weighting is not None and weighting.weighted.n >= 100 and weighting.left_out == 0
    assert weighting.weighted.gap.estimate < weighting.unweighted.gap.estimate < 0
    assert max(weighting.weights, key=lambda d: d.points).dimension == "reliability"
    servqual = db_session.scalar(select(Campaign).where(Campaign.code == "DEMO-SERVQUAL"))
    (wave,) = campaign_rates(db_session, servqual, "campaign", None)
    assert 0.55 < wave.rate < 0.8, wave  # not everybody answers a 22-pair questionnaire
    demo_surveys.load(db_session, ctx)  # idempotent
    assert db_session.scalar(select(func.count(Response.id))) == responses
