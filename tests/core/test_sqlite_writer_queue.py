"""The SQLite writer queue (perception/sqlite_writers.py): writers of several processes and threads
take turns without SQLite's busy handler, a transaction that ends any way lets the next one in,
and the WAL is checkpointed by the writers outside their turn."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading

import pytest
from sqlalchemy import create_engine, text

from perception.core import sqlite_writers
from perception.core.db import instrument_sqlite, sqlite_connect_args
from perception.core.sqlite_writers import QueuedWriterConnection, queue_for


def _connect(path: str, timeout: float = 30.0) -> QueuedWriterConnection:
    """``timeout`` bounds the wait for a turn; SQLite's busy handler is switched off, so any
    overlap of two write transactions would fail at once with "database is locked": only the
    queue keeps them apart."""
    conn = sqlite3.connect(
        path, timeout=timeout, factory=QueuedWriterConnection, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=0")
    return conn  # type: ignore[return-value]


def _schema(path: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    conn.execute("INSERT INTO counter VALUES (1, 0)")
    conn.close()


def _increment(path: str, times: int, threads: int) -> None:
    """Read-modify-write of one counter, ``times`` per thread, each in its own write transaction."""

    errors: list[BaseException] = []

    def work() -> None:
        conn = _connect(path)
        try:
            for _ in range(times):
                conn.begin_immediate()
                (n,) = conn.execute("SELECT n FROM counter WHERE id = 1").fetchone()
                conn.execute("UPDATE counter SET n = ? WHERE id = 1", (n + 1,))
                conn.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's thread
            errors.append(exc)
        finally:
            conn.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]


def test_processes_and_threads_take_turns_without_the_busy_handler(tmp_path):
    path = str(tmp_path / "q.sqlite")
    _schema(path)
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_increment, args=(path, 150, 2)) for _ in range(3)]
    for process in processes:
        process.start()
    _increment(path, 150, 2)  # this process too, at the same time
    for process in processes:
        process.join(60)
        assert process.exitcode == 0  # a "database is locked" would have ended it with 1
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT n FROM counter").fetchone() == (4 * 2 * 150,)
    conn.close()


def test_without_the_queue_the_same_load_fails(tmp_path):
    """The counter-proof of the test above: plain connections without a busy timeout collide."""
    path = str(tmp_path / "plain.sqlite")
    _schema(path)
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")
    holder.rollback()


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_a_transaction_ending_any_way_admits_the_next_writer(tmp_path, end):
    path = str(tmp_path / f"{end}.sqlite")
    _schema(path)
    first, second = _connect(path), _connect(path)
    first.begin_immediate()
    first.execute("UPDATE counter SET n = 1")
    admitted = threading.Event()

    def wait_turn() -> None:
        second.begin_immediate()
        admitted.set()

    waiter = threading.Thread(target=wait_turn)
    waiter.start()
    assert not admitted.wait(0.3)  # queued behind the open transaction
    getattr(first, end)()
    assert admitted.wait(10)
    waiter.join()
    second.execute("UPDATE counter SET n = 2")
    second.commit()
    assert sqlite3.connect(path).execute("SELECT n FROM counter").fetchone() == (2,)


def test_a_writer_that_never_gets_its_turn_fails_with_a_clear_error(tmp_path):
    path = str(tmp_path / "t.sqlite")
    _schema(path)
    holder, waiter = _connect(path), _connect(path, timeout=0.2)  # same process: the thread lock waits
    holder.begin_immediate()
    with pytest.raises(sqlite3.OperationalError, match="database is locked: no turn to write"):
        waiter.begin_immediate()
    holder.rollback()
    waiter.begin_immediate()  # the failed wait left nothing behind
    waiter.rollback()


def test_a_failed_begin_leaves_the_queue(tmp_path):
    """An outside writer (the sqlite3 shell) holds SQLite's lock: BEGIN IMMEDIATE fails after the
    busy timeout, and the queue is free for the next writer of this process."""
    path = str(tmp_path / "outside.sqlite")
    _schema(path)
    outsider = sqlite3.connect(path, timeout=0, isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    queued = _connect(path)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        queued.begin_immediate()
    outsider.rollback()
    again = _connect(path)
    again.begin_immediate()
    again.rollback()


def test_in_memory_and_uri_databases_have_no_queue(tmp_path):
    assert queue_for(":memory:") is None
    assert queue_for("") is None
    assert queue_for("file:x?mode=memory") is None
    path = str(tmp_path / "a.sqlite")
    assert queue_for(path) is queue_for(path)
    conn = sqlite3.connect(":memory:", factory=QueuedWriterConnection, isolation_level=None)
    conn.begin_immediate()  # type: ignore[attr-defined]
    conn.commit()


def test_writers_checkpoint_the_wal_every_so_many_writes(tmp_path, monkeypatch):
    path = str(tmp_path / "c.sqlite")
    _schema(path)
    monkeypatch.setattr(sqlite_writers, "CHECKPOINT_EVERY", 3)
    queue = queue_for(path)
    assert queue is not None
    queue.writes = 0
    calls: list[int] = []
    real = QueuedWriterConnection._checkpoint

    def spy(self: QueuedWriterConnection) -> None:
        calls.append(1)
        assert not self._in_queue  # outside its turn: the next writer is not held up
        real(self)

    monkeypatch.setattr(QueuedWriterConnection, "_checkpoint", spy)
    conn = _connect(path)
    for i in range(7):
        conn.begin_immediate()
        conn.execute("UPDATE counter SET n = ?", (i,))
        conn.commit()
    conn.execute("BEGIN")  # a read transaction's commit is not a write
    conn.execute("SELECT n FROM counter").fetchall()
    conn.commit()
    assert len(calls) == 2
    busy, log, done = sqlite3.connect(path).execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and log == done


def test_the_app_engine_uses_the_queue_and_keeps_a_checkpoint_backstop(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'e.sqlite'}", connect_args=sqlite_connect_args())
    instrument_sqlite(engine)
    with engine.begin() as conn:  # no request: a writer, so BEGIN IMMEDIATE in the queue
        dbapi = conn.connection.dbapi_connection
        assert isinstance(dbapi, QueuedWriterConnection) and dbapi._in_queue
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        pages = conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
        assert pages == sqlite_writers.AUTOCHECKPOINT_PAGES
    assert not dbapi._in_queue
    engine.dispose()
