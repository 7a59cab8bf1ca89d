"""Peak resident memory of the KPI-value, weekly-report and callback history imports against the
file's length (issue 19: imports in bounded memory), next to the ticket import's bench
(bench_import_memory.py).

    python bench/bench_history_memory.py [--rows 1000000] [--kinds values reports callbacks]
        [--dry-run] [--postgres | --only-postgres]

For each kind a CSV of ``--rows`` generated rows is written a block at a time, then imported from
its path, as ``perception kpi import-values`` / ``perception collection import-reports`` /
``import-callbacks`` do, in a fresh child process on a fresh schema (the ticket bench's
organisation: 12 regions, 36 customers, 5 services, 3 tiers):
- values: 20 KPI definitions x 5 services x 12 regions x 4 tiers (all, PLAT, GOLD, SILV), weekly
  periods back from 2026-W45 (unique keys);
- reports: 5 collection points per region, one report per point and week (rows of a report spread
  over the file, as an export sorted by week writes them), each row a requirement entry;
- callbacks: one campaign with the built-in phone-callback script; two calls in three completed
  (resolved, on time, csat), the third not answered.
``--dry-run`` only checks the file (the first pass; nothing written). Each child prints its peak
resident set (``VmHWM``), its time and rows/s, and the load average before it is printed beside it.
With PERCEPTION_BENCH_CODE pointing at another checkout it measures that code (e.g. main's, which
read the whole file before checking a row):

    git archive main perception scoring surveys | tar -x -C /tmp/main-code
    PERCEPTION_BENCH_CODE=/tmp/main-code python bench/bench_history_memory.py --rows 1000000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, os.environ.get("PERCEPTION_BENCH_CODE", str(ROOT)))

from bench_import_memory import _cpu_s, _peak_mb  # noqa: E402
from bench_ticket_import import PG_URL, REGIONS, SERVICES, ensure_pg_database, fresh_schema, make_app  # noqa: E402

BLOCK = 100_000
TIERS = ("", "PLAT", "GOLD", "SILV")
KINDS = ("BANK", "GRID", "HOSP")
LAST_MONDAY = date(2026, 11, 2)


def value_rows(start: int, n: int) -> list[tuple[str, ...]]:
    combos = 20 * len(SERVICES) * len(REGIONS) * len(TIERS)
    out = []
    for i in range(start, start + n):
        c, week = i % combos, i // combos
        kpi, rest = divmod(c, len(SERVICES) * len(REGIONS) * len(TIERS))
        service, rest = divmod(rest, len(REGIONS) * len(TIERS))
        region, tier = divmod(rest, len(TIERS))
        year, number, _ = (LAST_MONDAY - timedelta(weeks=week)).isocalendar()
        out.append((f"K{kpi:02d}", SERVICES[service], REGIONS[region], TIERS[tier], f"{year}-W{number:02d}",
                    f"{80 + i % 20}.5", str(100 + i % 50)))  # fmt: skip
    return out


def report_rows(start: int, n: int, total: int) -> list[tuple[str, ...]]:
    points = len(REGIONS) * 5
    weeks = max(1, min(104, total // (points * 50)))  # about 50 or more entries a report
    out = []
    for i in range(start, start + n):
        point, week = i % points, (i // points) % weeks
        monday = LAST_MONDAY - timedelta(weeks=week)
        region = REGIONS[point // 5]
        submitted = f"{monday + timedelta(days=4)} 17:00"
        customer = f"{region}-{KINDS[i % 3]}"
        out.append((f"CP-{region}-{point % 5}", monday.isoformat(), submitted, "accepted", "requirement",
                    customer, f"需求 {i} 移动端报修"))  # fmt: skip
    return out


def call_rows(start: int, n: int) -> list[tuple[str, ...]]:
    out = []
    for i in range(start, start + n):
        day = LAST_MONDAY - timedelta(days=i % 300)
        when = f"{day} {9 + i % 8:02d}:{i % 60:02d}"
        customer = f"BJ-{KINDS[i % 3]}"
        if i % 3 == 2:
            out.append((f"CB{i:09d}", when, "no_answer", customer, SERVICES[i % 5], "", "", "", ""))
        else:
            out.append((f"CB{i:09d}", when, "completed", customer, SERVICES[i % 5], "yes",
                        "yes" if i % 4 else "no", str(1 + i % 5), ""))  # fmt: skip
    return out


HEADERS = {
    "values": ("kpi", "service", "region", "tier", "period", "value", "n"),
    "reports": ("collection_point", "week", "submitted_at", "status", "kind", "customer", "text"),
    "callbacks": ("source_id", "called_at", "outcome", "customer", "service", "resolved", "on_time", "csat",
                  "note"),
}  # fmt: skip


def write_csv(kind: str, path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADERS[kind])
        for start in range(0, rows, BLOCK):
            n = min(BLOCK, rows - start)
            if kind == "values":
                writer.writerows(value_rows(start, n))
            elif kind == "reports":
                writer.writerows(report_rows(start, n, rows))
            else:
                writer.writerows(call_rows(start, n))


def seed(kind: str, session: Any) -> Any:
    """The kind's own setup on top of the ticket bench's organisation; the callback campaign."""
    from sqlalchemy import select

    from perception.core.models.org import CollectionPoint, Region

    if kind == "values":
        from perception.kpi.models import KpiDefinition

        session.add_all(
            KpiDefinition(code=f"K{k:02d}", name_zh=f"指标{k}", name_en=f"KPI {k}", unit="%",
                          direction="higher", default_target=90.0)
            for k in range(20)
        )  # fmt: skip
    elif kind == "reports":
        for region in session.scalars(select(Region)):
            session.add_all(
                CollectionPoint(code=f"CP-{region.code}-{k}", name_zh=f"{region.code}{k}",
                                name_en=f"{region.code} {k}", region_id=region.id)
                for k in range(5)
            )  # fmt: skip
    session.flush()
    if kind != "callbacks":
        return None
    from perception.collection.services import callbacks
    from perception.surveys.services.definitions import ensure_builtin_surveys

    script = ensure_builtin_surveys(session)["phone_callback"]
    region = session.scalar(select(Region).where(Region.code == "BJ"))
    return callbacks.create_campaign(
        session, region_id=region.id, name="历史回访", survey_version_id=script.id, user=None,
        start=date(2025, 1, 1), end=date(2026, 12, 1), sampling_rate=1.0, seed="bench",
    )  # fmt: skip


def child(kind: str, path: Path, url: str, dry_run: bool) -> dict[str, Any]:
    from perception.core.extensions import db
    from perception.kpi.services.ticket_import import ImportOptions

    app = make_app(url)
    fresh_schema(app)
    with app.app_context():
        campaign = seed(kind, db.session)
        db.session.commit()
        campaign_id = campaign.id if campaign is not None else None
    options = ImportOptions(dry_run=dry_run, max_bytes=1 << 40)
    with app.app_context():
        started = time.perf_counter()
        if kind == "values":
            from perception.kpi.services.value_import import import_kpi_values

            result = import_kpi_values(db.session, options, data=path, filename=path.name)
        elif kind == "reports":
            from perception.collection.services.report_history import import_reports

            result = import_reports(db.session, options, data=path, filename=path.name)
        else:
            from perception.collection.models.fieldwork import CallbackCampaign
            from perception.collection.services.callback_history import import_callbacks

            campaign = db.session.get(CallbackCampaign, campaign_id)
            result = import_callbacks(db.session, campaign, options, org_timezone="Asia/Shanghai", data=path,
                                      filename=path.name)  # fmt: skip
        db.session.commit()
    return {"rows": result.rows_total, "new": result.rows_new, "seconds": time.perf_counter() - started,
            "peak_mb": _peak_mb(), "cpu_s": _cpu_s()}  # fmt: skip


def measure(kind: str, path: Path, url: str, dry_run: bool) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), url, "dry" if dry_run else "apply"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "PERCEPTION_INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-hist-")},
    )  # fmt: skip
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--kinds", nargs="+", default=["values", "reports", "callbacks"])
    parser.add_argument("--dry-run", action="store_true", help="check only (the first pass)")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (PG_URL)")
    parser.add_argument("--only-postgres", action="store_true", help="PostgreSQL alone")
    parser.add_argument("--child", nargs=4, metavar=("KIND", "PATH", "URL", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, url, mode = args.child
        print(json.dumps(child(kind, Path(path), url, mode == "dry")))
        return
    pg = (args.postgres or args.only_postgres) and ensure_pg_database(PG_URL)
    backends = ([] if args.only_postgres else ["sqlite"]) + (["postgres"] if pg else [])
    code = os.environ.get("PERCEPTION_BENCH_CODE", "this checkout")
    print(
        f"{os.cpu_count()} CPUs; code: {code}; {'dry run' if args.dry_run else 'applied'}; peak resident MB"
    )
    print(f"{'rows':>10} {'kind':9} {'backend':9} {'peak MB':>8} {'seconds':>8} {'rows/s':>9}  load")
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            for kind in args.kinds:
                path = Path(folder) / f"{kind}_{rows}.csv"
                write_csv(kind, path, rows)
                for backend in backends:
                    url = f"sqlite:///{folder}/hist_{kind}_{rows}.sqlite" if backend == "sqlite" else PG_URL
                    load = os.getloadavg()[0]
                    got = measure(kind, path, url, args.dry_run)
                    unit = "reports" if kind == "reports" else "rows"
                    print(
                        f"{rows:>10,} {kind:9} {backend:9} {got['peak_mb']:8.0f} {got['seconds']:8.1f} "
                        f"{rows / got['seconds']:9,.0f}  {load:.2f}  "
                        f"({got['rows']:,} {unit}, {got['new']:,} new; CPU {got['cpu_s']:.0f} s)",
                        flush=True,
                    )
                    if backend == "sqlite":
                        Path(f"{folder}/hist_{kind}_{rows}.sqlite").unlink(missing_ok=True)
                print(f"{'':>10} ({path.stat().st_size / 1e6:.0f} MB of CSV)", flush=True)
                path.unlink()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
