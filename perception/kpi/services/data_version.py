"""Write counters: one row per cache, bumped by every transaction that wrote a table it is made from
(issue 19).

The manager's home keeps its headline per process, keyed by the version of the data it is made
from; that version was one query over eight weeks of facts and KPI values on every load (slow on
SQLite under load). Now a load reads one row of ``data_version``.

Every writer is found the same way, whatever path it takes: the statements SQLAlchemy sends (ORM
flushes, Core and set-based inserts, updates and deletes, ``exec_driver_sql``) are looked at as
they go out (``before_cursor_execute``), and a write to a watched table marks the connection; just
before that connection commits, the counters of the marked caches go up by one in the same
transaction (``commit`` event), so a reader sees the new count exactly when it sees the new rows.
Rows written through the driver's own cursor (COPY, raw ``executemany``) are invisible to
SQLAlchemy: those paths call ``mark_written``. A rolled-back transaction bumps nothing.

The counter's row is locked only from the bump to the commit, so concurrent writers queue for
microseconds, not for their whole transaction.

Three counters know more than the tables (``WEEK_AWARE``): ``CHANGE_LOOK``, ``HOME_HEADLINE`` and
``EXPERIENCE_PAST``. The overview's change look and the manager home's headline compare the weeks
before the current one, and the pre-aggregates keep the weeks before the one they were refreshed
in, so an answer recorded for the current week changes none of them. The answer path says so
(``current_week_write``), and such rows leave those counters alone when the week they name has
begun by the commit's clock. Declared rows of a past week move the home's counter, and the change
look's unless they are of a source the look does not test (a weekly report's:
``week_write(..., change_look=False)``). Declared rows never move
``EXPERIENCE_PAST``: the pre-aggregates read the facts from the week they were built in (its
Monday as UTC sees it, ``reference_monday``) on, and a declared week before the reference week at
the commit is logged (``EXPERIENCE_WEEK_LOG``): the pre-aggregates then read the facts from that
week on. (An answer in a zone west of UTC on a Sunday evening names a week UTC has left: logged,
correct and slower until the next refresh; a zone east of UTC is never logged for its current week.)
Any other write to the facts moves all three.

Public API: ``HEADLINE``, ``HOME_HEADLINE``, ``ATTAINMENT``, ``KPI_ANALYSIS``, ``KPI_EXPERIENCE``,
``EXPERIENCE_FACTS``, ``KPI_VALUES``, ``REVIEW_INPUTS``, ``CHANGE_LOOK``, ``EXPERIENCE_PAST``,
``EXPERIENCE_WEEK_LOG``, ``read_version``, ``read_versions``, ``mark_written``, ``week_write``
(``current_week_write``), ``declared_weeks``, ``has_pending_writes``, ``reference_monday``.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, event, select
from sqlalchemy.orm import Session

from perception.kpi.models import DataVersion

#: The manager home's headline (perception.analysis.home): the facts, ticket KPI values, standards
#: and their versions, KPI definitions, and the region and service names it shows.
HEADLINE = "analysis_headline"
#: The SLA attainment page (kpi.services.attainment_kept): the tickets, the standards and versions
#: their targets come from, the SLAs whose covered hours measure them, and the names it shows.
ATTAINMENT = "kpi_attainment"
#: The internal KPI page (analysis.services.kpis): the KPI values and definitions, the stored
#: durations and the tickets its pooled percentiles come from, the SLAs measuring those (with the
#: subscriptions whose tier picks a customer's SLA, and the escalation rules read with them), the
#: names. Every table the page reads (tests/analysis/test_h19first_kpis_kept.py): the page keeps
#: its result for as long as this counter stands.
KPI_ANALYSIS = "analysis_kpis"
WATCHED: dict[str, frozenset[str]] = {
    HEADLINE: frozenset(
        {
            "experience_observation",
            "kpi_value",
            "kpi_definition",
            "service_standard",
            "standard_version",
            "region",
            "service",
            "service_tier",
            "customer_org",
        }
    ),
    KPI_ANALYSIS: frozenset(
        {
            "kpi_value",
            "kpi_definition",
            "kpi_duration_array",
            "ticket",
            "sla",
            "sla_service",
            "sla_holiday",
            "sla_workday",
            "escalation_rule",
            "subscription",
            "region",
            "service",
            "service_tier",
        }
    ),
    ATTAINMENT: frozenset(
        {
            "ticket",
            "service_standard",
            "standard_version",
            "sla",
            "sla_service",
            "sla_holiday",
            "sla_workday",
            "subscription",
            "region",
            "service",
            "service_tier",
            "customer_org",
        }
    ),
}
#: The KPI-versus-experience page (analysis.services.kpi_experience.kept_kpi_vs_experience): the
#: facts, the KPI values and definitions, the stored durations and tickets its percentiles come
#: from with the SLAs measuring those, the KPI and experience standards and their versions, the
#: perception plan (what would measure a dimension), and the names it shows. The running sums and
#: pre-aggregates it may read instead are derived from these and give the same figures.
KPI_EXPERIENCE = "analysis_kpi_experience"
# Everything the internal KPI page reads (the KPI side is computed the same way), and the
# experience side: the facts, the standards and versions linking them, the plan.
WATCHED[KPI_EXPERIENCE] = WATCHED[KPI_ANALYSIS] | {
    "experience_observation",
    "service_standard",
    "standard_version",
    "plan_item",
}
#: The experience facts the analysis pre-aggregate is made from (perception.analysis.services.rollup).
EXPERIENCE_FACTS = "experience_facts"
WATCHED[EXPERIENCE_FACTS] = frozenset({"experience_observation"})
#: The weekly KPI values the running sums are made from (perception.kpi.services.kpi_cumulative);
#: deleting a definition deletes its values by the foreign key's cascade, unseen here.
KPI_VALUES = "kpi_values"
WATCHED[KPI_VALUES] = frozenset({"kpi_value", "kpi_definition"})
#: The review page's stored sections (perception.review.page_cache, services.inputs): they read
#: nearly everything through the other phases' services, so a write to any table counts but these
#: bookkeeping and derived ones, which the sections never read (or read only when they equal what
#: they are derived from).
REVIEW_INPUTS = "review_inputs"
NOT_REVIEW_INPUTS = frozenset(
    {
        "alembic_version",
        "alert_recipient",
        "analysis_rollup_state",  # derived from the facts, which are inputs
        "api_token",
        "api_token_region",
        "audit_entry",
        "data_version",
        "experience_cumulative",  # the facts' running sums, derived from the facts
        "experience_cumulative_state",
        "experience_week_log",  # which weeks were written: the facts themselves are the inputs
        "experience_index_rollup",  # derived from the facts
        "experience_index_spanning",  # derived from the facts
        "experience_respondent",  # derived from the facts
        "experience_respondent_state",
        "experience_rollup",  # derived from the facts
        "job",
        "kept_result",  # the manager's pages' kept results (perception.core.kept), derived
        "kpi_cumulative_state",
        "kpi_value_cumulative",  # derived from the KPI values
        "kpi_week_sum",  # derived from the KPI values
        "kpi_week_sum_state",
        "report_reminder",
        "review_countersignature",
        "review_finding",  # section 6 is computed live
        "review_report",
        "review_section_cache",
        "scheduled_run",
        "subscription",
        "survey_anonymous_draft",
        "survey_response_draft",
        "text_feature_cache",  # the text run's hashed features, derived from the texts
        "text_token_cache",  # the text run's segmentation, derived from the texts
        "throttle_counter",
        "user",
        "user_role",
        "user_session",
        "webhook_attempt",
        "webhook_delivery",
        "webhook_subscription",
    }
)
#: The overview's change look (analysis.services.changes): the facts of the weeks it compares and
#: the names its flags show. Its window ends at the start of the current week (or earlier), so rows
#: of the current week, declared by ``current_week_write``, do not move it (issue 19: at a national
#: provider's size the look takes seconds to compute, and every survey answer made the next
#: overview compute it again).
CHANGE_LOOK = "analysis_change_look"
WATCHED[CHANGE_LOOK] = frozenset({"experience_observation", "region", "service", "service_tier"})
#: The facts of the weeks before the current one (analysis.services.freshness): the pre-aggregates
#: keep the weeks before the week they were refreshed in for as long as this counter stands, and
#: the pages read only the weeks since from the facts. Like CHANGE_LOOK, rows declared by
#: ``current_week_write`` leave it alone (issue 19: at a national provider's size every survey
#: answer made the pre-aggregates stale, and the pages read the 9M facts until the next rebuild).
EXPERIENCE_PAST = "experience_past_weeks"
WATCHED[EXPERIENCE_PAST] = frozenset({"experience_observation"})
#: The manager home's headline (perception.analysis.home): the last four complete weeks against the
#: four before, and the evidenced watermelons of the last four, so made of the HEADLINE's tables but
#: of no row of the current week. Like CHANGE_LOOK, rows declared by ``current_week_write`` leave it
#: alone (issue 19: every survey answer moved HEADLINE, and each manager's home then computed its
#: headline again, a second at a national provider's size, on the first screen), and declared rows
#: of a past week move it, whatever their source (the headline counts the weekly reports too).
HOME_HEADLINE = "analysis_home_headline"
WATCHED[HOME_HEADLINE] = WATCHED[HEADLINE]
#: The counters that declared current-week rows leave alone.
WEEK_AWARE = frozenset({CHANGE_LOOK, EXPERIENCE_PAST, HOME_HEADLINE})
#: Numbers the commits that wrote declared rows of a past week (a weekly report's), in commit order:
#: such a commit logs its weeks (experience_week_log) instead of moving EXPERIENCE_PAST, so the
#: pre-aggregates stay readable before the earliest week logged since they were built.
EXPERIENCE_WEEK_LOG = "experience_week_log"
#: Caches made from every table but some: name -> the tables whose writes leave them current.
WATCHED_ALL_BUT: dict[str, frozenset[str]] = {REVIEW_INPUTS: NOT_REVIEW_INPUTS}
_BY_TABLE: dict[str, frozenset[str]] = {}
for _name, _tables in WATCHED.items():
    for _table in _tables:
        _BY_TABLE[_table] = _BY_TABLE.get(_table, frozenset()) | {_name}
for _table in list(_BY_TABLE):
    _BY_TABLE[_table] |= frozenset(n for n, but in WATCHED_ALL_BUT.items() if _table not in but)


def _names(table: str) -> frozenset[str]:
    """The caches a write to ``table`` changes (remembered per table). A name that is no table of
    ours (a work table of a statement, a keyword the pattern took for a table) changes none."""
    names = _BY_TABLE.get(table)
    if names is None:  # in no WATCHED list
        from perception.core.models.base import Base

        if table not in Base.metadata.tables:
            return frozenset()
        names = _BY_TABLE[table] = frozenset(n for n, but in WATCHED_ALL_BUT.items() if table not in but)
    return names


_DIRTY = "perception.data_version.dirty"
_CURRENT_WEEK = "perception.data_version.current_week"
_WRITE = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|COPY|TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?(?!SET\b)\"?(\w+)",
    re.IGNORECASE,
)
_READS = (
    "SELECT",
    "SAVEPOINT",
    "RELEASE",
    "SET ",
    "SHOW",
    "PRAGMA",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "ANALYZE",
)


_tokens = itertools.count(1)


def mark_written(conn: Connection, table: str) -> None:
    """Record that ``conn``'s transaction wrote ``table`` (for writes SQLAlchemy does not see)."""
    table = table.lower()
    names = _names(table)
    if names:
        pending = conn.info.setdefault(_DIRTY, {"token": next(_tokens), "writes": {}})
        declared = conn.info.get(_CURRENT_WEEK)
        if declared is not None and declared[0] == table and declared[1] and names & WEEK_AWARE:
            # Decided at the commit: each week must have begun by then (see _bump). (No week
            # named: an undeclared write.)
            _table, weeks, zone, in_look = declared
            pending.setdefault("current_week", set()).update((week, zone, in_look) for week in weeks)
            names = names - WEEK_AWARE
        for name in names:
            pending["writes"][name] = pending["writes"].get(name, 0) + 1


@contextlib.contextmanager
def week_write(
    conn: Connection,
    table: str,
    period_start: date | Collection[date],
    timezone: str,
    *,
    change_look: bool = True,
) -> Iterator[None]:
    """The writes to ``table`` on ``conn`` inside are rows of the week starting ``period_start``
    (Monday, in the organisation's ``timezone``) alone, or of the weeks listed: inserts of such
    rows, or deletes and updates that touch no other week's. If that week has begun when the
    transaction commits (the week the writer believes current: a survey answer), they leave the
    week-aware counters alone; otherwise (a weekly report of last week, a clock pinned in the past,
    a week that ended while the answer was written, a history import's weeks) they move
    ``CHANGE_LOOK`` and log their week (``EXPERIENCE_WEEK_LOG``) instead of moving
    ``EXPERIENCE_PAST``.

    ``change_look=False``: the rows are of a source the change look does not test (a weekly
    report's, the collectors' voice; analysis.services.changes.CHANGE_SOURCES), so whatever their
    week they leave ``CHANGE_LOOK`` alone (issue 19: 100 regions' reports a week each made the next
    overview compute the national look again, 2.7 s)."""
    weeks = (period_start,) if isinstance(period_start, date) else tuple(sorted(set(period_start)))
    conn.info[_CURRENT_WEEK] = (table.lower(), weeks, timezone, change_look)
    try:
        yield
    finally:
        conn.info.pop(_CURRENT_WEEK, None)


#: The answer paths' name for it: their rows are of the week they believe current.
current_week_write = week_write


def _utc_now() -> datetime:
    return datetime.now(UTC)


def reference_monday() -> date:
    """The Monday of the current week as UTC sees it now: the pre-aggregates read the facts from the
    reference week of their build on (analysis.services.freshness), and a declared write of an
    earlier week is logged at its commit. One zone for every process and writer, whatever their
    settings, so the two always agree; UTC starts the week before a working day in Asia begins."""
    today = _utc_now().date()
    return today - timedelta(days=today.weekday())


def _current_or_later(period_start: date, timezone: str) -> bool:
    """Whether the week of ``period_start`` is the organisation's current week or a later one, now:
    a look computed before this commit ends at the start of the week it was computed in, no later,
    so none holds such a row."""
    today = _utc_now().astimezone(ZoneInfo(timezone)).date()
    return period_start >= today - timedelta(days=today.weekday())


@event.listens_for(Engine, "before_cursor_execute")
def _watch(conn: Connection, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
    if statement.lstrip()[:9].upper().startswith(_READS):
        return
    for table in _WRITE.findall(statement):
        mark_written(conn, table)


@event.listens_for(Engine, "commit")
def _bump(conn: Connection) -> None:
    pending = conn.info.pop(_DIRTY, None)
    conn.info.pop(_SAVED, None)
    if not pending:
        return
    declared = pending.get("current_week", ())
    # The look compares past weeks of the sources it tests; the home's headline, past weeks of all.
    if any(in_look and not _current_or_later(week, zone) for week, zone, in_look in declared):
        pending["writes"][CHANGE_LOOK] = pending["writes"].get(CHANGE_LOOK, 0) + 1
    if any(not _current_or_later(week, zone) for week, zone, _in_look in declared):
        pending["writes"][HOME_HEADLINE] = pending["writes"].get(HOME_HEADLINE, 0) + 1
    # The pre-aggregates' readers read the facts from the reference week of their build on, and
    # from any week logged since.
    reference = reference_monday()
    past = sorted({week for week, _zone, _in_look in declared if week < reference})
    if not pending["writes"] and not past:
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    # In a savepoint: where the table does not exist (a migration run below the revision that
    # creates it), the bump fails alone and the transaction's own writes still commit.
    try:
        cursor.execute("SAVEPOINT data_version_bump")
    except Exception:  # noqa: BLE001 - no transaction (autocommit): each statement stands alone
        with contextlib.suppress(Exception):
            _try_bumps(cursor, pending["writes"], past)
        cursor.close()
        return
    try:
        _try_bumps(cursor, pending["writes"], past)
    except Exception:  # noqa: BLE001 - no counter table: nothing to bump
        cursor.execute("ROLLBACK TO SAVEPOINT data_version_bump")
    finally:
        cursor.execute("RELEASE SAVEPOINT data_version_bump")
        cursor.close()


def _try_bumps(cursor: Any, names: dict[str, int], past_weeks: list[date]) -> None:
    # One statement for all the counters a commit changes (a survey answer changes three): each
    # statement is a round trip inside the respondent's POST. Rows in a fixed order, so writers
    # never wait for each other in a cycle.
    if names:
        rows = ", ".join("('%s', 1)" % name for name in sorted(names))  # noqa: UP031 - module constants
        cursor.execute(
            f"INSERT INTO data_version (name, n) VALUES {rows} "  # noqa: S608 - module constants
            "ON CONFLICT (name) DO UPDATE SET n = data_version.n + 1"
        )
    if past_weeks:
        # The log's number comes from a counter row, locked until this commit: numbers follow the
        # commits' order, so a reader that saw number n committed sees every week logged up to n.
        cursor.execute(
            f"INSERT INTO data_version (name, n) VALUES ('{EXPERIENCE_WEEK_LOG}', 1) "  # noqa: S608 - constant
            "ON CONFLICT (name) DO UPDATE SET n = data_version.n + 1 RETURNING n"
        )
        seq = int(cursor.fetchone()[0])
        weeks = ", ".join(f"({seq}, '{week.isoformat()}')" for week in past_weeks)  # dates, not text
        cursor.execute(f"INSERT INTO experience_week_log (seq, period_start) VALUES {weeks}")  # noqa: S608


@event.listens_for(Engine, "rollback")
def _forget(conn: Connection) -> None:
    conn.info.pop(_DIRTY, None)
    conn.info.pop(_SAVED, None)


# A savepoint rolled back takes its writes back, so it takes their marks back too (a ticket file
# refused after some of its chunks were written, inside the import's savepoint, left the marks
# and the caller's next commit moved every counter made from the tickets). Each savepoint keeps a
# copy of the marks made before it, given a new token: a result kept for this transaction's writes
# inside the savepoint (read_version: token and count) must never serve the different rows that
# later writes bring to the same count. Matched
# innermost first: the savepoint event fires before SQLAlchemy names the savepoint. Should a
# rollback skip inner savepoints, the innermost copy holds more marks than the rows left, never
# fewer: a counter moved for nothing, never one left standing.
_SAVED = "perception.data_version.saved"


def _copy(pending: dict[str, Any] | None) -> dict[str, Any] | None:
    if pending is None:
        return None
    copied = {**pending, "writes": dict(pending["writes"])}
    if "current_week" in pending:
        copied["current_week"] = set(pending["current_week"])
    return copied


@event.listens_for(Engine, "savepoint")
def _remember(conn: Connection, _name: str | None) -> None:
    conn.info.setdefault(_SAVED, []).append(_copy(conn.info.get(_DIRTY)))


@event.listens_for(Engine, "rollback_savepoint")
def _take_back(conn: Connection, _name: str, _context: Any) -> None:
    saved: list[dict[str, Any] | None] = conn.info.get(_SAVED, [])
    if not saved:  # begun before this module was imported: keep every mark
        return
    pending = saved.pop()
    if pending is None:  # the rows are the committed ones again: (0, 0), as before the savepoint
        conn.info.pop(_DIRTY, None)
    else:
        conn.info[_DIRTY] = {**pending, "token": next(_tokens)}


@event.listens_for(Engine, "release_savepoint")
def _keep(conn: Connection, _name: str, _context: Any) -> None:
    saved: list[dict[str, Any] | None] = conn.info.get(_SAVED, [])
    if saved:
        saved.pop()


def has_pending_writes(session: Session) -> bool:
    """Whether this transaction has written data that a counter watches and not committed yet."""
    return bool((session.connection().info.get(_DIRTY) or {}).get("writes"))


def pending_writes(session: Session) -> dict[str, int]:
    """The counters this transaction's uncommitted writes will move at its commit, with the number
    of writing statements seen for each (a copy)."""
    return dict((session.connection().info.get(_DIRTY) or {}).get("writes", {}))


def declared_weeks(session: Session) -> list[date]:
    """The weeks this session's uncommitted current-week declarations named (``current_week_write``):
    at the commit they move the week-aware counters unless each has begun, so a reader before the
    commit must not take their rows for current-week ones if they are older than its split."""
    pending = session.connection().info.get(_DIRTY) or {}
    return [week for week, _zone, _in_look in pending.get("current_week", ())]


def read_version(session: Session, name: str) -> tuple[int, int, int]:
    """The version of cache ``name``'s data as this session sees it: the committed counter (0 before
    the first write), and, when this transaction wrote that data and has not committed yet, a token
    of the transaction and the count of its writes (else 0, 0). A key made of it is never shared by
    two different states: uncommitted writes are another transaction's business, and a rolled-back
    transaction's token is never handed out again."""
    return read_versions(session, (name,))[name]


def read_versions(session: Session, names: Sequence[str]) -> dict[str, tuple[int, int, int]]:
    """``read_version`` of each of ``names`` in one statement: one round trip, and on PostgreSQL one
    snapshot, so the counters are read as of the same commits."""
    found = dict(
        session.execute(select(DataVersion.name, DataVersion.n).where(DataVersion.name.in_(names))).all()
    )
    pending = session.connection().info.get(_DIRTY)
    versions = {}
    for name in names:
        committed = int(found.get(name) or 0)
        if pending and name in pending["writes"]:
            versions[name] = (committed, int(pending["token"]), int(pending["writes"][name]))
        else:
            versions[name] = (committed, 0, 0)
    return versions
