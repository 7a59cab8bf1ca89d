"""Issue 19: several managers opening a page whose data just changed each computed it, in every
process at once (a national provider's SLA attainment is seconds of CPU each, its overview's change
look more than a second). perception.core.kept now computes a result in one process at a time on
PostgreSQL: the first takes an advisory lock of the key and counter, computes and stores the row in
the lock's transaction; the others wait for the lock and read the row. A computation that fails
lets the next one compute; a wait longer than FLIGHT_WAIT computes itself; a session bound to a
caller's outer transaction (the tests' fixture) keeps its result in that transaction.

Two apps on one database stand for two processes (each its own engine and connections; the lock is
the database's, whichever process holds it)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from perception.core import kept as kept_module
from perception.core.kept import Kept
from perception.core.models.kept import KeptResult
from tests.core.test_h19kept_shared import NOW, Figures, two_apps  # noqa: F401 - the fixture, on this database
from tests.own_database import PostgresSchema

PAGE = "h27flight_test"


@pytest.fixture
def database():
    schema = PostgresSchema("h27kept_flight")
    yield schema.url()
    schema.drop()


def _waiting_for_a_lock(url: str, deadline_s: float = 20.0) -> bool:
    """Whether some connection waits for an advisory lock (the other process, at its flight)."""
    engine = create_engine(url)
    try:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            with engine.connect() as conn:
                waiting = conn.scalar(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                )
            if waiting:
                return True
            time.sleep(0.02)
        return False
    finally:
        engine.dispose()


class Both:
    """Two gets of one key in two apps, the first's computation held until the second waits."""

    def __init__(self, database: str, first: Any, second: Any) -> None:
        self.database, self.first, self.second = database, first, second
        self.calls: list[str] = []
        self.results: dict[str, Any] = {}
        self.errors: dict[str, BaseException] = {}

    def compute(self, who: str, *, hold: bool = False, fail: bool = False) -> Any:
        def run() -> Figures:
            self.calls.append(who)
            if hold:
                self.seen_waiting = _waiting_for_a_lock(self.database)
                time.sleep(0.3)  # a computation takes longer than the gap between the processes
            if fail:
                raise RuntimeError("the computation failed")
            return Figures(None, (1.0,) if who == "first" else (2.0,), NOW)

        return run

    def get(self, who: str, app: Any, compute: Any) -> None:
        from perception.core.transaction import unit_of_work
        from perception.kpi.services.data_version import read_version

        # The second process began a moment before the first, which computes for longer than
        # that moment: its clock's now is earlier than the first's result.
        now = NOW - timedelta(milliseconds=50) if who == "second" else NOW
        try:
            with app.app_context(), unit_of_work() as session:
                version = read_version(session, PAGE)
                self.results[who] = Kept(PAGE, Figures, max_age=timedelta(minutes=10)).get(
                    session, {"scope": None}, version, compute, now=now
                )
        except BaseException as error:  # noqa: BLE001 - the test reads it
            self.errors[who] = error

    def run(self, first_compute: Any, second_compute: Any) -> None:
        one = threading.Thread(target=self.get, args=("first", self.first, first_compute))
        one.start()
        while not self.calls:  # the first is computing, holding the lock
            time.sleep(0.01)
        two = threading.Thread(target=self.get, args=("second", self.second, second_compute))
        two.start()
        one.join(60)
        two.join(60)


def _rows(app: Any) -> int:
    from perception.core.extensions import db

    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(KeptResult).where(KeptResult.page == PAGE))
            or 0
        )


def test_a_result_computed_by_one_process_is_what_the_waiting_one_shows(two_apps, database):  # noqa: F811 - the fixture imported above
    first, second = two_apps
    both = Both(database, first, second)
    both.run(both.compute("first", hold=True), both.compute("second"))
    assert both.seen_waiting  # the second waited for the first's lock
    # It reads the first's row, though computed "after" its own clock's now.
    assert both.calls == ["first"] and not both.errors
    assert both.results["first"].values == both.results["second"].values == (1.0,)
    assert _rows(first) == 1


def test_a_failed_computation_lets_the_waiting_process_compute(two_apps, database):  # noqa: F811 - the fixture imported above
    first, second = two_apps
    both = Both(database, first, second)
    both.run(both.compute("first", hold=True, fail=True), both.compute("second"))
    assert both.seen_waiting
    assert both.calls == ["first", "second"]
    assert isinstance(both.errors["first"], RuntimeError) and "second" not in both.errors
    assert both.results["second"].values == (2.0,)
    assert _rows(first) == 1


def test_a_wait_longer_than_flight_wait_computes_itself(two_apps, database, monkeypatch):  # noqa: F811 - the fixture imported above
    monkeypatch.setattr(kept_module, "FLIGHT_WAIT", timedelta(seconds=1))
    first, second = two_apps
    both = Both(database, first, second)
    release = threading.Event()

    def held() -> Figures:
        both.calls.append("first")
        release.wait(30)  # held until the second has given up waiting and computed
        return Figures(None, (1.0,), NOW)

    def second_compute() -> Figures:
        both.calls.append("second")
        release.set()
        return Figures(None, (2.0,), NOW)

    both.run(held, second_compute)
    assert sorted(both.calls) == ["first", "second"] and not both.errors
    assert both.results["second"].values == (2.0,)  # its own, not blocked
    assert both.results["first"].values == (1.0,)


def test_a_session_bound_to_an_outer_transaction_keeps_its_result_there(two_apps):  # noqa: F811 - the fixture imported above
    """The tests' rolled-back fixture: a result stored apart would outlive the transaction whose
    data it was computed from."""
    from sqlalchemy import orm

    from perception.core.extensions import db
    from perception.kpi.services.data_version import read_version

    first, _ = two_apps
    with first.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        session = orm.Session(bind=connection, join_transaction_mode="create_savepoint")
        computed = []

        def compute() -> Figures:
            computed.append(1)
            return Figures(None, (3.0,), NOW)

        got = Kept(PAGE, Figures).get(session, {"scope": None}, read_version(session, PAGE), compute, now=NOW)
        assert got.values == (3.0,) and computed == [1]
        session.close()
        outer.rollback()
        connection.close()
    assert _rows(first) == 0
