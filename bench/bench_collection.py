"""Collection benchmarks: the completeness board, a 2000-row import and a stratified draw.

    python bench/bench_collection.py

Prints seconds for: the board of 100 collection points x 52 weeks (5200 cells, ~4700 reports);
validating and storing a 2000-row CSV import (all or nothing); drawing a stratified sample from
30 000 closed tickets (SQLite in memory, one process).
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import date, datetime, timedelta

from sqlalchemy import insert


def main() -> None:
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", tempfile.mkdtemp(prefix="perception-bench-"))
    from perception import create_app
    from perception.collection.models.reports import CollectionReport
    from perception.collection.services import report_import as collection_import
    from perception.collection.services import reports as collection_reports
    from perception.collection.services import sampling as collection_sampling
    from perception.collection.services.board import completeness, region_completeness
    from perception.core.extensions import db
    from perception.core.models.org import CollectionPoint, CustomerOrg, Region
    from perception.kpi.models import Ticket
    from perception.setup.models.catalog import Service

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "b" * 40})
    rng = random.Random(7)
    with app.app_context():
        db.create_all()
        s = db.session
        regions = [Region(code=f"R{i:02d}", name_zh=f"区域{i}", name_en=f"Region {i}") for i in range(20)]
        s.add_all(regions)
        s.flush()
        points = [
            CollectionPoint(
                code=f"P{i:03d}", name_zh=f"点{i}", name_en=f"Point {i}", region_id=regions[i % 20].id
            )
            for i in range(100)
        ]
        customers = [
            CustomerOrg(
                code=f"C{i:03d}", name_zh=f"客户{i}", name_en=f"Customer {i}", region_id=regions[i % 20].id
            )
            for i in range(60)
        ]
        services = [Service(code=f"S{i}", name_zh=f"服务{i}", name_en=f"Service {i}") for i in range(6)]
        s.add_all(points + customers + services)
        s.flush()
        first = date(2025, 1, 6)
        rows = []
        for p in points:
            for w in range(52):
                if rng.random() < 0.1:
                    continue
                week = first + timedelta(weeks=w)
                at = datetime.combine(week + timedelta(days=7), datetime.min.time()) + timedelta(
                    hours=rng.uniform(-48, 30)
                )
                rows.append(
                    {
                        "region_id": p.region_id,
                        "collection_point_id": p.id,
                        "week_start": week,
                        "status": "submitted",
                        "revision": 1,
                        "first_submitted_at": at,
                        "submitted_at": at,
                    }
                )
        s.execute(insert(CollectionReport), rows)

        t = time.perf_counter()
        cells = completeness(s, first, first + timedelta(weeks=51), now=datetime(2026, 1, 31))
        rates = region_completeness(cells)
        print(f"board: {len(cells)} cells, {len(rates)} regions in {time.perf_counter() - t:.3f} s")

        report = collection_reports.open_report(
            s, points[0], date(2026, 1, 5), None, now=datetime(2026, 1, 31)
        )
        region_customers = [c.code for c in customers if c.region_id == points[0].region_id]
        lines = ["kind,customer,service,dimension,rating,means,text"]
        for i in range(2000):
            lines.append(
                f"feedback,{rng.choice(region_customers)},S{i % 6},response_speed,{rng.randint(1, 5)},visit,"
                f"反馈 {i} feedback text"
            )
        t = time.perf_counter()
        added = collection_import.import_entries(s, report, "bench.csv", "\n".join(lines).encode(), None)
        print(f"import: {added} rows validated and stored in {time.perf_counter() - t:.3f} s")

        tickets = []
        for i in range(30000):
            closed = datetime(2025, 10, 1) + timedelta(minutes=rng.randint(0, 60 * 24 * 90))
            tickets.append(
                {
                    "external_id": f"T{i}",
                    "service_id": services[i % 6].id,
                    "region_id": regions[i % 20].id,
                    "priority": "P3",
                    "opened_at": closed - timedelta(hours=5),
                    "closed_at": closed,
                    "resolved_at": closed,
                    "status": "closed",
                }
            )
        s.execute(insert(Ticket), tickets)
        t = time.perf_counter()
        run = collection_sampling.draw_sample(
            s, name="bench", start=date(2025, 10, 1), end=date(2026, 1, 1), margin=0.02, seed="bench"
        )
        print(
            f"sampling: n={run.sample_size} of N={run.population} in {len(run.strata)} strata "
            f"in {time.perf_counter() - t:.3f} s"
        )
        t = time.perf_counter()
        ok = collection_sampling.verify_run(s, run)
        print(f"verify: {ok} in {time.perf_counter() - t:.3f} s")


if __name__ == "__main__":
    main()
