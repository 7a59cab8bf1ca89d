"""Engine set-up: SQLite gets WAL, foreign keys, a busy timeout and real transactions.

pysqlite's own transaction handling does not emit BEGIN before SELECTs and breaks SAVEPOINT;
the documented SQLAlchemy recipe below hands control of BEGIN to SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from perception.core.sqlite_writers import AUTOCHECKPOINT_PAGES, QueuedWriterConnection


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def configure_engine_options(app: Flask) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if is_sqlite(url):
        connect_args = options.setdefault("connect_args", {})
        for key, value in sqlite_connect_args().items():
            connect_args.setdefault(key, value)
    else:
        options.setdefault("pool_pre_ping", True)
        # No JIT compilation: the analysis queries at a national provider's size cost 100-200 ms
        # of it each and run for well under a second; measured with it off, the internal KPIs page
        # 0.55-0.63 -> 0.44-0.49 s and the overview's first computation 3.3-4.5 -> 3.0 s
        # (bench/bench_first_load.py). A deployment's own settings are kept: connect options
        # given in the URL (``?options=-csearch_path=...``) are extended, since connect_args would
        # replace them, and a jit setting of its own wins.
        connect_args = options.setdefault("connect_args", {})
        given = str(connect_args.get("options") or make_url(url).query.get("options") or "")
        if "jit" not in given:
            connect_args["options"] = f"{given} -c jit=off".strip()
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def sqlite_connect_args() -> dict[str, Any]:
    """Wait up to 30 s for the write lock, in the writer queue (perception/sqlite_writers.py)."""
    return {"timeout": 30, "factory": QueuedWriterConnection}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # In WAL mode a deferred transaction that read and then tries to write fails at once with
    # "database is locked" (SQLITE_BUSY_SNAPSHOT, no busy wait) when another connection committed
    # in between: e.g. a sign-in while a background job writes. Anything that may write therefore
    # takes the write lock up front and waits its turn; reading requests (perception.core.transaction
    # classes each request) stay deferred so pages keep reading concurrently with a writer.
    from perception.core.transaction import is_writer

    if not is_writer():
        conn.exec_driver_sql("BEGIN")
        return
    dbapi_connection = conn.connection.dbapi_connection
    if isinstance(dbapi_connection, QueuedWriterConnection):
        # Writers queue for their turn and are woken as soon as the previous one ends, instead of
        # polling in SQLite's busy handler (whose sleeps made the answer endpoint's tail latency).
        dbapi_connection.begin_immediate()
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def instrument_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite" or getattr(engine, "_perception_instrumented", False):
        return
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    engine._perception_instrumented = True  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    from perception.core.extensions import db

    with app.app_context():
        instrument_sqlite(db.engine)
