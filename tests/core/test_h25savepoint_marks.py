"""Writes taken back by a rolled-back savepoint move no write counter (data_version). Observed in
session 17 on PostgreSQL: a ticket file refused after some of its chunks were written (the
streamed import writes inside a savepoint and rolls it back) left the "tickets written" mark on
the connection, so when the caller committed anything else afterwards every page made from the
tickets was computed again for nothing; any other savepoint rolled back (a form's refused part
inside a larger transaction) did the same. A released savepoint's writes still count.

Own SQLite file: the counters move at commits, which the rolled-back fixture never makes.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, update

import perception.setup.models.catalog  # noqa: F401 - the facts' foreign keys name its tables
from perception.core.models.base import Base
from perception.core.models.facts import ExperienceObservation
from perception.core.models.org import Region
from perception.kpi.services.data_version import CHANGE_LOOK, HEADLINE

pytestmark = pytest.mark.own_sqlite
OBS = ExperienceObservation.__table__
REGION = Region.__table__


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'marks.sqlite'}")
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(REGION), {"id": 1, "code": "R1", "name_zh": "一区", "name_en": "One"})
    yield engine
    engine.dispose()


def _counters(engine: Any) -> dict[str, int]:
    with closing(sqlite3.connect(Path(engine.url.database))) as other:
        return dict(other.execute("SELECT name, n FROM data_version").fetchall())


def _moved(engine: Any, write: Any) -> dict[str, int]:
    before = _counters(engine)
    with engine.begin() as conn:
        write(conn)
    after = _counters(engine)
    return {n: after.get(n, 0) - before.get(n, 0) for n in (HEADLINE, CHANGE_LOOK)}


def _fact(conn: Any) -> None:
    week = date(2026, 3, 2)
    conn.execute(
        insert(OBS),
        {
            "source": "survey", "source_id": 1, "observed_on": week, "period_start": week,
            "region_id": 1, "kind": "csat", "value": 5.0, "scale_min": 1.0, "scale_max": 5.0,
        },
    )  # fmt: skip


def _rename(conn: Any) -> None:
    conn.execute(update(REGION).values(name_en="One (renamed)"))


def _rolled_back(conn: Any, write: Any) -> None:
    savepoint = conn.begin_nested()
    write(conn)
    savepoint.rollback()


def test_writes_of_a_rolled_back_savepoint_move_nothing(engine):
    assert _moved(engine, lambda conn: _rolled_back(conn, _fact)) == {HEADLINE: 0, CHANGE_LOOK: 0}


def test_a_released_savepoints_writes_count(engine):
    def write(conn: Any) -> None:
        with conn.begin_nested():
            _fact(conn)

    assert _moved(engine, write) == {HEADLINE: 1, CHANGE_LOOK: 1}


def test_writes_before_the_savepoint_still_count(engine):
    def write(conn: Any) -> None:
        _rename(conn)  # names: the look and the headline show them
        _rolled_back(conn, _fact)

    assert _moved(engine, write) == {HEADLINE: 1, CHANGE_LOOK: 1}
    assert _counters(engine)  # the rows of the rename stay


def test_nested_savepoints_keep_what_each_level_kept(engine):
    from perception.kpi.services.data_version import ATTAINMENT

    def write(conn: Any) -> None:
        outer = conn.begin_nested()
        _rename(conn)
        _rolled_back(conn, _fact)  # inner taken back
        outer.commit()  # the rename released

    before = _counters(engine)
    with engine.begin() as conn:
        write(conn)
    after = _counters(engine)
    moved = {n: after.get(n, 0) - before.get(n, 0) for n in after}
    assert moved[HEADLINE] == 1 and moved[CHANGE_LOOK] == 1
    assert moved.get(ATTAINMENT, 0) == 1  # the attainment page shows region names too

    def only_taken_back(conn: Any) -> None:
        outer = conn.begin_nested()
        _fact(conn)
        inner = conn.begin_nested()
        _rename(conn)
        inner.commit()
        outer.rollback()  # both levels taken back

    assert _moved(engine, only_taken_back) == {HEADLINE: 0, CHANGE_LOOK: 0}


def test_a_version_read_inside_a_rolled_back_savepoint_is_never_read_again(engine):
    """A result kept for the transaction's own writes is keyed by (counter, token, writes): after
    a savepoint is rolled back, later writes reaching the same count are other rows, so the key
    must differ (a new token)."""
    from sqlalchemy.orm import Session

    from perception.kpi.services.data_version import read_version

    with Session(engine) as session:
        session.execute(update(REGION).values(name_en="One (first)"))
        before = read_version(session, HEADLINE)
        savepoint = session.begin_nested()
        session.execute(update(REGION).values(name_en="One (inside)"))
        inside = read_version(session, HEADLINE)
        savepoint.rollback()
        session.execute(update(REGION).values(name_en="One (after)"))
        after = read_version(session, HEADLINE)
        session.rollback()
    assert inside[2] == after[2] == before[2] + 1  # the same count of writes ...
    assert inside != after  # ... of other rows: another key
