# ruff: noqa: E501 - printed figures
"""A manager's dashboard pages opened again, with their charts (perception.reporting.drawn).

    python bench/bench_charts.py [--weeks 26] [--rounds 7]

Loads the demo (``--weeks`` of it) into a SQLite file of its own, signs in as the demo's manager
with the test client, and opens each dashboard page then every chart ``<img>`` it shows, as a
browser with an empty cache does (another manager, another tab, a reload after a minute). Rounds
alternate: "drawn once" keeps the charts as the product does; "drawn each time" forgets them before
every chart request, which is what every request did before ("drawn once" opens the page once,
untimed, before its timed load: someone opened it before). The pages' own views are kept in both
(perception.core.kept), as they are for a manager. Prints per page the median wall time of the
page and its charts, the CPU of this process, and the load average.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAGES = ("/analysis/overview", "/analysis/kpis", "/analysis/kpi-vs-experience", "/analysis/experience")
IMG = re.compile(r'<img[^>]+src="(/analysis/chart/[^"]+)"')


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--weeks", type=int, default=26)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()

    from perception import create_app
    from perception.core.demo import DEMO_PASSWORD, load_demo
    from perception.core.extensions import db
    from perception.reporting import drawn

    folder = Path(tempfile.mkdtemp(prefix="bench-charts-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite'}",
            "SECRET_KEY": "bench-secret-key-which-is-long-enough-0123456789",
            "REDIS_URL": None,
            "JOBS_BACKGROUND": False,
            "WTF_CSRF_ENABLED": False,
        }
    )
    t = time.perf_counter()
    with app.app_context():
        db.create_all()
        load_demo(db.session, weeks=args.weeks)
        db.session.commit()
    print(f"demo of {args.weeks} weeks loaded in {time.perf_counter() - t:.0f} s", flush=True)

    client = app.test_client()
    signed = client.post("/login", data={"username": "manager", "password": DEMO_PASSWORD})
    assert signed.status_code == 302, signed.status_code

    def open_page(path: str, forget: bool) -> tuple[float, float, int]:
        wall, cpu = time.perf_counter(), time.process_time()
        page = client.get(path, headers={"Accept-Language": "zh-CN"})
        assert page.status_code == 200, (path, page.status_code)
        charts = IMG.findall(page.get_data(as_text=True))
        for chart in charts:
            if forget:
                drawn.forget()
            answer = client.get(chart.replace("&amp;", "&"), headers={"Accept-Language": "zh-CN"})
            assert answer.status_code == 200, (chart, answer.status_code)
        return time.perf_counter() - wall, time.process_time() - cpu, len(charts)

    for path in PAGES:  # every view computed and kept once, and every chart drawn once
        open_page(path, forget=False)
    results: dict[tuple[str, bool], list[tuple[float, float]]] = {}
    counts: dict[str, int] = {}
    for _ in range(args.rounds):
        for forget in (False, True):
            for path in PAGES:
                if not forget:  # as a manager meets it: someone opened the page before
                    open_page(path, forget=False)
                wall, cpu, counts[path] = open_page(path, forget)
                results.setdefault((path, forget), []).append((wall, cpu))
    print(f"medians of {args.rounds} alternated rounds; load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for path in PAGES:
        kept, each = results[(path, False)], results[(path, True)]
        med = lambda rows, i: 1000 * statistics.median(r[i] for r in rows)  # noqa: E731
        print(
            f"{path:32s} {counts[path]:2d} charts  drawn once {med(kept, 0):6.0f} ms (cpu {med(kept, 1):6.0f})"
            f"  drawn each time {med(each, 0):6.0f} ms (cpu {med(each, 1):6.0f})"
        )


if __name__ == "__main__":
    main()
