# ruff: noqa: E501 - printed figures
"""The change look alone (issue 19): its inputs grouped from histogram rows (services.changes.
build_inputs) and its tests (scoring.drift.detect_drops), at a national provider's size without a
database: the rows the look's query returns are drawn as bench_national.py draws the responses
(CSAT for each, NPS / the six dimensions / CES for a quarter each), 12 weeks of them. The rows'
columns are timed apart (``columns``: Histogram.of_rows, the SQLite path; PostgreSQL sends the
columns themselves) from the grouping (``build_inputs``, from the columns).

    python bench/bench_change_look.py [--scale 1.0] [--repeat 3]

Prints wall and process CPU time (median of ``--repeat``) of each step with the load average, and
the largest three-category table the tests meet (the whole organisation's NPS).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring.index import FEEDBACK_DIMENSIONS  # noqa: E402 - after the path set-up

DIMS = tuple(code for code, _, _ in FEEDBACK_DIMENSIONS)


def histogram_rows(scale: float, regions: int = 100, services: int = 50) -> list[tuple[Any, ...]]:
    """(recent, region, service, kind, dimension, scale_min, scale_max, value, count) as the look's
    GROUP BY returns them: 3M x scale responses over 104 weeks, the last 12 (4 recent)."""
    rng = np.random.default_rng(1)
    n = int(3_000_000 * scale * 12 / 104)
    region = rng.integers(1, regions + 1, n)
    service = rng.integers(1, services + 1, n)
    recent = rng.random(n) < 4 / 12
    v = rng.choice([1, 2, 3, 4, 5], n, p=[0.03, 0.05, 0.14, 0.38, 0.40])
    form = np.arange(n) % 4
    parts = [(np.ones(n, bool), "csat", "", 1, 5, v)]
    m = form == 1
    parts.append((m, "nps", "", 0, 10, np.clip(2 * v + rng.integers(-1, 2, n), 0, 10)))
    m3 = form == 3
    parts.append((m3, "ces", "", 1, 7, np.clip(v + 2 + rng.integers(-1, 2, n), 1, 7)))
    m2 = form == 2
    for d in DIMS:
        parts.append((m2, "likert", d, 1, 5, np.clip(v + rng.integers(-1, 2, n), 1, 5)))
    rows: list[tuple[Any, ...]] = []
    for mask, kind, dim, lo, hi, value in parts:
        key = np.stack([recent[mask].astype(int), region[mask], service[mask], value[mask]])
        found, count = np.unique(key, axis=1, return_counts=True)
        for (r, a, b, x), c in zip(found.T.tolist(), count.tolist(), strict=True):
            rows.append((bool(r), a, b, kind, dim or None, float(lo), float(hi), float(x), c))
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    from perception.analysis.services.changes import Histogram, build_inputs
    from scoring.drift import detect_drops

    rows = histogram_rows(args.scale)
    print(f"scale {args.scale}: {len(rows):,} histogram rows; load {os.getloadavg()[0]:.1f}", flush=True)
    times: dict[str, list[tuple[float, float]]] = {"columns": [], "build_inputs": [], "detect_drops": []}
    for _ in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        columns = Histogram.of_rows(rows)
        times["columns"].append((time.perf_counter() - t, time.process_time() - c))
        t, c = time.perf_counter(), time.process_time()
        scored, indices = build_inputs(columns)
        times["build_inputs"].append((time.perf_counter() - t, time.process_time() - c))
        t, c = time.perf_counter(), time.process_time()
        look = detect_drops(scored, indices)
        times["detect_drops"].append((time.perf_counter() - t, time.process_time() - c))
    for step, runs in times.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(
            f"{step:14s} median {wall * 1000:7.0f} ms wall  {cpu * 1000:7.0f} ms cpu  (load {os.getloadavg()[0]:.1f})"
        )
    print(
        f"inputs {len(scored):,} + {len(indices):,} index; tested {look.n_tested:,}; flagged {len(look.flags)}"
    )
    nps = max((s for s in scored.inputs() if s.measure == "nps"), key=lambda s: sum(s.recent))
    pooled = [a + b for a, b in zip(nps.baseline, nps.recent, strict=True)]
    n = min(sum(nps.baseline), sum(nps.recent))
    cells = (min(pooled[0], n) + 1) * (min(pooled[1], n) + 1)
    print(f"largest NPS test {nps.unit}: pooled {pooled}, n {n}: the whole (x, y) table {cells:,} cells")


if __name__ == "__main__":
    main()
