"""The overview's change look is kept under its own write counter (data_version.CHANGE_LOOK), which
a survey answer of the current week leaves alone: every look's window ends at the start of the
current week, so such an answer is in none of them (issue 19: at a national provider's size the
look takes seconds to compute, and every answer made the next overview compute it again). Any
other write to the facts, or to the names the look shows, moves it; a rolled-back one moves nothing.

Own SQLite files: the counters move at commits, which the rolled-back fixture never makes.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, insert, update

from perception.core.models.base import Base
from perception.core.models.facts import ExperienceObservation
from perception.core.models.org import Region
from perception.kpi.services.data_version import CHANGE_LOOK, HEADLINE, current_week_write
from tests.surveys.conftest import answer_page, seed_personal_link
from tests.surveys.test_race import INVITED, _app

pytestmark = pytest.mark.own_sqlite
ZONE = "Asia/Shanghai"


def _counters(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as other:
        return dict(other.execute("SELECT name, n FROM data_version").fetchall())


def _this_monday() -> date:
    today = datetime.now(ZoneInfo(ZONE)).date()
    return today - timedelta(days=today.weekday())


def test_an_answer_of_the_current_week_leaves_the_kept_look_current(tmp_path, monkeypatch):
    from perception.analysis.services import changes
    from perception.analysis.services.filters import default_filters
    from perception.core.clock import current_clock
    from perception.core.extensions import db

    path = tmp_path / "answer.sqlite"
    app = _app(f"sqlite:///{path}", tmp_path, monkeypatch, {})
    token = seed_personal_link(app, *INVITED, days=1)
    changes.forget_kept()
    with app.app_context():
        today = current_clock().today()
        filters = default_filters(today)
        before = changes.change_summary(db.session, filters, today=today)
        db.session.commit()
        db.session.remove()
    counted = _counters(path)

    client = app.test_client()
    assert client.get(f"/s/t/{token}").status_code == 303
    assert answer_page(client, "/s/r", {"csat": "5"}, action="submit").status_code == 303

    after = _counters(path)
    assert after[HEADLINE] == counted.get(HEADLINE, 0) + 1  # the answer is news to the other pages
    assert after.get(CHANGE_LOOK, 0) == counted.get(CHANGE_LOOK, 0)
    with closing(sqlite3.connect(path)) as other:
        weeks = {row[0] for row in other.execute("SELECT period_start FROM experience_observation")}
    assert weeks == {(today - timedelta(days=today.weekday())).isoformat()}

    assert_look_kept(app, filters, today, before, monkeypatch)


def assert_look_kept(app: Any, filters: Any, today: date, before: Any, monkeypatch: Any) -> None:
    """Another process (nothing kept in it) reads the change summary ``before`` from the database's
    kept row: the facts are not read again."""
    from perception.analysis.services import changes
    from perception.core.extensions import db

    reads: list[Any] = []
    read = changes._histogram_statement
    monkeypatch.setattr(changes, "_histogram_statement", lambda *a, **k: reads.append(a) or read(*a, **k))
    changes.forget_kept()
    with app.app_context():
        again = changes.change_summary(db.session, filters, today=today)
        db.session.remove()
    assert reads == [] and again.computed_at == before.computed_at


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'versions.sqlite'}")
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(Region.__table__), {"id": 1, "code": "R1", "name_zh": "一区", "name_en": "One"})
    yield engine
    engine.dispose()


def _answer(week: date) -> dict[str, Any]:
    return {
        "source": "survey", "source_id": 1, "observed_on": week, "period_start": week, "region_id": 1,
        "kind": "csat", "value": 5.0, "scale_min": 1.0, "scale_max": 5.0,
    }  # fmt: skip


def _moved(engine: Any, write: Any, names: tuple[str, ...] = (HEADLINE, CHANGE_LOOK)) -> tuple[int, ...]:
    """How far one committed transaction of ``write(conn)`` moves the counters ``names``."""
    path = Path(engine.url.database)
    before = _counters(path)
    with engine.begin() as conn:
        write(conn)
    after = _counters(path)
    return tuple(after.get(n, 0) - before.get(n, 0) for n in names)


OBS = ExperienceObservation.__table__


def _declared(conn: Any, week: date, *, change_look: bool = True) -> None:
    with current_week_write(conn, "experience_observation", week, ZONE, change_look=change_look):
        conn.execute(insert(OBS), [_answer(week)])


def _other_table(conn: Any, monday: date) -> None:
    with current_week_write(conn, "text_entry", monday, ZONE):
        conn.execute(insert(OBS), [_answer(monday)])


def _renamed(conn: Any, monday: date) -> None:
    _declared(conn, monday)
    conn.execute(update(Region.__table__).values(name_en="One (renamed)"))


def _two_declarations(conn: Any, monday: date) -> None:
    _declared(conn, monday - timedelta(weeks=1), change_look=False)
    _declared(conn, monday - timedelta(weeks=1))


def _with_last_week(conn: Any, monday: date) -> None:
    _declared(conn, monday)
    conn.execute(insert(OBS), [_answer(monday - timedelta(weeks=1))])


#: One committed transaction's writes, by what they are (``monday``: the current week's).
WRITES: dict[str, Any] = {
    "this week, declared": lambda conn, monday: _declared(conn, monday),
    "next week, declared": lambda conn, monday: _declared(conn, monday + timedelta(weeks=1)),
    "last week, declared": lambda conn, monday: _declared(conn, monday - timedelta(weeks=1)),
    "last week, declared, of a source the look does not test": (
        lambda conn, monday: _declared(conn, monday - timedelta(weeks=1), change_look=False)
    ),
    "last week, two declarations, one of them tested": _two_declarations,
    "this week, not declared": lambda conn, monday: conn.execute(insert(OBS), [_answer(monday)]),
    "this week declared, and a row of last week": _with_last_week,
    "this week declared, and a region renamed": _renamed,
    "declared for another table": _other_table,
}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("this week, declared", (1, 0)),
        ("next week, declared", (1, 0)),
        ("last week, declared", (1, 1)),  # a clock pinned in the past, or a week that ended meanwhile
        ("last week, declared, of a source the look does not test", (1, 0)),  # a weekly report's
        ("last week, two declarations, one of them tested", (1, 1)),
        ("this week, not declared", (1, 1)),  # an import, a correction: any week
        ("this week declared, and a row of last week", (1, 1)),
        ("this week declared, and a region renamed", (1, 1)),  # the flags show the names
        ("declared for another table", (1, 1)),
    ],
)
def test_only_declared_answers_of_a_begun_week_leave_the_look_current(engine, case, expected):
    monday = _this_monday()
    assert _moved(engine, lambda conn: WRITES[case](conn, monday)) == expected


def test_a_rolled_back_answer_moves_nothing_and_leaves_no_declaration(engine):
    path = Path(engine.url.database)
    before = _counters(path)
    with engine.connect() as conn:
        with pytest.raises(RuntimeError), conn.begin():
            _declared(conn, _this_monday())
            raise RuntimeError("the answer's transaction fails")
        # The next transaction on the same connection writes a row of last week, undeclared.
        with conn.begin():
            conn.execute(insert(OBS), [_answer(_this_monday() - timedelta(weeks=1))])
    after = _counters(path)
    assert after.get(CHANGE_LOOK, 0) == before.get(CHANGE_LOOK, 0) + 1
    assert after.get(HEADLINE, 0) == before.get(HEADLINE, 0) + 1
