"""Warming a process before a pre-forking server forks (perception.web.warmup, issue 19): the heavy
libraries are imported, a chart has been drawn (fonts loaded), both languages' translations and
every template are loaded, and no pooled database connection is left to be shared by the forks."""

from __future__ import annotations

import gc
import sys

import pytest
from flask_babel import gettext, refresh

from perception.core.extensions import db
from perception.web.warmup import SERVING_GC_THRESHOLDS, release_connections, warm


@pytest.fixture
def collector_restored():
    """warm() tunes this process's collector (as a serving process's): give the rest of the test
    run back Python's own settings."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_warm_loads_what_the_first_heavy_request_would(app, collector_restored):
    steps = warm(app)
    assert list(steps) == ["imports", "charts", "translations", "templates", "connections", "collector"]
    assert {"matplotlib", "scipy.stats", "perception.reporting.charts"} <= set(sys.modules)
    # every page template compiled once, into the environment's cache
    cached = {key[1] for key in app.jinja_env.cache}
    assert {"base.html", "surveys/history_import.html"} <= cached
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        refresh()
        assert gettext("Imported: %(new)s new, %(changed)s changed, %(same)s unchanged.", new=1, changed=2,
                       same=3).startswith("已导入")  # fmt: skip


def test_a_warmed_process_collects_its_young_objects_less_often(app, collector_restored):
    """A manager's page builds tens of thousands of short-lived objects: with Python's default
    thresholds they set off full collections of everything the process holds (35-50 % of the KPI
    versus experience page's CPU at national scale, bench/bench_national.py)."""
    gc.unfreeze()
    warm(app)
    assert gc.get_threshold() == SERVING_GC_THRESHOLDS
    assert gc.get_freeze_count() > 10_000  # the loaded libraries and templates: out of the collector's sight


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
