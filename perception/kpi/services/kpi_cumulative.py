"""Running sums of the weekly KPI values, so any period's sums per series are two rows (issue 19).

A national provider's year is 2.6 million weekly KPI values; the KPI-versus-experience page summed
them per cell and tier on every load (kpi_experience.kpi_cell_sums, over 2 s at a tenth of that
size). ``kpi_value_cumulative`` keeps, for every series (definition x service x region x tier) and
every week from its first value to the last week of any series, the sums up to and including that
week: n-weighted value sums (weight n, or 1 for a week without tickets), tickets, weeks without
tickets, weeks with a value, and the latest week with a value with its target and comparator. A
period [start, end) is then the row of its last week minus the row of the week before it. One more
series per cell (``ALL_TIERS``) counts the distinct weeks with a value in any of its tiers.

The value sum is kept as two floats (hi + lo, each addition compensated): a period's difference
of two large running sums then loses nothing against summing its weeks.

Current or not: like the analysis pre-aggregate (analysis.services.rollup), the rows record the
KPI values' write counter (``KPI_VALUES``, kpi.services.data_version) they match; readers use them
only when it equals the current one, else they sum the weekly values. Kept current by the writers
of KPI values (``keep_cumulative_current``, called by compute_kpis and the value import as their
last write: the weeks from the first one they wrote are recomputed) and rebuilt in full by the
hourly job ``refresh_kpi_cumulative`` when some other write left them stale.

Public API: ``refresh_cumulative``, ``keep_cumulative_current``, ``cumulative_freshness``,
``period_columns`` (each series' sums over a period, as columns), ``period_pairs``, ``period_cells``.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Column, MetaData, Table, and_, delete, func, insert, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, aliased

from perception.core.models.base import utcnow
from perception.core.periods import week_start
from perception.kpi.models import Granularity, KpiCumulativeState, KpiValue, KpiValueCumulative
from perception.kpi.services.kpi_values_stamp import (
    Freshness,
    is_current,
    kpi_values_version,
    stamp,
    was_current_before_these_writes,
)

ALL_TIERS = -1  # the tier_key of the series counting a cell's distinct weeks over its tiers
WEEK = timedelta(weeks=1)
UNALIGNED = "unaligned"  # the signature of rows that could not be built (a week not on a Monday)
_BATCH = 20_000
Cum = KpiValueCumulative
_COLUMNS = (
    "period_start", "definition_id", "service_id", "region_id", "tier_key", "tier_id", "cum_wv",
    "cum_wv_lo", "cum_w", "cum_n", "cum_missing", "cum_rows", "last_week", "target", "comparator",
)  # fmt: skip


def _state(session: Session, *, lock: bool = False) -> KpiCumulativeState | None:
    stmt = select(KpiCumulativeState).order_by(KpiCumulativeState.id).limit(1)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def cumulative_freshness(session: Session) -> Freshness:
    version = kpi_values_version(session)
    if version is None:
        return Freshness.ABSENT
    try:
        with session.begin_nested():  # a database migrated before the table existed
            state = _state(session)
    except (OperationalError, ProgrammingError):
        return Freshness.ABSENT
    if state is None:
        return Freshness.ABSENT
    return Freshness.CURRENT if is_current(state, version) else Freshness.STALE


def _last_week(session: Session) -> date | None:
    value = session.scalar(
        select(func.max(KpiValue.period_start)).where(
            KpiValue.granularity == Granularity.WEEK, KpiValue.value.is_not(None)
        )
    )
    return None if value is None else _as_date(value)


def refresh_cumulative(session: Session, *, force: bool = False) -> int | None:
    """Rebuild every row from the weekly KPI values unless they are current; the number of rows
    written (None: already current, or no write counters). Flushes, never commits."""
    try:
        with session.begin_nested():  # a database migrated before the table existed
            state = _state(session, lock=True)  # writers of KPI values queue here until commit
    except (OperationalError, ProgrammingError):
        return None
    version = kpi_values_version(session)  # read before the values: a write after it only makes them stale
    if version is None:
        return None
    if state is not None and is_current(state, version) and not force:
        return None
    if state is None:
        state = KpiCumulativeState(signature="", rows=0)
        session.add(state)
    return _rebuild(session, state, version, None, None)


def keep_cumulative_current(
    session: Session, since: date | None, region_ids: Collection[int] | None = None
) -> int | None:
    """A writer of KPI values calls this after its last write: when the rows were current before
    this transaction's writes, recompute those of the weeks from ``since`` (the first weekly value
    it wrote or deleted; None: no weekly value) in ``region_ids`` (None: all) and stamp them
    current. Rows that were stale (or never built) are left to the hourly job. Returns the rows
    written, or None when nothing was done."""
    try:
        with session.begin_nested():
            # Writers of KPI values queue here until the one holding it commits; the counter is
            # read after, so it includes that writer's commit.
            state = _state(session, lock=True)
    except (OperationalError, ProgrammingError):
        return None
    version = kpi_values_version(session)
    if state is None or version is None:
        return None
    if not was_current_before_these_writes(state, version) or state.signature == UNALIGNED:
        return None
    return _rebuild(session, state, version, since, region_ids, incremental=True)


def _rebuild(
    session: Session,
    state: KpiCumulativeState,
    version: tuple[int, int, int],
    since: date | None,
    region_ids: Collection[int] | None,
    *,
    incremental: bool = False,
) -> int:
    started = time.perf_counter()
    last = _last_week(session)
    old = state.last_week if incremental else None
    if incremental and old is not None:
        if since is None and last == old:
            stamp(state, version)
            session.flush()
            return 0
        # The series run to the last week of any series: when it moves, every series moves.
        lo = None if last is None else min(since or old + WEEK, min(old, last) + WEEK)
        if last != old:
            region_ids = None
    else:
        lo, region_ids = None, None
    regions = sorted(region_ids) if region_ids is not None else None
    deleted = 0
    if lo is None and session.get_bind().dialect.name == "postgresql":
        # Every row: TRUNCATE leaves no dead rows behind, whose index entries a read of one week
        # would otherwise follow all over the old table until a vacuum (1.4 s instead of 0.1 s at
        # a tenth of national scale). Its lock holds no page up: they read the running sums only
        # while current, and these are being rebuilt because they are not.
        session.execute(text("TRUNCATE kpi_value_cumulative"))
    else:
        clear = delete(Cum)
        if lo is not None:
            clear = clear.where(Cum.period_start >= lo)
        if regions is not None:
            clear = clear.where(Cum.region_id.in_(regions))
        deleted = getattr(session.execute(clear), "rowcount", 0) or 0
    written = 0
    aligned = True
    if last is not None:
        base: dict[tuple[int, int, int], dict[int, tuple[Any, ...]]] = {}
        if lo is not None:
            stmt = select(*(getattr(Cum, c) for c in _COLUMNS)).where(Cum.period_start == lo - WEEK)
            if regions is not None:
                stmt = stmt.where(Cum.region_id.in_(regions))
            for row in session.execute(stmt):
                base.setdefault((row[1], row[2], row[3]), {})[row[4]] = tuple(row)
        rows = _series_rows(_values(session, lo, regions), base, lo, last)
        try:
            written = _write(session, rows)
        except _Unaligned:
            aligned = False
            session.execute(delete(Cum))
            written = 0
    state.last_week = last if aligned else None
    state.rows = written if lo is None or not aligned else max(state.rows - deleted, 0) + written
    state.refreshed_at = utcnow()
    state.seconds = time.perf_counter() - started
    if aligned:
        stamp(state, version)
    else:
        state.signature, state.pending = UNALIGNED, None
    session.flush()
    return written


class _Unaligned(Exception):
    """A weekly value whose week does not start on a Monday: the series cannot be laid on weeks."""


def _values(session: Session, lo: date | None, regions: list[int] | None) -> Iterator[Any]:
    kv = KpiValue
    stmt = (
        select(
            kv.definition_id,
            kv.service_id,
            kv.region_id,
            kv.tier_key,
            kv.tier_id,
            kv.period_start,
            kv.value,
            kv.n,
            kv.target,
            kv.comparator,
        )  # fmt: skip
        .where(kv.granularity == Granularity.WEEK, kv.value.is_not(None))
        .order_by(kv.definition_id, kv.service_id, kv.region_id, kv.tier_key, kv.period_start)
    )
    if lo is not None:
        stmt = stmt.where(kv.period_start >= lo)
    if regions is not None:
        stmt = stmt.where(kv.region_id.in_(regions))
    yield from session.execute(stmt.execution_options(yield_per=_BATCH))


def _series_rows(
    values: Iterable[Any],
    base: dict[tuple[int, int, int], dict[int, tuple[Any, ...]]],
    lo: date | None,
    last: date,
) -> Iterator[tuple[Any, ...]]:
    """Every row to write: per cell, its tiers' series and the cell's distinct weeks, from ``lo``
    (continuing the ``base`` rows of the week before) or each series' first week, to ``last``."""
    cell: tuple[int, int, int] | None = None
    tiers: dict[int, list[Any]] = {}
    for v in values:
        key = (v[0], v[1], v[2])
        if key != cell:
            if cell is not None:
                yield from _cell_rows(cell, tiers, base.pop(cell, {}), lo, last)
            cell, tiers = key, {}
        tiers.setdefault(v[3], []).append(v)
    if cell is not None:
        yield from _cell_rows(cell, tiers, base.pop(cell, {}), lo, last)
    for key, before in base.items():  # cells with no value from ``lo`` on: carried forward
        yield from _cell_rows(key, {}, before, lo, last)


def _cell_rows(
    cell: tuple[int, int, int],
    tiers: dict[int, list[Any]],
    base: dict[int, tuple[Any, ...]],
    lo: date | None,
    last: date,
) -> Iterator[tuple[Any, ...]]:
    d, s, r = cell
    weeks: set[date] = set()
    for tier_key in sorted(set(tiers) | {k for k in base if k != ALL_TIERS}):
        values = tiers.get(tier_key, [])
        before = base.get(tier_key)
        if before is not None:
            _, _, _, _, _, tier_id, hi, hi_lo, w, n, missing, rows, last_week, target, comparator = before
            last_week = _as_date(last_week)
            week = lo
        else:
            tier_id, hi, hi_lo, w, n, missing, rows = values[0][4], 0.0, 0.0, 0.0, 0, 0, 0
            last_week, target, comparator = None, None, None
            week = _as_date(values[0][5])
        assert week is not None
        at = {}
        for v in values:
            day = _as_date(v[5])
            if day.weekday() != 0:
                raise _Unaligned(day)
            at[day] = v
        weeks.update(at)
        while week <= last:
            v = at.get(week)
            if v is not None:
                weight = float(v[7]) if v[7] else 1.0
                x = weight * float(v[6])
                total = hi + x  # two-sum: the rounding error of each addition goes to hi_lo
                bp = total - hi
                hi_lo += (hi - (total - bp)) + (x - bp)
                hi = total
                w += weight
                n += int(v[7] or 0)
                missing += 0 if v[7] else 1
                rows += 1
                last_week, target, comparator = week, v[8], v[9]
            yield (week, d, s, r, tier_key, tier_id, hi, hi_lo, w, n, missing, rows, last_week, target, comparator)  # fmt: skip  # noqa: E501
            week += WEEK
    # The cell's distinct weeks with a value in any tier.
    before = base.get(ALL_TIERS)
    if before is not None:
        count, last_week, week = int(before[11]), _as_date(before[12]), lo
    else:
        count, last_week = 0, None
        week = min(weeks) if weeks else None
    if week is None:
        return
    while week <= last:
        if week in weeks:
            count += 1
            last_week = week
        yield (week, d, s, r, ALL_TIERS, None, 0.0, 0.0, 0.0, 0, 0, count, last_week, None, None)
        week += WEEK


#: Rows are written here first, then moved in week order: a period reads two weeks' rows, which
#: then lie together (written series by series, one week's rows were spread over the whole table
#: and a read of them touched most of its pages: 3 s at a tenth of national scale).
_STAGE = Table(
    "kpi_value_cumulative_stage",
    MetaData(),
    *(Column(c.name, c.type) for c in KpiValueCumulative.__table__.columns),
    prefixes=["TEMPORARY"],
)


def _write(session: Session, rows: Iterator[tuple[Any, ...]]) -> int:
    conn = session.connection()
    _STAGE.drop(conn, checkfirst=True)
    _STAGE.create(conn)
    written = 0
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        # COPY: a national provider's two years are five million rows (executemany: minutes). In
        # chunks: the values are read through a server-side cursor on this very connection, which
        # cannot fetch while a COPY is open.
        sql = f"COPY {_STAGE.name} ({', '.join(_COLUMNS)}) FROM STDIN"
        for chunk in _chunks(rows, _BATCH * 5):
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                for row in chunk:
                    copy.write_row(row)
            written += len(chunk)
    else:
        for chunk in _chunks(rows, _BATCH):
            conn.execute(insert(_STAGE), [dict(zip(_COLUMNS, row, strict=True)) for row in chunk])
            written += len(chunk)
    columns = ", ".join(_COLUMNS)
    conn.exec_driver_sql(
        f"INSERT INTO kpi_value_cumulative ({columns}) SELECT {columns} FROM {_STAGE.name} "  # noqa: S608 - our names
        "ORDER BY period_start, definition_id, service_id, region_id, tier_key"
    )
    _STAGE.drop(conn)
    return written


def _chunks(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _period_weeks(session: Session, start: date, end: date) -> tuple[date, date] | None:
    """(the row week of the period's end, that of the week before it) when the rows are current
    and the period holds some of their weeks; None when not current; () when no week is in it."""
    if cumulative_freshness(session) is not Freshness.CURRENT:
        return None
    state = _state(session)
    assert state is not None
    if state.last_week is None:
        return ()  # type: ignore[return-value]
    upto = min(week_start(end - timedelta(days=1)), _as_date(state.last_week))
    before = week_start(start - timedelta(days=1))
    if upto < start or upto <= before:
        return ()  # type: ignore[return-value]
    return upto, before


def _in_period(b: Any, a: Any, upto: date, before: date) -> tuple[Any, ...]:
    """Join ``b`` (the rows at the period's end) with ``a`` (the week before its start), keeping
    the series with a value in the period."""
    return (
        and_(
            a.period_start == before,
            a.definition_id == b.definition_id,
            a.service_id == b.service_id,
            a.region_id == b.region_id,
            a.tier_key == b.tier_key,
        ),
        and_(b.period_start == upto, b.cum_rows > func.coalesce(a.cum_rows, 0)),
    )


def _in_scope(stmt: Any, b: Any, region_ids: Collection[int] | None, service_id: int | None) -> Any:
    """``stmt`` kept to the filters' regions and service (the period readers' common scope)."""
    if region_ids is not None:
        stmt = stmt.where(b.region_id.in_(sorted(region_ids)))
    if service_id is not None:
        stmt = stmt.where(b.service_id == service_id)
    return stmt


def period_pairs(
    session: Session,
    start: date,
    end: date,
    *,
    region_ids: Collection[int] | None = None,
    service_id: int | None = None,
    tier_id: int | None = None,
) -> list[tuple[int, int, int]] | None:
    """What analysis.services.kpi_links.kpi_pairs gives: (definition, service, first region) of
    every KPI with a weekly value in [start, end) in the scope, in that order, from two weeks' rows;
    None when the rows are not current."""
    weeks = _period_weeks(session, start, end)
    if not weeks:
        return None if weeks is None else []
    b, a = Cum, aliased(Cum)
    on, where = _in_period(b, a, *weeks)
    stmt = (
        select(b.definition_id, b.service_id, func.min(b.region_id))
        .outerjoin(a, on)
        .where(where, b.tier_key != ALL_TIERS)
        .group_by(b.definition_id, b.service_id)
        .order_by(b.definition_id, b.service_id)
    )
    stmt = _in_scope(stmt, b, region_ids, service_id)
    if tier_id is not None:
        stmt = stmt.where(b.tier_key == tier_id)
    # Core rows, fetched at once: the ORM's result chunks cost 0.15 s for 10,000 pairs.
    return [(int(d), int(s), int(r)) for d, s, r in session.connection().execute(stmt).all()]


def period_cells(
    session: Session,
    start: date,
    end: date,
    *,
    region_ids: Collection[int] | None = None,
    service_id: int | None = None,
    tier_id: int | None = None,
) -> list[tuple[int, int, int]] | None:
    """Every (definition, service, region) with a weekly value in [start, end) in the scope (a
    ``tier_id``: in that tier), unordered, from two weeks' rows of the cells' distinct weeks
    (``ALL_TIERS``) or of that tier's series; None when the rows are not current. The internal KPI
    page's per-region cells: grouped from the values, a year of a national provider's is a scan of
    2.2 million rows (5 s on SQLite at a tenth of its size)."""
    weeks = _period_weeks(session, start, end)
    if not weeks:
        return None if weeks is None else []
    b, a = Cum, aliased(Cum)
    on, where = _in_period(b, a, *weeks)
    stmt = (
        select(b.definition_id, b.service_id, b.region_id)
        .outerjoin(a, on)
        .where(where, b.tier_key == (ALL_TIERS if tier_id is None else tier_id))
    )
    stmt = _in_scope(stmt, b, region_ids, service_id)
    return [(int(d), int(s), int(r)) for d, s, r in session.connection().execute(stmt).all()]


@dataclass(frozen=True)
class PeriodColumns:
    """The sums of the weekly values in a period of each series (one entry per series: definition,
    service, region and tier), as columns (a page of 10,000 cells reads these instead of an object
    per series, issue 19): the n-weighted value sum (weight n, or 1 for a week without tickets),
    the weights, the tickets, the weeks with a value and the last of them with its target and
    comparator; ``tier_key`` ALL_TIERS: the cell's distinct weeks (``rows``) over its tiers, the
    rest zero. Identifiers and sums as NumPy arrays
    (``tickets`` 0 where ``tickets_known`` is false: a week lacks them; ``target`` NaN for none),
    the tier ids, last weeks and comparators as lists (None where the series has none)."""

    definition_id: np.ndarray
    service_id: np.ndarray
    region_id: np.ndarray
    tier_key: np.ndarray
    tier_id: list[int | None]
    weighted_sum: np.ndarray
    weights: np.ndarray
    tickets: np.ndarray
    tickets_known: np.ndarray
    rows: np.ndarray
    last: list[date]
    target: np.ndarray
    comparator: list[str | None]

    def __len__(self) -> int:
        return len(self.rows)


def period_columns(
    session: Session,
    start: date,
    end: date,
    definition_ids: Collection[int],
    *,
    region_ids: Collection[int] | None = None,
    service_id: int | None = None,
    tier_id: int | None = None,
) -> PeriodColumns | None:
    """The sums of the weekly values starting in [start, end) of every series of ``definition_ids``
    in the scope (a ``tier_id`` keeps that tier's series alone, else the ALL_TIERS series come
    too), from two weeks' rows, as columns (PeriodColumns); None when the rows are not current (the
    caller sums the values)."""
    weeks = _period_weeks(session, start, end)
    if weeks is None:
        return None
    found: Sequence[Any] = ()
    if weeks and definition_ids:
        b, a = Cum, aliased(Cum)
        on, where = _in_period(b, a, *weeks)
        stmt = (
            select(
                b.definition_id,
                b.service_id,
                b.region_id,
                b.tier_key,
                b.tier_id,
                b.cum_wv,
                b.cum_wv_lo,
                b.cum_w,
                b.cum_n,
                b.cum_missing,
                b.cum_rows,
                b.last_week,
                b.target,
                b.comparator,
                a.cum_wv,
                a.cum_wv_lo,
                a.cum_w,
                a.cum_n,
                a.cum_missing,
                a.cum_rows,
            )  # fmt: skip
            .outerjoin(a, on)
            .where(where, b.definition_id.in_(sorted(definition_ids)))
        )
        stmt = _in_scope(stmt, b, region_ids, service_id)
        if tier_id is not None:
            stmt = stmt.where(b.tier_key == tier_id)
        # All at once: iterated, psycopg fetches and checks one row at a time (0.3 s for 20,000 rows).
        found = session.connection().execute(stmt).all()
    columns: list[Any] = list(zip(*found, strict=True)) if found else [()] * 20

    def ints(i: int) -> np.ndarray:
        return np.array(columns[i], dtype=np.int64)

    def floats(i: int) -> np.ndarray:
        return np.array(columns[i], dtype=float)  # None (no row before the period: the outer join) is NaN

    # The series with no row before the period start from zero sums (their first week is in it).
    before = ~np.isnan(floats(19))
    hi, lo, w, n, missing, rows = (floats(i) for i in range(5, 11))
    a_hi, a_lo, a_w, a_n, a_missing, a_rows = (np.where(before, floats(i), 0.0) for i in range(14, 20))
    tickets_known = (missing - a_missing) == 0
    return PeriodColumns(
        definition_id=ints(0),
        service_id=ints(1),
        region_id=ints(2),
        tier_key=ints(3),
        tier_id=[None if t is None else int(t) for t in columns[4]],
        # The same operations, in the same order, as on each row: the same floats.
        weighted_sum=(hi - a_hi) + (lo - a_lo),
        weights=w - a_w,
        tickets=np.where(tickets_known, n - a_n, 0.0).astype(np.int64),
        tickets_known=tickets_known,
        rows=(rows - a_rows).astype(np.int64),
        last=[_as_date(d) for d in columns[11]],
        target=floats(12),
        comparator=list(columns[13]),
    )
