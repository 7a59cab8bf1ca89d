"""A queue for SQLite writers: one write transaction at a time per database file, handed over at once.

SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps
1, 2, 5, 10, 15, 20, 25, 50 and 100 ms between attempts and does not know when the writer
finished. Under load (the survey answer endpoint with a few threads in each of a few processes)
the lock sits idle while waiters sleep, and a request that keeps losing waits hundreds of
milliseconds. Here writers queue instead: a thread lock orders the threads of one process, a POSIX
record lock on ``<database>-writers.lock`` orders the processes, and both wake the next writer as
soon as the current one commits or rolls back. SQLite's own lock and busy handler stay underneath
for writers outside the queue (the sqlite3 shell, another program).

The queue is joined by connections made with ``QueuedWriterConnection`` (``sqlite3.connect``'s
``factory``) when their transaction starts with ``BEGIN IMMEDIATE`` (``begin_immediate``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no record locks, SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

_QUEUES: dict[str, WriterQueue] = {}
CHECKPOINT_EVERY = 200
# SQLite's own checkpoint (after 1000 WAL pages, inside the COMMIT of whichever writer crosses the
# line) would run while that writer still holds its turn, stalling the whole queue; instead a writer
# checkpoints every CHECKPOINT_EVERY of its process's writes AFTER letting the next writer in. The
# automatic checkpoint stays as a backstop at AUTOCHECKPOINT_PAGES (40 MB of WAL).
AUTOCHECKPOINT_PAGES = 10_000
_QUEUES_LOCK = threading.Lock()


class WriterQueue:
    """The writers of one database file. POSIX record locks belong to a process (not a thread or
    a descriptor), so the thread lock admits one thread of the process to the record lock, and the
    lock file stays open for the life of the process (closing any descriptor of it would drop the
    process's lock)."""

    def __init__(self, lock_path: str) -> None:
        self.lock_path = lock_path
        self.fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self.threads = threading.Lock()
        self.writes = 0  # write transactions of this process since its last checkpoint

    def checkpoint_due(self) -> bool:
        """Every CHECKPOINT_EVERY writes of this process (approximate across threads: it only paces)."""
        self.writes += 1
        if self.writes < CHECKPOINT_EVERY:
            return False
        self.writes = 0
        return True

    def acquire(self, timeout: float) -> None:
        if not self.threads.acquire(timeout=timeout):
            raise sqlite3.OperationalError(
                f"database is locked: no turn to write within {timeout:g} s (another write transaction "
                "of this process is still open)"
            )
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX)  # waits in the kernel, woken when the holder lets go
        except BaseException:
            self.threads.release()
            raise

    def release(self) -> None:
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


def queue_for(database: str) -> WriterQueue | None:
    """The process's queue for a database file; None for in-memory and URI databases."""
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        return None
    lock_path = os.path.abspath(database) + "-writers.lock"
    with _QUEUES_LOCK:
        queue = _QUEUES.get(lock_path)
        if queue is None:
            queue = _QUEUES[lock_path] = WriterQueue(lock_path)
        return queue


def _reset_after_fork() -> None:
    # A child starts with no transaction, but may inherit a thread lock that another thread of
    # the parent held at fork time; record locks are never inherited.
    global _QUEUES_LOCK
    _QUEUES_LOCK = threading.Lock()
    for queue in _QUEUES.values():
        queue.threads = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


class QueuedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection that joins its database's writer queue for ``BEGIN IMMEDIATE`` and
    leaves it when the transaction ends (commit, rollback, close)."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._timeout = float(kwargs.get("timeout", 5.0))
        path = os.fsdecode(database) if isinstance(database, str | bytes | os.PathLike) else ""
        self._queue = queue_for(path)
        self._in_queue = False

    def begin_immediate(self) -> None:
        """Wait for this connection's turn, then BEGIN IMMEDIATE."""
        if self._queue is not None and not self._in_queue:
            self._queue.acquire(self._timeout)
            self._in_queue = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._leave()
            raise

    def _leave(self) -> None:
        if self._in_queue:
            self._in_queue = False
            assert self._queue is not None
            self._queue.release()

    def commit(self) -> None:
        wrote = self._in_queue
        try:
            super().commit()
        finally:
            self._leave()
        if wrote and self._queue is not None and self._queue.checkpoint_due():
            self._checkpoint()

    def _checkpoint(self) -> None:
        # PASSIVE: copy what it can without waiting for readers or writers; never an error for the
        # request whose commit has already succeeded.
        with contextlib.suppress(sqlite3.Error):
            self.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave()
