"""Background jobs: in-process by default; the scheduler runs each periodic slot once. (On Redis
with RQ: tests/e2e/test_jobs_redis.py.)"""

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


def test_a_mail_file_appears_only_whole(app, db_session, monkeypatch):
    """The file backend's message is never seen half written under its *.eml name (CI once read an
    empty body while the background job was still writing it): written beside, then renamed."""
    import os

    from perception.core import mail
    from perception.core.mail import mail_folder, send_email

    before = set(mail_folder().glob("*.eml")) if mail_folder().exists() else set()
    seen: list[tuple[set, bytes]] = []
    rename = os.replace

    def watched(source, target):
        seen.append((set(mail_folder().glob("*.eml")) - before, Path(source).read_bytes()))
        rename(source, target)

    monkeypatch.setattr(mail.os, "replace", watched)
    send_email("whole@example.com", "主题 Subject", "正文 body")
    assert len(seen) == 1
    visible, written = seen[0]
    assert visible == set()  # nothing under the name while it is written
    new = set(mail_folder().glob("*.eml")) - before
    assert len(new) == 1 and new.pop().read_bytes() == written
    assert b"whole@example.com" in written
    assert not list(mail_folder().glob(".*.partial"))


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
