"""Warming a process before a pre-forking server forks its workers (issue 19: the first request).

``perception:create_app()`` keeps start-up light on purpose (``perception --help`` answers at
once), so every worker would pay, on its first heavy page, for what the page needs the first time:
the views' heavy libraries, Matplotlib's font list and the CJK font, the compiled translations,
each template's compilation. ``warm`` loads all of that in the process that calls it (the master,
with gunicorn ``--preload`` on ``perception.wsgi:app``), so no worker's first request does it and
the workers share those pages of memory. What must not cross a fork is let go at the end: the
database engines' pooled connections (each worker opens its own; job threads are only started on
first use, in the worker).
"""

from __future__ import annotations

import gc
import importlib
import threading
import time
from typing import Any

from flask import Flask

# The cyclic garbage collector's thresholds in a serving process. Python's defaults (700, 10, 10)
# collect the youngest generation every 700 net allocations of container objects: a manager's page
# that builds ten thousand result objects runs hundreds of collections, promotes short-lived objects
# that would have died a moment later, and so sets off full collections of the ~500,000 objects a
# warmed process holds: 35-50 % of the KPI-versus-experience page's CPU at national scale
# (0.35-0.6 s of 1.05-1.32 s). At 50,000 the page's objects mostly die young, full collections
# are rare, and the page took 0.72-0.82 s (bench: collector time 0.06 s). Memory cost: at most
# 50,000 unreachable young objects awaiting a collection. The startup objects are frozen (never
# scanned again; with a pre-forking server they also stay shared between workers).
SERVING_GC_THRESHOLDS = (50_000, 20, 100)

# Modules the heavy pages import on first use (analysis, review, reporting), loaded before the fork.
HEAVY_MODULES = (
    "numpy",
    "scipy.stats",
    "matplotlib",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "matplotlib.backends.backend_svg",
    "reportlab.pdfgen.canvas",
    "reportlab.platypus",
    "perception.reporting.charts",
    "perception.reporting.figures",
)


def _draw(figure: Any) -> None:
    axes = figure.add_subplot()
    axes.plot([0, 1, 2], [3.0, 4.2, 3.8], marker="o")
    axes.set_title("满意度 satisfaction")
    axes.set_xlabel("第 1 周 week 1")


def warm(app: Flask, *, release: bool = True) -> dict[str, float]:
    """Load in this process what the first heavy request would load; seconds per step.

    ``release`` closes the pooled database connections at the end, for a process about to fork."""
    steps: dict[str, float] = {}
    started = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal started
        now = time.perf_counter()
        steps[name] = round(now - started, 3)
        started = now

    for name in HEAVY_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional library that is not installed: its page says so itself
            continue
    mark("imports")
    from perception.reporting.figures import render

    with app.app_context():
        # Matplotlib's font list, the CJK font, Agg's glyph caches
        for fmt in ("png", "svg"):
            render(_draw, fmt=fmt, size=(3.0, 2.0), dpi=72)
    mark("charts")
    from flask_babel import get_translations, refresh

    for language in ("zh-CN", "en"):
        with app.test_request_context(headers={"Accept-Language": language}):
            refresh()
            get_translations()
    mark("translations")
    env = app.jinja_env
    for name in env.list_templates(extensions=("html", "txt", "svg", "xml")):
        try:
            env.get_template(name)
        except Exception:  # noqa: BLE001, S112 - a fragment that only compiles in its includer
            continue
    mark("templates")
    if release:
        release_connections(app)
        mark("connections")
    tune_collector()
    mark("collector")
    return steps


def tune_collector() -> None:
    """A serving process's collector (SERVING_GC_THRESHOLDS): what is loaded by now lives as long
    as the process, so it is moved out of the collector's sight (``gc.freeze``), and the young
    generation is collected less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_GC_THRESHOLDS)


def warm_in_background(app: Flask) -> threading.Thread:
    """Warm a serving process that does not fork (`perception run`) in a thread, while it already
    listens: a person's first heavy page comes seconds after the start, and finds the libraries
    loaded (under `perception run` the first /analysis/ took 1.2-1.5 s on an idle machine, most of
    it importing SciPy's statistics). A request that needs a module being imported waits for it,
    as it would have imported it itself. Its last step freezes the collector's view here too
    (``tune_collector``): objects a request in flight holds at that instant are frozen with the
    libraries and live until exit (a few, once per process), which is why this is not worth a
    lock against requests."""

    def run() -> None:
        try:
            warm(app, release=False)
        except Exception:  # a warm-up that fails costs only the first request its imports
            app.logger.exception("warm-up failed")

    thread = threading.Thread(target=run, name="perception-warm-up", daemon=True)
    thread.start()
    return thread


def release_connections(app: Flask) -> None:
    """Close the pooled connections the master opened: a connection shared by forked workers
    would interleave their conversations with the database."""
    from perception.core.extensions import db

    with app.app_context():
        db.session.remove()
        for engine in {db.engine, *db.engines.values()}:
            engine.dispose(close=True)
