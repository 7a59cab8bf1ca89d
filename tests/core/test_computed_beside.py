"""A computation beside the caller (core.transaction.computed_beside, issue 19): in a thread of its
own, on a transaction of its own that it commits, only where that sees what the caller's would
(a PostgreSQL engine, a caller that wrote nothing the computation reads); else in the caller's
transaction, when the result is asked for."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from perception.core.transaction import computed_beside
from tests.own_database import PostgresSchema, sqlite_url


@pytest.fixture
def postgres():
    schema = PostgresSchema("computed_beside")
    engine = create_engine(schema.url())
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE note (v integer)"))
    yield engine
    engine.dispose()
    schema.drop()


def _notes(engine: Any) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.scalars(text("SELECT v FROM note")))


def _noting(seen: dict[str, Any], value: int, *, fail: bool = False) -> Any:
    def compute(own: Session) -> int:
        seen["thread"], seen["session"] = threading.get_ident(), own
        seen["notes"] = sorted(own.scalars(text("SELECT v FROM note")))
        own.execute(text("INSERT INTO note VALUES (:v)"), {"v": value})
        if fail:
            raise ValueError("the computation failed")
        return value

    return compute


def test_beside_a_postgresql_caller_it_runs_in_another_thread_and_commits_its_writes(postgres):
    seen: dict[str, Any] = {}
    with Session(postgres) as session:
        result = computed_beside(session, _noting(seen, 42), alone=True)
        assert result() == 42
        assert seen["thread"] != threading.get_ident()
        assert seen["session"] is not session
    assert _notes(postgres) == [42]  # committed by its own transaction


def test_its_failure_is_raised_to_the_caller_and_its_writes_undone(postgres):
    with Session(postgres) as session:
        result = computed_beside(session, _noting({}, 7, fail=True), alone=True)
        with pytest.raises(ValueError, match="the computation failed"):
            result()
    assert _notes(postgres) == []


def test_a_caller_that_wrote_computes_in_its_own_transaction_when_asked(postgres):
    seen: dict[str, Any] = {}
    with Session(postgres) as session:
        session.execute(text("INSERT INTO note VALUES (1)"))  # uncommitted: a thread would not see it
        result = computed_beside(session, _noting(seen, 2), alone=False)
        assert seen == {}  # not before the result is asked for
        assert result() == 2
        assert seen["thread"] == threading.get_ident() and seen["session"] is session
        assert seen["notes"] == [1]
        session.rollback()
    assert _notes(postgres) == []


def test_a_session_bound_to_a_connection_computes_in_that_connection(postgres):
    seen: dict[str, Any] = {}
    with postgres.connect() as conn, Session(bind=conn) as session:
        conn.execute(text("INSERT INTO note VALUES (1)"))  # a test's outer transaction
        assert computed_beside(session, _noting(seen, 2), alone=True)() == 2
        assert seen["thread"] == threading.get_ident() and seen["notes"] == [1]


def test_sqlite_computes_in_the_caller_s_transaction(tmp_path):
    engine = create_engine(sqlite_url(tmp_path, "beside"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE note (v integer)"))
    seen: dict[str, Any] = {}
    with Session(engine) as session:
        assert computed_beside(session, _noting(seen, 3), alone=True)() == 3
        assert seen["thread"] == threading.get_ident() and seen["session"] is session
    engine.dispose()


def test_the_thread_has_the_caller_s_application(postgres):
    app = Flask("beside")
    with app.app_context(), Session(postgres) as session:
        assert computed_beside(session, lambda own: current_app.name, alone=True)() == "beside"


def test_a_forked_process_computes_beside_as_its_parent_did(postgres):
    """gunicorn's workers fork from a process that may have used the threads already (--preload):
    the child has none of them, and must not wait for one."""
    with Session(postgres) as session:
        assert computed_beside(session, lambda own: 1, alone=True)() == 1  # the parent's thread made
    url = postgres.url
    pid = os.fork()
    if pid == 0:  # the child: a connection of its own, and a deadline instead of a hang
        code = 1
        try:
            signal.alarm(20)
            engine = create_engine(url)
            with Session(engine) as session:
                code = (
                    0
                    if computed_beside(session, lambda own: own.scalar(text("SELECT 2")), alone=True)() == 2
                    else 1
                )
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
