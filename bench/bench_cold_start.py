"""Benchmark: start-up and the first requests after a cold start (issue 19).

Prints the wall time of `perception --help` (median of five), then, for each heavy page, starts a
fresh `perception run` on a demo database (a new process each time: nothing imported, nothing
cached), and times the first sign-in, the page's first request and its second request. The load
average is printed beside each figure; the machine is shared, so compare rows of one run.

Run: python bench/bench_cold_start.py [--weeks 26] [--pages /reviews/1 /kpi/attainment ...]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
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


def first_requests(env: dict[str, str], folder: Path, path: str) -> tuple[float, float, float, float]:
    """(seconds until listening, first sign-in, first request of ``path``, second request)."""
    port = _free_port()
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [str(VENV_BIN / "perception"), "run", "--port", str(port)],
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
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--pages", nargs="*", default=list(PAGES))
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs = timed_help()
    print(
        f"perception --help: median {statistics.median(runs):.2f} s "
        f"(runs {', '.join(f'{r:.2f}' for r in runs)}) load {load()}"
    )
    folder = Path(tempfile.mkdtemp(prefix="bench_cold_"))
    env = {**os.environ, "PERCEPTION_INSTANCE_PATH": str(folder)}
    env.pop("PERCEPTION_DATABASE_URL", None)
    t0 = time.perf_counter()
    subprocess.run(
        [str(VENV_BIN / "perception"), "demo", "--weeks", str(args.weeks)],
        env=env,
        cwd=folder,
        capture_output=True,
        check=True,
    )
    print(f"demo database ({args.weeks} weeks) in {time.perf_counter() - t0:.0f} s")
    print(f"{'page':20} {'listening s':>11} {'sign-in ms':>10} {'first ms':>9} {'second ms':>9}  load")
    for path in args.pages:
        listening, sign_in, first, second = first_requests(env, folder, path)
        print(
            f"{path:20} {listening:11.2f} {1000 * sign_in:10.0f} {1000 * first:9.0f} "
            f"{1000 * second:9.0f}  {load()}"
        )


if __name__ == "__main__":
    main()
