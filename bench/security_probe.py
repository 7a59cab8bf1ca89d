"""The outside probe of issue 18, repeatable: cases tried and held per category, so the next probe
has figures to compare.

    python bench/security_probe.py [--database-url URL] [--only authz,csrf,uploads,overlong,formula]

A fresh database (SQLite in a temporary folder, or ``--database-url``, whose tables are dropped and
created) gets the demo organisation (two regions, three weeks; tests/route_walk.py), then:
- authz: every route of the URL map x every role x own / other / missing id (the rules of
  tests/e2e/test_authorisation_matrix.py);
- csrf: every form POST of the URL map by a role allowed to send it, without a token, with a
  forged one and with the token of another user's session: each must answer 400;
- uploads: the probe's workbook bombs to the ticket and the collection import (413/422, with the
  seconds and the peak memory of the refusal), Excel for Mac CSV and a GBK setup document (read);
- overlong: every GET route with over-long integers in every query parameter it reads and in its
  path (tests/e2e/test_bad_input_walk.py);
- formula: formula-like text (ASCII, full-width, small forms, behind invisible characters)
  through the formula guard of every export.
Prints one line per category (tried, held, seconds) and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.route_walk import ROLE_USERS, World  # noqa: E402 - after the path is set


def make_app(database_url: str | None) -> Any:
    from perception import create_app
    from perception.core.extensions import db
    from tests.conftest import FreshContextClient

    folder = tempfile.mkdtemp(prefix="security-probe-")
    os.environ["PERCEPTION_INSTANCE_PATH"] = folder
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{folder}/probe.sqlite",
            "SECRET_KEY": "security-probe-secret-key-0123456789abcdef",
            "REDIS_URL": None,
            "MAIL_BACKEND": "file",
        }
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def probe_authz(world: World) -> tuple[int, int, list[str]]:
    from tests.probes import judge
    from tests.route_walk import routes

    tried = held = 0
    failed = []
    for route in routes(world.app):
        for role in ROLE_USERS:
            tried += 1
            problems = judge(world, route, role, public=not route.permissions)
            if problems:
                failed.append(f"{route.name} as {role}: {problems[0]}")
            else:
                held += 1
    return tried, held, failed


def probe_csrf(world: World) -> tuple[int, int, list[str]]:
    from tests.probes import holders
    from tests.route_walk import routes

    tried = held = 0
    failed = []
    for route in routes(world.app):
        if route.api or route.method not in ("POST", "PUT", "PATCH", "DELETE"):
            continue
        allowed = [r for r in holders(route.permissions) if r is not None]
        role = allowed[0] if allowed else None
        url = world.url(route, role, "own") or world.url(route, role, "missing")
        if role is None or url is None:
            continue
        other = next(r for r in ROLE_USERS if r not in (None, role))
        for name, data in (
            ("no token", {}),
            ("forged token", {"csrf_token": "IjAxMjM0NTY3ODlhYmNkZWYi.ZZZZZZ.forged-signature"}),
            ("another session's token", {"csrf_token": world.csrf(other)}),
        ):
            tried += 1
            try:
                status = world.request(role, route.method, url, csrf=False, data=data).status_code
            except Exception as exc:  # noqa: BLE001
                status = f"{type(exc).__name__}"
            if status == 400:
                held += 1
            else:
                failed.append(f"{route.name} ({name}) -> {status}")
    return tried, held, failed


def probe_uploads(world: World) -> tuple[int, int, list[str]]:
    from tests.upload_bombs import TICKET_HEADER, empty_rows_workbook, mac_csv, million_row_workbook, workbook

    report = _open_report(world)
    cases: list[tuple[str, str | None, str, dict[str, Any], Callable[[int], bool]]] = []
    for label, build in (("1M rows", million_row_workbook), ("3M empty rows", empty_rows_workbook)):
        data = build()
        cases.append(
            (
                f"{label} ({len(data) // 1024} KB) to the ticket import",
                "analyst",
                "/kpi/import",
                {"kind": "tickets", "upload": (data, "bomb.xlsx")},
                lambda s: s in (413, 422),
            )  # fmt: skip
        )
        cases.append(
            (
                f"{label} ({len(data) // 1024} KB) to a collection report",
                "collector",
                f"{report}/import",
                {"file": (data, "bomb.xlsx")},
                lambda s: s in (413, 422),
            )  # fmt: skip
        )
    ticket_lines = ["id,service,customer,priority,opened,status", "M-1,DESK,BJ-BANK,P3,2026-03-02 09:00,open"]
    cases.append(
        (
            "Excel for Mac CSV to the ticket import",
            "analyst",
            "/kpi/import",
            {"kind": "tickets", "upload": (mac_csv(ticket_lines, "gb18030"), "mac.csv")},
            lambda s: s == 302,
        )  # fmt: skip
    )
    gbk = "format: perception-setup/1\ntiers:\n  - {code: PROBE, name_zh: 探测, name_en: Probe, rank: 9}\n"
    cases.append(
        (
            "GBK YAML to the setup import",
            "system_owner",
            "/setup/config/import",
            {"document": (gbk.encode("gbk"), "setup.yaml")},
            lambda s: s == 200,
        )  # fmt: skip
    )
    small = workbook(TICKET_HEADER, iter([("S-1", "DESK", "BJ-BANK", "P3", "2026-03-02 09:00", "open")]))
    baselines = {
        "/kpi/import": {"kind": "tickets", "upload": (small, "small.xlsx")},
        "report": {"file": (small, "s.xlsx")},
    }
    tried = held = 0
    failed = []
    for label, role, path, fields, ok in cases:
        tried += 1
        key = "/kpi/import" if path == "/kpi/import" else "report" if path.startswith("/collection/") else ""
        runs, base_s = [], []
        for _ in range(3):  # alternating with a one-row workbook to the same page (the baseline)
            runs.append(_upload(world, role, path, fields))
            if key:
                base_s.append(_upload(world, role, path, baselines[key])[1])
        status = runs[0][0]
        peak = _upload(world, role, path, fields, measure_memory=True)[2]
        seconds = sorted(r[1] for r in runs)[1]
        baseline = f" (one-row workbook: {sorted(base_s)[1]:.2f} s)" if base_s else ""
        print(f"    upload: {label}: {status}, median {seconds:.2f} s{baseline}, peak {peak:.0f} MB")
        if isinstance(status, int) and ok(status):
            held += 1
        else:
            failed.append(f"{label} -> {status}")
    return tried, held, failed


def _upload(
    world: World, role: str | None, path: str, fields: dict[str, Any], measure_memory: bool = False
) -> tuple[Any, float, float]:
    """(status, seconds, peak MB) of one upload, rolled back."""
    from tests.upload_bombs import post_upload

    savepoint = world.connection.begin_nested()
    if measure_memory:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        status: Any = post_upload(world.clients[role], path, fields, world.csrf(role)).status_code
    except Exception as exc:  # noqa: BLE001
        status = type(exc).__name__
    finally:
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 1048576 if measure_memory else 0.0
        if measure_memory:
            tracemalloc.stop()
        savepoint.rollback()
    return status, seconds, peak


def _open_report(world: World) -> str:
    from perception.core.periods import iso_week_label

    client = world.clients["collector"]
    week = iso_week_label(__import__("datetime").date.today())
    response = client.post(
        "/collection/reports/open", data={"week": week, "csrf_token": world.csrf("collector")}
    )
    return response.headers["Location"]


def probe_overlong(world: World) -> tuple[int, int, list[str]]:
    from tests.probes import overlong_cases, run_overlong

    tried = held = 0
    failed = []
    for case in overlong_cases(world):
        tried += 1
        outcome = run_overlong(world, case)
        if outcome.held:
            held += 1
        else:
            failed.append(f"{case.name} -> {outcome.status}")
    return tried, held, failed


FORMULA_PAYLOADS = [
    prefix + body
    for prefix in (
        "=",
        "+",
        "-",
        "@",
        "\t",
        "\r",
        "＝",
        "＋",
        "－",
        "＠",
        "﹦",
        "﹢",
        "﹣",
        "﹫",
        "\u200b=",
        "\ufeff＝",
    )
    for body in ('HYPERLINK("http://x","y")', "cmd|' /C calc'!A0", "1+1", "SUM(A1:A9)")
]


def probe_formula(_world: World) -> tuple[int, int, list[str]]:
    import csv
    import io

    from perception.analysis.services.exports import safe_cell
    from perception.collection.services.consolidation import to_csv
    from perception.kpi.services.report_csv import _cell

    def consolidation(value: str) -> str:
        return next(csv.reader(io.StringIO(to_csv([[value]]).decode("utf-8-sig"), newline="")))[0]

    tried = held = 0
    failed = []
    for writer in (safe_cell, _cell, consolidation):
        for payload in FORMULA_PAYLOADS:
            tried += 1
            if str(writer(payload)).startswith("'"):
                held += 1
            else:
                failed.append(f"{writer.__name__}: {payload!r}")
    return tried, held, failed


PROBES = {
    "authz": probe_authz,
    "csrf": probe_csrf,
    "uploads": probe_uploads,
    "overlong": probe_overlong,
    "formula": probe_formula,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--only", default=",".join(PROBES))
    parser.add_argument("--show", type=int, default=5, help="failed cases to print per category")
    args = parser.parse_args()
    from tests.route_walk import demo_world

    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    app = make_app(args.database_url)
    started = time.perf_counter()
    with demo_world(app) as world:
        engine = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
        print(f"demo loaded in {time.perf_counter() - started:.0f} s on {engine}")
        print(f"{'category':<10} {'tried':>7} {'held':>7} {'failed':>7} {'seconds':>8}")
        for name in args.only.split(","):
            started = time.perf_counter()
            tried, held, failed = PROBES[name](world)
            print(f"{name:<10} {tried:>7} {held:>7} {len(failed):>7} {time.perf_counter() - started:>8.1f}")
            for line in failed[: args.show]:
                print(f"    failed: {line[:220]}")
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
