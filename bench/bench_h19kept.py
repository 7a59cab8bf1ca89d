"""The manager's slow pages' first load in a second process, after another process computed them
(issue 19, perception.core.kept): main's code against this branch's, alternated.

    python bench/bench_h19kept.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_copy \\
        --main /tmp/perception_main [--rounds 2] [--only overview,kpis,attainment]

Each round runs, for each code tree, ``bench/bench_national.py --keep`` twice in a row as two
processes (the first computes, as a gunicorn worker or the process before a restart would; the
second is timed): on main each process keeps its results in its own memory, so the second
computes again; on this branch it finds them in ``kept_result``. Printed per page and period: the
second process's first load (wall and its process CPU), medians over the rounds, with the load
average before each run. ``--main`` is a checkout of main's code (``git archive main``); this
branch's bench_national.py is copied beside it so both print the same figures.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(\S+)\s+(\S+)\s+first\s+(\d+) ms.*first cpu\s+(\d+) ms\s+\(load ([^)]*)\)")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(tree: Path, url: str, only: str) -> dict[tuple[str, str], tuple[int, int, str]]:
    script = tree / "bench" / "bench_national.py"
    done = subprocess.run(
        [sys.executable, str(script), "--keep", "--url", url, "--only", only, "--repeat", "1"],
        capture_output=True,
        text=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{tree}: {done.stderr[-3000:]}")
    out = {}
    for line in done.stdout.splitlines():
        m = LINE.match(line)
        if m:
            out[(m[1], m[2])] = (int(m[3]), int(m[4]), m[5])
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--main", required=True, help="a checkout of main's code")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--only", default="overview,kpis,attainment")
    args = p.parse_args()
    trees = {"main": Path(args.main), "branch": HERE}
    (trees["main"] / "bench").mkdir(exist_ok=True)
    shutil.copy(HERE / "bench" / "bench_national.py", trees["main"] / "bench" / "bench_national.py")
    second: dict[str, dict[tuple[str, str], list[tuple[int, int]]]] = {k: defaultdict(list) for k in trees}
    for r in range(args.rounds):
        for name, tree in trees.items():
            print(f"round {r + 1} {name}: first process (load {_load()})", flush=True)
            first = run(tree, args.url, args.only)
            print(f"round {r + 1} {name}: second process (load {_load()})", flush=True)
            timed = run(tree, args.url, args.only)
            for key, (wall, cpu, load) in timed.items():
                second[name][key].append((wall, cpu))
                print(
                    f"  {key[0]:12s} {key[1]:4s} first process {first[key][0]:7d} ms  "
                    f"second process {wall:7d} ms  cpu {cpu:7d} ms  (load {load})",
                    flush=True,
                )
    print("\nsecond process, first load: medians over the rounds (wall / process CPU)")
    for key in second["main"]:
        cells = []
        for name in trees:
            found = second[name].get(key, [])
            if found:
                wall = statistics.median(w for w, _ in found)
                cpu = statistics.median(c for _, c in found)
                cells.append(f"{name} {wall:7.0f} / {cpu:6.0f} ms")
        print(f"  {key[0]:12s} {key[1]:4s} " + "   ".join(cells))
    print(f"load average at the end: {_load()}")


if __name__ == "__main__":
    main()
