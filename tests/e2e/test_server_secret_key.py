"""gunicorn, as the README deploys it, refuses to start with the public default key or a short one
(issue 18), and starts with a strong one. The development server keeps working with the default
key: tests/e2e/test_server_start.py runs `perception run` without one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HANG_GUARD = 120.0  # seconds: only stops a server that neither serves nor exits


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(
    tmp_path: Path, key: str | None, app: tuple[str, ...] = ("perception:create_app()",)
) -> tuple[subprocess.Popen[bytes], int, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERCEPTION_")}
    env["PERCEPTION_INSTANCE_PATH"] = str(tmp_path)
    if key is not None:
        env["PERCEPTION_SECRET_KEY"] = key
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter's gunicorn
            [str(gunicorn), "-w", "1", "-b", f"127.0.0.1:{port}", *app],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return server, port, log


def _serves(server: subprocess.Popen[bytes], port: int, log: Path, path: str) -> None:
    """Wait until ``path`` answers 200 (fail if the server exits or hangs), then stop the server."""
    try:
        deadline = time.monotonic() + HANG_GUARD
        while True:
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited: {log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:  # noqa: S310
                    assert resp.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not serve: {log.read_text()[-3000:]}")
                time.sleep(0.2)
    finally:
        # A graceful stop: the workers finish, then the master (about 5 s on an idle machine, far
        # more under CI's load); past the guard it is killed, so no server outlives its test.
        server.terminate()
        try:
            server.wait(HANG_GUARD)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(30)


@pytest.mark.parametrize(
    "key", [None, "dev-secret-change-me", "too-short-0123456789"], ids=["unset", "default", "short"]
)
def test_gunicorn_refuses_to_start_with_a_weak_key(tmp_path, key):
    server, _, log = _gunicorn(tmp_path, key)
    _refused(server, log)


def test_the_preloaded_app_refuses_a_weak_key_too(tmp_path):
    server, _, log = _gunicorn(tmp_path, None, ("--preload", "perception.wsgi:app"))
    _refused(server, log)


def _refused(server: subprocess.Popen[bytes], log: Path) -> None:
    try:
        code = server.wait(HANG_GUARD)
    except subprocess.TimeoutExpired:
        server.kill()
        pytest.fail(f"gunicorn kept running with a weak key; its output:\n{log.read_text()[-3000:]}")
    assert code != 0
    assert "Refusing to start" in log.read_text()


def test_gunicorn_serves_with_a_strong_key(tmp_path):
    server, port, log = _gunicorn(tmp_path, "s" * 48)
    _serves(server, port, log, "/healthz")


def test_gunicorn_preload_serves_the_warmed_app(tmp_path):
    """The README's pre-forking deployment: perception.wsgi:app with --preload warms the master
    (perception.web.warmup) and forks a worker that serves its first request (issue 19)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERCEPTION_")}
    env |= {"PERCEPTION_INSTANCE_PATH": str(tmp_path), "PERCEPTION_SECRET_KEY": "s" * 48}
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter's gunicorn
            [str(gunicorn), "--preload", "-w", "2", "-k", "gthread", "--threads", "2",
             "-b", f"127.0.0.1:{port}", "perception.wsgi:app"],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    _serves(server, port, log, "/login")
