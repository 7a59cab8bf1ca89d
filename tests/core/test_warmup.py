"""Warming a process before a pre-forking server forks (perception.web.warmup, issue 19): the heavy
libraries are imported, a chart has been drawn (fonts loaded), both languages' translations and
every template are loaded, and no pooled database connection is left to be shared by the forks."""

from __future__ import annotations

import sys

from flask_babel import gettext, refresh

from perception.core.extensions import db
from perception.web.warmup import release_connections, warm


def test_warm_loads_what_the_first_heavy_request_would(app):
    steps = warm(app)
    assert list(steps) == ["imports", "charts", "translations", "templates", "connections"]
    assert {"matplotlib", "scipy.stats", "perception.reporting.charts"} <= set(sys.modules)
    # every page template compiled once, into the environment's cache
    cached = {key[1] for key in app.jinja_env.cache}
    assert {"base.html", "surveys/history_import.html"} <= cached
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        refresh()
        assert gettext("Imported: %(new)s new, %(changed)s changed, %(same)s unchanged.", new=1, changed=2,
                       same=3).startswith("已导入")  # fmt: skip


def test_no_pooled_connection_crosses_the_fork(app):
    with app.app_context():
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        release_connections(app)
        assert db.engine.pool.checkedin() == 0


def test_perception_run_warms_its_process_while_it_listens(app, monkeypatch):
    """`perception run` serves from one process that never forks: it warms itself in a thread
    started before it listens, keeping its pooled connections (requests are using them)."""
    import threading

    import perception.web.warmup as warmup

    calls: list[dict[str, object]] = []
    warmed = threading.Event()

    def fake_warm(warm_app, **kwargs):
        calls.append({"app": warm_app, **kwargs})
        warmed.set()
        return {}

    served: list[tuple[str, int]] = []
    monkeypatch.setattr(warmup, "warm", fake_warm)
    monkeypatch.setattr(
        "werkzeug.serving.run_simple", lambda host, port, *_a, **_k: served.append((host, port))
    )
    result = app.test_cli_runner().invoke(args=["run", "--no-scheduler", "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert served == [("127.0.0.1", 5999)]
    assert warmed.wait(10)
    assert calls == [{"app": app, "release": False}]
