"""Peak resident memory of the ticket import against the file's length (issue 19: flat memory).

    python bench/bench_import_memory.py [--rows 100000 1000000] [--postgres | --only-postgres]

For each size a CSV of generated tickets (bench_ticket_import.ticket_rows, written in blocks) is
imported by ``import_tickets`` from its path, as ``perception kpi import-tickets FILE --apply``
does, in a fresh child process on a fresh database. Each child reports its peak resident set
(``VmHWM`` of /proc/self/status; ``getrusage``'s ``ru_maxrss`` elsewhere) and its time. Beside
each import, three baselines run in their own children:
- ``read``: the same file read row by row with the csv module and nothing else (the floor of any
  streaming import: the interpreter and the row in hand);
- ``app``: the application created and the organisation loaded, no file (what the import's
  process holds before it reads a row);
- ``read whole``: the file read into memory as the import did before it streamed (bytes,
  decoded text, a list of rows): what the old import held before it validated anything.
``--modes import_bytes`` passes the file's bytes instead of its path; with PERCEPTION_BENCH_CODE
pointing at another checkout it measures that code (the import before it streamed). The load
average is printed before each run (the machine is shared). Rows/s counts the import's
whole time (read, validate, stage, write, commit).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
# PERCEPTION_BENCH_CODE: another checkout's perception/ to measure (e.g. main, before a change)
sys.path.insert(0, os.environ.get("PERCEPTION_BENCH_CODE", str(ROOT)))

from bench_ticket_import import HEADER, PG_URL, ensure_pg_database, ticket_rows  # noqa: E402

BLOCK = 100_000


def write_csv(path: Path, rows: int) -> None:
    """``rows`` tickets with distinct ids, generated and written a block at a time."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for start in range(0, rows, BLOCK):
            block = ticket_rows(min(BLOCK, rows - start), seed=start)
            writer.writerows((f"INC{start + i:08d}", *row[1:]) for i, row in enumerate(block))


def _peak_mb() -> float:
    """This process's peak resident set. /proc's VmHWM belongs to the address space the child's
    exec created; getrusage's ru_maxrss is kept across exec, so a child would report the
    parent's peak at fork (the generator's) when that was higher."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: KiB or bytes


def child(mode: str, path: Path, url: str) -> dict[str, float]:
    started = time.perf_counter()
    if mode == "read":
        with path.open(newline="", encoding="utf-8") as stream:
            count = sum(1 for _ in csv.reader(stream)) - 1
        return {"rows": count, "seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}
    if mode == "read_whole":
        data = path.read_bytes()
        rows = list(csv.reader(data.decode("utf-8").splitlines()))
        return {"rows": len(rows) - 1, "seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}
    from bench_ticket_import import fresh_schema, make_app

    app = make_app(url)
    fresh_schema(app)
    if mode == "app":
        from perception.core.extensions import db
        from perception.kpi.services.codebook import Codebook

        with app.app_context():
            Codebook.load(db.session)
        return {"rows": 0, "seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}
    from perception.core.extensions import db
    from perception.kpi.services.ticket_import import ImportOptions, import_tickets

    with app.app_context():
        started = time.perf_counter()
        options = ImportOptions(dry_run=False, max_bytes=1 << 40)
        # "import_bytes": the file's bytes, as code from before streaming took them
        data = path.read_bytes() if mode == "import_bytes" else path
        result = import_tickets(db.session, options, data=data, filename=path.name)
        db.session.commit()
    return {"rows": result.rows_new, "seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}


def measure(mode: str, path: Path, url: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), url],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PERCEPTION_INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-mem-")},
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (PG_URL)")
    parser.add_argument("--only-postgres", action="store_true", help="PostgreSQL alone")
    parser.add_argument("--modes", nargs="+", default=["read", "read_whole", "app", "import"])
    parser.add_argument("--child", nargs=3, metavar=("MODE", "PATH", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, path, url = args.child
        print(json.dumps(child(mode, Path(path), url)))
        return
    pg = (args.postgres or args.only_postgres) and ensure_pg_database(PG_URL)
    backends = ([] if args.only_postgres else ["sqlite"]) + (["postgres"] if pg else [])
    print(f"{os.cpu_count()} CPUs; peak resident set (MB) of a child process per run")
    print(f"{'rows':>10} {'backend':9} {'run':11} {'peak MB':>8} {'seconds':>8} {'rows/s':>9}  load")
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            path = Path(folder) / f"tickets_{rows}.csv"
            write_csv(path, rows)
            size = path.stat().st_size / 1e6
            for backend in backends:
                url = f"sqlite:///{folder}/mem_{rows}.sqlite" if backend == "sqlite" else PG_URL
                for mode in args.modes:
                    if mode == "read_whole" and backend != "sqlite":
                        continue  # the file alone: the same on every database
                    load = os.getloadavg()[0]
                    got = measure(mode, path, url)
                    timed = got["rows"] and mode.startswith("import")
                    rate = f"{got['rows'] / got['seconds']:9,.0f}" if timed else ""
                    print(
                        f"{rows:>10,} {backend:9} {mode:11} {got['peak_mb']:8.0f} {got['seconds']:8.1f} "
                        f"{rate:>9}  {load:.2f}",
                        flush=True,
                    )
            print(f"{'':>10} ({size:.0f} MB of CSV)", flush=True)
            path.unlink()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
