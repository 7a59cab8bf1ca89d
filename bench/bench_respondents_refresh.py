"""Time the per-respondent table's refresh (services.respondents.refresh_respondents, issue 19) on a
bench database (SQLite or PostgreSQL): wall and process CPU (SQLite's work is in the process;
PostgreSQL's is in the server, so its wall is the figure there), and the load average.

    python bench/bench_respondents_refresh.py --url sqlite:////path/to/national.sqlite [--repeat 1] [--rollup]

``--rollup``: time the whole hourly refresh beside it (services.rollup.refresh_rollup, forced:
the weekly sums, this table and the running sums), to set the table's part against the job's.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--rollup", action="store_true")
    args = p.parse_args()
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_h19exps_instance")
    from perception import create_app
    from perception.analysis.services.respondents import refresh_respondents
    from perception.analysis.services.rollup import refresh_rollup
    from perception.core.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.url,
            "SECRET_KEY": "bench-secret-key-which-is-long-enough-0123",
            "REDIS_URL": None,
            "JOBS_BACKGROUND": False,
        }
    )
    with app.app_context():
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            rows = refresh_respondents(db.session, force=True)
            db.session.commit()
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            load = " ".join(f"{v:.1f}" for v in os.getloadavg())
            print(f"refresh_respondents {rows} rows: wall {wall:.2f} s cpu {cpu:.2f} s  load {load}")
            if args.rollup:
                t, c = time.perf_counter(), time.process_time()
                refresh_rollup(db.session, force=True)
                db.session.commit()
                wall, cpu = time.perf_counter() - t, time.process_time() - c
                load = " ".join(f"{v:.1f}" for v in os.getloadavg())
                print(f"refresh_rollup (all, forced): wall {wall:.2f} s cpu {cpu:.2f} s  load {load}")


if __name__ == "__main__":
    main()
