"""Counters that slow guessing (passwords, survey links), shared by every process and node.

One row per key (``login-account:alice``, ``survey-guess:10.0.0.9`` ...) counts hits in a fixed
window. A hit is one atomic statement, ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, on
SQLite and PostgreSQL alike: of 50 simultaneous hits on one key the database hands out the counts
1 to 50, so a caller that goes on only while its count is within the limit lets exactly ``limit``
attempts through, whatever the number of workers and nodes (issue 18: a count-then-insert let 6 to
8 password checks through a limit of 5). A hit is taken before the attempt is checked (a
reservation); an attempt that succeeds gives its hit back with ``release``.

On PostgreSQL the hit locks its row until the request's transaction ends, so simultaneous attempts
on one key take turns; the keys are chosen so that only attempts that compete for the same limit
share a row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from perception.core.models.auth import ThrottleCounter
from perception.core.transaction import Db, core

KEY_LENGTH = 160


def _key(key: str) -> str:
    return key[:KEY_LENGTH]


def hit(session: Db, key: str, now: datetime, window: timedelta) -> int:
    """Count one attempt under ``key``; returns the number of attempts in the current window,
    this one included. A window older than ``window`` starts again at 1."""
    table = cast(Table, ThrottleCounter.__table__)
    dialect = core(session).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stale = table.c.window_start <= now - window
    stmt = (
        insert(table)
        .values(key=_key(key), window_start=now, hits=1)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "hits": case((stale, 1), else_=table.c.hits + 1),
                "window_start": case((stale, now), else_=table.c.window_start),
            },
        )
        .returning(table.c.hits)
    )
    return int(session.execute(stmt).scalar_one())


def release(session: Session, key: str) -> None:
    """Give back one hit (the attempt it reserved succeeded)."""
    session.execute(
        update(ThrottleCounter)
        .where(ThrottleCounter.key == _key(key), ThrottleCounter.hits > 0)
        .values(hits=ThrottleCounter.hits - 1)
    )


def count(session: Session, key: str, now: datetime, window: timedelta) -> int:
    """Attempts under ``key`` in the current window (reads only)."""
    row = session.execute(
        select(ThrottleCounter.hits, ThrottleCounter.window_start).where(ThrottleCounter.key == _key(key))
    ).first()
    if row is None or row.window_start <= now - window:
        return 0
    return int(row.hits)


def purge(session: Session, before: datetime) -> int:
    """Forget windows that started before ``before`` (a periodic job)."""
    result = session.execute(delete(ThrottleCounter).where(ThrottleCounter.window_start < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
