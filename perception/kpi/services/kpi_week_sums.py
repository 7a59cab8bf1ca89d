"""Sums of the weekly KPI values per definition, service, tier and comparator and week, over the
regions (issue 19).

The internal KPI page (analysis.services.kpis) shows per KPI, service and week the n-weighted mean
of the values in scope, their strictest target, and how many were met and missed. For every region
it grouped a year's 2.2 million values (a tenth of a national provider) on each first load: 6 s of
SQLite's CPU, most of it sorting them. ``kpi_week_sum`` holds that grouping ahead, one row per
definition x service x tier x comparator x week (26,500 rows for that year): the page's figures
for every region, or every region in one tier or service, are a sum of these rows. A user scoped
to some regions (a region's team, an API key of some regions) still groups the values, of those
regions alone. The KPI values' running sums (kpi_cumulative) cannot stand in: they are per region
and cumulative over weeks, and keep neither the met counts nor each week's targets.

Current or not, as the running sums: the state row records the KPI values' write counter
(``KPI_VALUES``, kpi.services.data_version) the rows match; the page reads them only when it
equals the current one, else it groups the values. Kept current by the writers of KPI values
(``keep_week_sums_current``, called by compute_kpis and the value import after their last write:
the weeks from the first one they wrote are grouped again) and rebuilt in full by the hourly job
``refresh_kpi_week_sums`` when some other write left them stale.

Public API: ``refresh_week_sums``, ``keep_week_sums_current``, ``week_sums_freshness``,
``week_sum_rows``, ``value_groups`` (their freshness: kpi_values_stamp.Freshness).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Float, Select, and_, case, cast, delete, func, insert, literal, or_, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.kpi.models import Granularity, KpiValue, KpiWeekSum, KpiWeekSumState
from perception.kpi.services.kpi_values_stamp import (
    Freshness,
    is_current,
    kpi_values_version,
    stamp,
    was_current_before_these_writes,
)

_SUM_COLUMNS = (
    "period_start", "definition_id", "service_id", "tier_id", "comparator", "weighted_sum", "weights",
    "rows", "missed", "met_rows", "target_max", "target_min",
)  # fmt: skip


def _state(session: Session, *, lock: bool = False) -> KpiWeekSumState | None:
    stmt = select(KpiWeekSumState).order_by(KpiWeekSumState.id).limit(1)
    try:
        with session.begin_nested():  # a database migrated before the table existed
            return session.scalar(stmt.with_for_update() if lock else stmt)
    except (OperationalError, ProgrammingError):
        return None


def week_sums_freshness(session: Session) -> Freshness:
    version = kpi_values_version(session)
    state = _state(session) if version is not None else None
    if state is None or version is None:
        return Freshness.ABSENT
    return Freshness.CURRENT if is_current(state, version) else Freshness.STALE


def refresh_week_sums(session: Session, *, force: bool = False) -> int | None:
    """Group every weekly value again unless the rows are current; the number of rows written
    (None: already current, or no table or write counter). Flushes, never commits."""
    state = _state(session, lock=True)  # writers of KPI values queue here until commit
    version = kpi_values_version(session)  # read before the values: a write after it only makes them stale
    if version is None:
        return None
    if state is None:
        try:
            with session.begin_nested():
                session.execute(select(KpiWeekSum.id).limit(1))
        except (OperationalError, ProgrammingError):
            return None  # a database migrated before the table existed
        state = KpiWeekSumState(signature="", rows=0)
        session.add(state)
    elif is_current(state, version) and not force:
        return None
    return _regroup(session, state, version, None)


def keep_week_sums_current(session: Session, since: date | None) -> int | None:
    """A writer of KPI values calls this after its last write: when the rows were current before
    this transaction's writes, group again the weeks from ``since`` (the first weekly value it
    wrote or deleted; None: no weekly value) and stamp them current. Rows that were stale (or
    never built) are left to the hourly job. Returns the rows written, or None when nothing was
    done."""
    # Writers of KPI values queue here until the one holding it commits; the counter is read
    # after, so it includes that writer's commit.
    state = _state(session, lock=True)
    version = kpi_values_version(session)
    if state is None or version is None:
        return None
    if not was_current_before_these_writes(state, version):
        return None
    if since is None:
        stamp(state, version)
        session.flush()
        return 0
    return _regroup(session, state, version, since)


def _regroup(
    session: Session, state: KpiWeekSumState, version: tuple[int, int, int], since: date | None
) -> int:
    """Replace the rows of the weeks from ``since`` (None: all) by the values' grouping."""
    started = time.perf_counter()
    clear = delete(KpiWeekSum)
    if since is not None:
        clear = clear.where(KpiWeekSum.period_start >= since)
    deleted = getattr(session.execute(clear), "rowcount", 0) or 0
    v = KpiValue.__table__.c
    grouped = value_groups(
        (v.period_start, v.definition_id, v.service_id, v.tier_id, v.comparator),
        v.granularity == Granularity.WEEK,
        v.value.is_not(None),
        *(() if since is None else (v.period_start >= since,)),
    )
    session.execute(insert(KpiWeekSum).from_select(_SUM_COLUMNS, grouped))
    # Counted, not the statement's row count: psycopg gives none for an INSERT ... SELECT.
    counted = select(func.count()).select_from(KpiWeekSum)
    written = int(
        session.scalar(counted if since is None else counted.where(KpiWeekSum.period_start >= since)) or 0
    )
    state.rows = written if since is None else max(state.rows - deleted, 0) + written
    state.refreshed_at = utcnow()
    state.seconds = time.perf_counter() - started
    stamp(state, version)
    session.flush()
    return int(written)


def value_groups(keys: Sequence[Any], *where: Any) -> Select[Any]:
    """The KPI values meeting ``where`` grouped by ``keys`` (columns of kpi_value): the keys, then
    the weighted value sum (weight n, or 1 for a value without tickets), the weights, the rows,
    those missed and met, and the highest and lowest target of the rows with a target and
    comparator. The sums this module keeps, and the grouping the internal KPI page falls back to."""
    v = KpiValue.__table__.c
    weight = case((or_(v.n.is_(None), v.n == 0), literal(1.0)), else_=cast(v.n, Float))
    has_target = and_(v.target.is_not(None), v.comparator.is_not(None))
    return (
        select(
            *keys,
            func.sum(weight * v.value),
            func.sum(weight),
            func.count(),
            func.sum(case((v.met.is_(False), 1), else_=0)),
            func.sum(case((v.met.is_(True), 1), else_=0)),
            func.max(case((has_target, v.target))),
            func.min(case((has_target, v.target))),
        )
        .where(*where)
        .group_by(*keys)
    )


def week_sum_rows(
    session: Session, start: date, end: date, *, service_id: int | None = None, tier_id: int | None = None
) -> list[tuple[Any, ...]] | None:
    """The sums of the weekly values in [start, end) of every region (in ``service_id`` and
    ``tier_id`` when given), in value_groups' columns with the keys definition, service, week and
    comparator: one row per tier (a key may come more than once, its rows to be added up); None
    when the rows are not current (the caller groups the values)."""
    if week_sums_freshness(session) is not Freshness.CURRENT:
        return None
    s = KpiWeekSum
    # Not summed over the tiers here: the caller adds rows up anyway (several comparators of a
    # week), and a GROUP BY of 26,000 rows was a fifth of the read on PostgreSQL.
    stmt = select(
        s.definition_id,
        s.service_id,
        s.period_start,
        s.comparator,
        s.weighted_sum,
        s.weights,
        s.rows,
        s.missed,
        s.met_rows,
        s.target_max,
        s.target_min,
    ).where(s.period_start >= start, s.period_start < end)
    if service_id is not None:
        stmt = stmt.where(s.service_id == service_id)
    if tier_id is not None:
        stmt = stmt.where(s.tier_id == tier_id)
    return [tuple(r) for r in session.connection().execute(stmt).all()]
