"""A running job's progress and heartbeat, and how operations report them.

An operation that takes long calls ``report(step, done, total)`` between its steps; outside a
job it does nothing, so services stay free of job plumbing. Inside a job, the runner's
``Heartbeat`` stores the last report and renews the job's lease every few seconds from a thread
of its own, so a worker that dies stops renewing and the sweep (perception.core.jobs.store)
starts the job again.

Where the beat is stored: on PostgreSQL in the job's row, through a connection of its own (the
job's transaction is still open); on SQLite that row cannot be written while the job's own write
transaction holds the database's only write lock, so the beat goes to a small file beside the
database (``<instance>/jobs/<id>.json``; a SQLite deployment is one machine, so every process of
it reads the same file).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import update
from sqlalchemy.engine import Engine

from perception.core.models.base import utcnow
from perception.core.models.jobs import Job, JobStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Beat:
    step: str | None
    done: int
    total: int
    at: datetime


_current: contextvars.ContextVar[Heartbeat | None] = contextvars.ContextVar("perception_job", default=None)


def report(step: str, done: int, total: int) -> None:
    """Called by a long operation: ``step`` (a short code the page names) and ``done`` of ``total``."""
    beat = _current.get()
    if beat is not None:
        beat.report(step, done, total)


def beat_folder(app: Flask) -> Path:
    return Path(app.instance_path) / "jobs"


def uses_files(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class Heartbeat:
    """Renews one running job's lease and stores its progress until stopped."""

    def __init__(self, app: Flask, engine: Engine, job_id: str, lease_seconds: float) -> None:
        self.engine = engine
        self.job_id = job_id
        self.lease = timedelta(seconds=lease_seconds)
        self.file = beat_folder(app) / f"{job_id}.json" if uses_files(engine) else None
        self.last: tuple[str | None, int, int] = (None, 0, 0)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._loop, args=(max(lease_seconds / 3, 0.2),), name=f"job-{job_id}", daemon=True
        )

    def report(self, step: str, done: int, total: int) -> None:
        self.last = (step, done, total)
        self.write()

    def write(self) -> None:
        step, done, total = self.last
        now = utcnow()
        with self._lock:
            if self.file is not None:
                self.file.parent.mkdir(parents=True, exist_ok=True)
                partial = self.file.with_suffix(".tmp")
                partial.write_text(
                    json.dumps({"step": step, "done": done, "total": total, "at": now.isoformat()})
                )
                os.replace(partial, self.file)
                return
            with self.engine.begin() as conn:
                conn.execute(
                    update(Job)
                    .where(Job.id == self.job_id, Job.status == JobStatus.RUNNING)
                    .values(step=step, done=done, total=total, lease_until=now + self.lease)
                )

    def _loop(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.write()
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease allows for it
                log.warning("job %s: heartbeat not stored", self.job_id, exc_info=True)

    @contextmanager
    def running(self) -> Iterator[Heartbeat]:
        token = _current.set(self)
        self._thread.start()
        try:
            yield self
        finally:
            _current.reset(token)
            self._stop.set()
            self._thread.join(timeout=5)
            if self.file is not None:
                self.file.unlink(missing_ok=True)


def read_file_beat(app: Flask, job_id: str) -> Beat | None:
    """The beat a SQLite job wrote to its file, if it is running."""
    try:
        data: dict[str, Any] = json.loads((beat_folder(app) / f"{job_id}.json").read_text())
        at = datetime.fromisoformat(data["at"])
        return Beat(data.get("step"), int(data["done"]), int(data["total"]), at)
    except (OSError, ValueError, KeyError):
        return None


def beat_of(app: Flask, engine: Engine, job: Job) -> Beat | None:
    """A job's last progress: from its row, or on SQLite from its file while it runs."""
    if job.status == JobStatus.RUNNING and uses_files(engine):
        return read_file_beat(app, job.id)
    if job.status != JobStatus.RUNNING:
        return None
    return Beat(job.step, job.done, job.total, job.lease_until or utcnow())
