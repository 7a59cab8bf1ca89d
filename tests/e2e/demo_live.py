"""A live server on the committed demo (shared by the browser tests of the homes and of the page
widths): its own app on a temporary SQLite file, loaded once per test module."""

from __future__ import annotations

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


@contextmanager
def demo_server(folder: Path, weeks: int = 8) -> Iterator[dict[str, Any]]:
    import os

    from perception import create_app
    from perception.core.demo import load_demo
    from perception.core.extensions import db

    os.environ["PERCEPTION_INSTANCE_PATH"] = str(folder / "instance")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite'}",
            "SECRET_KEY": "homes-browser-secret-key-long-enough-0123456789",
            "MAIL_BACKEND": "file",
            "REDIS_URL": None,
        }
    )
    with app.app_context():
        db.create_all()
        load_demo(db.session, weeks=weeks, today=date.today())
        db.session.commit()
        db.session.remove()
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
