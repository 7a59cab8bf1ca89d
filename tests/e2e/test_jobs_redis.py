"""Background jobs on a real Redis with RQ, when configured (the in-process path and the scheduler:
tests/core/test_jobs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.redis


def test_jobs_run_on_redis_with_rq(redis_url, tmp_path, monkeypatch):
    """A real Redis queue and an RQ worker: the job runs in its own app and transaction."""
    from redis import Redis
    from rq import Queue

    from perception import create_app
    from perception.core.extensions import db
    from perception.core.jobs import enqueue
    from perception.core.jobs.worker import InProcessWorker
    from perception.core.models.jobs import Job
    from perception.core.transaction import unit_of_work

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
        with unit_of_work():
            job_id = enqueue("send_email", to="rq@example.com", subject="via redis", text="hello")
        assert job_id is not None
        assert queue.count == 1
        InProcessWorker([queue], connection=conn).work(burst=True)
        job = queue.fetch_job(job_id)
        assert job is not None and job.is_finished, job and job.latest_result()
        row = db.session.get(Job, job_id, populate_existing=True)
        assert row.status == "done" and row.attempts == 1  # the row the id names tells the same
    sent = list(Path(tmp_path, "mail").glob("*.eml"))
    assert len(sent) == 1 and "rq@example.com" in sent[0].read_text()


def test_a_job_reaches_redis_only_after_its_transaction_commits(redis_url, tmp_path, monkeypatch):
    """A worker must never start before the data the job needs is committed; a rolled-back
    transaction sends nothing at all."""
    from redis import Redis
    from rq import Queue

    from perception import create_app
    from perception.core.extensions import db
    from perception.core.jobs import enqueue
    from perception.core.transaction import unit_of_work

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PERCEPTION_DATABASE_URL", f"sqlite:///{tmp_path / 'after.sqlite'}")
    monkeypatch.setenv("PERCEPTION_REDIS_URL", redis_url)
    monkeypatch.setenv("PERCEPTION_RQ_QUEUE", "perception-test-after")
    app = create_app()
    with app.app_context():
        db.create_all()
        queue = Queue("perception-test-after", connection=Redis.from_url(redis_url))
        queue.empty()
        with unit_of_work():
            job_id = enqueue("heartbeat")
            assert queue.count == 0  # not before the commit
        assert queue.count == 1 and queue.fetch_job(job_id) is not None
        with pytest.raises(RuntimeError), unit_of_work():
            enqueue("heartbeat")
            raise RuntimeError("the operation failed")
        assert queue.count == 1  # the rolled-back unit sent nothing
        from sqlalchemy import func, select

        from perception.core.models.jobs import Job

        assert db.session.scalar(select(func.count(Job.id))) == 1  # and its job row rolled back with it
        db.session.remove()
        queue.empty()
        db.engine.dispose()


def test_a_job_asked_for_while_redis_is_down_is_sent_when_it_returns(redis_url, tmp_path, monkeypatch):
    """The outbox: the job's row commits with the work that asked for it, so a Redis that is down at
    that moment loses nothing (the issue: such a job was lost); the sweep sends it once Redis is back."""
    from redis import Redis
    from rq import Queue

    from perception import create_app
    from perception.core.extensions import db
    from perception.core.jobs import enqueue
    from perception.core.jobs.runner import sweep
    from perception.core.jobs.worker import InProcessWorker
    from perception.core.models.jobs import Job
    from perception.core.transaction import unit_of_work

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PERCEPTION_DATABASE_URL", f"sqlite:///{tmp_path / 'outbox.sqlite'}")
    monkeypatch.setenv("PERCEPTION_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setenv("PERCEPTION_RQ_QUEUE", "perception-test-outbox")
    monkeypatch.setenv("PERCEPTION_JOB_REDISPATCH_SECONDS", "0")
    app = create_app()
    with app.app_context():
        db.create_all()
        queue = Queue("perception-test-outbox", connection=Redis.from_url(redis_url))
        queue.empty()
        with unit_of_work():
            job_id = enqueue("heartbeat")  # the commit succeeds; the dispatch after it fails
        row = db.session.get(Job, job_id)
        assert row is not None and row.status == "queued" and row.attempts == 0
        db.session.remove()  # end this read (on SQLite, a transaction outside a request may write)
        app.config["REDIS_URL"] = redis_url  # Redis is back
        assert sweep(app) == [job_id]
        assert queue.count == 1
        InProcessWorker([queue], connection=queue.connection).work(burst=True)
        row = db.session.get(Job, job_id, populate_existing=True)
        assert row.status == "done" and row.result is True
        db.engine.dispose()


def test_a_worker_stops_listening_without_waiting_out_its_listener(redis_url):
    """RQ 3.0 unsubscribes a worker's command channel and then stops the thread that listens on
    it; since redis-py 8.2 stopping waits for that thread, and a thread that has already read the
    unsubscribe reply waits up to RQ's 60 s for a subscription again. So a worker's end (every
    burst worker's, and a warm shutdown's) took a minute whenever the thread won that race: one of
    these tests took 60-61 s in CI, never alone. Here the race is lost on purpose: the reply is
    read before the stop."""
    import threading
    import time

    from redis import Redis
    from rq import Queue

    from perception.core.jobs.worker import InProcessWorker

    conn = Redis.from_url(redis_url)
    worker = InProcessWorker([Queue("perception-test-listen", connection=conn)], connection=conn)
    worker.subscribe()

    def until(condition) -> None:
        deadline = time.monotonic() + 5
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.01)

    until(lambda: worker.pubsub.subscribed)
    assert worker.pubsub.subscribed
    send = worker.pubsub.unsubscribe

    def unsubscribe_and_let_the_listener_read_the_reply(*args, **kwargs):
        send(*args, **kwargs)
        until(lambda: not worker.pubsub.subscribed)
        time.sleep(0.3)  # the listener is back in its read

    worker.pubsub.unsubscribe = unsubscribe_and_let_the_listener_read_the_reply
    stopped = threading.Event()
    threading.Thread(target=lambda: (worker.unsubscribe(), stopped.set()), daemon=True).start()
    assert stopped.wait(10), "the worker waited out its listener's 60-second read"
    until(lambda: not worker.pubsub_thread.is_alive())
    assert not worker.pubsub_thread.is_alive()


def test_a_worker_stops_even_when_its_listener_closed_the_connection_first(redis_url):
    """The other side of that race: the listener wakes on a message of its own (the subscription's
    confirmation, for a worker stopped as soon as it started), finds its flag down and closes the
    connection while the worker writes its unsubscribe: Broken pipe. Seen once in a newcomer's run
    under load (the test above failed with it); here the write fails on purpose. The worker's end
    goes on: nothing is subscribed on a closed connection."""
    import time

    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from rq import Queue

    from perception.core.jobs.worker import InProcessWorker

    conn = Redis.from_url(redis_url)
    worker = InProcessWorker([Queue("perception-test-listen", connection=conn)], connection=conn)
    worker.subscribe()
    deadline = time.monotonic() + 5
    while not worker.pubsub.subscribed and time.monotonic() < deadline:
        time.sleep(0.01)

    def closed_under_the_write(*args, **kwargs):
        raise RedisConnectionError("Error 32 while writing to socket. Broken pipe.")

    worker.pubsub.unsubscribe = closed_under_the_write
    worker.unsubscribe()  # no error
    deadline = time.monotonic() + 5
    while worker.pubsub_thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not worker.pubsub_thread.is_alive()
