"""Running sums of the weekly experience sums, so any period's sums per region and service are two
weeks' rows (issue 19).

The KPI-versus-experience page compares every region x service cell over its period: from the
pre-aggregate (services.rollup) that is every week's rows of the period summed by the database,
some 0.85 s for a year at a tenth of a national provider's size and ten times that at full size.
``experience_cumulative`` keeps, for every week that has sums, every series' statistics up to and
including that week (a series: region x service x tier x measure, the measure a kind, dimension
and scale; sources summed): the count, the sum and the sum of squares of the answers, the top-2-box,
promoter and detractor counts. A period [start, end) is then the row of the last stored week
before ``end`` minus the row of the last stored week before ``start``: two rows, whatever the
length of the period or the number of answers.

A row holds all series as one float64 array (series x CUMULATIVE_STATS) rather than a row per
series: a national provider has some 45,000 series (100 regions x 50 services x 9 measures), so a
period read as rows was 90,000 rows joined and 45,000 handed to Python, where two arrays of 2.9 MB
are read at once and subtracted with NumPy. The series a row holds are those seen up to its week,
in the order of ExperienceCumulativeState.keys (later series start with nothing, so a shorter
array is padded with zeros). The reader keeps the series of its filters and scope.

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

import time
from collections.abc import Collection, Iterator, Sequence
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from perception.analysis.models import (
    ExperienceCumulative,
    ExperienceCumulativeState,
    ExperienceRollup,
)
from perception.analysis.services.facts import FactTable, fact_table
from perception.analysis.services.filters import AnalysisFilters
from perception.core.models.base import utcnow

#: The columns of a row's array: count, sum (hi, lo), sum of squares (hi, lo), top-2-box,
#: promoters, detractors.
CUMULATIVE_STATS = 8
N, S, S_LO, SS, SS_LO, TOP2, PROMOTERS, DETRACTORS = range(CUMULATIVE_STATS)
#: The key columns of ExperienceCumulativeState.keys.
KEY_COLUMNS = ("region", "service", "tier", "measure")
NONE = -1  # the key of no service and of no tier
_WEEKS_PER_WRITE = 8  # rows written at once (2.9 MB each at a national provider's size)
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
    (or ``force``) and the pre-aggregate does; returns the weeks written (None: nothing done).
    Flushes, never commits: called by services.rollup.refresh_rollup inside its transaction."""
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
    session.execute(delete(ExperienceCumulative))
    keys: dict[tuple[Any, ...], int] = {}
    weeks = 0
    batch: list[dict[str, Any]] = []
    for week, sums in _running_sums(_weekly_rows(session), keys):
        batch.append({"period_start": week, "sums": sums.astype("<f8").tobytes()})
        if len(batch) >= _WEEKS_PER_WRITE:
            session.execute(insert(ExperienceCumulative), batch)
            weeks += len(batch)
            batch = []
    if batch:
        session.execute(insert(ExperienceCumulative), batch)
        weeks += len(batch)
    measures: dict[tuple[Any, ...], int] = {}
    table = np.zeros((len(keys), len(KEY_COLUMNS)), dtype="<i8")
    for i, (region, service, tier, *measure) in enumerate(keys):  # in series order
        table[i] = (region, service, tier, measures.setdefault(tuple(measure), len(measures)))
    if state is None:
        state = ExperienceCumulativeState(signature=signature)
        session.add(state)
    state.signature = signature
    state.keys = table.tobytes()
    state.measures = [[k, d or None, lo, hi] for k, d, lo, hi in measures]
    state.series = len(keys)
    state.weeks = weeks
    state.refreshed_at = utcnow()
    state.seconds = time.perf_counter() - started
    session.flush()
    return weeks


def _weekly_rows(session: Session) -> Iterator[Any]:
    """The pre-aggregate's level 0 summed over sources, week by week."""
    from perception.analysis.services.rollup import BY_SERVICE

    r = ExperienceRollup
    keys = (
        r.period_start,
        r.region_id,
        func.coalesce(r.service_id, NONE),
        func.coalesce(r.tier_id, NONE),
        r.kind,
        func.coalesce(r.dimension, ""),
        r.scale_min,
        r.scale_max,
    )
    stmt = (
        select(
            *keys,
            func.sum(r.n),
            func.sum(r.s),
            func.sum(r.ss),
            func.sum(r.top2),
            func.sum(r.promoters),
            func.sum(r.detractors),
        )
        .where(r.level == BY_SERVICE)
        .group_by(*keys)
        .order_by(r.period_start)
    )
    yield from session.execute(stmt.execution_options(yield_per=_READ_BATCH))


def _running_sums(rows: Iterator[Any], keys: dict[tuple[Any, ...], int]) -> Iterator[tuple[date, np.ndarray]]:
    """(week, every series' running sums up to that week) for each week of ``rows`` (sorted by
    week, one row per series and week); ``keys`` gets each series' key and number as first seen."""
    running = np.zeros((1024, CUMULATIVE_STATS))
    week: Any = None
    pending: list[Any] = []
    for row in rows:
        if row[0] != week and pending:
            running = _add_week(running, pending, keys)
            yield _as_date(week), running[: len(keys)]
            pending = []
        week = row[0]
        pending.append(row)
    if pending:
        running = _add_week(running, pending, keys)
        yield _as_date(week), running[: len(keys)]


def _add_week(running: np.ndarray, rows: Sequence[Any], keys: dict[tuple[Any, ...], int]) -> np.ndarray:
    """Add one week's sums to the running sums (grown for new series); returns them."""
    ids = np.array([keys.setdefault(tuple(row[1:8]), len(keys)) for row in rows], dtype=np.int64)
    if len(keys) > running.shape[0]:
        grown = np.zeros((max(len(keys), 2 * running.shape[0]), CUMULATIVE_STATS))
        grown[: running.shape[0]] = running
        running = grown
    x = np.array([row[8:] for row in rows], dtype=float)  # n, s, ss, top2, promoters, detractors
    for column, lo, j in ((S, S_LO, 1), (SS, SS_LO, 2)):
        # Two-sum: the rounding error of each addition goes to the lo column (one row per series
        # and week, so the fancy-indexed update adds each series once).
        hi, add = running[ids, column], x[:, j]
        total = hi + add
        bp = total - hi
        running[ids, lo] += (hi - (total - bp)) + (add - bp)
        running[ids, column] = total
    for column, j in ((N, 0), (TOP2, 3), (PROMOTERS, 4), (DETRACTORS, 5)):
        running[ids, column] += x[:, j]
    return running


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _row_before(session: Session, day: date) -> tuple[date, np.ndarray] | None:
    """The row of the last stored week before ``day`` (None: no week before it)."""
    c = ExperienceCumulative
    last = select(func.max(c.period_start)).where(c.period_start < day).scalar_subquery()
    found = session.execute(select(c.period_start, c.sums).where(c.period_start == last)).first()
    if found is None:
        return None
    return _as_date(found[0]), np.frombuffer(found[1], dtype="<f8").reshape(-1, CUMULATIVE_STATS)


def _padded(sums: np.ndarray | None, series: int) -> np.ndarray:
    out = np.zeros((series, CUMULATIVE_STATS))
    if sums is not None:
        out[: sums.shape[0]] = sums
    return out


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
    # The weeks in [start, end) are those after the last stored week before ``start`` up to the
    # last stored week before ``end``: whatever the days the filters name.
    end = _row_before(session, filters.end)
    start = _row_before(session, filters.start)
    series = int(state.series)
    if end is None or (start is not None and start[0] >= end[0]) or series == 0:
        return _table(filters, np.empty((0, 4), dtype=np.int64), np.empty((0, 6)), [])
    keys = np.frombuffer(state.keys, dtype="<i8").reshape(series, len(KEY_COLUMNS))
    b, a = _padded(end[1], series), _padded(None if start is None else start[1], series)
    d = b - a
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
    measures = [tuple(m) for m in state.measures]
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
    return _table(filters, keys[keep], sums[keep], measures)


def _table(filters: AnalysisFilters, keys: np.ndarray, sums: np.ndarray, measures: list[Any]) -> FactTable:
    """The FactTable of the kept series, their tiers summed (rows per region, service, measure)."""
    if len(keys) == 0:
        keys, sums = np.zeros((0, len(KEY_COLUMNS)), dtype=np.int64), np.zeros((0, 6))
    cells, inverse = np.unique(keys[:, [0, 1, 3]], axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    summed = np.column_stack(
        [np.bincount(inverse, weights=sums[:, j], minlength=len(cells)) for j in range(6)]
    ).reshape(-1, 6)
    m = cells[:, 2]
    kind = np.array([measures[i][0] for i in m], dtype=object)
    dimension = np.array([measures[i][1] or "" for i in m], dtype=object)
    scale_min = np.array([measures[i][2] for i in m], dtype=float)
    scale_max = np.array([measures[i][3] for i in m], dtype=float)
    return fact_table(
        np.full(len(cells), np.datetime64(filters.start, "D")),
        cells[:, 0].astype(np.int64),
        cells[:, 1].astype(np.int64),
        kind,
        dimension,
        scale_min,
        scale_max,
        summed,
    )
