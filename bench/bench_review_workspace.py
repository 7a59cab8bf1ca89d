# ruff: noqa: E501 - the printed lines of figures read best whole
"""Benchmark: opening the review workspace (GET /reviews/<id>) from its stored sections, against
computing it live, and what the stored sections cost to compute (issue 19).

    python bench/bench_review_workspace.py [demo.sqlite] [--rounds 5]
    python bench/bench_review_workspace.py --url postgresql+psycopg://.../bench_nat01_x \\
        --user bench.manager --password bench-password-123 [--review-id N] [--no-live]

Without a path or URL it loads the demo into a temporary SQLite file first (``perception demo``).
Per review: the signature of the inputs (perception.review.services.inputs) timed on its own; the
job ``prepare_review_page`` that stores the slow sections (once, forced: the cost of one change);
then the page from that current copy: its first opening in this process and the median of
``--rounds`` more; and (unless --no-live, which national scale needs: minutes per opening) the
page computed live with the copy removed, alternated with the stored one per round. Wall time and
this process's CPU time (robust to the machine's load) beside each figure, with the load average.
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
from typing import Any

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


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _timed(fn: Any) -> tuple[float, float, Any]:
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database", nargs="?")
    parser.add_argument("--url")
    parser.add_argument("--user", default="reviewer")
    parser.add_argument("--password", default="perception-demo")
    parser.add_argument("--review-id", type=int, action="append")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-live", action="store_true")
    parser.add_argument(
        "--pending-only",
        action="store_true",
        help="time only the page while its copy is missing (as with a worker computing it), no job",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-review-"))
    url = args.url or f"sqlite:///{Path(args.database) if args.database else _demo(folder)}"
    os.environ["PERCEPTION_INSTANCE_PATH"] = str(folder)

    from sqlalchemy import delete

    from perception import create_app
    from perception.core.clock import current_clock
    from perception.core.extensions import db
    from perception.core.jobs import run_now
    from perception.core.transaction import unit_of_work
    from perception.review.models import ReviewSectionCache
    from perception.review.services.inputs import signature

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret-key-which-is-long-enough-0123",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": None,
            "REDIS_URL": None,
            "JOBS_BACKGROUND": False,  # the page asks for nothing: each mode is set up here
        }
    )
    with app.app_context():
        db.create_all()  # a database made before the cache table existed gets it
    client = app.test_client()
    response = client.post("/login", data={"username": args.user, "password": args.password})
    assert response.status_code == 302, response.status_code
    ids = args.review_id or sorted(
        {int(i) for i in re.findall(r'/reviews/(\d+)"', client.get("/reviews").get_data(as_text=True))}
    )

    def remove(review_id: int) -> None:
        with app.app_context(), unit_of_work() as session:
            session.execute(delete(ReviewSectionCache).where(ReviewSectionCache.review_id == review_id))

    def prepare(review_id: int) -> None:
        with app.app_context(), unit_of_work() as session:
            run_now(session, "prepare_review_page", review_id=review_id, force=True)

    def open_page(review_id: int) -> tuple[float, float, str]:
        def get() -> str:
            r = client.get(f"/reviews/{review_id}", headers={"Accept-Language": "zh-CN"})
            assert r.status_code == 200, r.status_code
            html = r.get_data(as_text=True)
            found = re.search(r'data-testid="review-freshness" data-state="(\w+)"', html)
            return found.group(1) if found else "frozen"

        return _timed(get)  # type: ignore[no-any-return]

    def sign_of() -> str:
        with app.app_context():
            return signature(db.session, current_clock().today())

    print(f"{url.split('@')[-1]}; load average before: {_load()}", flush=True)
    if args.pending_only:
        from perception.review.views import reviews as review_views

        # As with a worker: the page shows what is stored and asks (here: nothing is queued).
        review_views.in_background = lambda: True  # type: ignore[assignment]
        review_views.request_page = lambda *a, **k: None  # type: ignore[assignment]
        for review_id in ids:
            remove(review_id)
            first = open_page(review_id)
            warm = [open_page(review_id) for _ in range(args.rounds)]
            print(
                f"review {review_id} copy missing ({first[2]}): first wall {first[0] * 1000:.0f} ms cpu {first[1] * 1000:.0f} ms;"
                f" median wall {statistics.median(w[0] for w in warm) * 1000:.0f} ms cpu {statistics.median(w[1] for w in warm) * 1000:.0f} ms"
                f"  n={len(warm)}  (load {_load()})",
                flush=True,
            )
        return
    for review_id in ids:
        _timed(sign_of)
        sig = [_timed(sign_of)[:2] for _ in range(3)]
        print(
            f"review {review_id} signature of the inputs: median wall {statistics.median(s[0] for s in sig) * 1000:.0f} ms"
            f"  cpu {statistics.median(s[1] for s in sig) * 1000:.0f} ms  (load {_load()})",
            flush=True,
        )
        wall, cpu, _ = _timed(lambda review_id=review_id: prepare(review_id))
        print(
            f"review {review_id} job prepare_review_page: wall {wall:.1f} s  cpu {cpu:.1f} s  (load {_load()})",
            flush=True,
        )
        wall, cpu, state = open_page(review_id)
        print(
            f"review {review_id} stored ({state}) first: wall {wall * 1000:.0f} ms  cpu {cpu * 1000:.0f} ms  (load {_load()})",
            flush=True,
        )
        stored: list[tuple[float, float]] = []
        live: list[tuple[float, float]] = []
        for _ in range(args.rounds):
            w, c, state = open_page(review_id)
            stored.append((w, c))
            if not args.no_live:
                remove(review_id)
                w, c, _state = open_page(review_id)
                live.append((w, c))
                prepare(review_id)
        for mode, values in (("stored", stored), ("live", live)):
            if values:
                print(
                    f"review {review_id} {mode:6s} median wall {statistics.median(v[0] for v in values) * 1000:7.0f} ms"
                    f"  (min {min(v[0] for v in values) * 1000:.0f}, max {max(v[0] for v in values) * 1000:.0f})"
                    f"  cpu median {statistics.median(v[1] for v in values) * 1000:7.0f} ms  n={len(values)}  (load {_load()})",
                    flush=True,
                )
    print(f"load average after: {_load()}")
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
