# ruff: noqa: S608, E501 - SQL of our own numbers and ids, written as the database reads it
"""Benchmark of the manager's pages at the scale of a national provider (issue 19).

    python bench/bench_national.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench_national]
                                   [--scale 1.0] [--keep] [--repeat 5] [--only overview,kpis,...]

Full size (``--scale 1``): 100 regions x 50 services (10 customers per region), 10,000,000 tickets
and 3,000,000 survey responses over 104 ISO weeks ending with the current week. ``--scale 0.1``
and ``0.01`` keep the regions and services and scale the tickets and responses; the issue asks for
SQLite at a tenth (``--url sqlite:////tmp/national.sqlite --scale 0.1``).

Build (unless ``--keep`` finds the database filled): the organisation, per service an experience
standard (CSAT >= 85%) and two ticket-time standards linked to it (responded within 1 h, resolved
within 8 h), the tickets, and the responses' experience facts (each response a CSAT answer; a
quarter also answer NPS, a quarter rate the six dimensions on a Likert matrix, a quarter answer
CES): generated in chunks with NumPy and written with COPY on PostgreSQL (executemany on SQLite),
so memory stays flat with the size. Then the derived steps the product runs: the ticket KPIs
(weekly and monthly, ``compute_kpis`` in windows as the hourly job does) and the analysis
pre-aggregate (``refresh_rollup``). Then, signed in as a manager through the Flask test client,
each page for the default 14 weeks and for 52 weeks: the first request, then the median and
maximum of ``--repeat`` more; the load average beside each line. ``--warm`` first warms the process
as the deployment does (``gunicorn --preload`` on perception.wsgi: perception.web.warmup), so the
first page's first load is the page's, not the process's first import of SciPy and the templates.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench-password-123"  # noqa: S105 - a throw-away benchmark user
WEEKS = 104
CHUNK = 250_000
DIMS = (
    "response_speed",
    "fault_handling",
    "deliverable_quality",
    "staff_attitude",
    "service_conformity",
    "training_effect",
)
TICKET_COLS = [
    "external_id", "kind", "service_id", "region_id", "customer_id", "priority", "opened_at",
    "first_response_at", "resolved_at", "closed_at", "status", "reopen_count", "transfers", "updated_at",
]  # fmt: skip
OBS_COLS = [
    "source", "source_id", "observed_on", "period_start", "region_id", "customer_id", "service_id",
    "kind", "dimension", "item", "value", "scale_min", "scale_max",
]  # fmt: skip


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--url",
        default=os.environ.get(
            "BENCH_NATIONAL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_national"
        ),
    )
    p.add_argument("--scale", type=float, default=1.0, help="1 = 10M tickets and 3M responses")
    p.add_argument("--regions", type=int, default=100)
    p.add_argument("--services", type=int, default=50)
    p.add_argument("--keep", action="store_true", help="reuse the database when it is already filled")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--only", default="", help="comma-separated page names to time (default: all)")
    p.add_argument(
        "--facts", action="store_true", help="time the analysis pages a second time reading the facts"
    )
    p.add_argument(
        "--profile", default="", help="a path to profile once (cProfile, top 30 by cumulative time)"
    )
    p.add_argument(
        "--kpi-weeks",
        type=int,
        default=WEEKS,
        help="compute the ticket KPIs of the last N weeks only (default: all)",
    )
    p.add_argument("--skip-kpis", action="store_true", help="build without computing the ticket KPIs")
    p.add_argument(
        "--warm",
        action="store_true",
        help="warm the process first as the deployment does (perception.web.warmup, gunicorn --preload):"
        " the first load then times the page, not the process's first heavy imports",
    )
    return p.parse_args()


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


class Writer:
    """Rows into a table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def write(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        raw = self.conn.connection.dbapi_connection
        if self.pg:
            buf = io.StringIO()
            buf.writelines("\t".join("\\N" if v is None else str(v) for v in row) + "\n" for row in rows)
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(buf.getvalue())
        else:
            marks = ", ".join("?" for _ in columns)
            raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def build_org(session: Any, n_regions: int, n_services: int) -> tuple[list[Any], list[Any], list[Any]]:
    from perception.core.models.org import CustomerOrg, Region
    from perception.setup.models.catalog import Service
    from perception.setup.models.standards import ServiceStandard, StandardVersion

    regions = [
        Region(code=f"R{i:03d}", name_zh=f"地区{i}", name_en=f"Region {i}", timezone="Asia/Shanghai")
        for i in range(n_regions)
    ]
    services = [
        Service(code=f"S{i:02d}", name_zh=f"服务{i}", name_en=f"Service {i}") for i in range(n_services)
    ]
    session.add_all(regions + services)
    session.flush()
    customers = [
        CustomerOrg(
            code=f"C{i:04d}", name_zh=f"客户{i}", name_en=f"Customer {i}", region_id=regions[i // 10].id
        )
        for i in range(10 * n_regions)
    ]
    session.add_all(customers)
    session.flush()
    for s in services:
        exp = ServiceStandard(code=f"E-{s.code}", service_id=s.id, category="experience")
        session.add(exp)
        session.flush()
        specs = [(exp, "csat_share", "questionnaire", 0.85, None)]
        for code, metric, target, limit in (
            ("RSP", "response_within_target_share", 0.95, 60.0),
            ("RES", "resolution_within_target_share", 0.9, 480.0),
        ):
            std = ServiceStandard(
                code=f"{code}-{s.code}", service_id=s.id, category="efficiency", experience_standard_id=exp.id
            )
            session.add(std)
            session.flush()
            specs.append((std, metric, "kpi", target, limit))
        for std, metric, by, target, limit in specs:
            session.add(
                StandardVersion(
                    standard_id=std.id, version=1, status="confirmed", statement_zh="标准",
                    statement_en="standard", metric=metric, measured_by=by, comparator=">=",
                    target=target, time_limit_minutes=limit, effective_from=date(2000, 1, 1),
                )
            )  # fmt: skip
    session.flush()
    return regions, services, customers


def ticket_chunks(
    n: int, first: date, weeks: int, services: list[int], customers: list[tuple[int, int]]
) -> Iterator[list[tuple[Any, ...]]]:
    """Tickets in chunks: opened uniformly over the weeks, responded after ~30 min, resolved after
    ~6 h (gamma), 2% still open; statuses, reopens and transfers as a service desk has them."""
    rng = np.random.default_rng(7)
    origin = np.datetime64(datetime.combine(first, datetime.min.time()), "s")
    span = weeks * 7 * 86_400
    cust = np.array(customers)
    svc = np.array(services)
    prios = np.array(["P1", "P2", "P3", "P4"])
    now = datetime.now().replace(microsecond=0).isoformat(sep=" ")
    for lo in range(0, n, CHUNK):
        m = min(CHUNK, n - lo)
        opened = origin + rng.integers(0, span, m).astype("timedelta64[s]")
        responded = opened + rng.exponential(1800, m).astype("timedelta64[s]")
        resolved = responded + rng.gamma(1.5, 4 * 3600, m).astype("timedelta64[s]")
        closed = resolved + np.timedelta64(86_400, "s")
        open_ = rng.random(m) < 0.02
        c = rng.integers(0, len(cust), m)
        s = svc[rng.integers(0, len(svc), m)]
        pr = prios[rng.choice(4, m, p=[0.05, 0.2, 0.5, 0.25])]
        reopen = rng.poisson(0.05, m)
        transfers = rng.poisson(0.3, m)
        o, r, v, cl = (a.astype(str) for a in (opened, responded, resolved, closed))
        rows = []
        for i in range(m):
            done = not open_[i]
            rows.append(
                (
                    f"T{lo + i:09d}", "incident", int(s[i]), int(cust[c[i], 1]), int(cust[c[i], 0]), pr[i],
                    o[i].replace("T", " "), r[i].replace("T", " "),
                    v[i].replace("T", " ") if done else None, cl[i].replace("T", " ") if done else None,
                    "closed" if done else "in_progress", int(reopen[i]), int(transfers[i]), now,
                )
            )  # fmt: skip
        yield rows


def observation_chunks(
    n: int, first: date, weeks: int, services: list[int], customers: list[tuple[int, int]]
) -> Iterator[list[tuple[Any, ...]]]:
    """The facts of ``n`` survey responses: CSAT for each; NPS, the six dimensions (a Likert
    matrix) or CES for a quarter each."""
    rng = np.random.default_rng(11)
    cust = np.array(customers)
    svc = np.array(services)
    mondays = [first + timedelta(weeks=w) for w in range(weeks)]
    for lo in range(0, n, CHUNK):
        m = min(CHUNK, n - lo)
        c = rng.integers(0, len(cust), m)
        s = svc[rng.integers(0, len(svc), m)]
        wk = rng.integers(0, weeks, m)
        day = rng.integers(0, 7, m)
        csat = rng.choice([1, 2, 3, 4, 5], m, p=[0.03, 0.05, 0.14, 0.38, 0.40])
        wiggle = rng.integers(-1, 2, (m, 7))
        rows = []
        for i in range(m):
            idx = lo + i
            monday = mondays[wk[i]]
            base = (
                "survey", idx + 1, monday + timedelta(days=int(day[i])), monday,
                int(cust[c[i], 1]), int(cust[c[i], 0]), int(s[i]),
            )  # fmt: skip
            v = int(csat[i])
            rows.append((*base, "csat", None, "csat", v, 1, 5))
            kind = idx % 4
            if kind == 0:
                rows.append((*base, "nps", None, "nps", min(10, max(0, 2 * v + int(wiggle[i, 0]))), 0, 10))
            elif kind == 1:
                for d, dim in enumerate(DIMS):
                    rows.append((*base, "likert", dim, dim, min(5, max(1, v + int(wiggle[i, d + 1]))), 1, 5))
            elif kind == 2:
                rows.append((*base, "ces", None, "ces", min(7, max(1, v + 2 + int(wiggle[i, 0]))), 1, 7))
        yield rows


def build_in_postgres(
    session: Any,
    n_tickets: int,
    n_responses: int,
    first: date,
    services: list[int],
    customers: list[tuple[int, int]],
) -> None:
    """The same shapes as ticket_chunks and observation_chunks, drawn by PostgreSQL itself
    (generate_series and random(), seeded): no row crosses the wire, so the full size is built in
    minutes. Resolution times are exponential here (gamma in the Python generator)."""
    from sqlalchemy import text

    arrays = {
        "svc": "(ARRAY[" + ",".join(map(str, services)) + "])",
        "cust": "(ARRAY[" + ",".join(str(c) for c, _ in customers) + "])",
        "reg": "(ARRAY[" + ",".join(str(r) for _, r in customers) + "])",
    }
    n_svc, n_cust = len(services), len(customers)
    origin = first.isoformat()
    session.execute(text("SELECT setseed(0.19)"))
    t = time.perf_counter()
    session.execute(
        text(
            f"""
            INSERT INTO ticket ({", ".join(TICKET_COLS)})
            SELECT 'T' || lpad(g::text, 9, '0'), 'incident', {arrays["svc"]}[1 + floor(random() * {n_svc})::int],
                   {arrays["reg"]}[ci], {arrays["cust"]}[ci],
                   CASE WHEN p < 0.05 THEN 'P1' WHEN p < 0.25 THEN 'P2' WHEN p < 0.75 THEN 'P3' ELSE 'P4' END,
                   opened, responded,
                   CASE WHEN still_open THEN NULL ELSE resolved END,
                   CASE WHEN still_open THEN NULL ELSE resolved + interval '1 day' END,
                   CASE WHEN still_open THEN 'in_progress' ELSE 'closed' END,
                   (random() < 0.05)::int, floor(-ln(1 - random()) * 0.3)::int, now()
            FROM (
                SELECT g, 1 + floor(random() * {n_cust})::int AS ci, random() AS p, random() < 0.02 AS still_open,
                       opened, responded, responded + make_interval(secs => -ln(1 - random()) * 21600) AS resolved
                FROM (
                    SELECT g, opened, opened + make_interval(secs => -ln(1 - random()) * 1800) AS responded
                    FROM (
                        SELECT g, timestamp '{origin}' + make_interval(secs => floor(random() * {WEEKS * 7 * 86400})) AS opened
                        FROM generate_series(1, {n_tickets}) AS g
                    ) a
                ) b
            ) c
            """  # noqa: S608 - numbers and ids of our own
        )
    )
    print(f"tickets: {n_tickets:,} written in {time.perf_counter() - t:.1f} s (load {_load()})", flush=True)
    t = time.perf_counter()
    session.execute(
        text(
            f"""
            CREATE TEMP TABLE bench_response ON COMMIT DROP AS
            SELECT g, {arrays["reg"]}[ci] AS region_id, {arrays["cust"]}[ci] AS customer_id, service_id,
                   monday, monday + day AS observed_on,
                   CASE WHEN u < 0.03 THEN 1 WHEN u < 0.08 THEN 2 WHEN u < 0.22 THEN 3 WHEN u < 0.60 THEN 4 ELSE 5 END AS csat
            FROM (
                SELECT g, 1 + floor(random() * {n_cust})::int AS ci,
                       {arrays["svc"]}[1 + floor(random() * {n_svc})::int] AS service_id,
                       date '{origin}' + 7 * floor(random() * {WEEKS})::int AS monday,
                       floor(random() * 7)::int AS day, random() AS u
                FROM generate_series(1, {n_responses}) AS g
            ) r
            """  # noqa: S608
        )
    )
    base = "'survey', g, observed_on, monday, region_id, customer_id, service_id"
    wiggle = "(floor(random() * 3)::int - 1)"
    cols = ", ".join(OBS_COLS)
    dims = "ARRAY[" + ",".join(f"'{d}'" for d in DIMS) + "]"
    # One insert in the order answers arrive (by day, then response): a provider's facts are
    # written as the surveys come back, so a week's rows lie together on disk. Session 14 wrote
    # them kind by kind in random order, which scattered a week's rows over the whole table and
    # made every read of the current week's facts touch pages all over it.
    parts = (
        f"SELECT {base}, 'csat', NULL, 'csat', csat, 1, 5 FROM bench_response",
        f"SELECT {base}, 'nps', NULL, 'nps', least(10, greatest(0, 2 * csat + {wiggle})), 0, 10 "
        "FROM bench_response WHERE g % 4 = 1",
        f"SELECT {base}, 'likert', d, d, least(5, greatest(1, csat + {wiggle})), 1, 5 "
        f"FROM bench_response CROSS JOIN unnest({dims}) AS d WHERE g % 4 = 2",
        f"SELECT {base}, 'ces', NULL, 'ces', least(7, greatest(1, csat + 2 + {wiggle})), 1, 7 "
        "FROM bench_response WHERE g % 4 = 3",
    )
    union = " UNION ALL ".join(f"({part})" for part in parts)
    session.execute(
        text(f"INSERT INTO experience_observation ({cols}) SELECT * FROM ({union}) facts ORDER BY 3, 2")  # noqa: S608
    )
    n_obs = session.scalar(text("SELECT count(*) FROM experience_observation"))
    print(
        f"responses: {n_responses:,} ({n_obs:,} observations) written in {time.perf_counter() - t:.1f} s"
        f" (load {_load()})",
        flush=True,
    )


def build(session: Any, args: argparse.Namespace, end: date) -> None:
    regions, services, customers = build_org(session, args.regions, args.services)
    first = end - timedelta(weeks=WEEKS)
    svc_ids = [s.id for s in services]
    cust = [(c.id, c.region_id) for c in customers]
    writer = Writer(session.connection())
    n_tickets = int(round(10_000_000 * args.scale))
    n_responses = int(round(3_000_000 * args.scale))
    if writer.pg:
        build_in_postgres(session, n_tickets, n_responses, first, svc_ids, cust)
        return
    t = time.perf_counter()
    for rows in ticket_chunks(n_tickets, first, WEEKS, svc_ids, cust):
        writer.write("ticket", TICKET_COLS, rows)
    print(f"tickets: {n_tickets:,} written in {time.perf_counter() - t:.1f} s (load {_load()})", flush=True)
    t = time.perf_counter()
    n_obs = 0
    for rows in observation_chunks(n_responses, first, WEEKS, svc_ids, cust):
        writer.write("experience_observation", OBS_COLS, rows)
        n_obs += len(rows)
    print(
        f"responses: {n_responses:,} ({n_obs:,} observations) written in {time.perf_counter() - t:.1f} s"
        f" (load {_load()})",
        flush=True,
    )


def _week_windows(first: date, end: date) -> list[tuple[date, date]]:
    """Windows of 8 weeks: the ticket frame of one window fits in memory at any size."""
    out, lo = [], first
    while lo < end:
        out.append((lo, min(end, lo + timedelta(weeks=8))))
        lo = out[-1][1]
    return out


def _month_windows(first: date, end: date) -> list[tuple[date, date]]:
    """Windows of 2 whole months, from the month of ``first`` to the month holding ``end``."""
    out, lo = [], first.replace(day=1)
    while lo < end:
        m = lo.month + 1
        hi = date(lo.year + m // 12, m % 12 + 1, 1)
        out.append((lo, hi))
        lo = hi
    return out


def derive(app: Any, end: date, skip_kpis: bool, kpi_weeks: int = WEEKS) -> None:
    """The steps the product runs after the data arrives: ticket KPIs, the analysis pre-aggregate."""
    from perception.analysis.services.rollup import refresh_rollup
    from perception.core.extensions import db
    from perception.kpi.services.compute import compute_kpis

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        if not skip_kpis:
            since = end - timedelta(weeks=min(kpi_weeks, WEEKS))
            for granularity, bounds in (
                ("week", _week_windows(since, end)),
                ("month", _month_windows(since, end)),
            ):
                t = time.perf_counter()
                values = 0
                for lo, hi in bounds:
                    summary = compute_kpis(db.session, lo, hi, granularity=granularity)
                    db.session.commit()
                    values += summary.values
                print(
                    f"compute_kpis {granularity}: {values:,} values in {time.perf_counter() - t:.1f} s"
                    f" (load {_load()})",
                    flush=True,
                )
        t = time.perf_counter()
        built = refresh_rollup(db.session, force=True)
        db.session.commit()
        if built is not None:
            print(
                f"refresh_rollup: {built:,} rows in {time.perf_counter() - t:.1f} s (load {_load()})",
                flush=True,
            )
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")


def hourly_jobs(app: Any) -> None:
    """What the product's hourly jobs keep current beside the pre-aggregate, built when missing
    or stale (a database built by an older bench, or KPI values written without the hooks): the
    KPI values' running sums (kpi_cumulative) and weekly sums (kpi_week_sums) and, through refresh_rollup, the facts' running sums
    and the per-respondent table. Without them the pages fall back to their slower paths."""
    from perception.analysis.services.rollup import refresh_rollup
    from perception.core.extensions import db
    from perception.kpi.services.kpi_cumulative import refresh_cumulative
    from perception.kpi.services.kpi_week_sums import refresh_week_sums

    with app.app_context():
        # refresh_rollup's count is the pre-aggregate's rows only (None: it was current); it builds
        # the experience running sums when they lag, even then, so the line says what was counted.
        steps = (
            ("kpi running sums", refresh_cumulative),
            ("kpi weekly sums over the regions", refresh_week_sums),
            ("pre-aggregate (with its running sums when due)", refresh_rollup),
        )
        for name, step in steps:
            t, c = time.perf_counter(), time.process_time()
            done = step(db.session)
            db.session.commit()
            print(
                f"{name}: {'current' if done is None else f'{done:,} rows'} in {time.perf_counter() - t:.1f} s"
                f" (cpu {time.process_time() - c:.1f} s, load {_load()})",
                flush=True,
            )


def _ensure_manager_and_review(app: Any, end: date) -> int:
    from sqlalchemy import select

    from perception.core.extensions import db
    from perception.core.models.auth import Role, User
    from perception.core.users import UserSpec, create_user
    from perception.review.models import Review

    with app.app_context():
        if db.session.scalar(select(User).where(User.username == "bench.manager")) is None:
            create_user(
                db.session,
                UserSpec(
                    username="bench.manager", display_name="Bench manager",
                    roles=frozenset({Role.MANAGER}), password=PASSWORD,
                ),
            )  # fmt: skip
        review = db.session.scalar(select(Review).where(Review.code == "BENCH-H"))
        if review is None:
            review = Review(
                code="BENCH-H", label_zh="半年回顾", label_en="Half-year review",
                period_start=end - timedelta(weeks=26), period_end=end,
            )  # fmt: skip
            db.session.add(review)
        db.session.commit()
        return int(review.id)


def counts(app: Any) -> None:
    from sqlalchemy import text

    from perception.core.extensions import db

    with app.app_context():
        for table in ("ticket", "experience_observation", "kpi_value", "experience_rollup"):
            n = db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 - fixed names
            print(f"rows {table}: {n:,}")


def time_pages(app: Any, end: date, review_id: int, repeat: int, only: set[str], label: str = "") -> None:
    client = app.test_client()
    response = client.post("/login", data={"username": "bench.manager", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    y_from = (end - timedelta(weeks=52)).isoformat()
    y_to = (end - timedelta(days=1)).isoformat()
    year = f"?from={y_from}&to={y_to}"
    pages: list[tuple[str, str, str]] = [
        ("overview", "14w", "/analysis/overview"),
        ("overview", "52w", "/analysis/overview" + year),
        ("kpi_vs_experience", "14w", "/analysis/kpi-vs-experience"),
        ("kpi_vs_experience", "52w", "/analysis/kpi-vs-experience" + year),
        ("kpis", "14w", "/analysis/kpis"),
        ("kpis", "52w", "/analysis/kpis" + year),
        ("experience", "14w", "/analysis/experience"),
        ("experience", "52w", "/analysis/experience" + year),
        ("attainment", "5m", "/kpi/attainment"),
        ("attainment", "52w", "/kpi/attainment" + year),
        ("review", "26w", f"/reviews/{review_id}"),
        ("home", "4w", "/"),  # the manager's home: its headline is kept per process after the first
    ]
    for name, period, path in pages:
        if only and name not in only:
            continue

        cpu: list[float] = []

        def get(path: str = path, cpu: list[float] = cpu) -> float:
            t, c = time.perf_counter(), time.process_time()
            r = client.get(path, headers={"Accept-Language": "zh-CN"})
            assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
            cpu.append(time.process_time() - c)  # this process's own work, whatever the load
            return time.perf_counter() - t

        load = _load()
        first = get()
        warm = [get() for _ in range(repeat)]
        print(
            f"{name + label:24s} {period:4s} first {first * 1000:7.0f} ms  median {statistics.median(warm) * 1000:7.0f} ms"
            f"  max {max(warm) * 1000:7.0f} ms  cpu median {statistics.median(cpu[1:]) * 1000:7.0f} ms"
            f"  first cpu {cpu[0] * 1000:7.0f} ms  (load {load})",
            flush=True,
        )


def time_review_copy(app: Any, review_id: int, repeat: int) -> None:
    """The review page as deployed: its slow sections come from the copy the job
    ``prepare_review_page`` computes in the background (perception.review.page_cache); the bench
    runs without background jobs, so the ``review`` line above computes them in the request. Here
    the job runs first (its time printed), then the page is timed with a current copy."""
    from perception.core.extensions import db
    from perception.review.jobs import prepare_review_page

    with app.app_context():
        t, c = time.perf_counter(), time.process_time()
        prepare_review_page(db.session, review_id, force=True)
        db.session.commit()
        print(
            f"{'review copy (job)':24s} 26w  {(time.perf_counter() - t) * 1000:7.0f} ms"
            f"  cpu {(time.process_time() - c) * 1000:7.0f} ms  (load {_load()})",
            flush=True,
        )
    client = app.test_client()
    client.post("/login", data={"username": "bench.manager", "password": PASSWORD})
    walls, cpu = [], []
    for _ in range(repeat + 1):
        t, c = time.perf_counter(), time.process_time()
        r = client.get(f"/reviews/{review_id}", headers={"Accept-Language": "en"})
        assert r.status_code == 200, r.status_code
        assert "The data changed after" not in r.get_data(as_text=True), "the copy is not current"
        walls.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    print(
        f"{'review (current copy)':24s} 26w  first {walls[0] * 1000:7.0f} ms  median {statistics.median(walls[1:]) * 1000:7.0f} ms"
        f"  max {max(walls[1:]) * 1000:7.0f} ms  cpu median {statistics.median(cpu[1:]) * 1000:7.0f} ms"
        f"  first cpu {cpu[0] * 1000:7.0f} ms  (load {_load()})",
        flush=True,
    )


def profile(app: Any, path: str) -> None:
    import cProfile
    import pstats

    client = app.test_client()
    client.post("/login", data={"username": "bench.manager", "password": PASSWORD})
    client.get(path)  # the first request: imports and caches
    profiler = cProfile.Profile()
    t = time.perf_counter()
    profiler.enable()
    status = client.get(path).status_code
    profiler.disable()
    print(f"GET {path}: {status} in {(time.perf_counter() - t) * 1000:.0f} ms (load {_load()})")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main() -> None:
    args = _args()
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_national_instance")
    from bench_app import bench_app
    from sqlalchemy import func, select

    from perception.core.extensions import db
    from perception.core.models.facts import ExperienceObservation
    from perception.core.periods import week_start

    app = bench_app(args.url)
    end = week_start(date.today()) + timedelta(weeks=1)
    print(f"scale {args.scale}: {args.regions} regions, {args.services} services; load {_load()}", flush=True)
    with app.app_context():
        filled = False
        if args.keep:
            try:
                filled = (db.session.scalar(select(func.count()).select_from(ExperienceObservation)) or 0) > 0
            except Exception:  # noqa: BLE001 - no tables yet
                db.session.rollback()
        db.session.rollback()  # SQLite: the count's transaction holds the write turn create_all needs
        if filled:
            db.create_all()
        else:
            db.drop_all()
            db.create_all()
            t = time.perf_counter()
            build(db.session, args, end)
            db.session.commit()
            print(f"build: {time.perf_counter() - t:.1f} s", flush=True)
    if not filled:
        t = time.perf_counter()
        derive(app, end, args.skip_kpis, args.kpi_weeks)
        print(f"derived steps: {time.perf_counter() - t:.1f} s", flush=True)
    hourly_jobs(app)
    counts(app)
    review_id = _ensure_manager_and_review(app, end)
    if args.warm:
        from perception.web.warmup import warm

        print(f"warm-up: {warm(app)} (load {_load()})", flush=True)
    only = {p for p in args.only.split(",") if p}
    if args.profile:
        profile(app, args.profile)
        return
    time_pages(app, end, review_id, args.repeat, only)
    if not only or "review_copy" in only:
        time_review_copy(app, review_id, args.repeat)
    if args.facts:  # as when the pre-aggregate is stale: the analysis pages read the facts
        app.config["ANALYSIS_ROLLUP"] = False
        analysis = {"overview", "kpi_vs_experience", "experience"}
        time_pages(app, end, review_id, args.repeat, (only or analysis) & analysis, label=" [facts]")
    print(f"load average at the end: {_load()}")


if __name__ == "__main__":
    main()
