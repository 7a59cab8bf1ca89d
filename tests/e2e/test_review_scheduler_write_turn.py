"""Why the first pages after `perception run` waited seconds (issue 19): the scheduler's first tick
claimed every due slot and ran every due job (hourly and daily ones: the text analysis, the
KPIs, the analysis pre-aggregate, the review pages' sections...) inside ONE transaction, so it held
SQLite's write turn for the whole tick, and every request that writes (a sign-in, a page asking for
a job) waited for all of it. Now the claims commit first and each job has its own transaction: a
writer gets its turn between two jobs. A job that fails gives its slot back for the next tick.
The app has a SQLite file of its own (as `perception run` serves it)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import select

from perception.core.jobs import job
from perception.core.phase import Periodic

pytestmark = pytest.mark.own_sqlite

SEEN: dict[str, Any] = {}


def _try_to_write(database: str) -> str:
    """What another process's writer meets: its write succeeds at once, or the database is locked."""
    conn = sqlite3.connect(database, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TABLE IF NOT EXISTS t_other_writer (x INTEGER)")
        conn.execute("INSERT INTO t_other_writer VALUES (1)")
        conn.commit()
        return "written"
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        conn.close()


@job("test_sched_second_job")
def second_job(session: Any, **_: Any) -> None:
    # The first job has committed; this one has not written yet: another writer gets its turn.
    SEEN["other writer"] = _try_to_write(SEEN["database"])


@job("test_sched_first_job")
def first_job(session: Any, **_: Any) -> None:
    from perception.core.models.jobs import ScheduledRun

    session.add(ScheduledRun(job_name="test_sched_marker", slot="x"))  # a job that writes
    session.flush()


@job("test_sched_failing_job")
def failing_job(session: Any, **_: Any) -> None:
    raise RuntimeError("the failing periodic job")


def test_a_tick_gives_the_write_turn_back_between_jobs(tmp_path, monkeypatch):
    from perception import create_app
    from perception.cli import scheduler_tick
    from perception.core.extensions import db
    from perception.core.models.jobs import ScheduledRun

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    database = tmp_path / "scheduler.sqlite"
    SEEN.clear()
    SEEN["database"] = str(database)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "test-secret-key-which-is-long-enough-0123456789",
            "REDIS_URL": None,
        }
    )
    app.extensions["perception.periodic"] = (
        Periodic("test_sched_first_job", "hourly"),
        Periodic("test_sched_failing_job", "hourly"),
        Periodic("test_sched_second_job", "hourly"),
    )
    with app.app_context():
        db.create_all()
    try:
        started = scheduler_tick(app)
        assert started == ["test_sched_first_job", "test_sched_failing_job", "test_sched_second_job"]
        assert SEEN["other writer"] == "written"  # was: "database is locked" for the whole tick
        with app.app_context():
            slots = set(db.session.scalars(select(ScheduledRun.job_name)))
        # The failing job's slot is given back (the next tick runs it again); the others stay.
        assert slots == {"test_sched_first_job", "test_sched_second_job", "test_sched_marker"}
        assert scheduler_tick(app) == ["test_sched_failing_job"]
    finally:
        with app.app_context():
            db.engine.dispose()
