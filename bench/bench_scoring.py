"""Benchmark: every grouped experience measure for 1,000,000 responses over
30 regions x 10 services x 26 periods (7,800 groups). Run: python bench/bench_scoring.py"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring import (  # noqa: E402
    bottom_box_by_group,
    ces_by_group,
    csat_by_group,
    group_index,
    mean_by_group,
    nps_by_group,
    perception_index_by_group,
    top_box_by_group,
)

N = 1_000_000
T = TypeVar("T")


def make_data(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ratings = rng.integers(1, 6, (N, 6)).astype(float)
    ratings[rng.random((N, 6)) < 0.1] = np.nan
    return {
        "region": rng.integers(0, 30, N),
        "service": rng.integers(0, 10, N),
        "period": rng.integers(0, 26, N),
        "csat": rng.integers(1, 6, N).astype(float),
        "ltr": rng.integers(0, 11, N).astype(float),
        "ces": rng.integers(1, 8, N).astype(float),
        "ratings": ratings,
    }


def main() -> None:
    d = make_data()
    timings: list[tuple[str, float]] = []

    def timed(label: str, fn: Callable[[], T]) -> T:
        t0 = time.perf_counter()
        out = fn()
        timings.append((label, time.perf_counter() - t0))
        return out

    start = time.perf_counter()
    index = timed("group index (3 keys)", lambda: group_index((d["region"], d["service"], d["period"]), N))
    timed("CSAT top-2 + Wilson", lambda: csat_by_group(d["csat"], index))
    timed("top box + Wilson", lambda: top_box_by_group(d["csat"], index))
    timed("bottom box + Wilson", lambda: bottom_box_by_group(d["csat"], index))
    timed("mean CSAT + t", lambda: mean_by_group(d["csat"], index, scale=(1, 5)))
    timed("NPS + score interval", lambda: nps_by_group(d["ltr"], index))
    timed("CES + t", lambda: ces_by_group(d["ces"], index))
    timed("perception index (6 dims)", lambda: perception_index_by_group(d["ratings"], index))
    total = time.perf_counter() - start
    print(f"{N:,} responses, {index.n_groups:,} groups (30 regions x 10 services x 26 periods)")
    for label, seconds in timings:
        print(f"  {label:<28s} {seconds:7.3f} s")
    print(f"  {'total':<28s} {total:7.3f} s")


if __name__ == "__main__":
    main()
