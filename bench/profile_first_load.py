"""Profile a manager page's FIRST computation (every kept result forgotten, as
bench_first_load.py) with pyinstrument, on a bench database (issue 19).

    python bench/profile_first_load.py --url sqlite:////path/to/national.sqlite [--period 52w]
        [--page experience|kpi_vs_experience|overview|kpis] [--after forget|answer|past-answer]

``--after answer``: the page's result kept, then one survey answer of the current week written
(bench_first_load.write_an_answer, removed at the end) before the profiled load; ``--after
past-answer``: one declared for two weeks before the current one (a late callback).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--period", default="14w", choices=("14w", "52w"))
    p.add_argument("--page", default="experience")
    p.add_argument("--after", default="forget", choices=("forget", "answer", "past-answer"))
    args = p.parse_args()
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_first_load_instance")
    from bench_app import bench_app, weeks_to
    from bench_first_load import PAGES, PASSWORD, forget_everything, write_an_answer
    from pyinstrument import Profiler

    from perception.core.periods import week_start
    from perception.web.warmup import warm

    app = bench_app(args.url)
    warm(app)
    end = week_start(date.today()) + timedelta(weeks=1)
    query = ""
    if args.period == "52w":
        query = weeks_to(end, 52)
    client = app.test_client()
    assert client.post("/login", data={"username": "bench.manager", "password": PASSWORD}).status_code == 302
    path = PAGES[args.page] + query
    assert client.get(path).status_code == 200  # the page's first request
    if args.after in ("answer", "past-answer"):
        write_an_answer(app, weeks_back=2 if args.after == "past-answer" else 0)
    else:
        forget_everything(app)
    profiler = Profiler(interval=0.001)
    profiler.start()
    assert client.get(path).status_code == 200
    profiler.stop()
    if args.after in ("answer", "past-answer"):
        write_an_answer(app, remove=True, weeks_back=2 if args.after == "past-answer" else 0)
    print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
