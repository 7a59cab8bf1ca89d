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
with NumPy. The series are numbered by the first week they have sums, then by key
(ExperienceCumulativeState.keys), and a week's row holds the series seen up to it (a prefix of
them: the later ones are zero there); the reader keeps the series of its filters and scope.

The sums of the answers are kept as two floats (hi + lo, each weekly addition compensated, as the
KPI side's running sums, kpi.services.kpi_cumulative): the difference of two large running sums
then loses nothing against summing the period's weeks.

Current or not: built from the pre-aggregate whenever that is rebuilt (services.rollup
.refresh_rollup calls ``refresh_experience_cumulative``), recording the pre-aggregate's own
signature (services.freshness.stamp: the facts' and the past weeks' write counters and the split
week), so they are read exactly as far as the pre-aggregate is: wholly while the facts are
unchanged; after answers of the current week only (PARTIAL), up to the split, the weeks from the
split on being summed from the facts (a few thousand rows through the period index; a series first
answered then is added); after any other write not at all (the caller sums the facts,
services.facts.aggregate). A running sums' signature of the facts alone (before the split) reads
as current or stale, as before. The refresh after answers of the current week computes the weeks
from the split alone, continuing the stored row of the week before: numbered by first week, a
series first answered in those weeks comes after the past ones and leaves the past rows as they
are, so it writes the rows a whole rebuild writes (at a tenth of national size 0.5 s against 10-24 s;
bench/bench_h21cum_refresh.py).

Public API: ``refresh_experience_cumulative``, ``cumulative_usable``, ``period_table``.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Collection, Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import (
    Column,
    Date,
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
    AnalysisRollupState,
    ExperienceCumulative,
    ExperienceCumulativeState,
    ExperienceRollup,
)
from perception.analysis.services.facts import (
    FactTable,
    fact_sums,
    fact_table,
    summed_stats,
    tune_for_aggregation,
)
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.analysis.services.freshness import Freshness, Reading, reading
from perception.core.models.base import utcnow
from perception.core.models.facts import ExperienceObservation as Obs

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


def _current_state(session: Session) -> tuple[ExperienceCumulativeState, Reading] | None:
    """The state and how far its rows match the facts as this transaction sees them (wholly, or
    the weeks before ``Reading.split``), or None when they may not be read at all."""
    try:
        with session.begin_nested():  # a database migrated before the table existed has none
            state = _state(session)
    except (OperationalError, ProgrammingError):
        return None
    if state is None:
        return None
    found = reading(session, state.signature)
    return (state, found) if found.usable else None


def cumulative_usable(session: Session) -> bool:
    """Whether the running sums may be read right now, wholly or before their split (else
    period_table gives None)."""
    return _current_state(session) is not None


def refresh_experience_cumulative(session: Session, *, force: bool = False, full: bool = False) -> int | None:
    """Bring the running sums up to the pre-aggregate's level 0 when they were built from another
    state of it (or ``force``) and it may be read (services.freshness: wholly, or its weeks before
    its split); returns the rows written (None: nothing done). Flushes, never commits: called by
    services.rollup.refresh_rollup inside its transaction, after it rebuilt the pre-aggregate.

    The running sums record the pre-aggregate's own signature: they are a function of its rows, so
    they match the facts exactly as far as it does. When their own past weeks still match the facts
    (their signature's reading is usable: only answers of the current week arrived since) only the
    weeks from their split on are computed again, from the stored row of the week before (``full``:
    every week, as after any other write); the result is the same either way, to the byte. Only the
    rows that changed are written (each row keeps the digest of its array)."""
    try:
        with session.begin_nested():
            state = _state(session)
            rollup_signature = session.scalar(
                select(AnalysisRollupState.signature).order_by(AnalysisRollupState.id).limit(1)
            )
    except (OperationalError, ProgrammingError):
        return None
    if rollup_signature is None:
        return None
    rolled = reading(session, rollup_signature)
    if not rolled.usable:
        return None  # built from the pre-aggregate only while its rows are the facts'
    if state is not None and state.signature == rollup_signature and not force:
        return None
    mine = reading(session, state.signature) if state is not None else Reading(Freshness.ABSENT)
    # A split in the signature: written by this version, in the layout ``_number_series`` gives.
    since = mine.split if state is not None and mine.usable and not full else None
    if (
        since is not None
        and not force
        and mine.freshness is Freshness.CURRENT
        and rolled.freshness is Freshness.CURRENT
    ):
        assert state is not None
        state.signature = rollup_signature  # both wholly the facts: the same rows
        session.flush()
        return 0
    started = time.perf_counter()
    c = ExperienceCumulative
    stored = {_as_date(w): d for w, d in session.execute(select(c.period_start, c.digest))}
    if since is None:
        series, first = _number_series(session)
        sums = _running_sums(session, len(series))
        measures: dict[tuple[Any, ...], int] = {}
        table = np.zeros((len(series), len(KEY_COLUMNS)), dtype="<i8")
        for i, (region, service, tier, *measure) in enumerate(series):  # in series order
            table[i] = (region, service, tier, measures.setdefault(tuple(measure), len(measures)))
    else:
        assert state is not None
        table, measures, first, sums = _running_sums_since(session, state, since)
    written, weeks = 0, {w for w in stored if since is not None and w < since}
    for week, running in sums:
        weeks.add(week)
        # The series seen up to this week: they come first (numbered by their first week).
        seen = int(np.searchsorted(first, np.datetime64(week, "D"), side="right"))
        blob = running[:seen].astype("<f8").tobytes()
        digest = hashlib.sha256(blob).hexdigest()
        if stored.get(week) == digest:
            continue
        if week in stored:
            session.execute(update(c).where(c.period_start == week).values(sums=blob, digest=digest))
        else:
            session.execute(insert(c).values(period_start=week, sums=blob, digest=digest))
        written += 1
    if since is None:
        _SERIES.drop(session.connection())
    gone = sorted(set(stored) - weeks)
    if gone:
        session.execute(delete(c).where(c.period_start.in_(gone)))
    if state is None:
        state = ExperienceCumulativeState(signature=rollup_signature)
        session.add(state)
    state.signature = rollup_signature
    state.keys = table.tobytes()
    state.measures = [[k, d or None, lo, hi] for k, d, lo, hi in measures]
    state.series = len(table)
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
    Column("first_week", Date),
    prefixes=["TEMPORARY"],
)
_SERIES_COLUMNS = [c.name for c in _SERIES.c]


def _series_key(r: Any = ExperienceRollup) -> list[Any]:
    """The key of a series in the pre-aggregate's rows, or in the facts' (``r``; no service, tier
    or dimension: -1, "")."""
    return [
        r.region_id,
        func.coalesce(r.service_id, NONE),
        func.coalesce(r.tier_id, NONE),
        r.kind,
        func.coalesce(r.dimension, ""),
        r.scale_min,
        r.scale_max,
    ]


def _series_keys(*, since: date | None = None) -> Select[Any]:
    """The series of the pre-aggregate's level 0 (from the week ``since`` on) numbered, with the
    first week each has sums: by first week, then by key. Both refreshes number them by this one
    statement, so the database orders them alike (its collation orders the kinds)."""
    from perception.analysis.services.rollup import BY_SERVICE

    r = ExperienceRollup
    key = _series_key()
    weeks = [] if since is None else [r.period_start >= since]
    names = _SERIES_COLUMNS[1:-1]
    keys = (
        select(*(k.label(n) for k, n in zip(key, names, strict=True)), func.min(r.period_start).label("w"))
        .where(r.level == BY_SERVICE, *weeks)
        .group_by(*key)
        .subquery()
    )
    order = [keys.c.w, *(keys.c[n] for n in names)]
    return select(func.row_number().over(order_by=order) - 1, *(keys.c[n] for n in names), keys.c.w)


def _number_series(session: Session) -> tuple[list[tuple[Any, ...]], np.ndarray]:
    """Fill the work table _SERIES from the pre-aggregate's level 0; its keys in number order and
    each one's first week (ascending: a week's row holds the series seen up to it, a prefix).

    Numbered by first week, a series first answered in the current week comes after every series
    of the past weeks: the refresh of the weeks from the split keeps the past rows as they are."""
    conn = session.connection()
    _SERIES.drop(conn, checkfirst=True)
    _SERIES.create(conn)
    session.execute(insert(_SERIES).from_select(_SERIES_COLUMNS, _series_keys()))
    # The join with the sums looks each row's series up by its key. Without an index SQLite joined
    # them by scanning the series for every row of the pre-aggregate: at a tenth of a national
    # provider's size (926,000 rows x 45,000 series) the hourly refresh ran for many minutes,
    # holding the database's write turn.
    key = ", ".join(_SERIES_COLUMNS[1:-1])
    conn.exec_driver_sql(f"CREATE UNIQUE INDEX {_SERIES.name}_key ON {_SERIES.name} ({key})")
    conn.exec_driver_sql(f"ANALYZE {_SERIES.name}")  # the planners need its size
    s = _SERIES.c
    found = session.execute(select(*(s[k] for k in _SERIES_COLUMNS)).order_by(s.id)).all()
    assert all(row[0] == i for i, row in enumerate(found))
    first = np.array([_as_date(row[-1]) for row in found], dtype="datetime64[D]")
    return [tuple(row[1:-1]) for row in found], first


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
            *summed_stats(r),
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


def _running_sums_since(
    session: Session, state: ExperienceCumulativeState, since: date
) -> tuple[np.ndarray, dict[tuple[Any, ...], int], np.ndarray, Iterator[tuple[date, np.ndarray]]]:
    """What _number_series and _running_sums give for the weeks from ``since`` on, from the stored
    row of the week before (the running sums of the series first seen before ``since``, which come
    first) and the pre-aggregate's rows of those weeks alone: the series' keys (as
    ExperienceCumulativeState.keys) and measures, their first weeks (those of the past ones only
    known to lie before ``since``) and each week's running sums.

    A series first seen from ``since`` on (a region's first answer to a question) is numbered after
    the past ones, in the order _series_keys gives the whole refresh, and a new measure after the
    past ones' (numbered in the order the series first name them): the past rows keep their layout,
    and every row is the one a whole refresh writes."""
    from perception.analysis.services.rollup import BY_SERVICE

    base = _row_before(session, since)
    past = 0 if base is None else len(base[1]) // (8 * CUMULATIVE_STATS)
    stored = np.frombuffer(state.keys, dtype="<i8").reshape(-1, len(KEY_COLUMNS))[:past]
    # The past series' measures are the first ones (numbered in series order).
    named = int(stored[:, 3].max()) + 1 if past else 0
    measures: dict[tuple[Any, ...], int] = {}
    for kind, dimension, lo, hi in state.measures[:named]:
        measures.setdefault((kind, dimension or "", float(lo), float(hi)), len(measures))
    assert len(measures) == named
    r, key = ExperienceRollup, _series_key()
    stmt = (
        select(
            r.period_start,
            *key,
            *summed_stats(r),
        )
        .where(r.level == BY_SERVICE, r.period_start >= since)
        .group_by(r.period_start, *key)
        .order_by(r.period_start)
    )
    tune_for_aggregation(session)
    rows = session.execute(stmt).all()
    found = dict(measures)  # the rows' measures, the new ones numbered as they come
    keys = _keyed(((row[1], row[2], row[3], row[4:8]) for row in rows), found)
    ids = _ids(stored, keys)
    table = np.array(stored, dtype="<i8")
    if (ids < 0).any():  # series first seen from ``since`` on: numbered as the whole refresh does
        new = [
            (int(row[1]), int(row[2]), int(row[3]), (row[4], row[5], row[6], row[7]))
            for row in session.execute(_series_keys(since=since)).all()
        ]
        extra = _keyed(iter(new), dict(found))  # numbered as the rows' measures first
        fresh = _ids(stored, extra) < 0
        added = [m for m, keep in zip(new, fresh.tolist(), strict=True) if keep]
        table = np.vstack([table, _keyed(iter(added), measures)])  # the measures in series order
        ids = _ids(np.vstack([stored, _keyed(iter(added), dict(found))]), keys)
        assert (ids >= 0).all()
    first = np.full(len(table), np.datetime64(since - timedelta(days=1), "D"))
    weeks = np.array([_as_date(row[0]) for row in rows], dtype="datetime64[D]")
    for i in range(past, len(table)):
        first[i] = weeks[ids == i].min()
    running = np.zeros((len(table), CUMULATIVE_STATS))
    if base is not None:
        running[:past] = np.frombuffer(base[1], dtype="<f8").reshape(past, CUMULATIVE_STATS)
    sums = np.array([tuple(row[8:]) for row in rows], dtype=float).reshape(-1, 6)

    def weekly() -> Iterator[tuple[date, np.ndarray]]:
        for week in np.unique(weeks):
            at = weeks == week
            _add_week(running, np.column_stack([ids[at].astype(float), sums[at]]))
            yield week.astype(object), running

    return table, measures, first, weekly()


def _keyed(rows: Iterator[tuple[Any, Any, Any, Any]], measures: dict[tuple[Any, ...], int]) -> np.ndarray:
    """(region, service, tier, measure number) of rows (region, service, tier, (kind, dimension,
    scale_min, scale_max)), a new measure numbered after those of ``measures``."""
    out = []
    for r, s, t, m in rows:
        measure = (m[0], m[1] or "", float(m[2]), float(m[3]))
        out.append((int(r), int(s), int(t), measures.setdefault(measure, len(measures))))
    return np.array(out, dtype=np.int64).reshape(-1, len(KEY_COLUMNS))


def _ids(series: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The number of each row of ``keys`` among the rows of ``series`` (distinct; -1: none)."""
    if not len(keys) or not len(series):
        return np.full(len(keys), -1, dtype=np.int64)
    both = np.vstack([series, keys])
    low = both.min(axis=0)
    spans = [int(v) for v in both.max(axis=0) - low + 1]
    if math.prod(spans) < 2**62:  # one integer per key
        scale = np.array([math.prod(spans[j + 1 :]) for j in range(len(spans))], dtype=np.int64)
        codes = (both - low) @ scale
    else:
        codes = np.unique(both, axis=0, return_inverse=True)[1].reshape(-1)
    mine, theirs = codes[: len(series)], codes[len(series) :]
    order = np.argsort(mine, kind="stable")
    at = np.minimum(np.searchsorted(mine[order], theirs), len(mine) - 1)
    return np.where(mine[order][at] == theirs, order[at], -1)


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
    column the filters' start), from two weeks' rows of the running sums and, when only their weeks
    before their split match the facts (services.freshness: answers of the current week arrived
    since), the facts' sums of the period's weeks from the split on; None when they may not be read
    or a customer filter asks for what they do not keep (then aggregate)."""
    if filters.customer_id is not None:
        return None
    found = _current_state(session)
    if found is None:
        return None
    state, read = found
    split = read.facts_from
    measures = [tuple(m) for m in state.measures]
    series = int(state.series)
    keys = np.frombuffer(state.keys, dtype="<i8").reshape(series, len(KEY_COLUMNS))
    d = np.zeros((series, CUMULATIVE_STATS))
    # The weeks in [start, end) are those after the last stored week before ``start`` up to the
    # last stored week before ``end`` (before the split when that comes first): whatever the days
    # the filters name.
    stored_end = filters.end if split is None else min(filters.end, split)
    end = _row_before(session, stored_end) if filters.start < stored_end else None
    if end is not None:
        start = _row_before(session, filters.start)
        if start is None or start[0] < end[0]:
            b = _padded(end[1], series)
            a = np.zeros_like(b) if start is None else _padded(start[1], series)
            if b is None or a is None:
                return None  # not the series of the state (never written so; read as stale)
            d = b - a
    if split is not None and filters.end > split:
        facts = replace(filters, start=max(filters.start, split))
        keys, measures, d = _with_facts(session, facts, kinds, keys, measures, d)
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
    ).reshape(-1, 6)
    return _table(filters, keys[keep], sums, measures)


def _padded(blob: bytes, series: int) -> np.ndarray | None:
    """A row's array with the series it does not hold yet (first seen after its week) as zeros;
    None when it holds more series than the state names."""
    found = np.frombuffer(blob, dtype="<f8").reshape(-1, CUMULATIVE_STATS)
    if found.shape[0] > series:
        return None
    out = np.zeros((series, CUMULATIVE_STATS))
    out[: found.shape[0]] = found
    return out


def _with_facts(
    session: Session,
    filters: AnalysisFilters,
    kinds: Collection[str] | None,
    keys: np.ndarray,
    measures: list[tuple[Any, ...]],
    d: np.ndarray,
) -> tuple[np.ndarray, list[tuple[Any, ...]], np.ndarray]:
    """The period's sums ``d`` per series plus the facts' sums of the filters' weeks (those from the
    split on), per region, service, tier and measure as facts.aggregate sums them; a series the
    state does not name (first answered in those weeks) is added to ``keys`` and ``measures``."""
    key = _series_key(Obs)
    stmt = (
        select(
            *key,
            *fact_sums(),
        )
        .where(*where_facts(Obs, filters))
        .group_by(*key)
    )
    if kinds is not None:
        stmt = stmt.where(Obs.kind.in_(list(kinds)))
    tune_for_aggregation(session)
    rows = session.execute(stmt).all()
    if not rows:
        return keys, measures, d
    numbered: dict[tuple[Any, ...], int] = {}
    for kind, dimension, lo, hi in measures:
        numbered.setdefault((kind, dimension or "", float(lo), float(hi)), len(numbered))
    found = _keyed(((row[0], row[1], row[2], row[3:7]) for row in rows), numbered)
    ids = _ids(keys, found)
    new = ids < 0
    if new.any():
        ids[new] = len(keys) + np.arange(int(new.sum()))
        keys = np.vstack([keys, found[new]])
        measures = [(k, dimension or None, lo, hi) for k, dimension, lo, hi in numbered]
        d = np.vstack([d, np.zeros((int(new.sum()), CUMULATIVE_STATS))])
    x = np.array([tuple(row[7:]) for row in rows], dtype=float).reshape(-1, 6)
    d = d.copy()
    for column, j in ((N, 0), (S, 1), (SS, 2), (TOP2, 3), (PROMOTERS, 4), (DETRACTORS, 5)):
        d[ids, column] += x[:, j]  # one row per series: no index repeats
    return keys, measures, d


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
