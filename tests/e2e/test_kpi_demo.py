"""The demo part: tickets imported through the bulk path, KPIs computed, the planted cells hold
(watermelon: KPIs met; reverse: KPIs missed) and escalations fired."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from perception.core.models.org import Region
from perception.kpi.models import Escalation, KpiDefinition, KpiValue, Ticket
from perception.setup.models.catalog import Service

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(app):
    """Load org + setup + tickets once for the module (in its own rolled-back transaction)."""
    from sqlalchemy import orm

    from perception.core.demo import DemoContext
    from perception.core.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        session = orm.Session(bind=connection, join_transaction_mode="create_savepoint")
        ctx = DemoContext(weeks=8, today=date.today())
        from perception.kpi import demo as kpi_demo
        from perception.setup import demo as setup_demo
        from perception.setup import demo_org

        for load in (demo_org.load, setup_demo.load, kpi_demo.load):
            load(session, ctx)
            session.flush()
        try:
            yield session, ctx
        finally:
            session.close()
            outer.rollback()
            connection.close()


def _share_met(session, service: str, region: str, code: str) -> tuple[int, int]:
    rows = (
        session.execute(
            select(KpiValue.met)
            .join(KpiDefinition, KpiDefinition.id == KpiValue.definition_id)
            .join(Service, Service.id == KpiValue.service_id)
            .join(Region, Region.id == KpiValue.region_id)
            .where(
                Service.code == service,
                Region.code == region,
                KpiDefinition.code == code,
                KpiValue.met.is_not(None),
            )
        )
        .scalars()
        .all()
    )
    return sum(1 for m in rows if m), len(rows)


def test_demo_tickets_and_planted_cells(demo):
    session, ctx = demo
    assert ctx.shared["planted"] == {"watermelon": ("DESK", "GD"), "reverse": ("NET", "SC")}
    assert session.scalar(select(func.count(Ticket.id))) > 5000
    met, total = _share_met(session, "DESK", "GD", "TK_RESOLUTION_WITHIN")
    assert total >= 8 and met / total >= 0.9, (met, total)
    met, total = _share_met(session, "NET", "SC", "TK_RESOLUTION_WITHIN")
    assert total >= 4 and met / total <= 0.2, (met, total)
    imported = session.scalar(select(func.count(KpiValue.id)).where(KpiValue.provenance == "imported"))
    assert imported == 2 * 12 * ctx.weeks
    assert session.scalar(select(func.count(Escalation.id))) >= 2


def test_demo_is_idempotent(demo):
    session, ctx = demo
    from perception.kpi import demo as tickets

    before = session.scalar(select(func.count(Ticket.id)))
    tickets.load(session, ctx)
    assert session.scalar(select(func.count(Ticket.id))) == before
