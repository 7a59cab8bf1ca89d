"""`perception run` really serves (the README's first command): `perception init`, then the server
in a process of its own, asked for /healthz once it listens.

No allowance for how long a start may take on this machine: the test waits until the server
answers or its process exits (then it fails with the process's output). HANG_GUARD only stops a
server that does neither; it is not a performance limit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

HANG_GUARD = 120.0  # seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _output(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


def _wait_until_serving(server: subprocess.Popen[bytes], url: str, log: Path) -> tuple[int, str]:
    """Poll ``url`` until the server answers (status and body) or its process exits (a failure)."""
    deadline = time.monotonic() + HANG_GUARD
    while True:
        code = server.poll()
        if code is not None:
            pytest.fail(f"`perception run` exited with {code} before serving; its output:\n{_output(log)}")
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback http
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:  # it serves, but not a healthy answer
            return exc.code, exc.read().decode(errors="replace")
        except OSError:  # not listening yet, or too busy to answer in time
            pass
        if time.monotonic() > deadline:
            pytest.fail(
                f"`perception run` neither answered {url} nor exited within {HANG_GUARD:.0f} s "
                f"(hang guard); its output:\n{_output(log)}"
            )
        time.sleep(0.1)


def test_perception_run_serves_pages(tmp_path):
    port = _free_port()
    env = {**os.environ, "PERCEPTION_INSTANCE_PATH": str(tmp_path)}
    env.pop("PERCEPTION_DATABASE_URL", None)
    init = subprocess.run(
        [sys.executable, "-m", "perception.cli", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        cwd=tmp_path,
    )
    assert init.returncode == 0, init.stdout[-2000:] + init.stderr[-2000:]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "perception.cli", "run", "--port", str(port), "--no-scheduler"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        status, body = _wait_until_serving(server, f"http://127.0.0.1:{port}/healthz", log)
        assert status == 200 and '"status":"ok"' in body.replace(" ", ""), (status, body, _output(log))
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
