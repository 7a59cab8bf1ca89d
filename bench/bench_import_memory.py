"""Peak resident memory of the ticket import against the file's length (issue 19: flat memory).

    python bench/bench_import_memory.py [--rows 100000 1000000] [--postgres | --only-postgres]
        [--times iso|excel] [--order shuffled|opened]

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
  decoded text, a list of rows): what the old import held before it validated anything;
- ``raw``: the raw-insert rate the issue compares the import with: the file's rows read with the
  csv module and written untouched (PostgreSQL ``COPY``, SQLite ``executemany``) into an
  index-free table of text columns, in blocks of 100,000 rows; its rows/s counts the write alone
  (as bench_ticket_import's baseline, which writes tuples already in memory), and the line says
  the rate with the reading.
``--modes import_bytes`` passes the file's bytes instead of its path; with PERCEPTION_BENCH_CODE
pointing at another checkout it measures that code (the import before it streamed). ``--code
NAME=DIR ...`` measures several checkouts' imports alternately on the same file in one run (a
checkout whose import takes bytes only is given the bytes), e.g. the code before the import
streamed, main and this branch:

    git archive 57be95c perception scoring surveys | tar -x -C /tmp/old
    git archive main perception scoring surveys | tar -x -C /tmp/main
    python bench/bench_import_memory.py --only-postgres --rows 1000000 --modes raw import \
        --code before=/tmp/old main=/tmp/main branch=. The load
average is printed before each run (the machine is shared). Rows/s counts the import's
whole time (read, validate, stage, write, commit); its steps (read/validate, stage, write) follow
on the next line, and the import's rate as a share of ``raw``'s.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
# PERCEPTION_BENCH_CODE: another checkout's perception/ to measure (e.g. main, before a change)
sys.path.insert(0, os.environ.get("PERCEPTION_BENCH_CODE", str(ROOT)))

from bench_ticket_import import HEADER, PG_URL, ensure_pg_database, ticket_rows  # noqa: E402

BLOCK = 100_000


TIME_CELLS = slice(7, 11)  # opened, first_response, resolved, closed in bench_ticket_import.HEADER


def excel_time(iso: str) -> str:
    """ "2026-03-02 09:05:00" as a Chinese Excel writes it to CSV: "2026/3/2 9:05"."""
    if not iso:
        return iso
    return f"{iso[:4]}/{int(iso[5:7])}/{int(iso[8:10])} {int(iso[11:13])}:{iso[14:16]}"


def write_csv(path: Path, rows: int, times: str = "iso", order: str = "shuffled") -> None:
    """``rows`` tickets with distinct ids, generated and written a block at a time; ``times``
    "excel" writes the times as Chinese Excel does ("2026/3/2 9:05", no seconds). ``order``
    "shuffled": each ticket opened at a random moment of the 26 weeks whatever its id (the
    ticket table's (region, opened) index then takes every insert at a random place); "opened":
    the ids follow the opening times, as a service desk numbers its tickets and lists them."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for start in range(0, rows, BLOCK):
            size = min(BLOCK, rows - start)
            window = (start / rows, (start + size) / rows) if order == "opened" else None
            block = ticket_rows(size, seed=start, window=window)
            if times == "excel":
                block = [(*r[:7], *map(excel_time, r[TIME_CELLS]), *r[11:]) for r in block]
            writer.writerows((f"INC{start + i:08d}", *row[1:]) for i, row in enumerate(block))


def _cpu_s() -> float:
    """This process's CPU seconds (user + system): on a shared machine the wall time says little;
    the database server's own CPU (the set-based statements, COPY) is not in it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    """This process's peak resident set. /proc's VmHWM belongs to the address space the child's
    exec created; getrusage's ru_maxrss is kept across exec, so a child would report the
    parent's peak at fork (the generator's) when that was higher."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: KiB or bytes


def _backend_pid(conn: Any) -> int | None:
    """The pid of the PostgreSQL backend serving ``conn`` (the server runs on this machine)."""
    if conn.dialect.name != "postgresql":
        return None
    return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())


def _server_cpu_s(pid: int | None) -> float | None:
    """That backend's CPU seconds (user + system, from /proc), or None (SQLite, /proc unreadable).
    A parallel worker's CPU is not in it."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(mode: str, path: Path, url: str) -> dict[str, Any]:
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
    if mode == "raw":
        return _raw(app, path)
    if mode == "app":
        from perception.core.extensions import db
        from perception.kpi.services.codebook import Codebook

        with app.app_context():
            Codebook.load(db.session)
        return {"rows": 0, "seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}
    from perception.core.extensions import db
    from perception.kpi.services.ticket_import import ImportOptions, import_tickets

    with app.app_context():
        pid = _backend_pid(db.session.connection())
        server_before = _server_cpu_s(pid)
        started = time.perf_counter()
        options = ImportOptions(dry_run=False, max_bytes=1 << 40)
        # "import_bytes": the file's bytes, as code from before streaming took them
        data = path.read_bytes() if mode == "import_bytes" else path
        result = import_tickets(db.session, options, data=data, filename=path.name)
        db.session.commit()
        server_after = _server_cpu_s(pid)  # the pooled connection's backend lives on
    return {
        "server_cpu_s": None
        if server_before is None or server_after is None
        else server_after - server_before,
        "rows": result.rows_new,
        "seconds": time.perf_counter() - started,
        "peak_mb": _peak_mb(),
        "cpu_s": _cpu_s(),
        "steps": dict(getattr(result, "phases", ()) or ()),
    }


def _raw(app: object, path: Path) -> dict[str, float]:
    """The file's rows written raw into an index-free temporary table (rolled back)."""
    from perception.core.extensions import db

    with app.app_context():  # type: ignore[attr-defined]
        conn = db.session.connection()
        raw = conn.connection.driver_connection
        pg = conn.dialect.name == "postgresql"
        started = time.perf_counter()
        written = 0.0
        count = 0
        with path.open(newline="", encoding="utf-8") as stream:
            reader = csv.reader(stream)
            width = len(next(reader))
            cols = ", ".join(f"c{i} TEXT" for i in range(width))
            conn.exec_driver_sql(f"CREATE TEMPORARY TABLE raw_baseline ({cols})")
            marks = ", ".join("?" for _ in range(width))
            while block := list(itertools.islice(reader, BLOCK)):
                at = time.perf_counter()
                if pg:
                    with raw.cursor() as cur, cur.copy("COPY raw_baseline FROM STDIN") as copy:
                        for row in block:
                            copy.write_row(row)
                else:
                    raw.cursor().executemany(f"INSERT INTO temp.raw_baseline VALUES ({marks})", block)  # noqa: S608
                written += time.perf_counter() - at
                count += len(block)
        total = time.perf_counter() - started
        db.session.rollback()
    return {"rows": count, "seconds": written, "with_read": total, "peak_mb": _peak_mb()}


def measure(mode: str, path: Path, url: str, code: str | None = None) -> dict[str, Any]:
    env = {**os.environ, "PERCEPTION_INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-mem-")}
    if code is not None:
        env["PERCEPTION_BENCH_CODE"] = str(Path(code).resolve())
        if mode == "import" and "bytes | None = None" in _import_signature(code):
            mode = "import_bytes"  # that checkout's import reads bytes only
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), url],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _import_signature(code: str) -> str:
    text = (Path(code) / "perception/kpi/services/ticket_import.py").read_text(encoding="utf-8")
    start = text.index("def import_tickets(")
    return text[start : text.index(")", text.index("data:", start))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (PG_URL)")
    parser.add_argument("--only-postgres", action="store_true", help="PostgreSQL alone")
    parser.add_argument("--modes", nargs="+", default=["read", "read_whole", "app", "raw", "import"])
    parser.add_argument("--times", choices=("iso", "excel"), default="iso",
                        help='times as "2026-03-02 09:05:00" or "2026/3/2 9:05"')  # fmt: skip
    parser.add_argument("--order", choices=("shuffled", "opened"), default="shuffled",
                        help="ticket ids at random moments, or in opening order")  # fmt: skip
    parser.add_argument("--code", nargs="+", default=[], metavar="NAME=DIR",
                        help="measure each checkout's import in turn (alternated, same file)")  # fmt: skip
    parser.add_argument("--child", nargs=3, metavar=("MODE", "PATH", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, path, url = args.child
        print(json.dumps(child(mode, Path(path), url)))
        return
    codes: list[tuple[str, str | None]] = [tuple(c.split("=", 1)) for c in args.code] or [("", None)]  # type: ignore[misc]
    pg = (args.postgres or args.only_postgres) and ensure_pg_database(PG_URL)
    backends = ([] if args.only_postgres else ["sqlite"]) + (["postgres"] if pg else [])
    print(f"{os.cpu_count()} CPUs; peak resident set (MB) of a child process per run; tickets {args.order}")
    print(f"{'rows':>10} {'backend':9} {'run':14} {'peak MB':>8} {'seconds':>8} {'rows/s':>9}  load")
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            path = Path(folder) / f"tickets_{rows}.csv"
            write_csv(path, rows, args.times, args.order)
            size = path.stat().st_size / 1e6
            for backend in backends:
                url = f"sqlite:///{folder}/mem_{rows}.sqlite" if backend == "sqlite" else PG_URL
                raw_rate = 0.0
                runs = [
                    (mode, name, code)
                    for mode in args.modes
                    for name, code in (codes if mode.startswith("import") else [("", None)])
                ]
                for mode, name, code in runs:
                    if mode == "read_whole" and backend != "sqlite":
                        continue  # the file alone: the same on every database
                    load = os.getloadavg()[0]
                    got = measure(mode, path, url, code)
                    mode = f"{mode} {name}".strip() if name else mode
                    timed = got["rows"] and (mode.startswith("import") or mode == "raw")
                    rate = f"{got['rows'] / got['seconds']:9,.0f}" if timed else ""
                    print(
                        f"{rows:>10,} {backend:9} {mode:14} {got['peak_mb']:8.0f} {got['seconds']:8.1f} "
                        f"{rate:>9}  {load:.2f}",
                        flush=True,
                    )
                    if mode == "raw" and got["rows"]:
                        raw_rate = got["rows"] / got["seconds"]
                        print(
                            f"{'':>10} {'':9} {'':14} (with reading the CSV: {got['with_read']:.1f} s, "
                            f"{got['rows'] / got['with_read']:,.0f} rows/s)",
                            flush=True,
                        )
                    if mode.startswith("import") and got.get("steps"):
                        steps = ", ".join(f"{k} {v:.1f} s" for k, v in got["steps"].items())
                        steps += f"; the process's CPU {got['cpu_s']:.1f} s"
                        if got.get("server_cpu_s") is not None:
                            steps += f", the server's {got['server_cpu_s']:.1f} s"
                        share = f"; {got['rows'] / got['seconds'] / raw_rate:.2f} of raw" if raw_rate else ""
                        print(f"{'':>10} {'':9} {'':14} steps: {steps}{share}", flush=True)
            print(f"{'':>10} ({size:.0f} MB of CSV)", flush=True)
            path.unlink()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
