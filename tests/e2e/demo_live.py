"""The committed demo, built once per test run (tests/shared_builds.py: shared by the pytest-xdist
workers): a live server on it (shared by the browser tests of the homes and of the page widths: its
own app on a temporary SQLite file per test module, a copy of the built file) and a session on it
for the tests that read the demo's data (``demo_session``: on the test database's kind, in a
transaction rolled back after each test). The demo takes half a minute or more to load; without the
sharing every such test loaded its own."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from tests import shared_builds
from tests.browser import live_server

DEMO_PASSWORD = "perception-demo"
# One demo user per role (README "Demo users").
ROLE_USERS = (
    "collector.bj",
    "organiser",
    "manager",
    "analyst",
    "market",
    "reviewer",
    "owner",
    "customer.rep",
)


def demo_database(target: Path, weeks: int = 8) -> None:
    """Write the demo (``weeks`` of data up to today) into the SQLite file ``target``: built the
    first time this run asks, copied (SQLite's online backup) every time after."""
    shared_builds.copy_to(built_demo(weeks, date.today()), target)


def built_demo(weeks: int, today: date) -> Path:
    """The SQLite file of the demo (``weeks`` up to ``today``), built the first time this run asks.
    Read it or copy it (``demo_database``); never write to it: other workers read it too."""
    from perception.core.demo import load_demo

    return _built_sqlite(
        _demo_name(weeks, today), lambda session: load_demo(session, weeks=weeks, today=today)
    )


def _demo_name(weeks: int, today: date) -> str:
    return f"demo{weeks}w{today:%Y%m%d}"


def _built_sqlite(name: str, load: Callable[[Any], Any]) -> Path:
    """The SQLite file ``name`` holding what ``load(session)`` adds, built once per test run."""
    return shared_builds.built(name, lambda path: _load_into(f"sqlite:///{path}", load, path.parent))


def _load_into(url: str, load: Callable[[Any], Any], folder: Path) -> None:
    """Create the tables in the empty database ``url`` and commit what ``load(session)`` adds.

    ``db.session`` is set to a session on that database while it loads: a test that asks for a
    demo inside its ``db_session`` has ``db.session`` bound to the test's rolled-back connection,
    and the demo went there, leaving the built file empty (tests/e2e/test_statement_counts.py
    failed when it was the first to ask for the demo)."""
    from flask_sqlalchemy.session import _app_ctx_id
    from sqlalchemy import orm

    from perception.core.extensions import db

    app = _app_on(url, folder)
    with app.app_context():
        db.create_all()
        original = db.session
        db.session = orm.scoped_session(orm.sessionmaker(bind=db.engine), scopefunc=_app_ctx_id)
        try:
            load(db.session)
            db.session.commit()
        finally:
            db.session.remove()
            db.session = original
        db.engine.dispose()


def _app_on(url: str, folder: Path, **config: Any) -> Any:
    from perception import create_app

    saved = os.environ.get("PERCEPTION_INSTANCE_PATH")
    os.environ["PERCEPTION_INSTANCE_PATH"] = str(folder / "instance")
    try:
        return create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "MAIL_BACKEND": "file", "REDIS_URL": None, **config}
        )
    finally:
        if saved is None:
            os.environ.pop("PERCEPTION_INSTANCE_PATH", None)
        else:
            os.environ["PERCEPTION_INSTANCE_PATH"] = saved


class DemoSessions:
    """Demo databases on the test database's kind, each built once per process: on SQLite a file
    (the whole demo: the one ``demo_database`` copies from), on PostgreSQL a database of its own on
    the test database's server (``<test database>_<name>``, dropped by ``close``). Each is served
    by an app with the test app's settings. ``open`` gives a session on the whole demo inside a
    transaction that is rolled back at the end (a test may write, as a second ``load_demo`` does,
    without changing what the next test reads); meanwhile ``db.session`` is that session, in an
    app context of that app."""

    def __init__(self, database_url: str, settings: dict[str, Any]) -> None:
        self.database_url = database_url
        self.settings = settings
        self.folder = Path(tempfile.mkdtemp(prefix="perception-demo-sessions-"))
        self.apps: dict[str, Any] = {}
        self.databases: list[str] = []

    def demo_app(self, weeks: int, today: date) -> Any:
        """An app on the whole demo, ``weeks`` up to ``today``."""
        from perception.core.demo import load_demo

        return self._app(
            _demo_name(weeks, today), lambda session: load_demo(session, weeks=weeks, today=today)
        )

    def walk_app(self) -> Any:
        """An app on the route walk's small demo (tests/route_walk.py ``load_small_demo``)."""
        from tests.route_walk import load_small_demo

        return self._app("walk", load_small_demo)

    def open(self, weeks: int, today: date) -> AbstractContextManager[Any]:
        from tests.conftest import rolled_back

        return rolled_back(self.demo_app(weeks, today))

    def _app(self, name: str, load: Callable[[Any], Any]) -> Any:
        from tests.conftest import FreshContextClient

        if name not in self.apps:
            if not self.database_url.startswith("sqlite"):
                url = self._postgresql(name, load)
            else:
                # A copy of this process's own: tests write in rolled-back transactions, and the
                # built file is read by the other workers of the run.
                copy = shared_builds.copy_to(_built_sqlite(name, load), self.folder / f"{name}.sqlite")
                url = f"sqlite:///{copy}"
            app = _app_on(url, self.folder, **self.settings)
            app.test_client_class = FreshContextClient
            self.apps[name] = app
        return self.apps[name]

    def _postgresql(self, name: str, load: Callable[[Any], Any]) -> str:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        base = make_url(self.database_url)
        database = f"{base.database}_{name}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
        admin.dispose()
        self.databases.append(database)
        url = base.set(database=database).render_as_string(hide_password=False)
        _load_into(url, load, self.folder)
        return url

    def close(self) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        from perception.core.extensions import db

        for app in self.apps.values():
            with app.app_context():
                db.engine.dispose()
        if self.databases:
            admin = create_engine(make_url(self.database_url), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for name in self.databases:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            admin.dispose()


@contextmanager
def demo_server(folder: Path, weeks: int = 8) -> Iterator[dict[str, Any]]:
    from perception import create_app
    from perception.core.extensions import db

    demo_database(folder / "demo.sqlite", weeks)
    os.environ["PERCEPTION_INSTANCE_PATH"] = str(folder / "instance")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite'}",
            "SECRET_KEY": "homes-browser-secret-key-long-enough-0123456789",
            "MAIL_BACKEND": "file",
            "REDIS_URL": None,
        }
    )
    try:
        with live_server(app) as base:
            yield {"base": base, "app": app}
    finally:
        with app.app_context():
            db.engine.dispose()


def signed_in_page(browser: Any, base: str, username: str, states: dict[str, Any], **context: Any) -> Any:
    """A page in a new browser context (``context``: viewport, locale) signed in as ``username``:
    through the sign-in form the first time, then with the cookies of that sign-in (``states``
    keeps them by user), so each view of a page does not sign in again. Close its context after."""
    page = browser.new_context(storage_state=states.get(username), **context).new_page()
    if username not in states:
        sign_in(page, base, username)
        states[username] = page.context.storage_state()
    return page


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', DEMO_PASSWORD)
    page.locator('button.primary[type="submit"]').click()
    page.wait_for_load_state()
