"""Benchmark: the respondent's whole flow, the product against two bare apps (issue 19).

A flow is what one respondent does: open the personal link (303 to the page, session cookie),
GET the page (CSRF token), POST the answers (303), GET the thank-you page: four requests. The
three apps (bench/flow_apps.py) are served side by side by gunicorn as the README deploys them
and driven by wrk (bench/flow_wrk.lua), one connection per wrk thread, 16 clients. Rounds
alternate product, same-steps, minimal, product, ... so a change in the machine's load hits all
three alike; the figures are medians over the rounds. Each figure is printed with the load
average before it and the driver's (wrk's) share of the machine's CPU; the servers' CPU per flow
and per worker comes from /proc.

Run: python bench/bench_flow.py [--backend sqlite|postgres|both] [--survey csat|lime|both]
     [--seconds 10] [--rounds 3] [--workers 2] [--deploy readme|sync|gthread4]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from flow_data import SURVEYS, prepare  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("PERCEPTION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "bench-secret-key-which-is-long-enough-0123456789abcdef"  # noqa: S105 - a throwaway bench instance
APPS = {"product": "/s", "same_steps": "/b", "minimal": "/m"}
CLIENTS = 16
# Links supplied per connection and second: 120 ran out on the minimal app at 866 flows/s.
CONNECTION_CEILING = 300  # flows per second one connection may complete
# The deployments: README = what the README says for the backend.
DEPLOY = {
    "sync": ["--worker-class", "sync"],
    "gthread1": ["-k", "gthread", "--threads", "1"],
    "gthread4": ["-k", "gthread", "--threads", "4"],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_url(name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _drop(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(p) for p in found]


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve(app: str, env: dict[str, str], workers: int, deploy: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "--chdir",
        str(ROOT / "bench"),
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        *DEPLOY[deploy],
        "--log-level",
        "warning",
        "--no-control-socket",
        "--preload",
        f"flow_apps:{app}",
    ]
    # --preload: the master imports the app before it listens, so no measured request waits for
    # a worker still importing (the product imports for seconds on a loaded machine).
    proc = subprocess.Popen(cmd, env={**os.environ, **env, "FLOW_APP": app})
    for _ in range(1200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    time.sleep(1.0)
    return proc, port


def drive(app: str, port: int, flows: Path, seconds: int, server: int) -> dict[str, Any]:
    """One wrk run; the servers' CPU per worker and the driver's CPU from /proc and rusage."""
    workers = _children(server)
    before = {w: _cpu(w) for w in workers}
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    env = {**os.environ, "FLOW_FILE": str(flows), "FLOW_THREADS": str(CLIENTS), "FLOW_PREFIX": APPS[app]}
    t0 = time.perf_counter()
    out = subprocess.run(
        [
            "wrk",
            f"-t{CLIENTS}",
            f"-c{CLIENTS}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "flow_wrk.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(f"wrk failed: {out.stdout}{out.stderr}")
    out = out.stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    driver = (after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime) / (
        wall * (os.cpu_count() or 1)
    )
    per_worker = [_cpu(w) - before[w] for w in workers]

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)] if m else float("nan")

    flows_m = re.search(r"FLOWS completed=(\d+) failed=(\d+) exhausted=(\d+)", out)
    if flows_m and (int(flows_m.group(2)) or int(flows_m.group(3)) or os.environ.get("FLOW_VERBOSE")):
        print(f"    {app}: {out.strip().splitlines()[-1]}")
    if flows_m and int(flows_m.group(3)):
        print(f"    {app}: a connection ran out of links (raise CONNECTION_CEILING): flows undercounted")
    done, failed = (int(flows_m.group(1)), int(flows_m.group(2))) if flows_m else (0, -1)
    return {
        "flows": done / wall,
        "failed": failed,
        "p50": ms("50"),
        "p99": ms("99"),
        "driver": driver,
        "load": load,
        "cpu_ms": 1000 * sum(per_worker) / max(done, 1),
        "workers": per_worker,
    }


def run(backend: str, survey: str, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    folder = Path(tempfile.mkdtemp(prefix="bench_flow_"))
    # A database of this run's own: another run at the same time (another checkout) must not drop it.
    database = f"bench_flow_{os.getpid()}"
    url = f"sqlite:///{folder / 'bench.sqlite'}" if backend == "sqlite" else _pg_url(database)
    env = {
        "PERCEPTION_DATABASE_URL": url,
        "PERCEPTION_INSTANCE_PATH": str(folder / "instance"),
        "PERCEPTION_SECRET_KEY": SECRET,
        "PERCEPTION_SURVEY_MIN_FILL_SECONDS": "0",
        "FLOW_HTML_DIR": str(folder / "html"),
    }
    # Each wrk connection owns its own links (a Lua state per thread shares nothing), and the
    # connections are not served evenly: on the minimal app one connection completed 142 flows in
    # 2 s while another completed 39. So the supply is sized by the fastest connection, not the
    # average: a connection that ran out reused a link, the used link answered 404, and rounds
    # showed "step 0 404" failures that were the driver's. Running out is now reported apart.
    per_run = CONNECTION_CEILING * args.seconds * CLIENTS
    counts = {(f"{app}_warm", survey): CONNECTION_CEILING * 2 * CLIENTS for app in APPS}
    counts |= {(f"{app}_{r}", survey): per_run for app in APPS for r in range(args.rounds)}
    t0 = time.perf_counter()
    files = prepare(env, counts, folder)
    print(f"  [{backend}/{survey}] {sum(counts.values())} links prepared in {time.perf_counter() - t0:.0f} s")
    deploy = args.deploy if args.deploy != "readme" else ("gthread4" if backend == "sqlite" else "sync")
    servers = {app: serve(app, env, args.workers, deploy) for app in APPS}
    results: dict[str, list[dict[str, Any]]] = {app: [] for app in APPS}
    try:
        for app, (proc, port) in servers.items():
            drive(app, port, files[(f"{app}_warm", survey)], 2, proc.pid)
        for r in range(args.rounds):
            for app, (proc, port) in servers.items():
                results[app].append(drive(app, port, files[(f"{app}_{r}", survey)], args.seconds, proc.pid))
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(30)
    shutil.rmtree(folder, ignore_errors=True)
    if backend != "sqlite":
        _drop(database)
    return results


def med(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--survey", choices=(*SURVEYS, "both"), default="both")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--deploy", choices=("readme", *DEPLOY), default="readme")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"gunicorn {args.workers} workers ({args.deploy}); wrk {CLIENTS} clients, one connection each; "
        f"{args.rounds} alternated rounds of {args.seconds:g} s per app; medians"
    )
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        for survey in SURVEYS if args.survey == "both" else (args.survey,):
            results = run(backend, survey, args)
            print(
                f"{'backend':8} {'survey':6} {'app':10} {'flows/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'cpu ms/flow':>11} {'driver':>6} {'failed':>6}  per round: flows/s (load) [worker CPU s]"
            )
            for app, rows in results.items():
                each = ", ".join(
                    f"{r['flows']:.0f} ({r['load']:.2f}) [{'/'.join(f'{w:.1f}' for w in r['workers'])}]"
                    for r in rows
                )
                print(
                    f"{backend:8} {survey:6} {app:10} {med(rows, 'flows'):8.0f} {med(rows, 'p50'):7.1f} "
                    f"{med(rows, 'p99'):7.1f} {med(rows, 'cpu_ms'):11.1f} {med(rows, 'driver'):6.0%} "
                    f"{sum(r['failed'] for r in rows):6d}  {each}"
                )
            product = med(results["product"], "flows")
            print(
                f"{backend:8} {survey:6} product / same-steps "
                f"{product / med(results['same_steps'], 'flows'):.2f}, "
                f"product / minimal {product / med(results['minimal'], 'flows'):.2f}"
            )
    print(
        f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        "(other processes share the CPUs)"
    )


if __name__ == "__main__":
    main()
