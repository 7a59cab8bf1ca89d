"""Running sums of the weekly experience sums, so any period's sums per region and service are two
weeks' rows (issue 19).

The KPI-versus-experience page compares every region x service cell over its period: from the
pre-aggregate (services.rollup) that is every week's rows of the period summed by the database
(at a tenth of a national provider's size, a year is 390,000 rows summed: 0.4 to 1.7 s, growing
with the answers; bench/bench_h19kve4_experience.py).
``experience_cumulative`` keeps, for every week that has sums, every series' statistics up to and
including that week (a series: region x service x tier x measure, the measure a kind, dimension
and scale; sources summed): the count, the sum and the sum of squares of the answers, the top-2-box,
promoter and detractor counts. A period [start, end) is then the row of the last stored week
before ``end`` minus the row of the last stored week before ``start``: two rows, whatever the
length of the period or the number of answers.

A row holds all series as one float64 array (series x CUMULATIVE_STATS) rather than a row per
series: a national provider has some 45,000 series (100 regions x 50 services x 9 measures), so a
period read as rows would be 90,000 rows joined and 45,000 handed to Python one by one, where two
arrays of 2.9 MB are read at once (15 ms each on PostgreSQL, in the binary format) and subtracted
with NumPy. The series are numbered in the order of their keys (ExperienceCumulativeState.keys);
the reader keeps the series of its filters and scope.

The sums of the answers are kept as two floats (hi + lo, each weekly addition compensated, as the
KPI side's running sums, kpi.services.kpi_cumulative): the difference of two large running sums
then loses nothing against summing the period's weeks.

Current or not: built from the pre-aggregate whenever that is rebuilt (services.rollup
.refresh_rollup calls ``refresh_experience_cumulative``), with the facts' write signature it
matches; read only while that equals the current one (as the pre-aggregate), otherwise the caller
sums the pre-aggregate or the facts as before (services.facts.aggregate).

Public API: ``refresh_experience_cumulative``, ``cumulative_usable``, ``period_table``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Collection, Iterator
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from perception.analysis.models import (
    ExperienceCumulative,
    ExperienceCumulativeState,
    ExperienceRollup,
)
from perception.analysis.services.facts import FactTable, fact_table, tune_for_aggregation
from perception.analysis.services.filters import AnalysisFilters
from perception.core.models.base import utcnow

#: The columns of a row's array: count, sum (hi, lo), sum of squares (hi, lo), top-2-box,
#: promoters, detractors.
CUMULATIVE_STATS = 8
N, S, S_LO, SS, SS_LO, TOP2, PROMOTERS, DETRACTORS = range(CUMULATIVE_STATS)
#: The key columns of ExperienceCumulativeState.keys.
KEY_COLUMNS = ("region", "service", "tier", "measure")
NONE = -1  # the key of no service and of no tier
_READ_BATCH = 50_000


def _state(session: Session) -> ExperienceCumulativeState | None:
    stmt = select(ExperienceCumulativeState).order_by(ExperienceCumulativeState.id).limit(1)
    return session.scalar(stmt)


def _current_state(session: Session) -> ExperienceCumulativeState | None:
    """The state when the rows match the facts as this transaction sees them, else None."""
    from perception.analysis.services.rollup import facts_signature

    signature = facts_signature(session)
    if signature is None:
        return None
    try:
        with session.begin_nested():  # a database migrated before the table existed has none
            state = _state(session)
    except (OperationalError, ProgrammingError):
        return None
    return state if state is not None and state.signature == signature else None


def cumulative_usable(session: Session) -> bool:
    """Whether the running sums match the facts right now (else period_table gives None)."""
    return _current_state(session) is not None


def refresh_experience_cumulative(session: Session, *, force: bool = False) -> int | None:
    """Rebuild the running sums from the pre-aggregate's level 0 when they do not match the facts
    (or ``force``) and the pre-aggregate does; returns the rows written (None: nothing done).
    Flushes, never commits: called by services.rollup.refresh_rollup inside its transaction.

    Every week is computed again, but only the rows that changed are written (each row keeps the
    digest of its array): new answers in the last weeks rewrite those weeks' rows, not two years'
    (2.9 MB each at a national provider's size)."""
    from perception.analysis.services.rollup import RollupFreshness, facts_signature, rollup_freshness

    signature = facts_signature(session)
    if signature is None:
        return None
    try:
        with session.begin_nested():
            state = _state(session)
    except (OperationalError, ProgrammingError):
        return None
    if state is not None and state.signature == signature and not force:
        return None
    if rollup_freshness(session) is not RollupFreshness.CURRENT:
        return None  # built from the pre-aggregate only while it matches the facts
    started = time.perf_counter()
    c = ExperienceCumulative
    stored = {_as_date(w): d for w, d in session.execute(select(c.period_start, c.digest))}
    series = _number_series(session)
    written, weeks = 0, set()
    for week, sums in _running_sums(session, len(series)):
        weeks.add(week)
        blob = sums.astype("<f8").tobytes()
        digest = hashlib.sha256(blob).hexdigest()
        if stored.get(week) == digest:
            continue
        if week in stored:
            session.execute(update(c).where(c.period_start == week).values(sums=blob, digest=digest))
        else:
            session.execute(insert(c).values(period_start=week, sums=blob, digest=digest))
        written += 1
    gone = sorted(set(stored) - weeks)
    if gone:
        session.execute(delete(c).where(c.period_start.in_(gone)))
    _SERIES.drop(session.connection())
    measures: dict[tuple[Any, ...], int] = {}
    table = np.zeros((len(series), len(KEY_COLUMNS)), dtype="<i8")
    for i, (region, service, tier, *measure) in enumerate(series):  # in series order
        table[i] = (region, service, tier, measures.setdefault(tuple(measure), len(measures)))
    if state is None:
        state = ExperienceCumulativeState(signature=signature)
        session.add(state)
    state.signature = signature
    state.keys = table.tobytes()
    state.measures = [[k, d or None, lo, hi] for k, d, lo, hi in measures]
    state.series = len(series)
    state.weeks = len(weeks)
    state.refreshed_at = utcnow()
    state.seconds = time.perf_counter() - started
    session.flush()
    return written


#: The series of the pre-aggregate, numbered in the order of their keys (a work table of the
#: refresh): each week's sums are read per series number, so no row's key crosses to Python.
_SERIES = Table(
    "experience_cumulative_series",
    MetaData(),
    Column("id", Integer),
    Column("region_id", Integer),
    Column("service_key", Integer),
    Column("tier_key", Integer),
    Column("kind", String(24)),
    Column("dimension", String(32)),
    Column("scale_min", Float),
    Column("scale_max", Float),
    prefixes=["TEMPORARY"],
)


def _number_series(session: Session) -> list[tuple[Any, ...]]:
    """Fill the work table _SERIES from the pre-aggregate's level 0; its keys in number order."""
    from perception.analysis.services.rollup import BY_SERVICE

    r = ExperienceRollup
    conn = session.connection()
    _SERIES.drop(conn, checkfirst=True)
    _SERIES.create(conn)
    keys = (
        select(
            r.region_id,
            func.coalesce(r.service_id, NONE).label("service_key"),
            func.coalesce(r.tier_id, NONE).label("tier_key"),
            r.kind,
            func.coalesce(r.dimension, "").label("dimension"),
            r.scale_min,
            r.scale_max,
        )
        .where(r.level == BY_SERVICE)
        .distinct()
        .subquery()
    )
    numbered = select(func.row_number().over(order_by=list(keys.c)) - 1, *keys.c)
    columns = ["id", "region_id", "service_key", "tier_key", "kind", "dimension", "scale_min", "scale_max"]
    session.execute(insert(_SERIES).from_select(columns, numbered))
    # The join with the sums looks each row's series up by its key. Without an index SQLite joined
    # them by scanning the series for every row of the pre-aggregate: at a tenth of a national
    # provider's size (926,000 rows x 45,000 series) the hourly refresh ran for many minutes,
    # holding the database's write turn.
    key = ", ".join(columns[1:])
    conn.exec_driver_sql(f"CREATE UNIQUE INDEX {_SERIES.name}_key ON {_SERIES.name} ({key})")
    conn.exec_driver_sql(f"ANALYZE {_SERIES.name}")  # the planners need its size
    s = _SERIES.c
    found = session.execute(select(*(s[k] for k in columns)).order_by(s.id)).all()
    assert all(row[0] == i for i, row in enumerate(found))
    return [tuple(row[1:]) for row in found]


def sums_by_series() -> Select[Any]:
    """Each week's sums of the pre-aggregate's level 0 per series number (summed over sources), in
    week order: the join of the pre-aggregate with the work table _SERIES on the series' key."""
    from perception.analysis.services.rollup import BY_SERVICE

    r, s = ExperienceRollup, _SERIES.c
    same = and_(
        s.region_id == r.region_id,
        s.service_key == func.coalesce(r.service_id, NONE),
        s.tier_key == func.coalesce(r.tier_id, NONE),
        s.kind == r.kind,
        s.dimension == func.coalesce(r.dimension, ""),
        s.scale_min == r.scale_min,
        s.scale_max == r.scale_max,
    )
    return (
        select(
            r.period_start,
            s.id,
            func.sum(r.n),
            func.sum(r.s),
            func.sum(r.ss),
            func.sum(r.top2),
            func.sum(r.promoters),
            func.sum(r.detractors),
        )
        .select_from(r)
        .join(_SERIES, same)
        .where(r.level == BY_SERVICE)
        .group_by(r.period_start, s.id)
        .order_by(r.period_start)
    )


def _running_sums(session: Session, series: int) -> Iterator[tuple[date, np.ndarray]]:
    """(week, every series' running sums up to that week) for each week of the pre-aggregate,
    from its level 0 summed over sources per week and series number, read in week order."""

    stmt = sums_by_series()
    tune_for_aggregation(session)
    running = np.zeros((series, CUMULATIVE_STATS))
    week: Any = None
    rows: list[tuple[Any, ...]] = []
    # Streamed: a national provider's two years are some five million rows.
    for row in session.execute(stmt.execution_options(yield_per=_READ_BATCH)):
        if row[0] != week:
            if rows:
                _add_week(running, np.array(rows, dtype=float))
                yield _as_date(week), running
            week, rows = row[0], []
        rows.append(tuple(row)[1:])
    if rows:
        _add_week(running, np.array(rows, dtype=float))
        yield _as_date(week), running


def _add_week(running: np.ndarray, rows: np.ndarray) -> None:
    """Add one week's sums to the running sums: ``rows`` (series number, n, s, ss, top2,
    promoters, detractors), one per series."""
    ids, x = rows[:, 0].astype(np.int64), rows[:, 1:]
    for column, lo, j in ((S, S_LO, 1), (SS, SS_LO, 2)):
        # Two-sum: the rounding error of each addition goes to the lo column.
        hi, add = running[ids, column], x[:, j]
        total = hi + add
        bp = total - hi
        running[ids, lo] += (hi - (total - bp)) + (add - bp)
        running[ids, column] = total
    for column, j in ((N, 0), (TOP2, 3), (PROMOTERS, 4), (DETRACTORS, 5)):
        running[ids, column] += x[:, j]


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _row_before(session: Session, day: date) -> tuple[date, bytes] | None:
    """The row of the last stored week before ``day`` (None: no week before it)."""
    c = ExperienceCumulative
    last = select(func.max(c.period_start)).where(c.period_start < day).scalar_subquery()
    stmt = select(c.period_start, c.sums).where(c.period_start == last)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # In the binary format: as text (hex) a row is twice the bytes and four times the time.
        raw = conn.connection.driver_connection
        assert raw is not None
        compiled = stmt.compile(dialect=conn.dialect)
        with raw.cursor(binary=True) as cursor:
            cursor.execute(str(compiled), compiled.params)
            found = cursor.fetchone()
    else:
        found = session.execute(stmt).first()
    if found is None:
        return None
    return _as_date(found[0]), bytes(found[1])


def period_table(
    session: Session, filters: AnalysisFilters, *, kinds: Collection[str] | None = None
) -> FactTable | None:
    """What services.facts.aggregate(session, filters, kinds=kinds, by=("region", "service"))
    gives (its rows per region, service, kind, dimension and scale over the period, the period
    column the filters' start), from two weeks' rows of the running sums; None when they do not
    match the facts or a customer filter asks for what they do not keep (then aggregate)."""
    if filters.customer_id is not None:
        return None
    state = _current_state(session)
    if state is None:
        return None
    measures = [tuple(m) for m in state.measures]
    series = int(state.series)
    # The weeks in [start, end) are those after the last stored week before ``start`` up to the
    # last stored week before ``end``: whatever the days the filters name.
    end = _row_before(session, filters.end)
    start = _row_before(session, filters.start)
    if end is None or (start is not None and start[0] >= end[0]) or series == 0:
        return _table(filters, np.zeros((0, len(KEY_COLUMNS)), dtype=np.int64), np.zeros((0, 6)), measures)
    b = np.frombuffer(end[1], dtype="<f8").reshape(-1, CUMULATIVE_STATS)
    a = (
        np.zeros_like(b)
        if start is None
        else np.frombuffer(start[1], dtype="<f8").reshape(-1, CUMULATIVE_STATS)
    )
    if not b.shape[0] == a.shape[0] == series:
        return None  # not the series of the state (never written so; read as stale)
    keys = np.frombuffer(state.keys, dtype="<i8").reshape(series, len(KEY_COLUMNS))
    d = b - a
    keep = d[:, N] > 0.5  # the series with answers in the period (counts are exact in float64)
    if kinds is not None:
        chosen = set(kinds)
        wanted = np.array([m[0] in chosen for m in measures] or [False], dtype=bool)
        keep &= wanted[keys[:, 3]]
    if filters.region_ids is not None:
        keep &= np.isin(keys[:, 0], np.array(sorted(filters.region_ids), dtype=np.int64))
    if filters.service_id is not None:
        keep &= keys[:, 1] == filters.service_id
    if filters.tier_id is not None:
        keep &= keys[:, 2] == filters.tier_id
    d = d[keep]
    sums = np.column_stack(
        [
            d[:, N],
            d[:, S] + d[:, S_LO],
            d[:, SS] + d[:, SS_LO],
            d[:, TOP2],
            d[:, PROMOTERS],
            d[:, DETRACTORS],
        ]
    )
    return _table(filters, keys[keep], sums, measures)


def _table(filters: AnalysisFilters, keys: np.ndarray, sums: np.ndarray, measures: list[Any]) -> FactTable:
    """The FactTable of the kept series, their tiers summed (a row per region, service, measure)."""
    codes = np.zeros(len(keys), dtype=np.int64)
    for column in (0, 1, 3):  # region, service, measure: one integer per combination
        values, inverse = np.unique(keys[:, column], return_inverse=True)
        codes = codes * len(values) + inverse.reshape(-1)
    cells, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    summed = np.column_stack(
        [np.bincount(inverse, weights=sums[:, j], minlength=len(cells)) for j in range(6)]
    ).reshape(-1, 6)
    kept = keys[first]
    table = np.array(measures, dtype=object).reshape(-1, 4)[kept[:, 3]]
    return fact_table(
        np.full(len(cells), np.datetime64(filters.start, "D")),
        kept[:, 0].astype(np.int64),
        kept[:, 1].astype(np.int64),
        table[:, 0],
        np.array([d or "" for d in table[:, 1]], dtype=object),
        table[:, 2].astype(float),
        table[:, 3].astype(float),
        summed,
    )
