"""The RQ side: a worker process runs each job in an app context and its own transaction."""

from __future__ import annotations

from typing import Any

from flask import Flask

_app: Flask | None = None


def _get_app() -> Flask:
    global _app
    if _app is None:
        from perception import create_app

        _app = create_app()
    return _app


def run_job(name: str, kwargs: dict[str, Any]) -> Any:
    from perception.core.audit import acting_as
    from perception.core.jobs import run_now
    from perception.core.transaction import unit_of_work

    app = _get_app()
    with app.app_context(), acting_as(f"job:{name}"), unit_of_work() as session:
        return run_now(session, name, **kwargs)


def work(app: Flask, burst: bool = False) -> None:
    from redis import Redis
    from rq import Queue, Worker

    conn = Redis.from_url(app.config["REDIS_URL"])
    worker = Worker([Queue(app.config["RQ_QUEUE"], connection=conn)], connection=conn)
    worker.work(burst=burst)
