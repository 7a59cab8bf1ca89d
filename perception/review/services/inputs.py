"""What a review page's stored sections were computed from: a signature of their inputs.

The slow sections (perception.review.page_cache) read the facts, the KPIs, the standards, the
organisation, the collection plan and its reports, the surveys, the previous review... through
the other phases' services. Rather than list what each service reads (and miss what it starts
reading later), the signature covers every table except the bookkeeping ones the sections never
read (jobs, sessions, audit, the page's own copy, the findings, which the page shows live): a
copy whose signature differs from the current one is stale, whatever changed.

The signature is the write counter ``review_inputs`` (perception.kpi.services.data_version): it
goes up in the very transaction of every commit that wrote one of those tables, whatever the
path, on PostgreSQL and SQLite alike, so a reader sees the new count exactly when it sees the new
rows; reading it is one primary-key lookup. (It was the tables' tuple counters on PostgreSQL,
which lag a commit by up to ten seconds, and on SQLite a scan of every table on every page load,
blind to an update in place of a table without ``updated_at``.) A transaction that wrote inputs
and has not committed has a signature of its own (the counter's pending token).

The organisation's ``today`` is part of the signature: the sections say how far the period has
run, so a copy is at most a day old.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from perception.core.models.base import Base
from perception.kpi.services.data_version import NOT_REVIEW_INPUTS, REVIEW_INPUTS, read_version

# Tables the slow sections never read; a write there leaves the copy current.
NOT_INPUTS = NOT_REVIEW_INPUTS


def input_tables() -> list[str]:
    return sorted(name for name in Base.metadata.tables if name not in NOT_INPUTS)


def signature(session: Session, today: object) -> str:
    """The current signature of the slow sections' inputs as of the organisation's ``today``."""
    committed, token, writes = read_version(session, REVIEW_INPUTS)
    return f"in:{today}:{committed}:{token}:{writes}"
