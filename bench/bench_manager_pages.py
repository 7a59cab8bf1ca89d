"""The manager's pages at 1,000,000 tickets and 300,000 responses over 52 weeks (issue 19).

    python bench/bench_manager_pages.py [--db sqlite postgresql] [--tickets 1000000]
        [--responses 300000] [--parts kpi home review] [--repeat 5] [--keep]

Builds (unless ``--keep`` finds it filled) an organisation of 12 regions x 3 customers (one per tier)
x 5 services: the tickets through the product's import (bench_ticket_import's rows, 52 weeks up to
this week), two SLAs with per-priority standards (bench_kpi_compute.add_agreements), a CSAT
experience standard per service linked to its KPI standards, ``--responses`` survey responses
(CSAT; a quarter NPS; a quarter the six dimensions) and the weekly KPIs computed for the 52 weeks.
SQLite lives in /tmp/bench_manager_pages.sqlite, PostgreSQL in PERCEPTION_BENCH_POSTGRES_URL
(default database ``bench_h19kpi``).

Then times, with a warm cache, medians of ``--repeat`` runs (each run ends its transaction, as a
request does), the load average beside each figure:
- kpi: the pooled ticket percentiles (perception.kpi.services.pooled) per grouping, the internal
  KPI analysis for the default 14 weeks and for 52 weeks, and GET /analysis/kpis;
- home: the analysis phase's home panel (four weeks against four, the KPI-versus-experience
  comparison) and GET / as a manager;
- review: GET /reviews/<id> as the reviewer, computed live (its copy removed) and with its slow
  sections computed ahead (perception.review.page_cache), alternated.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_kpi_compute  # noqa: E402
import bench_ticket_import as tickets  # noqa: E402

WEEKS = 52
PASSWORD = "bench-password-123"  # noqa: S105 - throw-away benchmark users
SQLITE_PATH = os.environ.get("PERCEPTION_BENCH_SQLITE", "/tmp/bench_manager_pages.sqlite")  # noqa: S108 - a benchmark's own file
PG_URL = os.environ.get(
    "PERCEPTION_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_h19kpi"
)
OBS_COLUMNS = [
    "source",
    "source_id",
    "observed_on",
    "period_start",
    "region_id",
    "customer_id",
    "service_id",
    "kind",
    "dimension",
    "item",
    "value",
    "scale_min",
    "scale_max",
]
DIMENSIONS = (
    "response_speed",
    "fault_handling",
    "deliverable_quality",
    "staff_attitude",
    "service_conformity",
    "training_effect",
)


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def this_monday() -> date:
    today = date.today()
    return today - timedelta(days=today.weekday())


def _insert(conn: Any, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        buf = io.StringIO()
        for row in rows:
            buf.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
        buf.seek(0)
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            while chunk := buf.read(1 << 20):
                copy.write(chunk)
        return
    marks = ", ".join("?" for _ in columns)
    raw.cursor().executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows))  # noqa: S608


def add_experience(session: Any, n_responses: int, end: date) -> None:
    """A CSAT experience standard per service, linked to the service's KPI standards, and the
    responses' observations spread over the 52 weeks."""
    from sqlalchemy import select

    from perception.core.models.org import CustomerOrg
    from perception.setup.models.catalog import Service
    from perception.setup.models.standards import ServiceStandard, StandardVersion

    services = list(session.scalars(select(Service).order_by(Service.id)))
    for s in services:
        exp = ServiceStandard(code=f"E-{s.code}", service_id=s.id, category="experience")
        session.add(exp)
        session.flush()
        session.add(
            StandardVersion(
                standard_id=exp.id,
                version=1,
                status="confirmed",
                statement_zh="满意",
                statement_en="satisfied",
                metric="csat_share",
                measured_by="questionnaire",
                comparator=">=",
                target=0.85,
                effective_from=date(2000, 1, 1),
            )
        )
        for kpi in session.scalars(select(ServiceStandard).where(ServiceStandard.code.like(f"{s.code}-%"))):
            kpi.experience_standard_id = exp.id
    session.flush()
    customers = list(session.scalars(select(CustomerOrg).order_by(CustomerOrg.id)))
    rng = np.random.default_rng(1)
    first = end - timedelta(weeks=WEEKS)
    weeks = [first + timedelta(weeks=i) for i in range(WEEKS)]
    cust = rng.integers(0, len(customers), n_responses)
    svc = rng.integers(0, len(services), n_responses)
    wk = rng.integers(0, WEEKS, n_responses)
    csat = rng.choice([1, 2, 3, 4, 5], n_responses, p=[0.03, 0.05, 0.14, 0.38, 0.40])

    def rows() -> Iterable[tuple[Any, ...]]:
        for i in range(n_responses):
            c = customers[cust[i]]
            w = weeks[wk[i]]
            base = ("survey", i + 1, w, w, c.region_id, c.id, services[svc[i]].id)
            yield (*base, "csat", None, "csat", int(csat[i]), 1, 5)
            if i % 4 == 0:
                yield (*base, "nps", None, "nps", int(min(10, max(0, csat[i] * 2 + (i % 3) - 1))), 0, 10)
            if i % 4 == 1:
                for d in DIMENSIONS:
                    yield (*base, "likert", d, d, int(min(5, max(1, csat[i] + (i % 3) - 1))), 1, 5)

    _insert(session.connection(), "experience_observation", OBS_COLUMNS, rows())


def build(app: Any, n_tickets: int, n_responses: int) -> None:
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.core.users import UserSpec, create_user
    from perception.kpi.services.compute import compute_kpis
    from perception.review.services.periods import ensure_review, parse_periods

    end = this_monday()
    t = time.perf_counter()
    tickets.fresh_schema(app)
    rows = tickets.ticket_rows(n_tickets, weeks=WEEKS, end=datetime.combine(end, datetime.min.time()))
    seconds, result = tickets.timed_import(app, tickets.csv_data(rows))
    del rows
    print(f"  imported {result.rows_new:,} tickets in {seconds:.0f} s  load {load()}", flush=True)
    with app.app_context():
        session = db.session
        bench_kpi_compute.add_agreements(session)
        add_experience(session, n_responses, end)
        session.commit()
        print(f"  {n_responses:,} responses  load {load()}", flush=True)
        c = time.perf_counter()
        summary = compute_kpis(session, end - timedelta(weeks=WEEKS), end + timedelta(weeks=1))
        session.commit()
        print(
            f"  computed {summary.values:,} KPI values in {time.perf_counter() - c:.0f} s  load {load()}",
            flush=True,
        )
        for name, role in (("manager", Role.MANAGER), ("reviewer", Role.REVIEWER)):
            create_user(
                session,
                UserSpec(username=name, display_name=name, roles=frozenset({role}), password=PASSWORD),
            )
        ensure_review(session, date.today(), parse_periods(None))
        if session.get_bind().dialect.name == "postgresql":
            session.execute(__import__("sqlalchemy").text("ANALYZE"))
        session.commit()
    print(f"  built in {time.perf_counter() - t:.0f} s", flush=True)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    fn()  # warm-up: imports, caches
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), min(runs), max(runs)


def report(label: str, figures: tuple[float, float, float]) -> None:
    med, lo, hi = figures
    print(
        f"  {label:52s} median {med * 1000:7.0f} ms  (min {lo * 1000:.0f}, max {hi * 1000:.0f})  "
        f"load {load()}",
        flush=True,
    )


def pooled_before(
    session: Any,
    start: date,
    end: date,
    keep: Any,
    *,
    region_ids: Any = None,
    service_id: Any = None,
    tier_id: Any = None,
    granularity: str = "week",
) -> dict[Any, tuple[float, int]]:
    """perception.kpi.services.pooled.pooled_percentiles as it was at 8cde2a8 (every call loads the
    whole ticket frame), kept here to time it beside the current one on the same data."""
    from perception.kpi.services.arrays import distinct_rows
    from perception.kpi.services.pooled import KEYS, PERCENTILE_KPIS
    from perception.kpi.services.ticket_frame import load_frame
    from perception.kpi.services.ticket_time import period_starts
    from scoring.ticket_kpis import grouped_percentiles

    frame = load_frame(session, start, end, region_ids=region_ids)
    mask = frame.in_period.copy()
    if service_id is not None:
        mask &= frame.service == service_id
    if tier_id is not None:
        mask &= frame.tier == tier_id
    sub = frame.subset(mask)
    if len(sub) == 0:
        return {}
    period = period_starts(sub.local_day, granularity)
    columns = [getattr(sub, k) for k in KEYS if k in keep]
    distinct, codes = distinct_rows(*columns, period.astype(np.int64))
    size = int(distinct[0].size)
    starts = [date.fromisoformat(str(d)) for d in distinct[-1].astype("datetime64[D]").tolist()]
    out: dict[Any, tuple[float, int]] = {}
    for column in ("response_s", "resolution_s"):
        values = getattr(sub, column)
        wanted = [(code, q) for code, (col, q) in PERCENTILE_KPIS.items() if col == column]
        qs = grouped_percentiles(codes, values, [q for _, q in wanted], size)
        n = np.bincount(codes, weights=~np.isnan(values), minlength=size).astype(np.int64)
        for g in range(size):
            if n[g] == 0:
                continue
            ids = tuple(int(c[g]) for c in distinct[:-1])
            for j, (code, _) in enumerate(wanted):
                out[(code, *ids, starts[g])] = (float(qs[g, j]) / 60.0, int(n[g]))
    return out


def alternated(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, float, float]]:
    """Median, min and max seconds of each function, run in turn (one warm-up round left out), so
    a change of the machine's load hits all alike."""
    runs: dict[str, list[float]] = {k: [] for k in fns}
    for round_no in range(repeat + 1):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            if round_no:
                runs[name].append(time.perf_counter() - t)
    return {k: (statistics.median(v), min(v), max(v)) for k, v in runs.items()}


def bench_kpi(app: Any, client: Any, repeat: int, kpi_weeks: tuple[int, ...] = (14, 52)) -> None:
    import perception.analysis.services.kpis as kpis_module
    from perception.analysis.services.filters import AnalysisFilters
    from perception.core.extensions import db
    from perception.kpi.services.pooled import pooled_percentiles

    end = this_monday() + timedelta(weeks=1)
    current = kpis_module.pooled_percentiles
    with app.app_context():
        session = db.session

        def run(fn: Callable[[], object]) -> Callable[[], None]:
            def once() -> None:
                fn()
                session.rollback()  # a request ends its transaction

            return once

        def page(f: AnalysisFilters, pooled: Callable[..., Any]) -> Callable[[], object]:
            def once() -> object:
                kpis_module.pooled_percentiles = pooled  # type: ignore[assignment]
                try:
                    return kpis_module.kpi_analysis(session, f)
                finally:
                    kpis_module.pooled_percentiles = current  # type: ignore[assignment]

            return once

        for weeks in kpi_weeks:
            start = end - timedelta(weeks=weeks)
            for keep in ((), ("service", "region")):
                before = pooled_before(session, start, end, keep)
                after = pooled_percentiles(session, start, end, keep)
                session.rollback()
                same = "identical" if before == after else "DIFFERENT"
                label = (
                    f"pooled_percentiles {weeks} weeks keep={','.join(keep) or '-'} "
                    f"({len(after)} values {same})"
                )
                figures = alternated(
                    {
                        "before": run(lambda s=start, k=keep: pooled_before(session, s, end, k)),
                        "after": run(lambda s=start, k=keep: pooled_percentiles(session, s, end, k)),
                    },
                    repeat,
                )
                for mode, f in figures.items():
                    report(f"{label} {mode}", f)
            f = AnalysisFilters(start=start, end=end)
            views = {
                mode: json.dumps(page(f, fn)().to_dict(), sort_keys=True, default=str)  # type: ignore[attr-defined]
                for mode, fn in (("before", pooled_before), ("after", current))
            }
            session.rollback()
            same = "identical" if views["before"] == views["after"] else "DIFFERENT"
            figures = alternated(
                {"before": run(page(f, pooled_before)), "after": run(page(f, current))}, repeat
            )
            for mode, fig in figures.items():
                report(f"kpi_analysis {weeks} weeks all regions ({same}) {mode}", fig)
    _login(client, "manager")
    report(
        "HTTP GET /analysis/kpis (default 14 weeks)", timed(lambda: _get(client, "/analysis/kpis"), repeat)
    )


def bench_home(app: Any, client: Any, repeat: int) -> None:
    from sqlalchemy import select

    from perception.analysis.home import analysis_panel
    from perception.core.clock import Clock
    from perception.core.extensions import db
    from perception.core.models.auth import User

    with app.test_request_context("/"), app.app_context():
        session = db.session
        user = session.scalar(select(User).where(User.username == "manager"))
        clock = Clock()

        def once() -> None:
            analysis_panel(session, user, clock)
            session.rollback()

        report("analysis home panel (4 weeks against 4)", timed(once, repeat))
    _login(client, "manager")
    report("HTTP GET / as a manager", timed(lambda: _get(client, "/"), repeat))


def bench_review(app: Any, client: Any, repeat: int) -> None:
    from sqlalchemy import delete, select

    from perception.core.extensions import db
    from perception.core.jobs import run_now
    from perception.core.transaction import unit_of_work
    from perception.review.models import Review, ReviewSectionCache

    with app.app_context():
        review_id = db.session.scalar(select(Review.id).order_by(Review.id.desc()))

    def live() -> None:
        with app.app_context(), unit_of_work() as session:
            session.execute(delete(ReviewSectionCache).where(ReviewSectionCache.review_id == review_id))

    def ahead() -> None:
        with app.app_context(), unit_of_work() as session:
            run_now(session, "prepare_review_page", review_id=review_id)

    _login(client, "reviewer")
    times: dict[str, list[float]] = {"live": [], "ahead": []}
    prepare_s: list[float] = []
    for round_no in range(repeat + 1):
        for mode, prepare in (("live", live), ("ahead", ahead)):
            t = time.perf_counter()
            prepare()
            if mode == "ahead" and round_no:
                prepare_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            _get(client, f"/reviews/{review_id}", zh=True)
            if round_no:
                times[mode].append(time.perf_counter() - t)
    for mode, runs in times.items():
        report(f"HTTP GET /reviews/{review_id} {mode}", (statistics.median(runs), min(runs), max(runs)))
    report("prepare_review_page (the job)", (statistics.median(prepare_s), min(prepare_s), max(prepare_s)))


def _login(client: Any, username: str) -> None:
    from tests.conftest import login

    client.get("/logout")
    response = login(client, username, PASSWORD)
    assert response.status_code == 302, response.status_code


def _get(client: Any, path: str, zh: bool = False) -> None:
    response = client.get(path, headers={"Accept-Language": "zh-CN"} if zh else {})
    assert response.status_code == 200, (path, response.status_code)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--db", nargs="*", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--responses", type=int, default=300_000)
    p.add_argument("--parts", nargs="*", default=["kpi", "home", "review"], choices=["kpi", "home", "review"])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--keep", action="store_true", help="reuse the database when it is already filled")
    p.add_argument("--kpi-weeks", type=int, nargs="*", default=[14, 52], help="the KPI page's periods")
    args = p.parse_args()
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-manager-"))  # noqa: S108
    from sqlalchemy import func, select

    from perception import create_app
    from perception.core.extensions import db
    from perception.kpi.models import Ticket

    for name in args.db:
        url = f"sqlite:///{SQLITE_PATH}" if name == "sqlite" else PG_URL
        if name == "postgresql" and not tickets.ensure_pg_database(url):
            continue
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench-manager-pages-secret-0123456789",
                "REDIS_URL": None,
                "JOBS_BACKGROUND": False,
            }
        )
        filled = 0
        if args.keep:
            with app.app_context():
                try:
                    filled = db.session.scalar(select(func.count()).select_from(Ticket)) or 0
                except Exception:  # noqa: BLE001 - no tables yet
                    db.session.rollback()
        print(f"{name}: load before {load()}", flush=True)
        if not filled:
            build(app, args.tickets, args.responses)
        else:
            print(f"  reusing {filled:,} tickets", flush=True)
        client = app.test_client()
        for part in args.parts:
            if part == "kpi":
                bench_kpi(app, client, args.repeat, tuple(args.kpi_weeks))
            else:
                {"home": bench_home, "review": bench_review}[part](app, client, args.repeat)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
