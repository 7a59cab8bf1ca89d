# ruff: noqa: T201, E501 - a benchmark prints its figures
"""The KPI-versus-experience page at a national provider's scale: main's code against this branch's,
alternated on the same database (issue 19, the running sums of the weekly KPI values).

    python bench/bench_h19kve3_kve.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_copy \\
        --main /work/main [--rounds 3] [--repeat 4] [--profile 52w]

The database is one bench_national.py built (``--keep``; never the shared original: a copy). Each
round starts one fresh process per code (PYTHONPATH puts that code first), alternating which goes
first; each process signs in as the bench manager and requests the page for 14 and for 52 weeks:
the first request of each (imports, templates, per-process caches), then ``--repeat`` more. Printed
per code and period: medians over the rounds of the first request's wall and process CPU time and
of the repeated ones', with the load average. Before the rounds this branch's code builds the
running sums once (``refresh_cumulative``, timed); main's code does not read them.
``--profile 52w`` prints a cProfile of one repeated request of this branch's code instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-123"  # noqa: S105 - bench_national.py's throw-away manager


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _app(url: str) -> Any:
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_national_instance")
    from bench_app import bench_app

    return bench_app(url)


def _paths() -> dict[str, str]:
    from bench_app import weeks_to

    from perception.core.periods import week_start

    end = week_start(date.today()) + timedelta(weeks=1)
    year = weeks_to(end, 52)
    return {"14w": "/analysis/kpi-vs-experience", "52w": "/analysis/kpi-vs-experience" + year}


def build(url: str) -> None:
    """This branch's code: the new tables, the running sums, the bench manager."""
    sys.path.insert(0, str(HERE / "bench"))
    from bench_national import _ensure_manager_and_review  # type: ignore[import-not-found]

    from perception.core.extensions import db
    from perception.core.periods import week_start
    from perception.kpi.services.kpi_cumulative import refresh_cumulative

    app = _app(url)
    with app.app_context():
        db.create_all()  # the branch's new tables (a bench database has no migrations)
        t, c = time.perf_counter(), time.process_time()
        rows = refresh_cumulative(db.session, force=True)
        db.session.commit()
        print(
            f"refresh_cumulative: {rows:,} rows in {time.perf_counter() - t:.1f} s "
            f"(cpu {time.process_time() - c:.1f} s, load {_load()})",
            flush=True,
        )
    _ensure_manager_and_review(app, week_start(date.today()) + timedelta(weeks=1))


def child(url: str, repeat: int) -> None:
    import perception  # from PYTHONPATH: main's code or this branch's (not bench_national's path)

    app = _app(url)
    client = app.test_client()
    assert client.post("/login", data={"username": "bench.manager", "password": PASSWORD}).status_code == 302
    out: dict[str, Any] = {"code": str(Path(perception.__file__).parents[1])}
    for period, path in _paths().items():
        walls, cpus = [], []
        for _ in range(1 + repeat):
            t, c = time.perf_counter(), time.process_time()
            r = client.get(path, headers={"Accept-Language": "zh-CN"})
            assert r.status_code == 200, r.status_code
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        out[period] = {
            "first": (walls[0], cpus[0]),
            "warm": (statistics.median(walls[1:]), statistics.median(cpus[1:])),
        }
    out["load"] = _load()
    print(json.dumps(out), flush=True)


def profile(url: str, period: str) -> None:
    import cProfile
    import pstats

    app = _app(url)
    client = app.test_client()
    client.post("/login", data={"username": "bench.manager", "password": PASSWORD})
    path = _paths()[period]
    client.get(path)
    from sqlalchemy import Engine, event

    slow: list[tuple[float, str]] = []

    @event.listens_for(Engine, "before_cursor_execute")
    def _start(conn: Any, *_: Any) -> None:
        conn.info["bench_t"] = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _end(conn: Any, _c: Any, statement: str, *_: Any) -> None:
        slow.append((time.perf_counter() - conn.info.pop("bench_t", time.perf_counter()), statement))

    profiler = cProfile.Profile()
    t = time.perf_counter()
    profiler.enable()
    client.get(path)
    profiler.disable()
    print(f"GET {path}: {(time.perf_counter() - t) * 1000:.0f} ms (load {_load()})")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    print(f"{len(slow)} statements, {sum(t for t, _ in slow) * 1000:.0f} ms; the slowest:")
    for t, statement in sorted(slow, reverse=True)[:8]:
        print(f"{t * 1000:7.0f} ms  {' '.join(statement.split())[:400]}")


def kpi_side(url: str, rounds: int) -> None:
    """The KPI side alone, in one process, alternated: main's (kpi_pairs + kpi_cell_sums, summing
    the weekly values) against the running sums (period_pairs + cumulative_cell_sums); wall and
    process CPU medians (the database's own work shows in the wall time only)."""
    from perception.analysis.services import kpi_experience as ke
    from perception.analysis.services.filters import AnalysisFilters
    from perception.analysis.services.kpi_links import kpi_links, kpi_pairs
    from perception.core.extensions import db
    from perception.core.periods import week_start
    from perception.kpi.services.kpi_cumulative import period_pairs
    from tests.analysis.kve_reference import cumulative_cell_sums

    app = _app(url)
    end = week_start(date.today()) + timedelta(weeks=1)
    with app.app_context():
        s = db.session
        for weeks in (14, 52):
            f = AnalysisFilters(end - timedelta(weeks=weeks), end)
            pairs = kpi_pairs(s, f)
            links = kpi_links(s, ((d, sv) for d, sv, _ in pairs), end - timedelta(days=1))
            compared = {d for (d, _), link in links.items() if link.experience is not None}

            def main_way(f: AnalysisFilters = f, compared: set[int] = compared) -> int:
                kpi_pairs(s, f)
                return len(ke.kpi_cell_sums(s, f, compared))

            def branch_way(f: AnalysisFilters = f, compared: set[int] = compared) -> int:
                period_pairs(s, f.start, f.end)
                return len(cumulative_cell_sums(s, f, compared) or {})

            times: dict[str, list[tuple[float, float]]] = {"main": [], "branch": []}
            for i in range(rounds):
                for name in ("main", "branch") if i % 2 == 0 else ("branch", "main"):
                    t, c = time.perf_counter(), time.process_time()
                    cells = (main_way if name == "main" else branch_way)()
                    times[name].append((time.perf_counter() - t, time.process_time() - c))
            for name, got in times.items():
                wall = statistics.median(x[0] for x in got) * 1000
                cpu = statistics.median(x[1] for x in got) * 1000
                print(
                    f"KPI side {weeks}w {name:6s}: {wall:6.0f} ms wall, {cpu:6.0f} ms cpu ({cells} cells, load {_load()})"
                )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--main", default="/work/main", help="a checkout of main's code")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=4)
    p.add_argument("--child", action="store_true")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--profile", default="")
    p.add_argument("--kpi-side", action="store_true", help="time the KPI side alone")
    args = p.parse_args()
    if args.kpi_side:
        sys.path.insert(0, str(HERE))
        kpi_side(args.url, args.rounds)
        return
    if args.child:
        child(args.url, args.repeat)
        return
    if args.profile:
        sys.path.insert(0, str(HERE))
        profile(args.url, args.profile)
        return
    sys.path.insert(0, str(HERE))
    if not args.no_build:
        build(args.url)
    codes = {"main": args.main, "branch": str(HERE)}
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in codes}
    for i in range(args.rounds):
        order = list(codes) if i % 2 == 0 else list(reversed(codes))
        for name in order:
            env = {**os.environ, "PYTHONPATH": codes[name]}
            cmd = [sys.executable, __file__, "--child", "--url", args.url, "--repeat", str(args.repeat)]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd="/tmp")  # noqa: S603
            line = json.loads(done.stdout.strip().splitlines()[-1])
            assert Path(line["code"]) == Path(codes[name]), (line["code"], codes[name])
            results[name].append(line)
            print(
                f"round {i + 1} {name:6s} "
                + "  ".join(
                    f"{pd}: first {line[pd]['first'][0] * 1000:5.0f} ms (cpu {line[pd]['first'][1] * 1000:5.0f})"
                    f" repeated {line[pd]['warm'][0] * 1000:5.0f} ms (cpu {line[pd]['warm'][1] * 1000:5.0f})"
                    for pd in ("14w", "52w")
                )
                + f"  load {line['load']}",
                flush=True,
            )
    print("medians over the rounds (ms): wall / process CPU")
    for name, lines in results.items():
        for pd in ("14w", "52w"):

            def med(kind: str, i: int, pd: str = pd, lines: list[dict[str, Any]] = lines) -> float:
                return statistics.median(x[pd][kind][i] for x in lines) * 1000

            print(
                f"{name:6s} {pd}: first {med('first', 0):6.0f} / {med('first', 1):6.0f}"
                f"   repeated {med('warm', 0):6.0f} / {med('warm', 1):6.0f}"
            )
    print(f"load at the end: {_load()}")


if __name__ == "__main__":
    main()
