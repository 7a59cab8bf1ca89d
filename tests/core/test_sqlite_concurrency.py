"""The embedded SQLite database under a web request and a background writer at the same time.
(`perception run` really serving, the README's first command: tests/e2e/test_server_start.py.)"""

from __future__ import annotations

import threading
import time

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
