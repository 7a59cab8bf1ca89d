"""The refresh of the experience running sums after answers of the current week (issue 19).

    python bench/bench_h21cum_refresh.py --url postgresql+psycopg://.../copy [--code /path/to/a/tree]
                                         [--repeat 3]

On a copy of a database built by bench/bench_national.py (it writes). Brings the pre-aggregate and
the running sums up to the facts first (untimed), then ``--repeat`` times: one survey answer of the
current week (bench_first_load.write_an_answer: declared, as the answer path writes it), then
services.rollup.refresh_rollup, timing the whole and, inside it, refresh_experience_cumulative
(the weeks from the split alone where the code under test can); then the running sums rebuilt
whole (``full=True`` where the code has it, else ``force=True``) for comparison. The answers' rows
are left (bench_first_load --after answer removes them at its end).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--code", default=str(Path(__file__).resolve().parent.parent))
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    sys.path.insert(0, args.code)
    sys.path.insert(1, str(Path(__file__).resolve().parent))
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_first_load_instance")
    import inspect

    from bench_app import bench_app
    from bench_first_load import write_an_answer

    import perception
    from perception.analysis.services import experience_cumulative as ec
    from perception.analysis.services.rollup import refresh_rollup
    from perception.core.extensions import db

    app = bench_app(args.url)
    print(f"code {Path(perception.__file__).parent.parent}  load {_load()}")
    timed: list[float] = []
    build = ec.refresh_experience_cumulative

    def timing(*a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        try:
            return build(*a, **k)
        finally:
            timed.append(time.perf_counter() - t)

    ec.refresh_experience_cumulative = timing  # type: ignore[assignment]
    with app.app_context():
        t = time.perf_counter()
        refresh_rollup(db.session)
        db.session.commit()
        print(f"brought up to the facts: {time.perf_counter() - t:.1f} s", flush=True)
    walls, mine = [], []
    for _ in range(args.repeat):
        write_an_answer(app)
        timed.clear()
        with app.app_context():
            t = time.perf_counter()
            refresh_rollup(db.session)
            db.session.commit()
            walls.append(time.perf_counter() - t)
        mine.append(sum(timed))
        print(
            f"after an answer: refresh_rollup {walls[-1] * 1000:.0f} ms, "
            f"running sums {mine[-1] * 1000:.0f} ms"
        )
    ec.refresh_experience_cumulative = build  # type: ignore[assignment]
    whole = {"full": True} if "full" in inspect.signature(build).parameters else {}
    with app.app_context():
        t = time.perf_counter()
        written = build(db.session, force=True, **whole)
        db.session.commit()
        print(
            f"running sums rebuilt whole: {(time.perf_counter() - t) * 1000:.0f} ms ({written} rows written)"
        )
        db.engine.dispose()
    print(
        f"median after an answer: refresh_rollup {statistics.median(walls) * 1000:.0f} ms, running sums "
        f"{statistics.median(mine) * 1000:.0f} ms; load {_load()}"
    )


if __name__ == "__main__":
    main()
