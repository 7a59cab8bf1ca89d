"""A live server on the committed demo (shared by the browser tests of the homes and of the page
widths): its own app on a temporary SQLite file per test module. The demo takes half a minute or
more to load, so it is built once per test process and each module gets a copy of the file."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

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


_BUILT: dict[tuple[int, date], Path] = {}


def demo_database(target: Path, weeks: int = 8) -> None:
    """Write the demo (``weeks`` of data up to today) into the SQLite file ``target``: built the
    first time this process asks, copied (SQLite's online backup) every time after."""
    key = (weeks, date.today())
    if key not in _BUILT:
        _BUILT[key] = _build(weeks, key[1])
    with sqlite3.connect(_BUILT[key]) as source, sqlite3.connect(target) as copy:
        source.backup(copy)


def _build(weeks: int, today: date) -> Path:
    from perception import create_app
    from perception.core.demo import load_demo
    from perception.core.extensions import db

    folder = Path(tempfile.mkdtemp(prefix=f"perception-demo-{weeks}w-"))
    saved = os.environ.get("PERCEPTION_INSTANCE_PATH")
    os.environ["PERCEPTION_INSTANCE_PATH"] = str(folder / "instance")
    try:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite'}",
                "MAIL_BACKEND": "file",
                "REDIS_URL": None,
            }
        )
        with app.app_context():
            db.create_all()
            load_demo(db.session, weeks=weeks, today=today)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    finally:
        if saved is None:
            os.environ.pop("PERCEPTION_INSTANCE_PATH", None)
        else:
            os.environ["PERCEPTION_INSTANCE_PATH"] = saved
    return folder / "demo.sqlite"


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


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', DEMO_PASSWORD)
    page.locator('button.primary[type="submit"]').click()
    page.wait_for_load_state()
