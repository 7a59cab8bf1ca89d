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

# Serves its own SQLite file whatever the database setting: CI runs it in the SQLite pass only.
pytestmark = pytest.mark.own_sqlite

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


def _scheduler_children(server_pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat[1]) == server_pid and b"scheduler" in cmdline:
            found.append(int(entry.name))
    return found


# `perception run` with its scheduler's first tick 1 s after the start instead of a minute: the
# test waited the whole minute for the due jobs to be claimed (SCHEDULER_START_DELAY's length is
# production's choice for the first users' pages, not what this test is about).
RUN_WITH_SHORT_SCHEDULER_DELAY = (
    "import sys; import perception.cli as cli; cli.SCHEDULER_START_DELAY = 1; "
    "sys.argv[0] = 'perception'; cli.main()"
)


def _running(pid: int) -> bool:
    """The process exists and has not exited (a zombie has exited: nobody here reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_due_jobs_run_beside_the_serving_process_not_in_it(tmp_path):
    """Issue 19: the jobs due at start-up ran in a thread of `perception run` and held its first
    sign-in for 6.6 s. The scheduler is now a child process (of lower priority) that runs them,
    and it ends with the server."""
    from sqlalchemy import create_engine, text

    port = _free_port()
    env = {**os.environ, "PERCEPTION_INSTANCE_PATH": str(tmp_path)}
    env.pop("PERCEPTION_DATABASE_URL", None)
    init = subprocess.run(
        [sys.executable, "-m", "perception.cli", "init"], env=env, capture_output=True, text=True,
        timeout=HANG_GUARD, cwd=tmp_path,
    )  # fmt: skip
    assert init.returncode == 0, init.stdout[-2000:] + init.stderr[-2000:]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", RUN_WITH_SHORT_SCHEDULER_DELAY, "run", "--port", str(port)],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    engine = create_engine(f"sqlite:///{tmp_path / 'perception.sqlite'}")
    try:
        status, _ = _wait_until_serving(server, f"http://127.0.0.1:{port}/healthz", log)
        assert status == 200
        children = _scheduler_children(server.pid)
        assert len(children) == 1, _output(log)
        deadline = time.monotonic() + HANG_GUARD
        claimed = 0
        while not claimed and time.monotonic() < deadline:
            with engine.connect() as conn:
                claimed = conn.execute(text("SELECT count(*) FROM scheduled_run")).scalar_one()
            time.sleep(0.2)
        assert claimed > 0, _output(log)  # the child ran the due slots
    finally:
        server.terminate()
        server.wait(30)
        engine.dispose()
    deadline = time.monotonic() + HANG_GUARD
    while _running(children[0]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(children[0])
