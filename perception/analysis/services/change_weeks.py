"""The change look's histogram kept week by week (issue 19).

A look compares the last four complete weeks with the eight before (services.changes): at a national
provider's size grouping those twelve weeks' answers is more than a second of database time on both
cores of the machine, spent every time the look's counter moves (a past week's answers written: a
callback entered late, an import; a region or service renamed) and every Monday (the window moves
on by a week). Yet a write touches a week or two, a rename none, and a new week's window shares
eleven weeks with the last one. So each week's histogram (the look's rows of that week, grouped with
it) is stored as it is read, with the facts' stamp taken before it was read (services.freshness), and
a look reads from the facts only the weeks whose stored histogram may no longer be theirs:
- nothing written to the facts since its stamp (``Freshness.CURRENT``): still theirs;
- only declared writes since (``Freshness.PARTIAL``: a survey answer, a callback, a weekly report,
  a history import): the weeks before the split its stamp recorded are theirs but those the week
  log names since (freshness.weeks_written_since: a callback entered for two weeks ago re-reads
  that week, not last week too), the others are read again;
- anything else (an undeclared write: a past fact corrected or deleted by hand, a demo load; no
  write counters): every week is read again.
The week log is pruned as the pre-aggregates that read it are rebuilt (rollup._prune_week_log),
not as these histograms are: one stamped before the oldest log number the pre-aggregates still
record may have missed a pruned week, so it is read again.

Stored in kept_result (page ``PAGE``; the scope and the week as its parameters, version 0, the stamp
in the payload) in NumPy's own format (np.load with allow_pickle=False: no code from a row),
compressed (some 250 kB a week at a national provider's size), pruned after the weeks they serve
(``KEEP_FOR``). A transaction with uncommitted writes to the facts reads every week from the facts
and stores nothing (they may still roll back). The window's histogram is its weeks' rows summed per
side and group: every count the look read at once has; the index's sums may differ in their last
bits (added in another order, as PostgreSQL's parallel plans already order the rows).

Public API: ``window_histogram(session, filters, window) -> Histogram``.
"""

from __future__ import annotations

import io
import logging
import zlib
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.analysis.services.changes import (
    BASELINE_WEEKS,
    RECENT_WEEKS,
    ChangeWindow,
    Histogram,
    _histogram_columns,
    _unique_inverse,
    _weeks_columns,
)
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.freshness import (
    Freshness,
    logged_number,
    reading,
    stamp,
    weeks_written_since,
)
from perception.core.kept import canonical_params, prune, row_key, upsert, written_when_it_commits
from perception.core.models.base import utcnow
from perception.core.models.kept import KeptResult

log = logging.getLogger(__name__)

PAGE = "analysis_change_week"
#: Raise when the stored form changes: rows of another are read again from the facts.
FORMAT = 2
_EPOCH = date(1970, 1, 1)
#: A stored week is read by looks for thirteen weeks after it ends, unless a write changes it: it
#: is pruned after that (not after the two days of a page's kept result), and beyond the newest
#: MAX_WEEKS (a region's looks, a service's: some twelve rows each).
KEEP_FOR = timedelta(weeks=14)
MAX_WEEKS = 3000


@dataclass(frozen=True)
class WeekPart:
    """One week's histogram: each row's region, service (-1: none) and measure (its index in
    ``measures``; -1: none), its scale and value (its index in ``scales``, rows of scale_min,
    scale_max and value as the look counts it) and its count."""

    region: np.ndarray
    service: np.ndarray
    measure: np.ndarray
    measures: tuple[str, ...]
    scale: np.ndarray
    scales: np.ndarray  # (distinct, 3)
    count: np.ndarray

    def __len__(self) -> int:
        return len(self.count)


def window_histogram(session: Session, filters: AnalysisFilters, window: ChangeWindow) -> Histogram:
    """The histogram of ``window`` (services.changes._histogram_columns' rows), its weeks read from
    their stored histograms where those are still exact (module docstring), the others from the
    facts and stored."""
    from perception.kpi.services.data_version import has_pending_writes

    session.flush()
    if has_pending_writes(session):
        return _histogram_columns(session, filters, window)
    weeks = [window.baseline_start + timedelta(weeks=k) for k in range(BASELINE_WEEKS + RECENT_WEEKS)]
    scope = _scope_of(filters)
    parts = _exact_parts(session, scope, weeks)
    missing = [week for week in weeks if week not in parts]
    if missing:
        signature = stamp(session)  # before reading the facts (freshness.stamp)
        read = _by_week(_weeks_columns(session, filters, missing), missing)
        if signature is not None:
            _store(session, scope, read, signature)
        parts.update(read)
    return _joined([parts[week] for week in weeks], [week >= window.recent_start for week in weeks])


def _scope_of(filters: AnalysisFilters) -> AnalysisFilters:
    """What of the filters reaches the facts besides the weeks (changes._scope without the window)."""
    return replace(filters, start=_EPOCH, end=_EPOCH, region_id=None, grain="week")


def _canonical(scope: Any, week: date) -> str:
    return canonical_params({"scope": scope, "week": week})


def _key(canonical: str) -> str:
    return row_key(PAGE, canonical)


def _by_week(h: Histogram, weeks: list[date]) -> dict[date, WeekPart]:
    """``h`` (read by week: ``recent`` holds each row's week as days since 1970-01-01) cut into a
    part per week of ``weeks``; a week without rows is empty. The scales and values are numbered
    once for every week (each column's numbers counted, not each week's rows sorted by three)."""
    if not len(h):
        empty = np.zeros(0, dtype=np.int64)
        nothing = WeekPart(empty, empty, empty, h.measures, empty, np.zeros((0, 3)), empty)
        return {week: nothing for week in weeks}
    codes, found = [], []
    for column in (h.lo, h.hi, h.value):
        values, code = _numbered(column)
        found.append(values)
        codes.append(code)
    shape = tuple(len(values) for values in found)
    keys, scale = _unique_inverse(np.ravel_multi_index(codes, shape), int(np.prod(shape)))
    scales = np.stack(
        [values[at] for values, at in zip(found, np.unravel_index(keys, shape), strict=True)], axis=1
    )
    days = h.recent
    order = np.argsort(days, kind="stable")
    ordered = days[order]
    out: dict[date, WeekPart] = {}
    for week in weeks:
        day = (week - _EPOCH).days
        at = np.sort(order[np.searchsorted(ordered, day, "left") : np.searchsorted(ordered, day, "right")])
        out[week] = WeekPart(
            h.region[at], h.service[at], h.measure[at], h.measures, scale[at].astype(np.int64),
            scales.reshape(-1, 3), h.count[at],
        )  # fmt: skip
    return out


def _numbered(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(column, return_inverse=True)``, counted instead of sorted when every number is a
    small whole one (a scale's ends and points: 900,000 of them at a national provider's size)."""
    with np.errstate(invalid="ignore"):  # a NaN or an infinity: not whole, sorted below
        whole = column.astype(np.int64)
    if len(column) and (whole == column).all() and whole.min() > -(2**16) and whole.max() < 2**16:
        low = int(whole.min())
        found, number = _unique_inverse(whole - low, 2**17)  # by a table of every value, not a sort
        return (found + low).astype(column.dtype), number
    values, code = np.unique(column, return_inverse=True)
    return values, code.reshape(-1)


def _joined(parts: list[WeekPart], recent: list[bool]) -> Histogram:
    """The weeks' parts as one histogram, each row on its week's side, the rows of a side and group
    summed into one: build_inputs' work grows with its rows (a national provider's twelve weeks
    hold some 900,000 rows, their two sides 281,000). Integer codes only (the scales by their
    index among every part's): no sort of the rows' numbers."""
    names = tuple(dict.fromkeys(name for part in parts for name in part.measures))
    every_scale = np.concatenate([part.scales for part in parts]).reshape(-1, 3)
    scales, scale_of = np.unique(every_scale, axis=0, return_inverse=True)
    scale_of = scale_of.reshape(-1)
    side, region, service, measure, scale = [], [], [], [], []
    first = 0
    for part, is_recent in zip(parts, recent, strict=True):
        recode = np.array([names.index(n) for n in part.measures] + [-1], dtype=np.int64)
        side.append(np.full(len(part), is_recent))
        region.append(part.region)
        service.append(part.service)
        measure.append(recode[part.measure])  # -1 (no measure) is the last entry
        scale.append(scale_of[first + part.scale] if len(part) else part.scale)
        first += len(part.scales)
    columns = [np.concatenate(c).astype(np.int64) for c in (side, region, service, measure, scale)]
    count = np.concatenate([part.count for part in parts]).astype(np.int64)
    if len(count):
        columns, count = _summed(columns, count)
    at = columns[4]
    return Histogram(
        columns[0].astype(bool), columns[1], columns[2], columns[3], names, scales[at, 0], scales[at, 1],
        scales[at, 2], count,
    )  # fmt: skip


def _summed(columns: list[np.ndarray], count: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """One row per distinct combination of the integer ``columns``, ``count`` summed, in the order
    of the combinations."""
    lows = [int(c.min()) for c in columns]
    codes = [c - low for c, low in zip(columns, lows, strict=True)]
    shape = tuple(int(c.max()) + 1 for c in codes)
    bound = float(np.prod(np.array(shape, dtype=float)))
    grouped: tuple[np.ndarray, ...]
    if bound < 2**62:
        keys, inverse = _unique_inverse(np.ravel_multi_index(codes, shape), int(bound))
        grouped = np.unravel_index(keys, shape)
    else:  # too many combinations for one integer key
        rows, inverse = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)
        grouped = tuple(rows.T)
        inverse = inverse.reshape(-1)
    summed = np.bincount(inverse, weights=count, minlength=len(grouped[0])).astype(np.int64)
    return [g.astype(np.int64) + low for g, low in zip(grouped, lows, strict=True)], summed


def _exact_parts(session: Session, scope: Any, weeks: list[date]) -> dict[date, WeekPart]:
    """The stored histograms of ``weeks`` still exact now (module docstring); an unreadable row, or
    one of another form, is left out (its week read again), never an error."""
    wanted = {_key(_canonical(scope, week)): week for week in weeks}
    rows = session.execute(
        select(KeptResult.key, KeptResult.params, KeptResult.format, KeptResult.payload).where(
            KeptResult.key.in_(list(wanted)), KeptResult.page == PAGE
        )
    ).all()
    readings: dict[str, Any] = {}
    written: dict[str, tuple[date, frozenset[date]] | None] = {}
    oldest: list[int] = []
    parts: dict[date, WeekPart] = {}
    for row in rows:
        week = wanted[row.key]
        if row.format != FORMAT or row.params != _canonical(scope, week):
            continue
        try:
            signature, part = _decoded(row.payload)
        except Exception:  # noqa: BLE001 - a corrupt or foreign row: the week is read again
            log.warning("stored change-look week %s unreadable; read again", week)
            continue
        if signature not in readings:
            readings[signature] = reading(session, signature)
        found = readings[signature]
        if found.freshness is Freshness.CURRENT:
            parts[week] = part
        elif found.freshness is Freshness.PARTIAL:
            if signature not in written:
                written[signature] = weeks_written_since(session, signature)
            since = written[signature]
            if since is None or week >= since[0] or week in since[1]:
                continue
            if not oldest:
                oldest.append(_oldest_log_number(session))
            number = logged_number(signature)
            if number is not None and number >= oldest[0]:
                parts[week] = part
    return parts


def _oldest_log_number(session: Session) -> int:
    """The week log number up to which the log may have been pruned: the oldest number the
    pre-aggregates that read it record (rollup.week_log_signatures). The log is pruned only while
    each of them records one (freshness.prune_week_log), and a stamp once numbered stays numbered
    (every later stamp is), so while any of them records none the log was never pruned: 0."""
    from perception.analysis.services.rollup import week_log_signatures

    numbers = [logged_number(signature) for signature in week_log_signatures(session)]
    return 0 if not numbers or None in numbers else min(n for n in numbers if n is not None)


def _encoded(signature: str, part: WeekPart) -> bytes:
    out = io.BytesIO()
    np.savez(
        out, signature=np.array(signature), region=part.region.astype(np.int32),
        service=part.service.astype(np.int32), measure=part.measure.astype(np.int16),
        measures=np.array(part.measures, dtype=str), scale=part.scale.astype(np.int32), scales=part.scales,
        count=part.count.astype(np.int32 if not len(part) or part.count.max() < 2**31 else np.int64),
    )  # fmt: skip
    return zlib.compress(out.getvalue(), 1)


def _decoded(payload: bytes) -> tuple[str, WeekPart]:
    with np.load(io.BytesIO(zlib.decompress(payload)), allow_pickle=False) as stored:
        return str(stored["signature"]), WeekPart(
            stored["region"].astype(np.int64), stored["service"].astype(np.int64),
            stored["measure"].astype(np.int64), tuple(str(m) for m in stored["measures"].tolist()),
            stored["scale"].astype(np.int64), stored["scales"].astype(float).reshape(-1, 3),
            stored["count"].astype(np.int64),
        )  # fmt: skip


def _store(session: Session, scope: Any, parts: dict[date, WeekPart], signature: str) -> None:
    """Store the weeks' histograms: in the caller's transaction when it will commit, else right
    after a reading request's, as kept results are (core.kept.written_when_it_commits)."""
    now = utcnow()
    values = []
    for week, part in parts.items():
        canonical = _canonical(scope, week)
        values.append(
            {
                "key": _key(canonical), "page": PAGE, "params": canonical, "version": 0, "format": FORMAT,
                "computed_at": now, "payload": _encoded(signature, part),
            }
        )  # fmt: skip

    def write(s: Session) -> None:
        for row in values:
            upsert(s, row)
        prune(s, PAGE, now, older_than=KEEP_FOR, most=MAX_WEEKS)

    written_when_it_commits(session, write)
