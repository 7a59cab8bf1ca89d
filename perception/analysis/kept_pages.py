"""No manager pays the first load of the slow pages' default views (issue 19).

The SLA attainment page, the internal KPI page, the overview (its figures and change summary) and the
experience page keep their results in the database (perception.core.kept), under the write counter
of their data. This module computes the organisation-wide default views ahead, so the first manager
to open them after a change finds them there:
- ``refresh_kept_pages`` (hourly, listed in the analysis phase's ``periodic``, and within a minute
  of a write that moved one of ``SCHEDULER_WATCHES``, whichever process made it, at most once per
  ``TRIGGER_EVERY``): each default view whose counter moved since it was stored (or whose result
  aged past the page's limit) is computed and stored; a current one costs one row read;
- after a request whose commit moved one of those counters (a ticket import, KPI values, a
  survey answer), the same job is asked for in the background, deduplicated: not while one is
  queued (it will see the write), and at most once per ``TRIGGER_EVERY`` (5 minutes) per process,
  so a stream of survey answers asks for one computation every few minutes, not one per answer.
  Nothing is asked where nothing runs in the background (tests, benchmarks, ``JOBS_BACKGROUND``
  off): the page computes inline.

Default views: the organisation-wide scope (regions None) over each page's default period for the
organisation's today: the attainment page's five months (limit 200, by month), the internal KPI
page's 14 weeks (the kept part: everything but the per-region table's page), and the overview's 14
weeks: its figures and its change summary (the 52-week overview shares the look's window), and the
experience page's 14 weeks; the managers' home headline of the last complete weeks
(perception.analysis.home). The internal KPI, overview and experience pages' year too
(``YEAR_WEEKS`` up to the current week, as the issue's benchmark opens them: ``from`` 52 weeks
before the next Monday, ``to`` the Sunday before it): their first computation costs seconds (3-8 s
of CPU on SQLite at a tenth of a national provider's size), the one a manager asks for most after
the default. A regional team's view is its own key and is computed on its first load.

The attainment page's result also expires with time (its overdue tickets): the scheduler sends the
job every ``ATTAINMENT_AHEAD``, and the job computes the default view again once it is nearly that
old, before it expires.

Public API: job ``refresh_kept_pages``; ``refresh_defaults(session, now)``; ``refresh_marks`` (what
the scheduler watches).
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, g, has_request_context
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from perception.core.clock import current_clock
from perception.core.jobs import enqueue, in_background, job
from perception.core.models.base import utcnow
from perception.core.models.jobs import JobStatus
from perception.core.periods import week_start
from perception.kpi.services import data_version
from perception.kpi.services.attainment_kept import MAX_AGE

SUBJECT = "kept_pages"
#: The year the pages' second default view covers (module docstring), the current week included.
YEAR_WEEKS = 52
# Seconds between two refreshes asked for by writes, per process. A busy provider's survey answers
# move the overview's counter every few seconds, and the national change look costs several seconds
# of CPU: asked for every 5 s, the job would keep a core busy all day. Every 5 minutes it is a few
# per cent; a page opened in between computes its view inline (module docstring).
TRIGGER_EVERY = 300.0
#: How often the scheduler sends the job for the attainment page's default view, which expires
#: MAX_AGE after it was computed (attainment_kept: unanswered tickets turn overdue without any
#: write): at a national provider's size its five months take 12 s to compute, and with the hourly
#: job alone a manager found it expired 50 minutes of every hour (issue 19).
ATTAINMENT_AHEAD = MAX_AGE / 2
#: The age at which the job computes it again: a minute short of the interval, as the scheduler's
#: ticks drift by seconds and a result just younger than the interval would otherwise wait for the
#: next one and expire before it.
ATTAINMENT_REFRESHED_AT = ATTAINMENT_AHEAD - timedelta(minutes=1)
_COUNTERS = frozenset({data_version.HEADLINE, data_version.ATTAINMENT, data_version.KPI_ANALYSIS})
_MOVED = "_kept_pages_moved"


def refresh_defaults(session: Session, today: date) -> list[str]:
    """Compute (or find current) the default views for the organisation's ``today``; returns the
    pages refreshed."""
    from perception.analysis import settings
    from perception.analysis.home import headline
    from perception.analysis.services.experience import experience
    from perception.analysis.services.filters import parse_filters
    from perception.analysis.services.kpis import _kept_core
    from perception.analysis.services.overview import overview
    from perception.kpi.services.attainment_kept import default_period, kept_attainment

    filters = parse_filters(session, {}, None, today=today)
    year = parse_filters(session, year_args(today), None, today=today)
    start, end = default_period(today)
    # The overview first: its change look is the slowest page to compute (seconds at a national
    # provider's size), and the page a manager opens first; a manager who opens it while this job
    # runs computes it too.
    for f in (filters, year):
        # The page's figures and look summary (the year's look is the default's: the same last
        # complete weeks).
        overview(session, f, use_rollup=settings.rollup_enabled(), today=today, whole_look=False)
    kept_attainment(
        session,
        start,
        end,
        granularity="month",
        region_ids=None,
        limit=200,
        younger_than=ATTAINMENT_REFRESHED_AT,
    )
    for f in (filters, year):
        _kept_core(session, f, utcnow())
        experience(session, f, use_rollup=settings.rollup_enabled())
    headline(session, week_start(today), None)  # the managers' home: their first screen
    return ["attainment", "kpis", "overview", "experience", "home"]


def year_args(today: date) -> dict[str, str]:
    """The query arguments of the pages' year (module docstring) for the organisation's ``today``."""
    end = week_start(today) + timedelta(weeks=1)
    return {
        "from": (end - timedelta(weeks=YEAR_WEEKS)).isoformat(),
        "to": (end - timedelta(days=1)).isoformat(),
    }


#: The counters the scheduler watches to compute the default views within a minute of a write that
#: no page's request reported (an import on the command line, a worker's service-desk events):
#: those a correction or an import moves. Not the overview's and experience page's counter, which
#: every survey answer moves: answers come through requests, which ask for the job themselves.
SCHEDULER_WATCHES = (
    data_version.ATTAINMENT,
    data_version.KPI_ANALYSIS,
    data_version.CHANGE_LOOK,
    data_version.EXPERIENCE_PAST,
)


def refresh_marks(session: Session) -> tuple[Any, ...] | None:
    """What the scheduler watches to send ``refresh_kept_pages`` (perception.core.phase.Periodic
    .when_changed): the committed counts of ``SCHEDULER_WATCHES``, and the number of the
    ``ATTAINMENT_AHEAD`` interval the clock is in, so the attainment page's default view is computed
    again before it expires. None before the counters' table exists (a database being migrated)."""
    try:
        with session.begin_nested():
            versions = data_version.read_versions(session, SCHEDULER_WATCHES)
    except (OperationalError, ProgrammingError):
        return None
    interval = int(time.time() // ATTAINMENT_AHEAD.total_seconds())
    return (*(versions[name][0] for name in SCHEDULER_WATCHES), interval)


@job("refresh_kept_pages")
def refresh_kept_pages(session: Session, now: str | datetime | None = None, **_: Any) -> list[str]:
    """The manager pages' default views, computed ahead when their data changed (module docstring)."""
    return refresh_defaults(session, current_clock(now).today())


# --- after a write ---------------------------------------------------------------------------


@event.listens_for(Engine, "commit", insert=True)  # before data_version's own listener pops its marks
def _note_moved(conn: Connection) -> None:
    pending = conn.info.get(data_version._DIRTY)
    if pending and has_request_context() and _COUNTERS & set(pending["writes"]):
        setattr(g, _MOVED, True)


_last_check = float("-inf")  # monotonic time counts from boot: never checked yet
_check_lock = threading.Lock()


def ask_after_write(_exc: BaseException | None = None) -> None:
    """At the end of a request whose commit moved a counter: ask for the refresh (deduplicated)."""
    global _last_check
    if not (has_request_context() and g.pop(_MOVED, False)):
        return
    if not in_background():
        return  # the page computes inline; the job would run in this request
    with _check_lock:
        if time.monotonic() - _last_check < TRIGGER_EVERY:
            return
        _last_check = time.monotonic()
    try:
        from perception.core.jobs import latest_for

        found = latest_for(SUBJECT)
        if found is not None and found.status == JobStatus.QUEUED:
            return  # it has not started: it will see this write
        enqueue("refresh_kept_pages", job_subject=SUBJECT)
    except Exception:  # noqa: BLE001 - the user's write is committed; the hourly run catches up
        current_app.logger.warning("could not ask for refresh_kept_pages", exc_info=True)


def _connect() -> None:
    # Every request's end, app-wide; registered once, before the blueprint joins an app.
    from perception.analysis.views import bp

    bp.teardown_app_request(ask_after_write)


_connect()
