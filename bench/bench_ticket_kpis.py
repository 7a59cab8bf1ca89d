"""Benchmark: 1,000,000 synthetic tickets over 26 weeks.

Prints seconds for `business_seconds_array` (first response and resolution on a mon-fri 09-18
Europe/London calendar with holidays, spanning a DST change) and for the grouped KPIs over ~10,000
groups. Run: python bench/bench_ticket_kpis.py [n_tickets]
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.calendar import BusinessCalendar, business_seconds_array  # noqa: E402
from scoring.ticket_kpis import ticket_kpis  # noqa: E402


def main(n: int = 1_000_000, n_groups: int = 10_000) -> None:
    rng = np.random.default_rng(42)
    cal = BusinessCalendar.parse(
        "mon-fri 09:00-18:00; sat 09:00-12:00",
        holidays={date(2024, 4, 1), date(2024, 5, 6), date(2024, 5, 27), date(2024, 8, 26)},
        tz="Europe/London",
    )
    start = np.datetime64("2024-03-04T00:00:00", "s")
    opened = start + rng.integers(0, 26 * 7 * 86_400, n).astype("timedelta64[s]")
    responded = opened + rng.exponential(4 * 3600, n).astype("timedelta64[s]")
    resolved = responded + rng.gamma(1.5, 2 * 86_400, n).astype("timedelta64[s]")
    resolved[rng.random(n) < 0.08] = np.datetime64("NaT")
    groups = rng.integers(0, n_groups, n)

    t0 = time.perf_counter()
    response_s = business_seconds_array(cal, opened, responded)
    resolution_s = business_seconds_array(cal, opened, resolved)
    t1 = time.perf_counter()
    kpis = ticket_kpis(
        groups,
        response_s,
        resolution_s,
        rng.poisson(0.1, n),
        n_groups=n_groups,
        first_contact=rng.random(n) < 0.7,
        response_target_s=np.full(n_groups, 4 * 3600.0),
        resolution_target_s=np.full(n_groups, 5 * 9 * 3600.0),
    )
    t2 = time.perf_counter()
    print(f"tickets: {n:,}  groups: {n_groups:,}")
    print(f"business_seconds_array x2 ({2 * n:,} pairs): {t1 - t0:.3f} s ({(t1 - t0) / 2:.3f} s per {n:,})")
    print(f"ticket_kpis: {t2 - t1:.3f} s")
    print(
        f"check: median group p90 response {np.nanmedian(kpis.response_p90) / 3600:.2f} h, "
        f"mean backlog {kpis.backlog.mean():.1f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
