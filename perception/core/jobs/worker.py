"""The RQ side: a worker process runs each job row in an app context and its own transaction
(perception.core.jobs.runner.run); a small process beside it sweeps for lost jobs.

The sweeper is a process, not a thread of the worker: RQ forks a work horse for every job, and a
fork taken while a thread holds a lock (the SQLite writer queue's, logging's) would leave the
horse waiting for it forever.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from typing import Any

import redis
import rq
from flask import Flask

_app: Flask | None = None


def _get_app() -> Flask:
    global _app
    if _app is None:
        from perception import create_app

        _app = create_app()
    return _app


def run_job(job_id: str, kwargs: dict[str, Any] | None = None) -> Any:
    """Run the job row ``job_id``. (``kwargs`` set: a message sent before job rows existed, which
    names the job instead; it runs as it did then.)"""
    app = _get_app()
    if kwargs is not None:
        from perception.core.audit import acting_as
        from perception.core.jobs import run_now
        from perception.core.transaction import unit_of_work

        with app.app_context(), acting_as(f"job:{job_id}"), unit_of_work() as session:
            return run_now(session, job_id, **kwargs)
    from perception.core.jobs.runner import run

    return run(app, job_id)


class _StopsListeningFirst:
    """RQ's worker, stopping the thread that listens on its command channel before unsubscribing.

    RQ 3.0 unsubscribes first, then stops the thread; since redis-py 8.2 stopping waits for the
    thread, and a thread that has read the unsubscribe reply by then waits up to 60 s (RQ's
    listening interval) for a subscription that never comes. So a worker's end (a burst worker's,
    a warm shutdown's) took a minute whenever the thread won that race: 60-61 s for one burst
    worker of the Redis tests in CI, under load. Stopped first, the thread finds the flag down as
    soon as the reply wakes it."""

    pubsub: Any
    pubsub_thread: Any

    def unsubscribe(self) -> None:
        thread = self.pubsub_thread
        if not thread:
            return
        try:
            thread.stop(timeout=0)  # redis-py 8.2 and later: clear the flag, no wait
        except TypeError:  # earlier: stop() only clears the flag
            thread.stop()
        # The thread may wake on a message of its own (the subscription's confirmation, for a
        # worker stopped as soon as it started: a burst worker with nothing to do), find the flag
        # down and close the connection under this write: then nothing is subscribed any more.
        with contextlib.suppress(redis.exceptions.ConnectionError):
            self.pubsub.unsubscribe()
        thread.join(timeout=1)
        self.pubsub.close()


class ForkingWorker(_StopsListeningFirst, rq.Worker):
    """The service's worker: a work horse forked per job (RQ's Worker)."""


class InProcessWorker(_StopsListeningFirst, rq.SimpleWorker):
    """Each job in the worker's own process (RQ's SimpleWorker): tests."""


def work(app: Flask, burst: bool = False) -> None:
    from redis import Redis
    from rq import Queue

    from perception.core.jobs.runner import sweep

    sweep(app)  # what was lost while no worker ran
    if not burst:
        multiprocessing.get_context("fork").Process(
            target=_sweep_while_parent_lives, args=(app, os.getpid()), name="perception-sweeper", daemon=True
        ).start()
    conn = Redis.from_url(app.config["REDIS_URL"])
    worker = ForkingWorker([Queue(app.config["RQ_QUEUE"], connection=conn)], connection=conn)
    worker.work(burst=burst)


def _sweep_while_parent_lives(app: Flask, parent: int) -> None:
    from perception.core.extensions import db
    from perception.core.jobs.runner import sweep

    with app.app_context():
        db.engine.dispose(close=False)  # the parent's pooled connections are not ours to use
    every = float(app.config["JOB_SWEEP_SECONDS"])
    while os.getppid() == parent:
        try:
            sweep(app)
        except Exception:  # noqa: BLE001 - the database or Redis may be down; try again later
            app.logger.warning("job sweep failed", exc_info=True)
        time.sleep(every)
