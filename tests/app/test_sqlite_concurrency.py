"""The embedded SQLite database under a web request and a background writer at the same time,
and `perception run` really serving (the README's first command)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from sqlalchemy import text

from perception import create_app
from perception.core.extensions import db
from tests.conftest import PASSWORD, csrf_token


def test_sign_in_waits_for_a_background_writer_instead_of_failing(tmp_path, monkeypatch):
    """A deferred transaction that read before another connection committed cannot upgrade to a
    writer in WAL mode ("database is locked" at once); writing requests must take the lock first."""
    from perception.core import users
    from perception.core.audit import acting_as
    from perception.core.models.auth import Role

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/c.sqlite", "TESTING": True})
    with app.app_context():
        db.create_all()
        with acting_as("test"):
            users.create_user(
                db.session,
                users.UserSpec(
                    username="u", display_name="U", roles=frozenset({Role.ANALYST}), password=PASSWORD
                ),
            )
        db.session.commit()
    client = app.test_client()
    token = csrf_token(client, "/login")

    started = threading.Event()

    def background_job() -> None:
        with app.app_context(), db.engine.connect() as conn:
            conn.execute(
                text(
                    "INSERT INTO scheduled_run (job_name, slot, enqueued_at, status) "
                    "VALUES ('x', 'y', CURRENT_TIMESTAMP, 'running')"
                )
            )
            started.set()
            time.sleep(0.5)
            conn.commit()

    worker = threading.Thread(target=background_job)
    worker.start()
    started.wait(5)
    response = client.post("/login", data={"username": "u", "password": PASSWORD, "csrf_token": token})
    worker.join()
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with app.app_context():
        db.engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_perception_run_serves_pages(tmp_path):
    port = _free_port()
    env = {**os.environ, "PERCEPTION_INSTANCE_PATH": str(tmp_path)}
    env.pop("PERCEPTION_DATABASE_URL", None)
    init = subprocess.run(
        [sys.executable, "-m", "perception.cli", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert init.returncode == 0, init.stderr[-2000:]
    server = subprocess.Popen(
        [sys.executable, "-m", "perception.cli", "run", "--port", str(port), "--no-scheduler"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:  # noqa: S310
                    body = resp.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        assert body is not None and '"status":"ok"' in body.replace(" ", ""), "the server never answered"
    finally:
        server.terminate()
        server.wait(10)
