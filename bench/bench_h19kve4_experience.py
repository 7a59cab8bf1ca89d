# ruff: noqa: S608 - SQL of our own table names
"""The experience side of the KPI-versus-experience page at national scale (issue 19): the running
sums (analysis.services.experience_cumulative) against the pre-aggregate summed over the period
(services.facts.aggregate by region and service, main's way), and what building them costs.

    python bench/bench_h19kve4_experience.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_x
                                             [--build] [--repeat 7]

On a database bench_national.py filled: ``--build`` builds the running sums from empty, then
refreshes them with nothing changed (both timed; the refresh of the pre-aggregate does it in the
product). Then, for 14 and 52 weeks ending with the
current week (bench_national's periods), alternated: wall and process CPU of each way, medians
of ``--repeat``, and a check that both give the same sums. The load average beside each line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--build", action="store_true")
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args()
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_national_instance")
    from sqlalchemy import text

    from perception import create_app
    from perception.analysis.models import ExperienceCumulativeState
    from perception.analysis.services.experience_cumulative import period_table, refresh_experience_cumulative
    from perception.analysis.services.facts import CellIndex, aggregate
    from perception.analysis.services.filters import AnalysisFilters
    from perception.analysis.services.kpi_experience import EXPERIENCE_KINDS
    from perception.core.extensions import db
    from perception.core.periods import week_start
    from tests.analysis.kve_reference import cell_parts

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url, "SECRET_KEY": "x" * 40, "REDIS_URL": None})
    end = week_start(date.today()) + timedelta(weeks=1)
    with app.app_context():
        db.create_all()
        if args.build:
            from perception.analysis.models import ExperienceCumulative

            db.session.query(ExperienceCumulative).delete()
            db.session.query(ExperienceCumulativeState).delete()
            db.session.commit()
            for label in ("build from empty", "refresh, nothing changed"):
                t, c = time.perf_counter(), time.process_time()
                written = refresh_experience_cumulative(db.session, force=True)
                db.session.commit()
                state = db.session.query(ExperienceCumulativeState).one()
                wall, cpu = time.perf_counter() - t, time.process_time() - c
                print(
                    f"{label}: {written} of {state.weeks} weeks written ({state.series:,} series) in "
                    f"{wall:.2f} s wall, {cpu:.2f} s CPU (load {_load()})",
                    flush=True,
                )
            size = db.session.scalar(text("SELECT sum(length(sums)) FROM experience_cumulative")) or 0
            print(f"arrays: {size / 1e6:.0f} MB", flush=True)
            if db.engine.dialect.name == "postgresql":
                total = db.session.scalar(text("SELECT pg_total_relation_size('experience_cumulative')"))
                print(
                    f"experience_cumulative on disk: {total / 1e6:.0f} MB (compressed by PostgreSQL)",
                    flush=True,
                )
        for weeks in (14, 52):
            f = AnalysisFilters(end - timedelta(weeks=weeks), end)
            ways = {
                "running sums": lambda f=f: period_table(db.session, f, kinds=EXPERIENCE_KINDS),
                "pre-aggregate": lambda f=f: aggregate(
                    db.session, f, kinds=EXPERIENCE_KINDS, by=("region", "service")
                ),
            }
            walls: dict[str, list[float]] = {k: [] for k in ways}
            cpus: dict[str, list[float]] = {k: [] for k in ways}
            tables = {}
            load = _load()
            for _ in range(args.repeat):
                for name, way in ways.items():
                    db.session.rollback()  # each read in its own transaction, as a page
                    t, c = time.perf_counter(), time.process_time()
                    tables[name] = way()
                    walls[name].append(time.perf_counter() - t)
                    cpus[name].append(time.process_time() - c)
            mine, theirs = tables["running sums"], tables["pre-aggregate"]
            assert mine is not None, "the running sums are not current: run with --build"
            a, b = CellIndex(mine), CellIndex(theirs)
            worst = 0.0
            for s, r in {(int(s), int(r)) for s, r in zip(theirs.service, theirs.region, strict=True)}:
                x, y = cell_parts(a, s, r), cell_parts(b, s, r)
                assert x.keys() == y.keys()
                for pair, acc in y.items():
                    for name, v in vars(acc).items():
                        w = getattr(x[pair], name)
                        worst = max(worst, abs(w - v) / max(1.0, abs(v)))
            for name in ways:
                wall, cpu = statistics.median(walls[name]) * 1000, statistics.median(cpus[name]) * 1000
                print(
                    f"{weeks:2d} weeks {name:14s} median {wall:7.1f} ms wall {cpu:7.1f} ms CPU  "
                    f"({len(tables[name]):,} rows; load {load})",
                    flush=True,
                )
            print(f"{weeks:2d} weeks: largest relative difference {worst:.1e}", flush=True)
            assert worst <= 1e-12 and np.isfinite(worst)
    print(f"load average at the end: {_load()}")


if __name__ == "__main__":
    main()
