"""Profile one forced full text-analysis recompute with retraining, on a database bench_analysis.py
filled and analysed once (``--keep``), with pyinstrument.

    python bench/profile_text_run.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_x
                                     [--runs 1] [--keep-models] [--interval 0.005]

Each run deletes the stored classifier models (so both are trained and cross-validated again, as
when labels changed; ``--keep-models``: not) and calls ``run_text_analysis(full=True)`` under the
profiler, then rolls back: the database is left as it was. Prints the wall and process CPU time
of each run with the load average, and the last run's call tree (frames under 1 % hidden).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "BENCH_ANALYSIS_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_analysis"
        ),
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep-models", action="store_true")
    parser.add_argument("--interval", type=float, default=0.005)
    args = parser.parse_args()
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_analysis_instance")
    from pyinstrument import Profiler
    from sqlalchemy import text

    from perception import create_app
    from perception.analysis.services.text_run import run_text_analysis
    from perception.core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url, "SECRET_KEY": "bench" * 10, "REDIS_URL": None})
    with app.app_context():
        profiler = None
        for i in range(args.runs):
            if not args.keep_models:
                db.session.execute(text("DELETE FROM text_classifier_model"))
            profiler = Profiler(interval=args.interval)
            load = os.getloadavg()[0]
            t, cpu = time.perf_counter(), time.process_time()
            profiler.start()
            run_text_analysis(db.session, full=True)
            db.session.flush()
            profiler.stop()
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
            db.session.rollback()
            print(
                f"run {i + 1}: {wall:.1f} s wall, {cpu:.1f} s CPU, "
                f"load {load:.1f} -> {os.getloadavg()[0]:.1f}"
            )
        if profiler is not None:
            print(profiler.output_text(unicode=True, color=False, show_all=False, time="percent_of_total"))


if __name__ == "__main__":
    main()
