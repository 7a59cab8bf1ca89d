"""KPI recomputation over 26 weeks from 1,000,000 tickets, on SQLite and PostgreSQL.

    python bench/bench_kpi_compute.py [--rows 1000000] [--skip-postgres]

Loads the tickets with the import path of bench_ticket_import (12 regions, 36 customers, 5
services), adds two SLAs (office hours with public holidays, and 24x7 for the platinum tier) and
per-priority response/resolution standards plus FCR and reopen standards, then times
perception.kpi.services.compute.compute_kpis over the 26 weeks: one SELECT, covered-hours durations,
per-ticket targets, grouped percentiles and shares, backlog, and the bulk write of the KPI values.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_ticket_import as tickets  # noqa: E402

START = date(2026, 5, 18)  # Monday; 26 weeks before the generated tickets' end (2026-11-16)


def add_agreements(session: Any) -> None:
    from perception.setup.models.catalog import Service, ServiceTier
    from perception.setup.models.standards import (
        ServiceStandard,
        Sla,
        SlaHoliday,
        SlaService,
        StandardVersion,
    )

    services = list(session.query(Service))
    plat = session.query(ServiceTier).filter_by(code="PLAT").one()
    office = Sla(code="SLA-STD", name_zh="标准", name_en="Standard", covered_hours="mon-fri 09:00-18:00")
    always = Sla(code="SLA-PLAT", name_zh="白金", name_en="Platinum", covered_hours="24x7", tier_id=plat.id)
    session.add_all([office, always])
    session.flush()
    for sla in (office, always):
        for service in services:
            session.add(SlaService(sla_id=sla.id, service_id=service.id))
    for day in (
        date(2026, 6, 19),
        date(2026, 9, 25),
        date(2026, 10, 1),
        date(2026, 10, 2),
        date(2026, 10, 5),
    ):
        session.add(SlaHoliday(sla_id=office.id, day=day, name="holiday"))
    specs = [("response_within_target_share", 95, 15 * (i + 1), f"P{i + 1}") for i in range(4)]
    specs += [("resolution_within_target_share", 90, 240 * (i + 1), f"P{i + 1}") for i in range(4)]
    specs += [("first_contact_resolution_rate", 70, None, None), ("reopen_rate", 5, None, None)]
    for service in services:
        for n, (metric, target, limit, priority) in enumerate(specs):
            standard = ServiceStandard(code=f"{service.code}-{n}", service_id=service.id)
            session.add(standard)
            session.flush()
            session.add(
                StandardVersion(
                    standard_id=standard.id,
                    version=1,
                    status="confirmed",
                    statement_zh="-",
                    statement_en="-",
                    metric=metric,
                    measured_by="kpi",
                    comparator="<=" if metric == "reopen_rate" else ">=",
                    target=target,
                    unit="%",
                    time_limit_minutes=limit,
                    priority=priority,
                    effective_from=date(2026, 1, 1),
                )
            )
    session.flush()


def run(label: str, url: str, rows: list[tuple]) -> None:
    from perception.core.extensions import db
    from perception.kpi.services.compute import compute_kpis

    app = tickets.make_app(url)
    tickets.fresh_schema(app)
    seconds, result = tickets.timed_import(app, tickets.csv_data(rows))
    with app.app_context():
        add_agreements(db.session)
        db.session.commit()
        times = []
        for _ in range(2):
            started = time.perf_counter()
            summary = compute_kpis(db.session, START, START + timedelta(weeks=26))
            db.session.commit()
            times.append(time.perf_counter() - started)
    print(
        f"{label:<11} loaded {result.rows_new:,} tickets in {seconds:.1f} s; compute 26 weeks: "
        f"{summary.tickets:,} tickets -> {summary.groups:,} groups, {summary.values:,} values in "
        f"{min(times):.1f} s (runs: {', '.join(f'{t:.1f}' for t in times)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", tempfile.mkdtemp(prefix="perception-bench-"))
    rows = tickets.ticket_rows(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{folder}/bench.sqlite", rows)
    if not args.skip_postgres and tickets.ensure_pg_database(tickets.PG_URL):
        run("PostgreSQL", tickets.PG_URL, rows)


if __name__ == "__main__":
    main()
