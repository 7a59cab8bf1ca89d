"""The SLA attainment page's figures, kept while their data stay the same (issue 19).

The page measures every ticket of its period (load_frame: the SELECT, each SLA's covered hours,
each ticket's target): 5 months of a national provider are ~2,000,000 tickets, a year ~5,000,000.
Its figures depend on the tickets, the standards and versions their targets come from, the SLAs
(covered hours, holidays, make-up days, which customer and service they cover), the subscriptions
(tiers) and the names shown: the write counter ``ATTAINMENT`` (kpi.services.data_version) goes up
with every committed write to any of them. A result is kept per process under its period, scope and
breach limit with the counter it was computed at, and served while the counter is the same and it
is younger than ``MAX_AGE``: an unanswered ticket turns overdue by waiting, without any write, so
the figures are never older than that, and the page says when they were computed.

A regional team's scope is part of the key: an entry is never shown to another scope; so is the
database's address (a process may serve several).

Public API: ``kept_attainment(session, start, end, region_ids=..., limit=...) -> KeptAttainment``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.kpi.services.data_version import ATTAINMENT, read_version
from perception.kpi.services.sla import Breach, StandardAttainment, attainment_and_breaches

MAX_AGE = timedelta(minutes=10)
KEPT = 16  # entries per process (period x scope x limit)


@dataclass(frozen=True)
class KeptAttainment:
    rows: tuple[StandardAttainment, ...]
    breaches: tuple[Breach, ...]
    computed_at: datetime  # naive UTC: the "as of" of the overdue tickets


_Key = tuple[str, date, date, str, frozenset[int] | None, int | None]
_kept: OrderedDict[_Key, tuple[tuple[int, int, int], KeptAttainment]] = OrderedDict()
_lock = threading.Lock()


def kept_attainment(
    session: Session,
    start: date,
    end: date,
    *,
    granularity: str = "month",
    region_ids: frozenset[int] | None = None,
    limit: int | None = 500,
    now: datetime | None = None,
) -> KeptAttainment:
    """attainment_and_breaches of the period and scope, computed afresh when its data changed or
    the kept result is older than MAX_AGE (module docstring)."""
    now = now or utcnow()
    # The database is part of the key: one process may serve several (tests, demos).
    key: _Key = (str(session.connection().engine.url), start, end, granularity, region_ids, limit)
    version = read_version(session, ATTAINMENT)
    with _lock:
        found = _kept.get(key)
    if (
        found is not None
        and found[0] == version
        and version[1] == 0  # this transaction's own uncommitted writes are never kept
        and timedelta(0) <= now - found[1].computed_at < MAX_AGE
    ):
        return found[1]
    rows, listed = attainment_and_breaches(
        session, start, end, granularity=granularity, region_ids=region_ids, limit=limit, as_of=now
    )
    result = KeptAttainment(tuple(rows), tuple(listed), now)
    if version[1] == 0:
        with _lock:
            _kept[key] = (version, result)
            _kept.move_to_end(key)
            while len(_kept) > KEPT:
                _kept.popitem(last=False)
    return result


def forget_all() -> None:
    """Drop every kept result (tests)."""
    with _lock:
        _kept.clear()
