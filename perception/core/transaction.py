"""One transaction per request, CLI command and job: the only place that commits or rolls back.

Requests. Before the view runs, the request is classed as a writer or a reader: every method but
GET, HEAD and OPTIONS writes, and so does a GET view marked ``@writes`` (an export that records
its audit row). On SQLite a writer takes its turn in the writer queue and begins IMMEDIATE; a
reader begins a deferred transaction and never asks for the write lock, so it cannot fail with
"database is locked" however busy the writers are. After the view, a response below 400 commits
and anything else (an error page, a 4xx answer) rolls back; then the after-commit hooks run
(enqueue a job, send mail), so a job never starts before the data it needs is committed.

CLI commands and jobs run inside ``unit_of_work()``: commit at the end, roll back on an error,
then the after-commit hooks.

Two tools for the cases in between:
- ``atomic()``: a savepoint around an operation whose failure the view shows to the user (a
  form's problems) while the request goes on: the failed operation's writes are undone, nothing
  else is.
- ``keep_writes()``: the request's writes are kept although it answers 4xx (a throttle's hit).
- ``connection()``: the request's transaction as a plain SQLAlchemy Core connection, without an ORM
  Session (no identity map, no flush, no Session object to build and close): the respondent's
  pages, which run Core statements only, on every answer (issue 19). It commits and rolls back
  exactly as the Session would. Should the ORM be needed later in such a request (a job enqueued
  by a low score), the request's Session binds to that same connection
  (``extensions.RequestSession``): one transaction per request always (two would not see each
  other's writes, and on SQLite a writer would wait for itself).
- ``write_afterwards(fn)``: a small write that must be kept whatever the request's outcome (the
  audit row of a denied access or a failed API sign-in, an API token's last use). It runs once
  the request's own transaction has ended, in a short write transaction of its own, so a reading
  request stays a reader.

Views, API handlers, operations and CLI commands never call ``commit()`` or ``rollback()``.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, Response, current_app, has_app_context, has_request_context, request
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection, Transaction
from sqlalchemy.orm import Session, scoped_session

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
Hook = Callable[[], Any]
SessionWrite = Callable[[Session], Any]
Db = Session | Connection  # what a Core-only service takes: a Session or the request's connection()

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES = "_perception_writes"
_STATE = "perception.transaction"


@dataclass
class _RequestTransaction:
    """What the hooks decided and collected for one request (kept in its WSGI environ)."""

    writes: bool
    after_commit: list[Hook] = field(default_factory=list)
    afterwards: list[SessionWrite] = field(default_factory=list)
    doomed: bool = False
    done: bool = False
    keep: bool = False  # keep_writes(): commit although the answer is a 4xx
    conn: Connection | None = None  # connection(): the request's Core connection, if it took one
    core_tx: Transaction | None = None  # ... and its transaction
    core_owned: bool = True  # the connection is the request's own (closed at the end)


def _state() -> _RequestTransaction | None:
    """The current request's transaction, if the request went through the hooks."""
    if not has_request_context():
        return None
    state: _RequestTransaction | None = request.environ.get(_STATE)
    return state


# After-commit hooks of the unit of work open outside a request (CLI command, job).
_unit_hooks: contextvars.ContextVar[list[Hook] | None] = contextvars.ContextVar(
    "perception_unit_hooks", default=None
)


def _session() -> Session:
    from perception.core.extensions import orm

    return orm()


def core(db: Db) -> Connection:
    """The Core connection of ``db``: itself, or the Session's connection (in its transaction)."""
    return db if isinstance(db, Connection) else db.connection()


def connection() -> Connection:
    """The current request's transaction as a Core connection, begun on first use and ended by the
    request's hooks with the same rules as the Session (commit below 400, writers on SQLite in the
    writer queue). Outside a request, or when the request's Session has already begun, it is the
    Session's connection, in the Session's transaction."""
    state = _state()
    if state is None or state.done:
        return _session().connection()
    if state.conn is not None:
        return state.conn
    session = _session()
    if _in_transaction(session):
        return session.connection()
    bind = _session_bind()
    if isinstance(bind, Connection):
        # The Session's factory is bound to a connection (the test suite's rolled-back
        # transaction): join it with a savepoint, as the Session's create_savepoint mode does.
        state.core_tx, state.core_owned = bind.begin_nested(), False
        state.conn = bind
        return bind
    conn = bind.connect()
    try:
        state.core_tx = conn.begin()
    except BaseException:
        conn.close()
        raise
    state.conn = conn
    return conn


def held_connection() -> Connection | None:
    """The Core connection the current request holds (``connection()``), if any."""
    if not has_request_context():
        return None
    state: _RequestTransaction | None = request.environ.get(_STATE)
    return state.conn if state is not None and not state.done else None


def _session_bind() -> Any:
    """What the request's Session would connect with: its factory's bind, else the app's engine."""
    from perception.core.extensions import db

    factory = getattr(db.session, "session_factory", None)
    bind = factory.kw.get("bind") if factory is not None else None
    return bind if bind is not None else db.engine


def _end_core(state: _RequestTransaction, committing: bool) -> None:
    conn, tx = state.conn, state.core_tx
    state.conn = state.core_tx = None
    if conn is None:
        return
    try:
        if tx is not None and tx.is_active:
            tx.commit() if committing else tx.rollback()
    finally:
        if state.core_owned:
            conn.close()


def writes(view: F) -> F:
    """Mark a GET view as a writer: it gets a write transaction (on SQLite, its turn in the queue)."""
    setattr(view, _WRITES, True)
    return view


def is_writer() -> bool:
    """Whether the current transaction may write. Outside a request (CLI, jobs) it always may."""
    if not has_request_context():
        return True
    state = _state()
    return state.writes if state is not None else request.method not in SAFE_METHODS


def request_transaction_writable() -> bool:
    """Whether a write now joins a transaction that will commit: outside a request (a unit of work
    or a test's session), or in a writing request whose transaction is still open."""
    state = _state()
    if state is None:
        return not has_request_context() or request.method not in SAFE_METHODS
    return state.writes and not state.done


def after_commit(hook: Hook) -> None:
    """Run ``hook`` once the current request's or unit of work's transaction has committed.

    Dropped when it rolls back. With no transaction of ours open (a test calling an operation
    directly), it runs at once.
    """
    state = _state()
    if state is not None and not state.done:
        state.after_commit.append(hook)
        return
    hooks = _unit_hooks.get()
    if hooks is not None:
        hooks.append(hook)
        return
    hook()


def write_afterwards(write: SessionWrite) -> None:
    """Run ``write(session)`` in its own write transaction after the request's transaction ends,
    committed whatever the request's outcome. Outside a request it runs now, in the caller's."""
    state = _state()
    if state is not None and not state.done:
        state.afterwards.append(write)
        return
    write(_session())


def commit_apart(write: SessionWrite) -> None:
    """Run ``write(session)`` now, in a short transaction of its own on a separate session, and
    commit it before returning: what a reading request must store at once (a job it asks for,
    which a worker reads right after)."""
    from perception.core.extensions import db

    with held_apart(db.engine) as session:
        write(session)


@contextmanager
def held_apart(engine: Any) -> Iterator[Session]:
    """A transaction of its own on a separate session, held while the block runs: committed when
    it ends, rolled back when it raises. For what must commit before the caller's transaction does
    and hold a lock meanwhile (perception.core.kept: a result computed once while others wait)."""
    with Session(engine) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


#: Threads for computed_beside: a page's second computation each, created as they are first needed.
_beside = ThreadPoolExecutor(max_workers=8, thread_name_prefix="perception-beside")


def _new_pool_after_fork() -> None:
    """A forked process (gunicorn's workers after --preload, a job's work horse) has none of its
    parent's threads: a pool copied from a parent that had used it would wait for them forever."""
    global _beside
    _beside = ThreadPoolExecutor(max_workers=8, thread_name_prefix="perception-beside")


os.register_at_fork(after_in_child=_new_pool_after_fork)


def computed_beside(session: Session, compute: Callable[[Session], T], *, alone: bool) -> Callable[[], T]:
    """``compute`` run now in a thread beside the caller, on a transaction of its own that it
    commits (what it stores, as a job's unit of work would), when that can only be quicker and
    sees what the caller's would: ``alone`` (the caller's transaction has written nothing the
    computation reads: it sees committed data only) and ``session`` bound to a PostgreSQL engine
    (its own server processes answer both at once; SQLite's one file and a session bound to a
    caller's connection, as the tests' outer transaction, compute in the caller's transaction).
    Otherwise ``compute(session)`` runs when the result is asked for. The returned function gives
    the result or raises its exception.

    Why (issue 19): the overview's figures wait on the database while its change look's tests
    keep a core busy; side by side the page after a late callback took 1.3 s instead of 1.8."""
    engine = session.get_bind()
    if not alone or not isinstance(engine, Engine) or engine.dialect.name != "postgresql":
        return lambda: compute(session)
    app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]

    def apart() -> T:
        with app.app_context() if app is not None else nullcontext(), held_apart(engine) as own:
            return compute(own)

    return _beside.submit(apart).result


@contextmanager
def atomic() -> Iterator[None]:
    """A savepoint: an exception inside undoes the block's writes, drops the after-commit hooks it
    registered (mail about a change that did not happen) and propagates."""
    state = _state()
    hooks = state.after_commit if state is not None else _unit_hooks.get()
    mark = len(hooks) if hooks is not None else 0
    try:
        with _session().begin_nested():
            yield
    except BaseException:
        if hooks is not None:
            del hooks[mark:]
        raise


def keep_writes() -> None:
    """Commit this request's writes although its answer is a 4xx: a throttle's hit behind a 404
    or a 429 must count, and taking it inside the request is what makes it atomic with the check.
    A server error (5xx) still rolls back."""
    state = _state()
    if state is not None:
        state.keep = True


def abandon() -> None:
    """Roll the request back now (the error page is about to render with a clean session)."""
    state = _state()
    try:
        _session().rollback()  # first: a Session joined to the Core connection leaves it
    finally:
        if state is not None:
            _end_core(state, committing=False)
    if state is not None:
        state.doomed = True


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """The transaction of a CLI command or a job: commit at the end, roll back on an error."""
    hooks: list[Hook] = []
    token = _unit_hooks.set(hooks)
    session = _session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _unit_hooks.reset(token)
    for hook in hooks:
        hook()


def _run_afterwards(state: _RequestTransaction) -> None:
    pending, state.afterwards = state.afterwards, []
    if not pending:
        return
    session = _session()
    state.writes = True  # its own transaction, and a writer's
    try:
        for write in pending:
            write(session)
        session.commit()
    except Exception:
        session.rollback()
        current_app.logger.exception("a write after the request failed")


def _opened(session: Session | scoped_session[Session]) -> bool:
    """Whether the request has a session at all: a request that never asked for one (the survey
    thank-you page) ends without creating a Session only to find it has nothing to do."""
    return not isinstance(session, scoped_session) or session.registry.has()


def _in_transaction(session: Session | scoped_session[Session]) -> bool:
    """Whether the session has begun a transaction (any statement, or an object added)."""
    if not _opened(session):
        return False
    real = session() if isinstance(session, scoped_session) else session
    return real.in_transaction()


def _finish(committing: bool) -> None:
    """End the request's transaction once; then the after-request writes and after-commit hooks."""
    state = _state()
    if state is None or state.done:
        return
    state.done = True
    session = _session()
    hooks, state.after_commit = state.after_commit, []
    if state.conn is not None:  # a Core request (``connection()``): its transaction is the request's
        commit = committing and not state.doomed
        try:
            if _in_transaction(session):  # the ORM joined it (RequestSession): flush, end its part
                session.commit() if commit else session.rollback()
        finally:
            _end_core(state, commit)
        if not commit:
            hooks = []
    elif committing and not state.doomed:
        if _in_transaction(session):  # a request that touched no table has nothing to commit
            session.commit()
    else:
        if _opened(session):
            session.rollback()
        hooks = []
    _run_afterwards(state)
    for hook in hooks:
        # The data is committed: a hook that fails (Redis down while a job is sent) is logged,
        # it does not turn the user's successful request into an error.
        try:
            hook()
        except Exception:
            current_app.logger.exception("an after-commit hook failed")


def init_app(app: Flask) -> None:
    """Register first, so the request is classed before any other hook reads the database."""

    @app.before_request
    def _open_request_transaction() -> None:
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        writes = request.method not in SAFE_METHODS or bool(getattr(view, _WRITES, False))
        request.environ[_STATE] = _RequestTransaction(writes=writes)

    # after_request hooks run in reverse order of registration: this one, registered first, runs
    # last, when the other hooks have shaped the response.
    @app.after_request
    def _end_request_transaction(response: Response) -> Response:
        state = _state()
        kept = state is not None and state.keep and response.status_code < 500
        _finish(committing=response.status_code < 400 or kept)
        return response

    @app.teardown_request
    def _end_on_exception(exc: BaseException | None) -> None:
        # Only does anything when an exception escaped every handler and after_request never ran.
        _finish(committing=False)


class ReaderWrote(RuntimeError):
    """A reading request tried to write: mark its view ``@writes`` or use ``write_afterwards``."""


def _refuse_writes_in_readers(session: Session, _context: Any, _instances: Any) -> None:
    if not (has_request_context() and current_app.config.get("STRICT_READERS")):
        return
    if _state() is None or is_writer():  # only requests the hooks have classed
        return
    from perception.core.extensions import db

    if session is not db.session():  # a transaction of its own (``commit_apart``)
        return
    if not (session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)):
        return
    raise ReaderWrote(
        f"{request.method} {request.path} ({request.endpoint}) changed data in a reading request: "
        "mark the view @writes, or record the change with write_afterwards()"
    )


event.listen(Session, "before_flush", _refuse_writes_in_readers)


class TwoTransactions(RuntimeError):
    """A request holding a Core ``connection()`` began an ORM transaction on another connection."""


def _one_transaction_per_request(session: Session, _transaction: Any, connection: Any) -> None:
    state = _state()
    if state is None or state.conn is None or state.done:
        return
    from perception.core.extensions import db

    if session is not db.session() or connection is state.conn:  # apart, or the request's own
        return
    raise TwoTransactions(
        f"{request.method} {request.path} ({request.endpoint}) holds a Core connection() and its "
        "Session began a transaction on another connection"
    )


event.listen(Session, "after_begin", _one_transaction_per_request)
