# ruff: noqa: E501 - the printed lines of figures read best whole
"""Benchmark: the job that fills a review page's stored copy (``prepare_review_page``, issue 19),
section by section, at the scale of a national provider.

    python bench/bench_review_copy_job.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_x \\
        [--review-code BENCH-H] [--profile /tmp/copy.prof] [--only health,standards]

The review is the one ``bench/bench_national.py`` creates (26 weeks ending with the current week).
Per slow section (perception.review.page_cache.SLOW_SECTIONS) and the scorecard: the builder's
wall and process CPU time and the database time (wall spent in the driver's execute calls), with
the load average; then the whole job (forced) as it runs in a worker. ``--profile`` writes a
cProfile of the whole job and prints its top 40 by cumulative time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--review-code", default="BENCH-H")
    parser.add_argument("--only", default="")
    parser.add_argument("--profile", default="")
    parser.add_argument("--no-job", action="store_true", help="time the sections only")
    args = parser.parse_args()
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_review_copy_instance")

    from sqlalchemy import event, select

    from perception import create_app
    from perception.core.clock import current_clock
    from perception.core.extensions import db
    from perception.core.jobs import run_now
    from perception.review import page_cache
    from perception.review.models import Review
    from perception.review.services.scorecard import scorecard
    from perception.review.services.sections import SectionContext, builders, previous_review

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.url,
            "SECRET_KEY": "bench-secret-key-which-is-long-enough-0123",
            "REDIS_URL": None,
            "JOBS_BACKGROUND": False,
        }
    )
    db_time = [0.0]
    with app.app_context():
        db.create_all()

        @event.listens_for(db.engine, "before_cursor_execute")
        def _before(conn: Any, *_: Any) -> None:
            conn.info["h19rev2_t"] = time.perf_counter()

        @event.listens_for(db.engine, "after_cursor_execute")
        def _after(conn: Any, *_: Any) -> None:
            db_time[0] += time.perf_counter() - conn.info.pop("h19rev2_t", time.perf_counter())

        review = db.session.scalar(select(Review).where(Review.code == args.review_code))
        assert review is not None, "run bench/bench_national.py on this database first"
        clock = current_clock()
        only = {s for s in args.only.split(",") if s}
        print(
            f"{args.url.split('@')[-1]} review {review.code} {review.period_start}..{review.period_end}; load {_load()}",
            flush=True,
        )
        ctx = SectionContext(
            db.session, review, clock.today(), clock.now(), previous_review(db.session, review)
        )
        steps: dict[str, Any] = {code: builders()[code] for code in page_cache.SLOW_SECTIONS}
        steps["scorecard"] = scorecard
        total_wall = total_cpu = 0.0
        for code, build in steps.items():
            if only and code not in only:
                continue
            db_time[0] = 0.0
            t, c = time.perf_counter(), time.process_time()
            build(ctx)
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            total_wall, total_cpu = total_wall + wall, total_cpu + cpu
            print(
                f"  {code:16s} wall {wall:7.2f} s  cpu {cpu:7.2f} s  db {db_time[0]:7.2f} s  (load {_load()})",
                flush=True,
            )
        print(f"  {'sections':16s} wall {total_wall:7.2f} s  cpu {total_cpu:7.2f} s", flush=True)
        db.session.rollback()
        if args.no_job:
            return
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        db_time[0] = 0.0
        t, c = time.perf_counter(), time.process_time()
        stored = run_now(db.session, "prepare_review_page", review_id=review.id, force=True)
        db.session.commit()
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        if profiler is not None:
            import pstats

            profiler.disable()
            profiler.dump_stats(args.profile)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        print(
            f"job prepare_review_page: {stored} stored; wall {wall:.2f} s  cpu {cpu:.2f} s  db {db_time[0]:.2f} s  (load {_load()})",
            flush=True,
        )


if __name__ == "__main__":
    main()
