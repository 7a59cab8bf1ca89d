"""The scheduler that `perception run` starts ends with it, even when the server is killed while
the scheduler is busy in a tick (issue 19: a killed server's scheduler kept running due jobs
against the database for 26 minutes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")

# A stand-in for `perception run`: starts a child with the scheduler's set-up that is busy (a long
# sleep, as in a tick that runs jobs; it never looks at its parent), prints the child's pid, waits.
PARENT = """
import subprocess, sys, time
from perception.cli import scheduler_child_setup
busy = [sys.executable, "-c", "import time; time.sleep(120)"]
child = subprocess.Popen(busy, preexec_fn=scheduler_child_setup)
print(child.pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not yet reaped by init) counts as ended.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_busy_scheduler_ends_when_its_server_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the scheduler outlived the server that started it"
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_the_scheduler_runs_at_a_lower_priority() -> None:
    probe = (
        "import os; from perception.cli import scheduler_child_setup; "
        "scheduler_child_setup(); print(os.nice(0))"
    )
    before = os.nice(0)
    run = [sys.executable, "-c", probe]
    out = subprocess.run(run, capture_output=True, text=True, check=True, timeout=120)  # noqa: S603
    assert int(out.stdout) == min(before + 10, 19)
