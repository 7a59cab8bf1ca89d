"""Issue 14: KPIs computed from tickets count the SLA's make-up working days (调休). Hand-checked on
China's October 2025 calendar (1-8 October off, Saturday 11 October worked), Mon-Fri 09:00-18:00:
ticket A, Tue 30 Sep 17:00 -> Thu 9 Oct 10:00, took 60 + 60 = 120 covered minutes; ticket B, Fri 10
Oct 17:00 -> Mon 13 Oct 10:00, took 60 + 540 (the Saturday) + 60 = 660 covered minutes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from perception.kpi.models import KpiDefinition, KpiValue
from perception.kpi.services.compute import compute_kpis
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import add_sla, csv_bytes, ticket_row


def test_resolution_time_counts_the_make_up_saturday(db_session, catalog):
    from perception.setup.models.standards import SlaWorkday

    holidays = [date(2025, 10, d) for d in range(1, 9)]
    sla = add_sla(db_session, "SLA-CN", [catalog["DESK"]], holidays=holidays)
    db_session.add_all(
        [SlaWorkday(sla_id=sla.id, day=date(2025, 9, 28)), SlaWorkday(sla_id=sla.id, day=date(2025, 10, 11))]
    )
    db_session.flush()
    rows = [
        ticket_row("A", opened="2025-09-30 17:00", first_response="2025-09-30 17:10",
                   resolved="2025-10-09 10:00", closed="", status="resolved"),
        ticket_row("B", opened="2025-10-10 17:00", first_response="2025-10-10 17:10",
                   resolved="2025-10-13 10:00", closed="", status="resolved"),
    ]  # fmt: skip
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))
    compute_kpis(db_session, date(2025, 9, 29), date(2025, 10, 13), as_of=datetime(2025, 11, 1))
    values = {
        period: value
        for period, value in db_session.execute(
            select(KpiValue.period_start, KpiValue.value)
            .join(KpiDefinition)
            .where(KpiDefinition.code == "TK_RESOLUTION_P50")
        )
    }
    assert values == {date(2025, 9, 29): 120.0, date(2025, 10, 6): 660.0}
