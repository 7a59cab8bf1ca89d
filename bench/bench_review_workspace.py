"""Benchmark: opening the review workspace (GET /reviews/<id>) on the demo, computed live (as before
issue 17) against its slow sections computed ahead (perception.review.page_cache).

    python bench/bench_review_workspace.py [demo.sqlite] [--rounds 5]

Without a path it loads the demo into a temporary SQLite file first (``perception demo``: 30 s idle,
minutes on a busy machine). Each round opens every review once with its copy removed ("live") and
once after ``prepare_review_page`` ("ahead"), alternating, as the reviewer, in Chinese; the first
opening of each kind is left out (imports, caches). Prints the median and range per review and
mode, and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _demo(folder: Path) -> Path:
    path = folder / "demo.sqlite"
    env = {
        **os.environ,
        "PERCEPTION_INSTANCE_PATH": str(folder),
        "PERCEPTION_DATABASE_URL": f"sqlite:///{path}",
    }
    subprocess.run([sys.executable, "-m", "flask", "--app", "perception", "demo"], env=env, check=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-review-"))
    path = Path(args.database) if args.database else _demo(folder)
    os.environ["PERCEPTION_INSTANCE_PATH"] = str(folder)

    from sqlalchemy import delete

    from perception import create_app
    from perception.core.extensions import db
    from perception.core.jobs import run_now
    from perception.core.transaction import unit_of_work
    from perception.review.models import ReviewSectionCache

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "bench-secret-key-which-is-long-enough-0123",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": None,
            "JOBS_BACKGROUND": False,  # the page asks for nothing: each mode is set up here
        }
    )
    with app.app_context():
        db.create_all()  # a demo file made before the cache table existed gets it
    client = app.test_client()
    assert (
        client.post("/login", data={"username": "reviewer", "password": "perception-demo"}).status_code == 302
    )
    ids = sorted(
        {int(i) for i in re.findall(r'/reviews/(\d+)"', client.get("/reviews").get_data(as_text=True))}
    )

    def live(review_id: int) -> None:
        with app.app_context(), unit_of_work() as session:
            session.execute(delete(ReviewSectionCache).where(ReviewSectionCache.review_id == review_id))

    def ahead(review_id: int) -> None:
        with app.app_context(), unit_of_work() as session:
            run_now(session, "prepare_review_page", review_id=review_id)

    def open_page(review_id: int) -> float:
        started = time.perf_counter()
        response = client.get(f"/reviews/{review_id}", headers={"Accept-Language": "zh-CN"})
        assert response.status_code == 200
        return time.perf_counter() - started

    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    times: dict[tuple[int, str], list[float]] = {}
    for round_no in range(args.rounds + 1):
        for review_id in ids:
            for mode, prepare in (("live", live), ("ahead", ahead)):
                prepare(review_id)
                seconds = open_page(review_id)
                if round_no:
                    times.setdefault((review_id, mode), []).append(seconds)
    for (review_id, mode), values in sorted(times.items()):
        print(
            f"review {review_id} {mode:5s}: median {statistics.median(values):.3f} s "
            f"(min {min(values):.3f}, max {max(values):.3f}, n={len(values)})"
        )
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
