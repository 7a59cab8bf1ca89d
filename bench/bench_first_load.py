"""The manager pages' FIRST computation after the data changed (issue 19), page by page.

    python bench/bench_first_load.py --url sqlite:////path/to/national.sqlite [--code /path/to/a/tree]
                                     [--pages overview,kpis,experience,home] [--periods 14w,52w,20w]
                                     [--repeat 3] [--job] [--region CODE]
                                     [--after forget|answer|rename|past-answer|new-week|import
                                              |undeclared-import]

A database built by bench/bench_national.py (``--keep`` run once: the manager exists). Before each
load every kept result is forgotten, in the process (every ``perception.core.kept.Kept``) and in
the database (``kept_result`` emptied), so the load computes the page as the first manager after a
write meets it; a second load (the kept result) is timed beside it. Wall and this process's CPU
time per load, the median over ``--repeat`` rounds, and the load average. ``--code``: import the
application from another tree (to alternate a baseline and a change in the same run, one process
each). ``--region``: every page filtered to that region (a manager's region filter: the
same scope, and the same queries, as a region team's user sees). ``--job``: time the background
job that computes the default views ahead (perception.analysis.kept_pages.refresh_kept_pages),
from an empty ``kept_result``. ``--after answer``: instead of forgetting everything, write one
survey answer of the current week (as the answer path writes its facts) before each timed load,
every page's result having been kept first: the first load a manager meets after an answer
(the answer's rows are removed at the end). ``--after rename``: everything forgotten but the change
look's stored weeks (services.change_weeks), as after a write that changes none of the look's weeks
(a region renamed). ``--after past-answer``: that, after one answer declared for two weeks before
the current one (a callback entered late), each load. ``--after new-week``: that, and the look's
last week forgotten too, as on a Monday (the window moves on by a week no look has read).
``--after import``: the rename's state after an import of 600 past answers over the three weeks
before the current one, declared for those weeks as the survey history import declares them now;
``--after undeclared-import``: the same rows undeclared, as imports wrote them before (the
pre-aggregates stale: run ``--refresh`` afterwards, a whole rebuild). The rows are removed after
each load, declared.
``--refresh``: bring the pre-aggregates up to the facts first with the tree's own code (a partial
refresh records the tree's own split week).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PASSWORD = "bench-password-123"  # noqa: S105 - bench_national's throw-away user
PAGES = {
    "overview": "/analysis/overview",
    "kpis": "/analysis/kpis",
    "experience": "/analysis/experience",
    "kpi_vs_experience": "/analysis/kpi-vs-experience",
    "home": "/",  # the manager's first screen: its headline (perception.analysis.home), period-less
}


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--code", default=str(Path(__file__).resolve().parent.parent))
    p.add_argument("--pages", default="overview,kpis,experience")
    p.add_argument("--periods", default="14w,52w")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--job", action="store_true")
    p.add_argument("--region", default="", help="a region code: every page filtered to it")
    p.add_argument(
        "--after",
        default="forget",
        choices=("forget", "answer", "rename", "past-answer", "new-week", "import", "undeclared-import"),
    )
    p.add_argument(
        "--refresh",
        action="store_true",
        help="bring the pre-aggregates up to the facts with this tree's code first (its own split)",
    )
    return p.parse_args()


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def forget_everything(app: Any, *, but_weeks: bool = False) -> None:
    """Every kept result of this process and of the database; ``but_weeks``: but the change look's
    stored weeks (services.change_weeks), as after a write that changed no week of the look."""
    from sqlalchemy import delete

    from perception.core.extensions import db
    from perception.core.kept import Kept
    from perception.core.models.kept import KeptResult

    # Every Kept a module holds (not gc.get_objects(): the warm-up freezes the startup objects,
    # and frozen objects are not listed).
    for module in list(sys.modules.values()):
        for value in list(getattr(module, "__dict__", {}).values()):
            if isinstance(value, Kept):
                value.forget()
    with app.app_context():
        db.session.execute(
            delete(KeptResult).where(KeptResult.page != WEEKS_PAGE) if but_weeks else delete(KeptResult)
        )
        db.session.commit()


#: The change look's stored weeks (perception.analysis.services.change_weeks.PAGE).
WEEKS_PAGE = "analysis_change_week"


def forget_last_week(app: Any) -> None:
    """The change look's stored last complete week, as on the Monday after it: the window moves on
    by that week, which no look has read yet."""
    from sqlalchemy import delete

    from perception.core.clock import current_clock
    from perception.core.extensions import db
    from perception.core.models.kept import KeptResult

    with app.app_context():
        week = current_clock().week_start() - timedelta(weeks=1)
        mine = KeptResult.params.like(f'%"week":"{week.isoformat()}"%')
        db.session.execute(delete(KeptResult).where(KeptResult.page == WEEKS_PAGE, mine))
        db.session.commit()


#: The bench's answers: a source id no response has, so they are found and removed at the end.
BENCH_ANSWER = 0


def write_an_answer(app: Any, remove: bool = False, weeks_back: int = 0) -> None:
    """One survey answer's facts of the current week, written as the answer path writes them
    (surveys.services.facts.write_facts: declared rows of the current week, where the code under
    test has that declaration); ``remove``: delete the bench's answers instead. ``weeks_back``: of
    that many weeks before the current one (a callback entered late: declared, so its week is
    logged), removed the same way."""
    from sqlalchemy import delete, insert, select

    from perception.core.clock import current_clock
    from perception.core.extensions import db
    from perception.core.models.facts import ExperienceObservation
    from perception.core.models.org import Region
    from perception.kpi.services import data_version

    table = ExperienceObservation.__table__
    with app.app_context():
        clock = current_clock()
        monday = clock.week_start() - timedelta(weeks=weeks_back)
        conn = db.session.connection()
        declare = getattr(data_version, "current_week_write" if not weeks_back else "week_write", None)
        if remove:
            # Rows of the current week alone: declared as such, so the pre-aggregates' past weeks
            # stay current for the next run.
            ours = delete(table).where(table.c.source == "survey", table.c.source_id == BENCH_ANSWER)
            if declare is None:
                conn.execute(ours)
            else:
                with declare(conn, "experience_observation", monday, clock.timezone):
                    conn.execute(ours)
            db.session.commit()
            return
        region = db.session.scalar(select(Region.id).order_by(Region.id).limit(1))
        row = {
            "source": "survey", "source_id": BENCH_ANSWER, "observed_on": monday,
            "period_start": monday, "region_id": region, "kind": "csat", "value": 5.0,
            "scale_min": 1.0, "scale_max": 5.0,
        }  # fmt: skip
        if declare is None:
            conn.execute(insert(table), [row])
        else:
            with declare(conn, "experience_observation", monday, clock.timezone):
                conn.execute(insert(table), [row])
        db.session.commit()


#: The bench's imported answers: source ids no response has (negative), removed at the end.
IMPORTED = 600
IMPORT_WEEKS = (1, 2, 3)


def write_history(app: Any, *, declared: bool, remove: bool = False) -> None:
    """An import of past answers: IMPORTED respondents' CSAT and two dimensions over the weeks
    IMPORT_WEEKS back, declared for those weeks as the survey history import now declares them
    (data_version.week_write with the weeks listed) or undeclared as it wrote them before.
    ``remove``: delete them, declared (the pre-aggregates' other weeks stay theirs)."""
    from sqlalchemy import delete, insert, select

    from perception.core.clock import current_clock
    from perception.core.extensions import db
    from perception.core.models.facts import ExperienceObservation
    from perception.core.models.org import Region
    from perception.kpi.services.data_version import week_write

    table = ExperienceObservation.__table__
    with app.app_context():
        clock = current_clock()
        weeks = [clock.week_start() - timedelta(weeks=back) for back in IMPORT_WEEKS]
        conn = db.session.connection()
        if remove:
            ours = delete(table).where(table.c.source == "survey", table.c.source_id < 0)
            with week_write(conn, "experience_observation", weeks, clock.timezone):
                conn.execute(ours)
            db.session.commit()
            return
        regions = db.session.scalars(select(Region.id).order_by(Region.id).limit(20)).all()
        rows = []
        for i in range(IMPORTED):
            week = weeks[i % len(weeks)]
            who = {"source": "survey", "source_id": -1 - i, "observed_on": week + timedelta(days=i % 5),
                   "period_start": week, "region_id": regions[i % len(regions)]}  # fmt: skip
            rows.append(
                {**who, "kind": "csat", "value": float(1 + i % 5), "scale_min": 1.0, "scale_max": 5.0}
            )
            for dimension in ("response_speed", "staff_attitude"):
                rows.append({**who, "kind": "likert", "dimension": dimension, "value": float(1 + (i * 7) % 5),
                             "scale_min": 1.0, "scale_max": 5.0})  # fmt: skip
        if declared:
            with week_write(conn, "experience_observation", weeks, clock.timezone):
                conn.execute(insert(table), rows)
        else:
            conn.execute(insert(table), rows)
        db.session.commit()


def main() -> None:
    args = _args()
    sys.path.insert(0, args.code)
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_first_load_instance")
    from bench_app import bench_app, weeks_to

    import perception
    from perception.core.periods import week_start
    from perception.web.warmup import warm

    app = bench_app(args.url)
    warm(app)
    if args.refresh:
        from perception.analysis.services.rollup import refresh_rollup
        from perception.core.extensions import db

        with app.app_context():
            started = time.perf_counter()
            rows = refresh_rollup(db.session)
            db.session.commit()
            print(f"refresh: {rows} rows in {time.perf_counter() - started:.1f} s", flush=True)
    end = week_start(date.today()) + timedelta(weeks=1)
    year = weeks_to(end, 52)
    # 20w: dates a manager types, a period the background job does not compute ahead.
    twenty = weeks_to(end, 20)
    periods = {"14w": "", "52w": year, "20w": twenty}
    if args.region:
        from sqlalchemy import select

        from perception.core.extensions import db
        from perception.core.models.org import Region

        with app.app_context():
            region_id = db.session.scalar(select(Region.id).where(Region.code == args.region))
        assert region_id is not None, args.region
        periods = {k: f"{q}&region={region_id}" if q else f"?region={region_id}" for k, q in periods.items()}
    client = app.test_client()
    assert client.post("/login", data={"username": "bench.manager", "password": PASSWORD}).status_code == 302
    code = Path(perception.__file__).parent.parent
    print(f"code {code}  {args.url}  region {args.region or 'all'}  load {_load()}", flush=True)

    def get(path: str) -> tuple[float, float]:
        t, c = time.perf_counter(), time.process_time()
        r = client.get(path, headers={"Accept-Language": "zh-CN"})
        assert r.status_code == 200, (path, r.status_code)
        return time.perf_counter() - t, time.process_time() - c

    wanted = [(p, q) for p in args.pages.split(",") if p for q in args.periods.split(",") if q]
    # Untimed: each page's first request in the process (its templates, its modules' first calls),
    # so the first timed load is the computation's, whatever the page's place in the order.
    for page in dict.fromkeys(p for p, _ in wanted):
        get(PAGES[page])
    if args.after == "answer":  # every page's result kept first, as the background job leaves them
        for page, period in wanted:
            get(PAGES[page] + periods[period])
    first: dict[tuple[str, str], list[tuple[float, float]]] = {k: [] for k in wanted}
    kept: dict[tuple[str, str], list[tuple[float, float]]] = {k: [] for k in wanted}
    for _ in range(args.repeat):
        for page, period in wanted:
            if args.after == "answer":
                write_an_answer(app)
            elif args.after == "past-answer":
                write_an_answer(app, weeks_back=2)
                forget_everything(app, but_weeks=True)
            elif args.after in ("import", "undeclared-import"):
                write_history(app, declared=args.after == "import")
                forget_everything(app, but_weeks=True)
            elif args.after == "new-week":
                forget_everything(app, but_weeks=True)
                forget_last_week(app)
            else:
                forget_everything(app, but_weeks=args.after == "rename")
            first[(page, period)].append(get(PAGES[page] + periods[period]))
            kept[(page, period)].append(get(PAGES[page] + periods[period]))
            if args.after in ("import", "undeclared-import"):
                write_history(app, declared=True, remove=True)
    for key in wanted:
        f, k = first[key], kept[key]
        print(
            f"{key[0]:11s} {key[1]:4s} first wall {statistics.median(x[0] for x in f) * 1000:7.0f} ms"
            f" cpu {statistics.median(x[1] for x in f) * 1000:7.0f} ms"
            f"  (all wall {' '.join(f'{x[0] * 1000:.0f}' for x in f)})"
            f"   kept wall {statistics.median(x[0] for x in k) * 1000:6.0f} ms"
            f" cpu {statistics.median(x[1] for x in k) * 1000:6.0f} ms",
            flush=True,
        )
    if args.after in ("answer", "past-answer"):
        write_an_answer(app, remove=True, weeks_back=2 if args.after == "past-answer" else 0)
    if args.job:
        from perception.core.extensions import db
        from perception.core.jobs import run_now
        from perception.core.transaction import unit_of_work

        forget_everything(app)
        with app.app_context(), unit_of_work() as session:
            t, c = time.perf_counter(), time.process_time()
            done = run_now(session, "refresh_kept_pages")
            wall, cpu = time.perf_counter() - t, time.process_time() - c
        with app.app_context():
            db.engine.dispose()
        print(f"refresh_kept_pages {done}: wall {wall * 1000:.0f} ms cpu {cpu * 1000:.0f} ms", flush=True)
    print(f"load average at the end: {_load()}", flush=True)


if __name__ == "__main__":
    main()
