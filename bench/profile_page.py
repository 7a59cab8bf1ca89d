"""Profile one page warm, in one process (Flask test client, no server), with pyinstrument.

Run: python bench/profile_page.py INSTANCE_FOLDER [--page /reviews/1] [--user owner] [--runs 2]

INSTANCE_FOLDER holds a demo database (``perception demo`` with PERCEPTION_INSTANCE_PATH set to
it; bench_cold_start.py leaves one in /tmp/bench_cold_*). The page is requested once unprofiled
(the cold request: imports, caches), then ``--runs`` times under the profiler; the last run's
call tree is printed (pyinstrument's text output, frames under 2 % hidden) with the wall time of
each request and the load average.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("instance")
    parser.add_argument("--page", default="/reviews/1")
    parser.add_argument("--user", default="owner")
    parser.add_argument("--password", default="perception-demo")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    os.environ["PERCEPTION_INSTANCE_PATH"] = args.instance
    os.environ.pop("PERCEPTION_DATABASE_URL", None)
    from pyinstrument import Profiler

    from perception import create_app

    app = create_app()
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token is not None
    client.post(
        "/login", data={"csrf_token": token.group(1), "username": args.user, "password": args.password}
    )
    t0 = time.perf_counter()
    status = client.get(args.page).status_code
    cold = 1000 * (time.perf_counter() - t0)
    print(f"cold {args.page}: {status} in {cold:.0f} ms, load {os.getloadavg()[0]:.2f}")
    profiler = Profiler(interval=0.002)
    for run in range(args.runs):
        profiler.reset()
        profiler.start()
        t0 = time.perf_counter()
        client.get(args.page)
        wall = time.perf_counter() - t0
        profiler.stop()
        print(f"warm {args.page} #{run + 1}: {1000 * wall:.0f} ms, load {os.getloadavg()[0]:.2f}")
    print(profiler.output_text(unicode=False, color=False, show_all=False, time="percent_of_total"))


if __name__ == "__main__":
    main()
