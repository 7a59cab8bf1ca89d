"""Issue 19: the review's standards section read each standard's weekly history with a query of
its own (a scan of the period's KPI values or answers each: minutes at national scale). Now the
KPI standards' histories come from one query and the experience standards' of no customer from
another; every standard's history equals the one query per standard (the old path, kept for a
customer's own view) to 1e-12, over metrics, services, tiers, dimensions, units, several regions
and weights, and fractional answers."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select, update

from perception.core.clock import Clock
from perception.core.models.facts import ExperienceObservation as Obs
from perception.review.services import section_standards as standards
from perception.review.services.sections import SectionContext, previous_review
from tests.review.conftest import MONDAY

METRICS = ("csat_share", "csat_mean", "nps", "ces_mean", "dimension_rating_mean")


@pytest.fixture
def many_standards(db_session, org, catalog, observe, link_kpi, kpi_value):
    from perception.kpi.models import KpiDefinition, KpiValue
    from perception.setup.models.catalog import ServiceTier
    from perception.setup.models.standards import ServiceStandard, StandardVersion

    gold_tier = ServiceTier(code="GOLD", name_zh="金牌", name_en="Gold", rank=1)
    db_session.add(gold_tier)
    db_session.flush()

    rng = np.random.default_rng(1902)
    regions = [org["R1"]["region"], org["R2"]["region"]]
    services = [catalog["DESK"], catalog["NET"]]
    for s_i, service in enumerate(services):
        for m_i, metric in enumerate(METRICS):
            code = f"H{s_i}{m_i}"
            definition = link_kpi(service, code, 0.9, metric, 0.8 if "share" in metric else 3.5)
            if m_i == 1:
                definition.unit = "%"  # a KPI kept in percent: its values are scaled
            for week in range(6):
                for region in regions:
                    if rng.random() < 0.8:
                        value = float(rng.uniform(0.5, 1.0)) * (100 if m_i == 1 else 1)
                        kpi_value(
                            definition, service, region, value, 0.9, week=week, n=int(rng.integers(1, 500))
                        )
    db_session.flush()
    dims = db_session.scalars(
        select(StandardVersion)
        .where(StandardVersion.metric == "dimension_rating_mean")
        .order_by(StandardVersion.id)
    ).all()
    for version, code in zip(dims, ("staff_attitude", "response_speed"), strict=True):
        version.dimension = code
    for definition in db_session.scalars(select(KpiDefinition)):
        version_id = db_session.scalar(
            select(StandardVersion.id).where(StandardVersion.standard_id == definition.standard_id)
        )
        db_session.execute(
            update(KpiValue)
            .where(KpiValue.definition_id == definition.id)
            .values(standard_version_id=version_id)
        )
    gold = db_session.scalar(select(ServiceStandard).where(ServiceStandard.code == "E-H10"))
    gold.tier_id = gold_tier.id
    for week in range(6):
        day = MONDAY + timedelta(weeks=week)
        for region in regions:
            for service in [*services, None]:
                observe(region, service, "csat", rng.integers(1, 6, 9).tolist(), day=day)
                observe(region, service, "nps", rng.integers(0, 11, 7).tolist(), day=day, scale=(0, 10))
                observe(region, service, "ces", rng.uniform(1, 7, 5).round(3).tolist(), day=day, scale=(1, 7))
                for d in ("staff_attitude", "response_speed"):
                    observe(region, service, "rating", rng.integers(1, 8, 4).tolist(), day=day, dimension=d,
                            scale=(1, 7))  # fmt: skip
    db_session.execute(update(Obs).where(Obs.source_id % 3 == 0).values(tier_id=gold_tier.id))
    db_session.flush()
    assert db_session.scalar(select(KpiDefinition).where(KpiDefinition.code == "H01")).unit == "%"


def test_histories_in_two_queries_equal_one_query_per_standard(db_session, h1, many_standards):
    clock = Clock()
    ctx = SectionContext(db_session, h1, clock.today(), clock.now(), previous_review(db_session, h1))
    chosen = list(standards._versions(ctx).values())
    assert len(chosen) == 20
    got = standards._histories(ctx, chosen, None)
    measured = 0
    for versions in chosen:
        standard = versions[0].standard
        want = standards._history(ctx, standard, versions, None)
        mine = got[standard.id]
        assert (mine is None) == (want is None), standard.code
        if want is None:
            continue
        assert mine.keys() == want.keys(), standard.code
        for week, value in want.items():
            assert mine[week] == pytest.approx(value, rel=1e-12, abs=1e-12), (standard.code, week)
        measured += bool(want)
    assert measured == 20  # every standard has weekly values


def test_kpi_section_reads_no_correlations_over_time(db_session, h1, watermelon, monkeypatch):
    """Section 3 asks the comparison without the correlations over the weeks of every cell (it
    shows none; thousands of lookups at national scale): its content is the same as with them."""
    import perception.analysis.services.kpi_experience as kve
    from perception.review.services import section_kpi

    clock = Clock()
    ctx = SectionContext(db_session, h1, clock.today(), clock.now(), previous_review(db_session, h1))
    fast = section_kpi.build(ctx)
    real = kve.kpi_vs_experience
    asked: list[bool] = []

    def with_everything(session, filters, **kwargs):
        asked.append(kwargs.pop("over_time", True))
        return real(session, filters, **kwargs)  # over_time=True: what the section asked before

    monkeypatch.setattr(kve, "kpi_vs_experience", with_everything)
    ctx = SectionContext(db_session, h1, clock.today(), clock.now(), previous_review(db_session, h1))
    assert section_kpi.build(ctx) == fast
    assert asked and not any(asked)
    assert fast["facts"]["watermelons"]  # the watermelon's lead and lag are there


def _old_region_csat(ctx, start, end):
    """Section 3's CSAT per region as it was read: the overview's region rows."""
    from perception.analysis.services.overview import overview
    from perception.review.services.section_kpi import _filters

    rows = overview(ctx.session, _filters(start, end)).regions
    return {r.code: [r.csat.successes or 0, r.csat.n] for r in rows if r.csat is not None and r.csat.n}


def test_region_csat_from_one_group_by_equals_the_overview_rows(db_session, h1, many_standards):
    from perception.review.services import section_kpi

    clock = Clock()
    ctx = SectionContext(db_session, h1, clock.today(), clock.now(), previous_review(db_session, h1))
    for bounds in (
        (ctx.start, ctx.end),
        section_kpi.previous_bounds(ctx),
        (MONDAY, MONDAY + timedelta(weeks=3)),
    ):
        want = _old_region_csat(ctx, *bounds)
        got = section_kpi._region_csat(ctx, *bounds)
        assert list(got.items()) == list(want.items())
    assert len(section_kpi._region_csat(ctx, ctx.start, ctx.end)) == 2
