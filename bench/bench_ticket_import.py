"""Ticket import throughput on SQLite and PostgreSQL, next to a raw-insert baseline from the same run.

    python bench/bench_ticket_import.py [--rows 1000000] [--skip-postgres]

For each database: a fresh schema with an organisation (12 regions, 36 customers, 5 services, tiers,
subscriptions); then
- baseline: the same tuples written raw (SQLite executemany / PostgreSQL COPY) into a plain table
  without indexes, which is the ceiling;
- import: perception.kpi.services.ticket_import.import_tickets on a CSV of ``--rows`` tickets (parse,
  validate, stage, diff, upsert, audit), first as new tickets, then the same ids again with 10 %
  changed (the update path).
PostgreSQL comes from PERCEPTION_BENCH_POSTGRES_URL (default: a database "kpi_bench" on the test
server, created if missing; its tables are dropped and re-created).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

PG_URL = os.environ.get(
    "PERCEPTION_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kpi_bench"
)
HEADER = (
    "id",
    "kind",
    "service",
    "region",
    "customer",
    "priority",
    "contact",
    "opened",
    "first_response",
    "resolved",
    "closed",
    "engineer",
    "status",
    "reopen_count",
    "transfers",
)
REGIONS = ("BJ", "SH", "GD", "JS", "ZJ", "SC", "HB", "SD", "HN", "FJ", "SN", "LN")
SERVICES = ("DESK", "SD", "NET", "APP", "DC")


def ticket_rows(
    n: int,
    seed: int = 7,
    weeks: int = 26,
    end: datetime | None = None,
    window: tuple[float, float] | None = None,
) -> list[tuple]:
    """n ticket rows spread over ``weeks`` weeks before ``end`` (local times, as an export writes them);
    ``window``: opened within that share of the span only (0 its start, 1 its end), in time order."""
    rng = random.Random(seed)
    end = end or datetime(2026, 11, 16)
    span = weeks * 7 * 86400
    if window is not None:
        low, high = window
        # Seconds before ``end``, the largest (the earliest opened) first.
        before = (span * (1 - low - rng.random() * (high - low)) for _ in range(n))
        offsets: Iterator[float] = iter(sorted(before, reverse=True))
    out = []
    for i in range(n):
        region = REGIONS[i % 12]
        seconds = next(offsets) if window is not None else rng.randrange(span)
        opened = end - timedelta(seconds=seconds)
        first = opened + timedelta(minutes=rng.randint(1, 120))
        resolved = first + timedelta(minutes=rng.randint(10, 2000))
        status = "closed" if rng.random() < 0.97 else "open"
        done = status != "open"
        fmt = "%Y-%m-%d %H:%M:%S"
        out.append(
            (
                f"INC{i:08d}",
                "incident",
                SERVICES[i % 5],
                region,
                f"{region}-{('BANK', 'GRID', 'HOSP')[i // 12 % 3]}",
                f"P{1 + i % 4}",
                "张三",
                opened.strftime(fmt),
                first.strftime(fmt),
                resolved.strftime(fmt) if done else "",
                (resolved + timedelta(hours=2)).strftime(fmt) if status == "closed" else "",
                f"工程师{i % 50}",
                status,
                str(rng.random() < 0.05 and 1 or 0),
                str(i % 7 == 0 and 1 or 0),
            )
        )
    return out


def csv_data(rows: list[tuple]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def make_app(url: str) -> Any:
    from perception import create_app

    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x" * 40, "REDIS_URL": None}
    )


def seed_org(session: Any) -> None:
    from perception.core.models.org import CustomerOrg, Region
    from perception.setup.models.catalog import Service, ServiceTier, Subscription

    tiers = [
        ServiceTier(code=c, name_zh=c, name_en=c, rank=i) for i, c in enumerate(("PLAT", "GOLD", "SILV"), 1)
    ]
    services = [Service(code=c, name_zh=c, name_en=c) for c in SERVICES]
    session.add_all(tiers + services)
    session.flush()
    for code in REGIONS:
        region = Region(code=code, name_zh=code, name_en=code, timezone="Asia/Shanghai")
        session.add(region)
        session.flush()
        for kind, tier in zip(("BANK", "GRID", "HOSP"), tiers, strict=True):
            customer = CustomerOrg(code=f"{code}-{kind}", name_zh=kind, name_en=kind, region_id=region.id)
            session.add(customer)
            session.flush()
            for service in services:
                session.add(
                    Subscription(
                        customer_id=customer.id, service_id=service.id, tier_id=tier.id, region_id=region.id
                    )
                )
    session.flush()


def fresh_schema(app: Any) -> None:
    from perception.core.extensions import db

    with app.app_context():
        db.drop_all()
        db.create_all()
        seed_org(db.session)
        db.session.commit()


def baseline(app: Any, rows: list[tuple]) -> float:
    """Rows/s of a raw insert of the same tuples into an index-free table (rolled back)."""
    from perception.core.extensions import db

    with app.app_context():
        conn = db.session.connection()
        raw = conn.connection.driver_connection
        cols = ", ".join(f"c{i} TEXT" for i in range(len(HEADER)))
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE raw_baseline ({cols})")
        start = time.perf_counter()
        if conn.dialect.name == "postgresql":
            with raw.cursor() as cur, cur.copy("COPY raw_baseline FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in HEADER)
            raw.cursor().executemany(f"INSERT INTO temp.raw_baseline VALUES ({marks})", rows)  # noqa: S608
        seconds = time.perf_counter() - start
        db.session.rollback()
    return len(rows) / seconds


def timed_import(app: Any, data: bytes, **kw: Any) -> tuple[float, Any]:
    from perception.core.extensions import db
    from perception.kpi.services.ticket_import import ImportOptions, import_tickets

    with app.app_context():
        start = time.perf_counter()
        result = import_tickets(
            db.session, ImportOptions(dry_run=False, **kw), data=data, filename="bench.csv"
        )
        db.session.commit()
        return time.perf_counter() - start, result


def ensure_pg_database(url: str) -> bool:
    import sqlalchemy

    try:
        sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3}).connect().close()
        return True
    except Exception:  # noqa: BLE001, S110 - missing database or server: try to create it
        pass
    base, name = url.rsplit("/", 1)
    try:
        engine = sqlalchemy.create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return True
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL not available ({exc.__class__.__name__}); skipped", file=sys.stderr)
        return False


def run(label: str, url: str, rows: list[tuple], changed_rows: list[tuple]) -> None:
    app = make_app(url)
    fresh_schema(app)
    raw = baseline(app, rows)
    data, data2 = csv_data(rows), csv_data(changed_rows)
    seconds, result = timed_import(app, data)
    seconds2, result2 = timed_import(app, data2)
    n = len(rows)
    print(f"{label:<11} raw baseline {raw:>10,.0f} rows/s")
    steps = ", ".join(f"{name} {sec:.1f} s" for name, sec in result.phases)
    print(
        f"{label:<11} import new   {n / seconds:>10,.0f} rows/s  ({seconds:.1f} s; {result.rows_new:,} new)"
    )
    print(f"{'':<11} steps: {steps}")
    print(
        f"{label:<11} re-import    {n / seconds2:>10,.0f} rows/s  ({seconds2:.1f} s; "
        f"{result2.rows_changed:,} changed, {result2.rows_unchanged:,} unchanged)"
    )
    print(f"{'':<11} steps: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in result2.phases))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", tempfile.mkdtemp(prefix="perception-bench-"))
    started = time.perf_counter()
    rows = ticket_rows(args.rows)
    # the same tickets with every 10th handed to another engineer: the update path
    changed = [r if i % 10 else (*r[:11], "值班工程师", *r[12:]) for i, r in enumerate(rows)]
    print(
        f"generated {args.rows:,} tickets in {time.perf_counter() - started:.1f} s "
        f"({len(csv_data(rows[:1000])) * args.rows / 1000 / 1e6:.0f} MB of CSV)"
    )
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{folder}/bench.sqlite", rows, changed)
    if not args.skip_postgres and ensure_pg_database(PG_URL):
        run("PostgreSQL", PG_URL, rows, changed)


if __name__ == "__main__":
    main()
