"""Running a job row, and handing job rows to whatever runs them.

``run(app, job_id)`` is the same everywhere (an RQ worker, a thread of the service): claim the row
in a short transaction, run the job in its own transaction that also marks it done, and on an
error record the failed attempt (queued again with back-off, or failed for good) in another.

``dispatch(app, ids)`` sends rows to Redis (RQ) when PERCEPTION_REDIS_URL is set, else to this
process's background threads, never into a request. ``sweep(app)`` recovers lost jobs
(perception.core.jobs.store.sweep) and dispatches them; every runner calls it every few seconds.
"""

from __future__ import annotations

import threading
import traceback
import weakref
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, json

from perception.core.models.base import utcnow

_lock = threading.Lock()
_POOL = "perception.job_threads"
_SWEEPER = "perception.job_sweeper"
# The apps of this process whose sweeper or job threads were started (see stop_all_threads).
_STARTED: weakref.WeakSet[Flask] = weakref.WeakSet()


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)


def run(app: Flask, job_id: str) -> Any:
    """Run one job row to its end (or its next retry). Returns the job's result, None when the
    row was not ours to run."""
    from perception.core.audit import acting_as
    from perception.core.extensions import db
    from perception.core.jobs import JOBS, store
    from perception.core.jobs.progress import Heartbeat
    from perception.core.transaction import unit_of_work

    rules = store.timing(app)
    with app.app_context():
        with unit_of_work() as session:
            job = store.claim(session, job_id, utcnow(), rules.lease_seconds)
            name, kwargs = (job.name, dict(job.kwargs or {})) if job is not None else ("", {})
            user_id = job.requested_by_id if job is not None else None
        if job is None:
            return None
        heartbeat = Heartbeat(app, db.engine, job_id, rules.lease_seconds)
        try:
            with heartbeat.running(), acting_as(f"job:{name}", user_id), unit_of_work() as session:
                result = JOBS[name](session, **kwargs)
                store.finish(session, job_id, utcnow(), _jsonable(result), heartbeat.last)
            return result
        except Exception as exc:
            app.logger.exception("job %s (%s) failed", name, job_id)
            reason = f"{type(exc).__name__}: {exc}"
            with unit_of_work() as session:
                store.fail(session, job_id, utcnow(), reason + "\n" + traceback.format_exc(limit=3), rules)
            return None


def dispatch(app: Flask, ids: Iterable[str]) -> None:
    """Send job rows to be run (after the transaction that wrote them has committed)."""
    ids = list(ids)
    if not ids:
        return
    if app.config.get("REDIS_URL"):
        queue = redis_queue(app)
        for job_id in ids:
            queue.enqueue(
                "perception.core.jobs.worker.run_job",
                job_id,
                job_id=_rq_id(queue, job_id),
                job_timeout=int(app.config["JOB_TIMEOUT_SECONDS"]),
                result_ttl=3600,
                failure_ttl=86400,
            )
        return
    pool = threads(app)
    for job_id in ids:
        pool.submit(_run_logged, app, job_id)


def redis_queue(app: Flask) -> Any:
    from redis import Redis
    from rq import Queue

    return Queue(app.config["RQ_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]))


def _rq_id(queue: Any, job_id: str) -> str:
    """The row's id the first time (the id the caller was given); a fresh one for a re-dispatch,
    so RQ's registries of a lost attempt never touch the new one."""
    from rq.job import Job as RqJob

    if RqJob.exists(job_id, connection=queue.connection):
        return f"{job_id}-{utcnow():%H%M%S%f}"
    return job_id


def _run_logged(app: Flask, job_id: str) -> None:
    try:
        run(app, job_id)
    except Exception:  # noqa: BLE001 - a thread has nobody to raise to
        app.logger.exception("background job %s could not run", job_id)


def threads(app: Flask) -> ThreadPoolExecutor:
    """The app's job threads in this process (created on first use, so after a server forks its
    workers), and its sweeper. (The scheduler sweeps too, so jobs of a process that ended are
    picked up even before another process has run one. A test app starts its sweeper itself: a
    thread outliving its test would use the next test's session.)"""
    with _lock:
        pool: ThreadPoolExecutor | None = app.extensions.get(_POOL)
        if pool is None:
            pool = ThreadPoolExecutor(
                max_workers=int(app.config["JOB_THREADS"]), thread_name_prefix="perception-job"
            )
            app.extensions[_POOL] = pool
            _STARTED.add(app)
            if not app.testing:
                start_sweeper(app)
        return pool


def stop_all_threads() -> None:
    """Stop the sweepers and job threads of every app in this process that started them: a test
    suite builds many apps (demo servers, fault tests), and a sweeper outliving its app keeps
    taking the process's SQLite writer turn every JOB_SWEEP_SECONDS for a database long gone."""
    for app in list(_STARTED):
        stop_threads(app)


def stop_threads(app: Flask) -> None:
    """Stop the app's sweeper and wait for its job threads (a test's app going away)."""
    sweeper = app.extensions.pop(_SWEEPER, None)
    if sweeper is not None:
        sweeper[1].set()
        sweeper[0].join(timeout=10)
    pool = app.extensions.pop(_POOL, None)
    if pool is not None:
        pool.shutdown(wait=True)


def sweep(app: Flask) -> list[str]:
    """Recover lost jobs and dispatch what is due; returns the ids dispatched."""
    from perception.core.extensions import db
    from perception.core.jobs import store
    from perception.core.transaction import unit_of_work

    with app.app_context():
        with unit_of_work() as session:
            ids = store.sweep(session, app, db.engine, utcnow(), store.timing(app))
        dispatch(app, ids)
    return ids


def start_sweeper(app: Flask) -> threading.Thread:
    """A daemon thread that sweeps every JOB_SWEEP_SECONDS (one per app and process)."""
    running = app.extensions.get(_SWEEPER)
    if running is not None and running[0].is_alive():
        return running[0]  # type: ignore[no-any-return]
    every = float(app.config["JOB_SWEEP_SECONDS"])
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                sweep(app)
            except Exception:  # noqa: BLE001 - the database or Redis may be down; try again later
                app.logger.warning("job sweep failed", exc_info=True)

    sweeper = threading.Thread(target=loop, name="perception-job-sweeper", daemon=True)
    app.extensions[_SWEEPER] = (sweeper, stop)
    _STARTED.add(app)
    sweeper.start()
    return sweeper
