"""Benchmark: start-up and the first requests after a cold start (issue 19).

Prints the wall time of `perception --help` (median of five), then, for each heavy page, starts a
fresh server on a demo database (a new process each time: nothing imported, nothing cached), and
times the first sign-in, the page's first request and its second request. Three servers are
compared, alternated per page: `perception run`, gunicorn on ``perception:create_app()`` (the
worker creates the app) and gunicorn ``--preload`` on ``perception.wsgi:app`` (warmed before the
fork). "listening" is until the port accepts: with --preload that includes the warm-up. The load
average is printed beside each figure; the machine is shared, so compare rows of one run.

Each server starts on a fresh copy of the demo database (unless --same-database), so the jobs one
server's scheduler ran and committed do not spare the next one. ``run-nosched`` is `perception run
--no-scheduler`: beside ``run`` it shows what the scheduler's start-up jobs cost the first requests.

Run: python bench/bench_cold_start.py [--weeks 26] [--pages /reviews/1 /kpi/attainment ...]
     [--servers run run-nosched gunicorn preload] [--instance folder] [--same-database]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
PAGES = ("/reviews/1", "/kpi/attainment", "/analysis/", "/")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed_help() -> list[float]:
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([str(VENV_BIN / "perception"), "--help"], capture_output=True, check=True)
        runs.append(time.perf_counter() - t0)
    return runs


SERVERS = {
    # the development server, as `perception run` starts it
    "run": lambda port: [str(VENV_BIN / "perception"), "run", "--port", str(port)],
    # the same without its scheduler child: what the jobs due at start cost the first requests
    "run-nosched": lambda port: [
        str(VENV_BIN / "perception"), "run", "--no-scheduler", "--port", str(port),
    ],
    # gunicorn as the README's SQLite deployment, one worker: the app is created in the worker
    "gunicorn": lambda port: [
        str(VENV_BIN / "gunicorn"), "-w", "1", "-k", "gthread", "--threads", "4",
        "-b", f"127.0.0.1:{port}", "perception:create_app()",
    ],
    # the same with perception.wsgi and --preload: imports, charts' fonts, translations and
    # templates are loaded in the master before it forks the worker
    "preload": lambda port: [
        str(VENV_BIN / "gunicorn"), "-w", "1", "-k", "gthread", "--threads", "4", "--preload",
        "-b", f"127.0.0.1:{port}", "perception.wsgi:app",
    ],
}  # fmt: skip


def first_requests(
    env: dict[str, str], folder: Path, path: str, server_name: str = "run"
) -> tuple[float, float, float, float]:
    """(seconds until listening, first sign-in, first request of ``path``, second request)."""
    port = _free_port()
    t0 = time.perf_counter()
    server = subprocess.Popen(
        SERVERS[server_name](port),
        env=env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        listening = time.perf_counter() - t0
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        base = f"http://127.0.0.1:{port}"
        t = time.perf_counter()
        html = opener.open(f"{base}/login").read().decode()
        form = {"csrf_token": CSRF.search(html).group(1), "username": "owner", "password": "perception-demo"}  # type: ignore[union-attr]
        opener.open(f"{base}/login", data=urllib.parse.urlencode(form).encode()).read()
        sign_in = time.perf_counter() - t
        t = time.perf_counter()
        opener.open(base + path).read()
        first = time.perf_counter() - t
        t = time.perf_counter()
        opener.open(base + path).read()
        second = time.perf_counter() - t
        return listening, sign_in, first, second
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # a loaded machine: gunicorn's graceful stop can take longer
            server.kill()
            server.wait()


def _demo(env: dict[str, str], folder: Path, weeks: int) -> None:
    subprocess.run(
        [str(VENV_BIN / "perception"), "demo", "--weeks", str(weeks)],
        env=env,
        cwd=folder,
        capture_output=True,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--pages", nargs="*", default=list(PAGES))
    parser.add_argument("--servers", nargs="*", default=list(SERVERS), choices=list(SERVERS))
    parser.add_argument("--instance", help="reuse this folder's demo database (nothing else may use it)")
    parser.add_argument(
        "--same-database",
        action="store_true",
        help="let each server start on what the previous ones left (default: each on a fresh copy "
        "of the demo database, as after `perception demo`: a cold start of the data as well)",
    )
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs = timed_help()
    print(
        f"perception --help: median {statistics.median(runs):.2f} s "
        f"(runs {', '.join(f'{r:.2f}' for r in runs)}) load {load()}"
    )
    folder = Path(args.instance or tempfile.mkdtemp(prefix="bench_cold_"))
    env = {
        **os.environ,
        "PERCEPTION_INSTANCE_PATH": str(folder),
        # gunicorn refuses the default key
        "PERCEPTION_SECRET_KEY": "bench-cold-start-secret-key-0123456789abcdef",
    }
    env.pop("PERCEPTION_DATABASE_URL", None)
    t0 = time.perf_counter()
    if args.instance:
        print(f"demo database reused from {folder}")
    else:
        _demo(env, folder, args.weeks)
        print(f"demo database ({args.weeks} weeks) in {time.perf_counter() - t0:.0f} s")
    print(
        f"{'server':9} {'page':20} {'listening s':>11} {'sign-in ms':>10} {'first ms':>9} "
        f"{'second ms':>9}  load"
    )
    pristine = folder / "pristine.sqlite"
    if not args.same_database:
        shutil.copyfile(folder / "perception.sqlite", pristine)
    for path in args.pages:
        for name in args.servers:  # alternated per page, so a change of load hits all alike
            if not args.same_database:  # what the last server's jobs wrote is not this one's
                for suffix in ("-wal", "-shm"):
                    (folder / f"perception.sqlite{suffix}").unlink(missing_ok=True)
                shutil.copyfile(pristine, folder / "perception.sqlite")
            listening, sign_in, first, second = first_requests(env, folder, path, name)
            print(
                f"{name:9} {path:20} {listening:11.2f} {1000 * sign_in:10.0f} {1000 * first:9.0f} "
                f"{1000 * second:9.0f}  {load()}",
                flush=True,
            )


if __name__ == "__main__":
    main()
