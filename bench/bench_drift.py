"""Benchmark (issue 14): the change rule's measured false-alarm and detection rates.

200 simulated stable organisations of the demo's size (12 regions x 5 services, 10 answers per
region and week, one in five a phone callback rating three dimensions, 8 baseline + 4 recent
complete weeks; scoring.drift_power) looked at with the product's rule (customers' answers only:
CSAT, NPS, CES, each dimension and the perception index per unit; minimum n, exact tests,
Benjamini-Hochberg): the share of looks that flag anything must be at most 5%. Then 200
organisations with ONE planted drop in one region (CSAT 78% -> 35%, NPS +25 -> -45, CES about -1.5
of 7): the share of looks that find it must be at least 80%. Prints each rate with its 95%
Clopper-Pearson bounds, the seconds per look and the load average.
Run: python bench/bench_drift.py [organisations]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.drift_power import simulate_rates  # noqa: E402


def load_average() -> str:
    path = Path("/proc/loadavg")
    return path.read_text().strip() if path.exists() else "?"


def main(organisations: int = 200) -> None:
    print(f"load average before: {load_average()}")
    for planted in (None, "csat", "nps", "ces"):
        started = time.perf_counter()
        r = simulate_rates(organisations, seed=2026, planted=planted)
        per_look = (time.perf_counter() - started) / organisations
        what = "stable: looks flagging anything" if planted is None else f"planted {planted} drop: found"
        target = "<= 5%" if planted is None else ">= 80%"
        print(
            f"{what:36s} {r.looks_flagging:4d}/{r.organisations} = {100 * r.rate:5.1f}% "
            f"(one-sided 95% bounds {100 * r.ci_low:.1f}-{100 * r.ci_high:.1f}%, target {target}) "
            f"{per_look:.2f} s/look"
        )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
