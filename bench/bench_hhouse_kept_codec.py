"""Writing and reading a kept result's stored form (perception.core.kept), at a national provider's
size, with no database: the part of a kept page's first load in a second process that the codec
costs (read: zlib + JSON + typed decode), and what storing adds to the process that computed it.

    python bench/bench_hhouse_kept_codec.py [--repeat 7]
    PYTHONPATH=/tmp/perception_main python /work/wt/<branch>/bench/bench_hhouse_kept_codec.py

The second form times another tree's code (``git archive`` of main): a tree whose kept.py has no
``codec`` is driven the way its Kept stores rows (encode, json.dumps, zlib level 1). The results
are synthetic, made of the pages' own dataclasses at the sizes of bench_national.py (100 regions x
50 services, 3 KPIs a service): the change look over 5,151 units x 6 measures (the overview),
the internal-KPI page over 52 weeks with its 15,000 region cells, the SLA attainment page over 5
months with 200 breaches. Printed per page: the payload's size, then the medians of ``--repeat``
runs of writing and of reading, wall and process CPU, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from perception.analysis.services import changes, kpis  # noqa: E402
from perception.analysis.services.filters import AnalysisFilters  # noqa: E402
from perception.core import kept  # noqa: E402
from perception.kpi.services import attainment_kept, sla  # noqa: E402
from scoring.attainment import standard_attainment  # noqa: E402
from scoring.drift import ChangeLook, ChangeTest  # noqa: E402

REGIONS, SERVICES, KPIS = 100, 50, 3
MEASURES = ("csat", "nps", "ces", "index", "dim_reliability", "dim_empathy")
NOW = datetime(2026, 5, 1, 8, 0)
rng = random.Random(19)


def _value() -> float:
    return float("nan") if rng.random() < 0.1 else round(rng.uniform(60, 100), 6) + rng.random() * 1e-9


def _attainment(periods: list[Any]) -> Any:
    return standard_attainment(periods, [_value() for _ in periods], ">=", [85.0] * len(periods))


def change_look() -> changes.ChangeView:
    units: list[Any] = ["all"]
    units += [("region", r) for r in range(1, REGIONS + 1)]
    units += [("service", s) for s in range(1, SERVICES + 1)]
    units += [("cell", r, s) for r in range(1, REGIONS + 1) for s in range(1, SERVICES + 1)]
    tests = []
    for unit in units:
        for measure in MEASURES:
            tested = rng.random() < 0.6
            p = rng.random() if tested else float("nan")
            n = (rng.randrange(1000), rng.randrange(300))
            method, reason = ("two_proportion_z", "") if tested else ("", "low_n")
            q = p * 1.7 if tested else float("nan")
            test = ChangeTest(
                unit,
                measure,
                _value(),
                _value(),
                *n,
                rng.uniform(-5, 5),
                tested,
                reason,
                method,
                p,
                q,
                p < 0.003,
            )
            tests.append(test)
    look = ChangeLook(tuple(tests), 0.05, 30, 30, "bh", sum(t.tested for t in tests))
    flags = tuple(
        changes.ChangeRow(
            t.unit if isinstance(t.unit, tuple) else (t.unit,), 3, 7, "华北区", "North", "桌面支持", "Desk", t
        )
        for t in tests
        if t.flagged
    )
    window = changes.ChangeWindow(date(2026, 1, 5), date(2026, 3, 30), date(2026, 4, 27))
    return changes.ChangeView(window, look, flags, NOW)


def kpi_page() -> kpis._Core:
    weeks = [date(2025, 4, 28) + timedelta(weeks=i) for i in range(52)]
    labels = [w.isoformat() for w in weeks]
    filters = AnalysisFilters(weeks[0], weeks[-1] + timedelta(weeks=1), frozenset(range(1, REGIONS + 1)))

    def row(d: int, s: int, r: int | None) -> kpis.AttainmentRow:
        code, region = f"SVC-{s:03d}", f"R{r}" if r else ""
        names = (f"KPI-{d}", "首次解决率", "First-time fix", "%")
        return kpis.AttainmentRow(d, *names, s, code, r, region, _attainment(labels))

    summary = tuple(row(d, s, None) for s in range(1, SERVICES + 1) for d in range(1, KPIS + 1))
    by_region = tuple(
        row(1 + i % KPIS, 1 + i % SERVICES, 1 + i % REGIONS) for i in range(kpis.REGION_PAGE_SIZE)
    )
    breaches = tuple(
        kpis.Breach(
            "KPI-1", f"SVC-{i % 50:03d}", i % 100, f"R{i % 100}", "gold", weeks[i % 52], _value(), 85.0, ">="
        )
        for i in range(200)
    )
    trends = tuple(
        kpis.KpiTrend(
            d,
            f"KPI-{d}",
            "首次解决率",
            "First-time fix",
            tuple(weeks),
            tuple(_value() for _ in weeks),
            85.0,
            ">=",
        )
        for d in range(1, KPIS + 1)
    )
    cells = tuple(
        (d, s, r) for r in range(1, REGIONS + 1) for s in range(1, SERVICES + 1) for d in range(1, KPIS + 1)
    )
    view = kpis.KpiAnalysisView(filters, summary, by_region, breaches, 200, trends, len(cells), 1, 300, NOW)
    return kpis._Core(view, cells)


def attainment_page() -> attainment_kept.KeptAttainment:
    labels = ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05")
    rows = tuple(
        sla.StandardAttainment(
            i,
            f"STD-{i}",
            1 + i // 2,
            sla.KINDS[i % 2],
            labels,
            tuple(rng.randrange(20000) for _ in labels),
            tuple(rng.randrange(20000) for _ in labels),
            _attainment(list(labels)),
        )
        for i in range(2 * SERVICES)
    )
    breaches = tuple(
        sla.Breach(
            i,
            f"INC{i:08d}",
            f"SVC-{i % 50:03d}",
            f"R{i % 100}",
            None if i % 3 else f"C{i}",
            "P2",
            sla.KINDS[i % 2],
            NOW - timedelta(minutes=i * 37),
            60.0,
            60.0 + i * 1.25,
            i * 1.25,
            i % 5 == 0,
            i % 7,
        )
        for i in range(200)
    )
    return attainment_kept.KeptAttainment(rows, breaches, NOW)


if hasattr(kept, "codec"):

    def write(tp: Any, value: Any) -> bytes:
        return zlib.compress(kept.codec(tp).dumps(value), 1)

    def read(tp: Any, payload: bytes) -> Any:
        return kept.codec(tp).loads(zlib.decompress(payload))

else:  # main before the pydantic codec: as its Kept._store and Kept._read do

    def write(tp: Any, value: Any) -> bytes:
        data = json.dumps(kept.encode(tp, value), ensure_ascii=False, separators=(",", ":"))
        return zlib.compress(data.encode(), 1)

    def read(tp: Any, payload: bytes) -> Any:
        return kept.decode(tp, json.loads(zlib.decompress(payload)))


def _timed(fn: Any, repeat: int) -> tuple[float, float, Any]:
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args()
    print(f"kept.py of {Path(kept.__file__).resolve().parent.parent.parent}")
    pages = {
        "change look": (changes.ChangeView, change_look()),
        "kpis 52 wk": (kpis._Core, kpi_page()),
        "attainment": (attainment_kept.KeptAttainment, attainment_page()),
    }
    for name, (tp, value) in pages.items():
        first = time.perf_counter()
        payload = write(tp, value)  # the first call also builds the codec
        first_ms = (time.perf_counter() - first) * 1000
        assert repr(read(tp, payload)) == repr(value), name
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        w_wall, w_cpu, payload = _timed(lambda tp=tp, value=value: write(tp, value), args.repeat)
        r_wall, r_cpu, _ = _timed(lambda tp=tp, payload=payload: read(tp, payload), args.repeat)
        raw = len(zlib.decompress(payload))
        print(
            f"{name:12s} {raw / 1e6:6.2f} MB JSON, {len(payload) / 1e6:5.2f} MB stored | "
            f"write {w_wall:7.1f} ms (cpu {w_cpu:7.1f}) | read {r_wall:7.1f} ms (cpu {r_cpu:7.1f}) | "
            f"first write {first_ms:7.1f} ms | load {load}",
            flush=True,
        )


if __name__ == "__main__":
    main()
