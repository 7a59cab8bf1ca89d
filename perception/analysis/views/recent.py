"""A page's computed view, kept briefly for the charts drawn from it.

A dashboard page computes its view (the KPI-versus-experience comparison, the overview, ...) and
shows its charts as ``<img>`` tags: each chart is a request of its own to
``/analysis/chart/<name>.svg`` with the same filters. Computing the whole view again for each chart
would double the cost of the KPI-versus-experience page and multiply that of the KPI page (one
trend chart per KPI). So the page keeps its view here (``computed(..., reuse=False)``: a page
always computes afresh) and a chart with the same filters, from the same sign-in, within
``REUSE_SECONDS`` draws from it (``reuse=True``); on a miss (the entry expired, another worker
process, a chart opened on its own) the chart computes the view and keeps it for the next one.

Why this is safe:

- The key is the view's name, the filters and the sign-in. The filters already carry the user's
  region scope and every view is a function of the database and the filters alone, so an entry
  never shows a scope other than the one it was computed for; the sign-in (user id, session
  version, time of sign-in) keeps an entry to the browser session that loaded the page, and a new
  sign-in or "sign out everywhere" starts afresh.
- ``REUSE_SECONDS`` is the chart's own ``Cache-Control: max-age``: a browser may already show a
  chart that old, and the chart shows the numbers of the page it sits on.
- Views are frozen dataclasses of plain values (no ORM objects), shared read-only between threads;
  the store is per process, bounded (``MAX_ENTRIES``, oldest dropped first) and locked.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app, g

from perception.analysis.services.filters import AnalysisFilters

T = TypeVar("T")

REUSE_SECONDS = 60
MAX_ENTRIES = 32
_EXTENSION = "perception.analysis.recent_views"


class RecentViews:
    """A small thread-safe store whose entries expire ``ttl`` seconds after they were put."""

    def __init__(
        self,
        ttl: float = REUSE_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self.clock():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            now = self.clock()
            self._entries[key] = (now + self.ttl, value)
            self._entries.move_to_end(key)
            for old in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                del self._entries[old]
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def store() -> RecentViews:
    """The application's store (one per app and process)."""
    found = current_app.extensions.get(_EXTENSION)
    if found is None:
        found = current_app.extensions.setdefault(_EXTENSION, RecentViews())
    return found  # type: ignore[no-any-return]


def _key(name: str, filters: AnalysisFilters) -> Hashable:
    user = g.user
    return (name, filters, user.id, user.session_version, user.last_login_at)


def computed(name: str, filters: AnalysisFilters, compute: Callable[[], T], *, reuse: bool) -> T:
    """``compute()``, kept for the charts of the page; with ``reuse``, the kept view if there is one."""
    key = _key(name, filters)
    if reuse:
        kept = store().get(key)
        if kept is not None:
            return kept  # type: ignore[no-any-return]
    value = compute()
    store().put(key, value)
    return value
