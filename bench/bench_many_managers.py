"""Several managers open the same page at the same moment, nothing kept (issue 19): each one's wait.

    python bench/bench_many_managers.py --url postgresql+psycopg://.../national [--code /path/to/a/tree]
                                        [--page attainment] [--managers 4] [--rounds 1]

A database built by bench/bench_national.py (``--keep`` run once: the manager exists). Each round
empties ``kept_result``, starts one process per manager (each its own app and connections, as
gunicorn's workers), signs each in, and has all of them request the page at one agreed moment.
Printed per round: every manager's wall time (sorted), the processes' CPU in all, and the load
average. Where one process computes the page and the others wait for it (perception.core.kept on
PostgreSQL), the walls are alike and the CPU is one computation's; where each computes it, the CPU
is one per manager and the walls grow with the cores they share. ``--code``: import the
application from another tree (alternate a baseline and a change, one run each).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

PAGES = {
    "attainment": "/kpi/attainment",
    "overview": "/analysis/overview",
    "kpis": "/analysis/kpis",
    "experience": "/analysis/experience",
    "kpi_vs_experience": "/analysis/kpi-vs-experience",
}


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--code", default=str(Path(__file__).resolve().parent.parent))
    p.add_argument("--page", default="attainment", choices=sorted(PAGES))
    p.add_argument("--managers", type=int, default=4)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)  # a manager's process
    return p.parse_args()


def manager(args: argparse.Namespace) -> None:
    """One manager's process: sign in, wait for the agreed moment, open the page once."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, args.code)
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_first_load_instance")
    from bench_app import bench_app
    from bench_first_load import PASSWORD

    from perception.web.warmup import warm

    app = bench_app(args.url)
    warm(app)
    client = app.test_client()
    assert client.post("/login", data={"username": "bench.manager", "password": PASSWORD}).status_code == 302
    while time.time() < args.start_at:
        time.sleep(0.005)
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(PAGES[args.page])
    assert response.status_code == 200, response.status_code
    print(f"{time.perf_counter() - wall:.3f} {time.process_time() - cpu:.3f}", flush=True)


def _empty_kept(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM kept_result"))
    engine.dispose()


def main() -> None:
    args = _args()
    if args.start_at:
        manager(args)
        return
    for round_ in range(1, args.rounds + 1):
        _empty_kept(args.url)
        start = time.time() + 20 + 3 * args.managers  # after every process has started and signed in
        command = [sys.executable, __file__, "--url", args.url, "--code", args.code, "--page", args.page]
        procs = [
            subprocess.Popen([*command, "--start-at", str(start)], stdout=subprocess.PIPE, text=True)
            for _ in range(args.managers)
        ]
        lines = [p.communicate()[0].strip().splitlines()[-1] for p in procs]
        walls = sorted(float(line.split()[0]) for line in lines)
        cpu = sum(float(line.split()[1]) for line in lines)
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"{args.page} x{args.managers} round {round_} ({args.code}): walls "
            + ", ".join(f"{w:.2f}" for w in walls)
            + f" s; cpu in all {cpu:.1f} s (load {load})",
            flush=True,
        )


if __name__ == "__main__":
    main()
