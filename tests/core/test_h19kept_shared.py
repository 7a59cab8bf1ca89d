"""Issue 19: the manager's slow pages kept their results per process, so each gunicorn worker, and
every process after a restart, paid the first load again (5-20 s at a tenth of a national
provider). perception.core.kept stores them in ``kept_result``: what one process computed is
served by another on the same database, while the write counter is the same; a counter move
invalidates; a scope never sees another's result; a result over uncommitted writes is never
stored; an unreadable row is computed again, never a 500."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from perception.core.kept import Kept
from perception.core.models.kept import KeptResult
from perception.kpi.services.data_version import read_version
from tests.own_database import PostgresSchema, sqlite_url

COUNTER = "h19kept_test"
NOW = datetime(2026, 5, 1, 8, 0)


@dataclass(frozen=True)
class Figures:
    scope: tuple[int, ...] | None
    values: tuple[float, ...]
    computed_at: datetime


def _app(url: str) -> Any:
    from perception import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-key-which-is-long-enough-0123456789",
            "REDIS_URL": None,
            "JOBS_BACKGROUND": False,
        }
    )


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.own_sqlite),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def database(request, tmp_path):
    if request.param == "sqlite":
        yield sqlite_url(tmp_path, "kept")
        return
    schema = request.getfixturevalue("_shared_schema")
    schema.empty_tables()
    yield schema.url()


@pytest.fixture(scope="module")
def _shared_schema():
    """``database``'s PostgreSQL schema, its tables created once and emptied before each test (a new
    schema per test cost 2-4 s of DDL each)."""
    schema = PostgresSchema("h19kept_shared").create_tables()
    yield schema
    schema.drop()


@pytest.fixture
def two_apps(database):
    from perception.core.extensions import db

    first, second = _app(database), _app(database)
    with first.app_context():
        db.create_all()
    yield first, second
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


class Computations:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, scope: tuple[int, ...] | None, values: tuple[float, ...]) -> Any:
        def compute() -> Figures:
            self.calls.append(scope)
            return Figures(scope, values, NOW)

        return compute


def _get(app: Any, kept: Kept[Figures], compute: Any, scope: tuple[int, ...] | None = None) -> Figures:
    from perception.core.transaction import unit_of_work

    with app.app_context(), unit_of_work() as session:
        return kept.get(session, {"scope": scope}, read_version(session, COUNTER), compute, now=NOW)


def _bump(app: Any) -> None:
    from perception.core.extensions import db

    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO data_version (name, n) VALUES (:n, 1)"
                " ON CONFLICT (name) DO UPDATE SET n = data_version.n + 1"
            ),
            {"n": COUNTER},
        )
        db.session.commit()


def test_a_result_computed_by_one_app_is_served_by_another(two_apps):
    first, second = two_apps
    # Two processes: each its own memory (its own Kept), one database.
    mine, theirs = Kept("h19kept_test", Figures), Kept("h19kept_test", Figures)
    computed = Computations()
    stored = _get(first, mine, computed(None, (1.5, float("nan"))))
    served = _get(second, theirs, computed(None, (9.9,)))
    assert computed.calls == [None]
    assert repr(served) == repr(stored) and served.values[0] == 1.5
    # The second now has it in memory: no row read needed, the same object.
    assert _get(second, theirs, computed(None, (9.9,))) is served

    # A regional scope is its own key: never the organisation's result.
    regional = _get(second, theirs, computed((3,), (2.0,)), (3,))
    assert regional.scope == (3,) and computed.calls == [None, (3,)]
    assert _get(first, mine, computed((4,), (3.0,)), (4,)).scope == (4,)
    assert _get(first, mine, computed((3,), (5.0,)), (3,)) == regional  # stored by the other

    # A committed write moves the counter: both compute again (once), then share it.
    _bump(first)
    again = _get(second, theirs, computed(None, (7.0,)))
    assert again.values == (7.0,) and computed.calls[-1] is None and len(computed.calls) == 4
    assert _get(first, mine, computed(None, (8.0,))).values == (7.0,)
    assert len(computed.calls) == 4


def test_a_result_over_uncommitted_writes_is_never_stored(two_apps):
    from perception.core.extensions import db
    from perception.core.transaction import unit_of_work

    first, _ = two_apps
    kept, computed = Kept("h19kept_test", Figures), Computations()
    with first.app_context(), unit_of_work() as session:
        kept.get(session, {"scope": None}, (0, 42, 1), computed(None, (1.0,)), now=NOW)
        kept.get(session, {"scope": None}, (0, 42, 1), computed(None, (1.0,)), now=NOW)
    assert len(computed.calls) == 2
    with first.app_context():
        assert db.session.scalar(select(func.count()).select_from(KeptResult)) == 0


def test_another_process_reads_the_stored_result(two_apps, database):
    first, _ = two_apps
    _get(first, Kept("h19kept_test", Figures), Computations()(None, (4.25,)))
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from tests.core.test_h19kept_shared import Figures, Kept, _app, _get

        def refuse():
            raise SystemExit("computed again")

        print(_get(_app({database!r}), Kept("h19kept_test", Figures), refuse).values)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "(4.25,)"


@pytest.mark.parametrize(
    "spoil",
    [
        {"payload": b"not zlib"},
        {"payload": zlib.compress(b"{not json")},
        {"payload": zlib.compress(json.dumps({"scope": None, "values": "x", "computed_at": "y"}).encode())},
        {"payload": zlib.compress(json.dumps({"__class__": "os.system", "args": ["true"]}).encode())},
        {"format": 99},
        {"params": '{"scope":[1]}'},
    ],
)
def test_a_corrupt_or_foreign_row_is_computed_again(two_apps, spoil):
    from perception.core.extensions import db

    first, second = two_apps
    computed = Computations()
    _get(first, Kept("h19kept_test", Figures), computed(None, (1.0,)))
    with first.app_context():
        db.session.execute(update(KeptResult).values(**spoil))
        db.session.commit()
    again = _get(second, Kept("h19kept_test", Figures), computed(None, (2.0,)))
    assert again.values == (2.0,) and len(computed.calls) == 2
    # ... and the row is written again, readable.
    assert _get(first, Kept("h19kept_test", Figures), computed(None, (3.0,))).values == (2.0,)


def test_old_rows_are_pruned(two_apps, monkeypatch):
    from perception.core import kept as kept_module
    from perception.core.extensions import db
    from perception.core.transaction import unit_of_work

    first, _ = two_apps
    monkeypatch.setattr(kept_module, "MAX_ROWS", 3)
    kept, computed = Kept("h19kept_test", Figures), Computations()
    for i in range(5):
        with first.app_context(), unit_of_work() as session:
            at = NOW + timedelta(minutes=i)
            kept.get(session, {"scope": (i,)}, (0, 0, 0), computed((i,), (float(i),)), now=at)
    with first.app_context():
        newest = db.session.scalars(select(KeptResult.params).order_by(KeptResult.computed_at)).all()
        db.session.rollback()
    assert newest == ['{"scope":[2]}', '{"scope":[3]}', '{"scope":[4]}']  # at most MAX_ROWS a page
    with first.app_context(), unit_of_work() as session:
        kept.get(
            session, {"scope": None}, (0, 0, 0), computed(None, (0.0,)), now=NOW + kept_module.PRUNE_AFTER * 2
        )
        rows = session.scalars(select(KeptResult.params).order_by(KeptResult.computed_at)).all()
    assert rows == ['{"scope":null}']  # older than PRUNE_AFTER: gone
