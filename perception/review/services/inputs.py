"""What a review page's stored sections were computed from: a signature of their inputs.

The slow sections (perception.review.page_cache) read the facts, the KPIs, the standards, the
organisation, the collection plan and its reports, the surveys, the previous review... through
the other phases' services. Rather than list what each service reads (and miss what it starts
reading later), the signature covers every table except the bookkeeping ones the sections never
read (jobs, sessions, audit, the page's own copy, the findings, which the page shows live): a
copy whose signature differs from the current one is stale, whatever changed.

- PostgreSQL: the cumulative inserted/updated/deleted tuple counters of those tables
  (``pg_stat_user_tables``, plus this transaction's own ``pg_stat_xact_user_tables``): one
  catalogue query, milliseconds at any size. Another session's commit reaches the counters when
  its backend reports them (PostgreSQL: within about a second, at most ten when it goes idle).
- SQLite (small deployments, tests): per table the row count, the highest rowid and, where the
  table has one, the newest ``updated_at`` (``stored_at`` of the KPI values) and their sum; an update in place
  of a table without either is caught by the hourly job (``prepare_review_pages``), which on such
  a database recomputes every open review's sections whatever the signature says.

The organisation's ``today`` is part of the signature: the sections say how far the period has
run, so a copy is at most a day old.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session

from perception.core.models.base import Base

# Tables the slow sections never read; a write there leaves the copy current.
NOT_INPUTS = frozenset(
    {
        "alert_recipient",
        "analysis_rollup_state",  # derived from the facts, which are inputs
        "api_token",
        "api_token_region",
        "audit_entry",
        "experience_rollup",
        "job",
        "report_reminder",
        "review_countersignature",
        "review_finding",  # section 6 is computed live
        "review_report",
        "review_section_cache",
        "scheduled_run",
        "subscription",
        "survey_anonymous_draft",
        "survey_response_draft",
        "throttle_counter",
        "user",
        "user_role",
        "user_session",
        "webhook_attempt",
        "webhook_delivery",
        "webhook_subscription",
    }
)


# Columns a write in place sets (the first one a table has), read on SQLite.
VERSION_COLUMNS = ("updated_at", "stored_at")


def input_tables() -> list[str]:
    return sorted(name for name in Base.metadata.tables if name not in NOT_INPUTS)


def _postgresql(session: Session, tables: list[str]) -> list[tuple[object, ...]]:
    session.execute(text("SELECT pg_stat_clear_snapshot()"))  # not the transaction's cached counters
    rows = session.execute(
        text(
            "SELECT s.relname, s.n_tup_ins + coalesce(x.n_tup_ins, 0), "
            "s.n_tup_upd + coalesce(x.n_tup_upd, 0), s.n_tup_del + coalesce(x.n_tup_del, 0) "
            "FROM pg_stat_user_tables s LEFT JOIN pg_stat_xact_user_tables x ON x.relid = s.relid "
            "WHERE s.schemaname = current_schema() AND s.relname = ANY(:tables) ORDER BY s.relname"
        ),
        {"tables": tables},
    )
    return [tuple(r) for r in rows]


def _generic(session: Session, tables: list[str]) -> list[tuple[object, ...]]:
    parts = []
    for name in tables:
        table = Base.metadata.tables[name]
        stamp = next((c for c in VERSION_COLUMNS if c in table.c), None)
        newest = f"max({stamp}) || '/' || total(julianday({stamp}))" if stamp else "NULL"
        # names from our own metadata, never from input
        parts.append(f"SELECT '{name}', count(*), max(rowid), {newest} FROM \"{name}\"")  # noqa: S608
    rows = session.execute(text(" UNION ALL ".join(parts)))
    return [tuple(r) for r in rows]


def signature(session: Session, today: object) -> str:
    """The current signature of the slow sections' inputs as of the organisation's ``today``."""
    tables = input_tables()
    if session.get_bind().dialect.name == "postgresql":
        rows = _postgresql(session, tables)
    else:
        rows = _generic(session, tables)
    digest = hashlib.sha256(repr((str(today), rows)).encode("utf-8")).hexdigest()
    return "in:" + digest[:61]
