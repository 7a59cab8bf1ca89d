"""Shared plumbing for the real-browser tests: Debian's Chromium driven by Playwright (no browser
download), and a live server for an app on a committed temporary database."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import require_component

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying hosts this closed network refuses.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip (or, in CI, fail) when Debian's chromium or the Playwright driver is missing."""
    if not Path(CHROMIUM).exists():
        require_component("Chromium", False, f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        require_component("Chromium", False, f"playwright: {exc}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields the base URL."""
    from werkzeug.serving import make_server

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def survey_server(
    folder: Path, monkeypatch: Any, seed: Callable[[Any], dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """A live server for the survey browser tests: its own app on a SQLite file in ``folder`` (no
    minimum fill time), seeded and committed by ``seed(app)``, whose answer joins ``app`` and
    ``base`` in what this yields; the instance folder is removed after."""
    require_chromium()
    from perception import create_app
    from perception.core.extensions import db

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(folder / "instance"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'browser.sqlite'}",
            "SECRET_KEY": "browser-secret-key-which-is-long-enough-0123456789",
            "SURVEY_MIN_FILL_SECONDS": 0,
            "MAIL_BACKEND": "file",
        }
    )
    seeded = seed(app)
    try:
        with live_server(app) as base:
            yield {"app": app, "base": base, **seeded}
    finally:
        with app.app_context():
            db.engine.dispose()
        shutil.rmtree(folder / "instance", ignore_errors=True)
