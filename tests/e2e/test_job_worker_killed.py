"""A job whose worker is killed is retried to completion, not lost (the issue: a review PDF stayed
"started" for 12.5 minutes, went to RQ's failed list and the page kept saying "not generated yet").

A real ``perception worker`` process on Redis runs the built-in ``probe`` job (steps with progress);
the test kills the worker and its work horse with SIGKILL in the middle of the job, as a
container kill does, then starts another worker: the job's lease runs out, the sweep queues it
again with back-off, and the new worker runs it to the end. Its row tells the story.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.own_database import PostgresSchema, sqlite_url

pytestmark = pytest.mark.redis

SETTINGS = {
    "JOB_LEASE_SECONDS": "2",
    "JOB_SWEEP_SECONDS": "0.3",
    "JOB_RETRY_BASE_SECONDS": "0.5",
    "JOB_REDISPATCH_SECONDS": "30",
}


# Each database's case runs in its own CI pass (own_sqlite: the SQLite pass; postgres: the
# PostgreSQL pass), once each; a plain ``pytest`` runs both.
@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.own_sqlite),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def database(request, tmp_path):
    if request.param == "sqlite":
        yield sqlite_url(tmp_path, "killed")
        return
    schema = PostgresSchema("job_killed_test")
    yield schema.url()
    schema.drop()


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "perception", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _kill_all(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and every process it started (RQ puts each work horse in a process group
    of its own, so the worker's group alone would spare the horse)."""
    doomed = {worker.pid}
    for _ in range(3):  # children, grandchildren
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) in doomed:
                doomed.add(int(stat.parent.name))
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=10)


def _wait_for(read, condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = read()
        if condition(value):
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last: {value!r}")


def test_a_killed_worker_s_job_is_retried_to_completion(database, redis_url, tmp_path, monkeypatch):
    from redis import Redis

    from perception import create_app
    from perception.core.extensions import db
    from perception.core.jobs import enqueue
    from perception.core.models.jobs import Job
    from perception.core.transaction import unit_of_work

    queue_name = f"perception-killed-{os.getpid()}"
    env = dict(os.environ)
    env.update(
        {
            "PERCEPTION_INSTANCE_PATH": str(tmp_path),
            "PERCEPTION_DATABASE_URL": database,
            "PERCEPTION_REDIS_URL": redis_url,
            "PERCEPTION_RQ_QUEUE": queue_name,
            **{f"PERCEPTION_{k}": v for k, v in SETTINGS.items()},
        }
    )
    for key in (
        "PERCEPTION_INSTANCE_PATH",
        "PERCEPTION_DATABASE_URL",
        "PERCEPTION_REDIS_URL",
        "PERCEPTION_RQ_QUEUE",
    ):
        monkeypatch.setenv(key, env[key])
    for key, value in SETTINGS.items():
        monkeypatch.setenv(f"PERCEPTION_{key}", value)
    Redis.from_url(redis_url).delete(f"rq:queue:{queue_name}")
    app = create_app()
    log = tmp_path / "workers.log"

    def row() -> Job | None:
        with app.app_context():
            found = db.session.get(Job, job_id)
            db.session.expunge_all()
            db.session.remove()
            return found

    with app.app_context():
        db.create_all()
        with unit_of_work():
            job_id = enqueue("probe", steps=8, seconds=0.5)
    first = _worker(env, log)
    try:
        running = _wait_for(
            row,
            lambda j: j is not None and j.status == "running" and j.attempts == 1,
            60,
            "the first attempt",
        )
        assert running.attempts == 1
        # Mid-job: its progress is visible to this other process (the page's view of it).
        with app.test_request_context():
            from perception.core.jobs.state import state_of

            progressing = _wait_for(
                lambda: state_of(db.session.get(Job, job_id, populate_existing=True)),
                lambda s: s.step == "probe" and 1 <= s.done < 8,
                30,
                "progress of the first attempt",
            )
            assert progressing.total == 8 and progressing.status == "running"
            db.session.remove()
        _kill_all(first)
    finally:
        if first.poll() is None:
            _kill_all(first)
    assert row().status == "running"  # nobody runs it any more: only its lease will tell

    second = _worker(env, log)
    try:
        done = _wait_for(row, lambda j: j is not None and j.status in ("done", "failed"), 90, "the retry")
    finally:
        _kill_all(second)
    assert done.status == "done", (done.error, log.read_text()[-3000:])
    assert done.attempts == 2 and done.retries == 1
    assert "worker stopped during attempt 1" in (done.error or "")
    assert done.result == {"steps": 8, "database": True}
    with app.app_context():
        db.engine.dispose()
