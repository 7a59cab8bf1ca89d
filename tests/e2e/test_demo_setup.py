"""The demo organisation ships a complete, confirmed setup (services, tiers, standards, SLAs, plan)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from perception.core.demo import DemoContext
from perception.setup import demo as demo_setup
from perception.setup import demo_org
from perception.setup.models.standards import PlanItem, ServiceStandard, Sla, StandardVersion, VersionStatus
from perception.setup.services.plan import coverage
from perception.setup.services.sla import sla_for
from perception.setup.services.standards import standard_in_force, standards_in_force

TODAY = date(2026, 11, 16)


def _load(db_session):
    ctx = DemoContext(weeks=26, today=TODAY)
    demo_org.load(db_session, ctx)
    demo_setup.load(db_session, ctx)
    db_session.flush()
    return ctx


def test_demo_setup_is_complete_and_confirmed(db_session):
    ctx = _load(db_session)
    assert len(ctx.shared["services"]) == 8 and len(ctx.shared["tiers"]) == 3
    standards = db_session.scalars(select(ServiceStandard)).all()
    assert len(standards) == len(demo_setup.STANDARDS)
    in_force = standards_in_force(db_session, TODAY)
    assert {v.standard.code for v in in_force} == {s.code for s in standards}
    gold = ctx.shared["standards"]["DESK-RESP-P1-GOLD"]
    statuses = [v.status for v in gold.versions]
    assert statuses == [VersionStatus.SUPERSEDED, VersionStatus.CONFIRMED]
    early = standard_in_force(db_session, gold.id, ctx.first_week_start)
    late = standard_in_force(db_session, gold.id, TODAY)
    assert early.target == 0.90 and late.target == 0.95
    assert db_session.scalar(select(func.count()).select_from(Sla)) == 4
    bank = next(c for c in ctx.shared["customers"] if c.code == "BJ-BANK")
    assert sla_for(db_session, ctx.shared["services"]["DESK"].id, bank.id, TODAY).code == "SLA-BJ-BANK"
    assert db_session.scalar(select(func.count()).select_from(PlanItem)) > 10
    cov = coverage(db_session, TODAY)
    assert [s.code for s in cov.services_without_plan] == ["TRN"]
    assert cov.gaps, "the plan deliberately leaves gaps"
    assert any(u.version.standard.code == "TRN-EXP" for u in cov.unmeasured)
    # Issue 17: every confirmation was dated the day the demo was loaded. Each step now happened
    # before the version came into force, in the order need -> proposal -> provider -> customers.
    for version in db_session.scalars(select(StandardVersion)):
        assert version.customer_confirmed_at.date() < TODAY
        assert (
            version.effective_from is not None
            and version.customer_confirmed_at.date() <= version.effective_from
        )
        assert version.need_confirmed_at < version.proposed_at < version.provider_confirmed_at
        assert version.provider_confirmed_at < version.customer_confirmed_at
        assert all(event.at.date() < TODAY for event in version.events)
    # Re-running the loader is idempotent.
    before = db_session.scalar(select(func.count()).select_from(StandardVersion))
    demo_setup.load(db_session, ctx)
    assert db_session.scalar(select(func.count()).select_from(StandardVersion)) == before
