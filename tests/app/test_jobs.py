"""Background jobs: in-process by default, on Redis with RQ when configured; the scheduler runs
each periodic slot once."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from perception.core.models.jobs import ScheduledRun


def test_email_in_process_writes_to_instance_folder(app, db_session):
    from perception.core.mail import mail_folder, send_email

    before = set(mail_folder().glob("*.eml")) if mail_folder().exists() else set()
    send_email("someone@example.com", "主题 Subject", "正文 body")
    new = set(mail_folder().glob("*.eml")) - before
    assert len(new) == 1
    text = new.pop().read_bytes().decode()
    assert "someone@example.com" in text


def test_scheduler_claims_each_slot_once(db_session, monkeypatch):
    from perception.core.jobs.schedule import run_due
    from perception.core.phase import Periodic

    hourly = (Periodic("heartbeat", "hourly"),)
    ran: list[str] = []
    now = datetime(2026, 11, 21, 5, 30)
    first = run_due(db_session, now, hourly, enqueue=lambda name, **kw: ran.append(name))
    second = run_due(db_session, now.replace(minute=59), hourly, enqueue=lambda name, **kw: ran.append(name))
    assert first == ["heartbeat"] and second == []
    assert ran == ["heartbeat"]
    third = run_due(db_session, now.replace(hour=6), hourly, enqueue=lambda name, **kw: ran.append(name))
    assert third == ["heartbeat"]
    count = db_session.scalar(select(func.count(ScheduledRun.id)).where(ScheduledRun.job_name == "heartbeat"))
    assert count == 2


def test_every_periodic_job_is_registered(app):
    from perception.core.jobs import JOBS
    from perception.core.jobs.schedule import slot_for

    for item in app.extensions["perception.periodic"]:
        assert item.job in JOBS, f"periodic job {item.job!r} is not registered"
        slot_for(item.every, datetime(2026, 1, 1))


def test_slot_names():
    from perception.core.jobs.schedule import slot_for

    moment = datetime(2026, 11, 21, 5, 30)
    assert slot_for("hourly", moment) == "2026-11-21T05"
    assert slot_for("daily", moment) == "2026-11-21"
    assert slot_for("weekly", moment) == "2026-W47"


def test_jobs_run_on_redis_with_rq(redis_url, tmp_path, monkeypatch):
    """A real Redis queue and an RQ worker: the job runs in its own app and transaction."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    from perception import create_app
    from perception.core.extensions import db
    from perception.core.jobs import enqueue

    db_file = tmp_path / "jobs.sqlite"
    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PERCEPTION_DATABASE_URL", f"sqlite:///{db_file}")
    monkeypatch.setenv("PERCEPTION_REDIS_URL", redis_url)
    monkeypatch.setenv("PERCEPTION_RQ_QUEUE", "perception-test")
    import perception.core.jobs.worker as worker_module

    monkeypatch.setattr(worker_module, "_app", None)
    app = create_app()
    with app.app_context():
        db.create_all()
        conn = Redis.from_url(redis_url)
        queue = Queue("perception-test", connection=conn)
        queue.empty()
        job_id = enqueue("send_email", to="rq@example.com", subject="via redis", text="hello")
        assert job_id is not None
        assert queue.count == 1
        SimpleWorker([queue], connection=conn).work(burst=True)
        job = queue.fetch_job(job_id)
        assert job is not None and job.is_finished, job and job.exc_info
    sent = list(Path(tmp_path, "mail").glob("*.eml"))
    assert len(sent) == 1 and "rq@example.com" in sent[0].read_text()
