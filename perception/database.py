"""Engine set-up: SQLite gets WAL, foreign keys, a busy timeout and real transactions.

pysqlite's own transaction handling does not emit BEGIN before SELECTs and breaks SAVEPOINT;
the documented SQLAlchemy recipe below hands control of BEGIN to SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def configure_engine_options(app: Flask) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if is_sqlite(url):
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
    else:
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # In WAL mode a deferred transaction that read and then tries to write fails at once with
    # "database is locked" (SQLITE_BUSY_SNAPSHOT, no busy wait) when another connection committed
    # in between: e.g. a sign-in while a background job writes. Anything that may write therefore
    # takes the write lock up front and waits its turn (busy_timeout); GET requests stay deferred
    # so pages keep reading concurrently with a writer.
    read_only = has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def instrument_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite" or getattr(engine, "_perception_instrumented", False):
        return
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    engine._perception_instrumented = True  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    from perception.extensions import db

    with app.app_context():
        instrument_sqlite(db.engine)
