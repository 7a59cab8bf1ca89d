# ruff: noqa: E501
"""Issue 19, the KPI pages and the manager home at national scale: timings, and compute_kpis with and
without the stored duration arrays.

    python bench/bench_h19kpis.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_nat01_h19kpis
        [--code /path/to/a/checkout]   # time another version of the code (e.g. main, for "before")
        [--derive N]                   # first recompute the weekly ticket KPIs of the last N weeks (8-week windows, as bench_national's derive)
        [--rounds 3] [--repeat 3] [--pages kpis,attainment,home]

Needs a database built by bench/bench_national.py (its manager user). Per page and period: the first
request of each round, then the median of ``--repeat`` more (warm); wall time and this process's CPU
time (robust to the machine's load; PostgreSQL's own CPU is not in it), the load average beside.
Rounds alternate the pages, so a load spike does not fall on one page only; medians over rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--code", default=str(Path(__file__).resolve().parent.parent))
    p.add_argument("--derive", type=int, default=0)
    p.add_argument(
        "--arrays",
        type=int,
        default=0,
        help="store the duration arrays of the last N weeks (no KPI recompute)",
    )
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--pages", default="kpis,attainment,home")
    p.add_argument("--profile", default="")
    p.add_argument(
        "--pooled",
        action="store_true",
        help="time pooled_percentiles alone: from the arrays, then from the tickets",
    )
    p.add_argument("--pooled-weeks", default="14,52")
    args = p.parse_args()
    sys.path.insert(0, args.code)
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_national_instance")
    from bench_app import bench_app, weeks_to

    from perception.core.extensions import db
    from perception.core.periods import week_start

    load = lambda: " ".join(f"{v:.1f}" for v in os.getloadavg())  # noqa: E731
    import perception

    print(f"code {perception.__file__}; load {load()}", flush=True)
    app = bench_app(args.url)
    end = week_start(date.today()) + timedelta(weeks=1)
    with app.app_context():
        db.create_all()  # the tables this version adds, on a database built before
    if args.derive:
        from perception.kpi.services.compute import compute_kpis

        with app.app_context():
            t, c = time.perf_counter(), time.process_time()
            lo = end - timedelta(weeks=args.derive)
            values = 0
            while lo < end:
                hi = min(end, lo + timedelta(weeks=8))
                values += compute_kpis(db.session, lo, hi).values
                db.session.commit()
                lo = hi
            print(
                f"compute_kpis week, {args.derive} weeks: {values:,} values in {time.perf_counter() - t:.1f} s"
                f" (cpu {time.process_time() - c:.1f} s, load {load()})",
                flush=True,
            )
    if args.arrays:
        from perception.kpi.services.duration_arrays import backfill_week_arrays

        with app.app_context():
            t, c = time.perf_counter(), time.process_time()
            lo = end - timedelta(weeks=args.arrays)
            rows = 0
            while lo < end:
                hi = min(end, lo + timedelta(weeks=8))
                rows += backfill_week_arrays(db.session, lo, hi)
                db.session.commit()
                lo = hi
            print(
                f"backfill_week_arrays, {args.arrays} weeks: {rows:,} rows in {time.perf_counter() - t:.1f} s"
                f" (cpu {time.process_time() - c:.1f} s, load {load()})",
                flush=True,
            )
    if args.pooled:
        pooled_only(app, end, load, [int(w) for w in args.pooled_weeks.split(",")])
        return
    from bench_national import _ensure_manager_and_review

    _ensure_manager_and_review(app, end)  # the manager bench_national signs in as
    client = app.test_client()
    r = client.post("/login", data={"username": "bench.manager", "password": "bench-password-123"})
    assert r.status_code == 302, r.status_code
    year = weeks_to(end, 52)
    pages = [
        ("kpis", "14w", "/analysis/kpis"),
        ("kpis", "52w", "/analysis/kpis" + year),
        ("attainment", "5m", "/kpi/attainment"),
        ("attainment", "52w", "/kpi/attainment" + year),
        ("home", "-", "/"),
    ]
    wanted = set(args.pages.split(","))
    pages = [x for x in pages if x[0] in wanted]
    if args.profile:
        import cProfile
        import pstats

        client.get(args.profile)
        prof = cProfile.Profile()
        prof.enable()
        client.get(args.profile)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
        return

    def get(path: str) -> tuple[float, float]:
        t, c = time.perf_counter(), time.process_time()
        resp = client.get(path, headers={"Accept-Language": "zh-CN"})
        assert resp.status_code == 200, (path, resp.status_code)
        return time.perf_counter() - t, time.process_time() - c

    results: dict[tuple[str, str], dict[str, list[float]]] = {}
    for rnd in range(args.rounds):
        order = pages if rnd % 2 == 0 else pages[::-1]
        for name, period, path in order:
            cell = results.setdefault(
                (name, period), {"first": [], "first_cpu": [], "warm": [], "warm_cpu": [], "load": []}
            )
            cell["load"].append(os.getloadavg()[0])
            if name == "home":
                import perception.analysis.home as home

                home._kept.forget()  # a new process: it reads the stored headline, as the other kept pages
            w, c = get(path)
            cell["first"].append(w)
            cell["first_cpu"].append(c)
            for _ in range(args.repeat):
                w, c = get(path)
                cell["warm"].append(w)
                cell["warm_cpu"].append(c)
    for (name, period), cell in results.items():
        med = {k: statistics.median(v) * 1000 for k, v in cell.items() if k != "load"}
        print(
            f"{name:11s} {period:4s} first {med['first']:7.0f} ms (cpu {med['first_cpu']:6.0f})"
            f"  warm {med['warm']:7.0f} ms (cpu {med['warm_cpu']:6.0f})  load1 {statistics.median(cell['load']):.1f}",
            flush=True,
        )
    print(f"load at the end: {load()}")


def pooled_only(app, end: date, load, periods: list[int]) -> None:  # type: ignore[no-untyped-def]
    """The KPI page's three poolings (every region and service, per service, per service and region)
    over 14 and 52 weeks, in a fresh transaction each: from the stored arrays, then with the arrays
    ignored (every week from the tickets, as before issue 19); the results must be equal."""
    import perception.kpi.services.pooled as pooled
    from perception.core.extensions import db
    from perception.kpi.services.duration_arrays import empty_segments

    real = pooled.load_week_segments
    for weeks in periods:
        start = end - timedelta(weeks=weeks)
        results = {}
        for source in ("arrays", "tickets"):
            if source == "tickets":
                pooled.load_week_segments = lambda *a, **k: (empty_segments(), [])  # type: ignore[assignment]
            with app.app_context():
                t, c = time.perf_counter(), time.process_time()
                out = {}
                for keep in ((), ("service",), ("service", "region")):
                    out[keep] = pooled.pooled_percentiles(db.session, start, end, keep)
                wall, cpu = time.perf_counter() - t, time.process_time() - c
                db.session.rollback()
            pooled.load_week_segments = real
            results[source] = out
            n = sum(len(v) for v in out.values())
            print(
                f"pooled {weeks}w from {source:7s}: {wall * 1000:7.0f} ms (cpu {cpu * 1000:6.0f}) {n:,} values, load {load()}",
                flush=True,
            )
        print(f"  equal: {results['arrays'] == results['tickets']}", flush=True)


if __name__ == "__main__":
    main()
