"""Change over time, the way the overview and the experience-drop alert both state it: did CSAT,
NPS, CES, the perception index or a dimension fall in the last ``RECENT_WEEKS`` complete weeks
against the ``BASELINE_WEEKS`` complete weeks before, for the whole organisation, each region,
each service and each region x service cell?

Complete weeks only: the window ends at the filter's end or the Monday of the current week,
whichever is earlier, so an unfinished week (two answers of "2" on a Monday) is never compared.
The rule itself (minimum n per side, exact one-sided tests, Benjamini-Hochberg across every
measure tested in the look) is scoring.drift.detect_drops; its false-alarm and detection rates
are measured by scoring.drift_power (bench/bench_drift.py).

One voice: customers' own answers (surveys, phone callbacks, sampling; perception_index.VOICES
["customers"]), as the headline perception index. CSAT, NPS, CES, the index and every dimension are
tested on those answers only. The collectors' weekly-report ratings (the other voice, shown apart
beside the index on the overview) are not tested for drops at all, and the change card
(templates/analysis/_changes.html) says so. Why left out rather than tested as a measure of their
own: a manager reads a flagged drop, and the alert it raises, as "customers are telling us it got
worse". A weekly-report rating is the regional team's own summary of its customers, a few a week
chosen and scored by the team whose service is measured (the domain keeps measurement apart from
the people measured); its n counts the team's entries, not independent customers, so neither the
exact tests' error rate nor the simulated false-alarm rate (which models customers' answers) would
vouch for it. Mixed in (as before issue 14), a team marking its region down moved the customers'
index and dimensions; tested apart, it would put one team's judgement in the same list as
customers' evidence. It stays visible where it is labelled as what it is.

A look is kept while the data it is made of stays the same (issue 19): at a national provider's
size it groups a million answers of twelve weeks into some 300,000 histogram rows, tens of seconds
of database time, and the 14- and 52-week overviews (and the drop alert) share one window. The
key is the filters that reach the facts (window, regions, service, tier, customer: a regional
team's look is never another's) and the write counter of the facts and the names
(perception.kpi.services.data_version.CHANGE_LOOK, which the current week's answers leave alone:
no window holds that week), read in one row; the page states when the look
was computed (``ChangeView.computed_at``). Kept in the process and in the database, for every
worker (perception.core.kept); a look over the transaction's own uncommitted answers is kept for
that transaction alone. Computed again, a look reads from the answers only the weeks a
write may have changed: each week's histogram is stored as it is read (services.change_weeks).

The overview page and the drop alert read only the flags and the rule's figures (``ChangeSummary``),
kept apart under the same key and counter: read back, the whole look's tests cost 0.6 s for a page
that lists a few flags. The summary is computed on its own (``computed_summary``): every p-value
and Benjamini-Hochberg q-value as for the whole look, a ChangeTest built for each flag alone, the
whole look neither built nor kept (a third of the overview's first load, issue 19). The API reads
the whole look.

Public API: ``change_view(session, filters, *, today) -> ChangeView``; ``change_summary(session,
filters, *, today) -> ChangeSummary``; ``forget_kept()``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Integer,
    SmallInteger,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from perception.analysis.services.facts import DIMENSION_CODES, DIMENSION_KINDS, tune_for_aggregation
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.analysis.services.names import Names, load_names
from perception.analysis.services.perception_index import VOICES
from perception.analysis.services.respondents import fetch_tuples
from perception.core.kept import Kept
from perception.core.models.base import utcnow
from perception.core.models.facts import ExperienceObservation as Obs
from perception.core.periods import week_start
from perception.kpi.services.arrays import no_gc
from scoring import FEEDBACK_DIMENSIONS
from scoring.drift import ChangeLook, ChangeTest, IndexInputs, ScoredInputs, detect_drops, drop_tests

RECENT_WEEKS = 4
BASELINE_WEEKS = 8
CHANGE_KINDS = ("csat", "nps", "ces", *DIMENSION_KINDS)
MEASURE_ORDER = ("csat", "nps", "ces", "index", *DIMENSION_CODES)
#: (zh, en) names of the measures a look tests, for pages and alert messages.
MEASURE_NAMES: dict[str, tuple[str, str]] = {
    "csat": ("满意度（CSAT）", "CSAT"),
    "nps": ("净推荐值（NPS）", "NPS"),
    "ces": ("客户费力度（CES）", "CES"),
    "index": ("感知指数", "perception index"),
    **{code: (zh, en) for code, zh, en in FEEDBACK_DIMENSIONS},
}

#: The sources whose answers a look tests: customers' own (see the module docstring).
CHANGE_SOURCES = tuple(str(s) for s in VOICES["customers"])

Unit = tuple[Any, ...]  # ("all",) | ("region", id) | ("service", id) | ("cell", service, region)


@dataclass(frozen=True)
class ChangeWindow:
    baseline_start: date
    recent_start: date
    end: date  # Monday after the last complete week compared (exclusive)

    @property
    def last_week(self) -> date:
        return self.end - timedelta(weeks=1)


@dataclass(frozen=True)
class ChangeRow:
    """One tested (unit, measure) with the names a page shows."""

    unit: Unit
    region_id: int | None
    service_id: int | None
    region_zh: str
    region_en: str
    service_zh: str
    service_en: str
    test: ChangeTest

    @property
    def measure(self) -> str:
        return self.test.measure


@dataclass(frozen=True)
class ChangeView:
    window: ChangeWindow | None
    look: ChangeLook
    flags: tuple[ChangeRow, ...]
    #: When the look was computed (UTC): it is kept until the answers or the names change.
    computed_at: datetime | None = None

    @property
    def untested(self) -> int:
        return len(self.look.tests) - self.look.n_tested

    # The rule's figures as ChangeSummary names them, so a page shows either (_changes.html).
    @property
    def n_tested(self) -> int:
        return self.look.n_tested

    @property
    def alpha(self) -> float:
        return self.look.alpha

    @property
    def min_n_recent(self) -> int:
        return self.look.min_n_recent

    @property
    def min_n_baseline(self) -> int:
        return self.look.min_n_baseline


@dataclass(frozen=True)
class ChangeSummary:
    """What the overview page shows of a look: its flags and the rule's figures, without every
    test. A national provider's look holds some 43,000 tests; a process that found it stored
    spent 0.6 s reading them back for a page that lists the few flagged (issue 19)."""

    window: ChangeWindow | None
    flags: tuple[ChangeRow, ...]
    n_tests: int
    n_tested: int
    alpha: float
    min_n_recent: int
    min_n_baseline: int
    computed_at: datetime | None = None

    @property
    def untested(self) -> int:
        return self.n_tests - self.n_tested

    @classmethod
    def of(cls, view: ChangeView) -> ChangeSummary:
        look = view.look
        return cls(
            view.window, view.flags, len(look.tests), look.n_tested, look.alpha, look.min_n_recent,
            look.min_n_baseline, view.computed_at,
        )  # fmt: skip


def change_window(filters: AnalysisFilters, today: date | None) -> ChangeWindow | None:
    """The last RECENT_WEEKS complete weeks of the filter and the BASELINE_WEEKS before them."""
    end = filters.end if today is None else min(filters.end, week_start(today))
    if end <= filters.start:
        return None
    recent_start = end - timedelta(weeks=RECENT_WEEKS)
    return ChangeWindow(recent_start - timedelta(weeks=BASELINE_WEEKS), recent_start, end)


def _answer_value() -> Any:
    """An answer's value as the look counts it: a CSAT answer as its scale's top (top-2 box) or
    bottom, an NPS answer as 10, 7 or 0 (promoter, passive, detractor), any other as itself.
    build_inputs scores these exactly as the answers themselves (``_category``), and the
    histogram holds one row per category, not per value: at a national provider's size 281,000
    rows instead of 322,000 to group, send and build from (issue 19)."""
    value, top = Obs.value, Obs.scale_max
    return case(
        (Obs.kind == "csat", case((value >= top - 1, top), else_=Obs.scale_min)),
        (Obs.kind == "nps", case((value >= 9, 10.0), (value <= 6, 0.0), else_=7.0)),
        else_=value,
    )


def _tuned(session: Session) -> None:
    """The transaction tuned to group a look's answers."""
    tune_for_aggregation(session)
    if session.get_bind().dialect.name == "postgresql":
        # Group in a hash table, not by sorting a million rows: the planner expects some 1.1 million
        # groups where a national provider's look has 322,000 (98 MB), so with the hash memory
        # tune_for_aggregation allows (128 MB) it sorts: 1.9-2.1 s against 1.0-1.1 s of database
        # time (issue 19). Bounded by the look's cells and values, not by the answers; more groups
        # than planned spill to disk, as a sort would.
        session.execute(text("SET LOCAL hash_mem_multiplier = 4"))


def _grouped(filters: AnalysisFilters, start: date, end: date, part: Any, *, by_part: bool) -> Any:
    """The customers' answers of [start, end) counted per ``part`` (labelled "part": the side, or the
    week with ``by_part``), region, service, kind, dimension, scale and value (``_answer_value``)."""
    columns = (
        Obs.region_id,
        func.coalesce(Obs.service_id, -1),
        Obs.kind,
        func.coalesce(Obs.dimension, ""),
        Obs.scale_min,
        Obs.scale_max,
        _answer_value(),
    )
    f = replace(filters, start=start, end=end)
    return (
        select(part.label("part"), *columns, func.count())
        .where(*where_facts(Obs, f), Obs.kind.in_(CHANGE_KINDS), Obs.source.in_(CHANGE_SOURCES))
        .group_by(*((part,) if by_part else ()), *columns)
    )


def _histogram_statement(session: Session, filters: AnalysisFilters, window: ChangeWindow) -> Any:
    """The answers of the window counted per side (recent or baseline), region, service, measure,
    scale and value (``_answer_value``): the rows build_inputs reads; the transaction tuned to
    group them.

    One grouping per side, joined by UNION ALL: the sides share no group, and on PostgreSQL the
    planner runs the two in parallel processes (Parallel Append), each scanning its own weeks: on
    a machine of two cores the look's grouping takes the time of its larger side, the baseline's
    eight weeks (issue 19)."""
    _tuned(session)
    return union_all(
        _grouped(filters, window.baseline_start, window.recent_start, literal(False), by_part=False),
        _grouped(filters, window.recent_start, window.end, literal(True), by_part=False),
    )


def _weeks_statement(session: Session, filters: AnalysisFilters, weeks: list[date]) -> Any:
    """The answers of ``weeks`` counted per week and as ``_histogram_statement`` counts them: one
    grouping per half of the weeks, joined by UNION ALL, which PostgreSQL runs in parallel as it
    runs the two sides."""
    _tuned(session)
    weeks = sorted(weeks)
    half = (len(weeks) + 1) // 2

    def grouped(some: list[date]) -> Any:
        end = max(some) + timedelta(weeks=1)
        statement = _grouped(filters, min(some), end, Obs.period_start, by_part=True)
        if (end - min(some)).days == 7 * len(some):
            # Every week of the range (the first look, a Monday's new week): the range alone. With
            # the list of weeks beside it the planner took the two for independent and expected a
            # fifteenth of the rows, so walked the index row by row instead of reading the weeks'
            # pages once (a national provider's twelve weeks: 0.34-0.53 s -> 0.19-0.26 s of scan).
            return statement
        return statement.where(Obs.period_start.in_(some))

    return union_all(*(grouped(some) for some in (weeks[:half], weeks[half:]) if some))


def _rows_of(statement: Any, session: Session) -> list[Any]:
    """``statement``'s rows as the driver's tuples, not SQLAlchemy's rows, and no garbage collection
    while some 300,000 of them are made (a national provider's look: 0.55 -> 0.17 s of CPU, issue
    19). The same statement, so the same rows in the same order (build_inputs sums in row order)."""
    with no_gc():
        return fetch_tuples(session, statement, binary=True)


def _histogram(session: Session, filters: AnalysisFilters, window: ChangeWindow) -> list[Any]:
    """The histogram's rows (``_histogram_statement``) as the driver's tuples: (recent, region,
    service, kind, dimension, scale_min, scale_max, value, count)."""
    return _rows_of(_histogram_statement(session, filters, window), session)


@dataclass(frozen=True)
class Histogram:
    """The histogram's rows as columns, one entry per row in row order: what build_inputs reads.
    ``measure`` is each row's index in ``measures`` (the measure it counts in: CSAT, NPS, CES or
    a dimension), -1 for a row no measure takes (a dimension's kind without its dimension).
    ``recent``: each row's side (True: the recent weeks); in a histogram read by week
    (``_weeks_columns``), each row's week instead, as days since 1970-01-01."""

    recent: np.ndarray
    region: np.ndarray
    service: np.ndarray  # -1: no service
    measure: np.ndarray
    measures: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    value: np.ndarray
    count: np.ndarray

    def __len__(self) -> int:
        return len(self.count)

    @classmethod
    def of_rows(cls, rows: list[Any], *, by_week: bool = False) -> Histogram:
        """The columns of ``_histogram``'s rows (either driver's: sqlite3 gives the side as 0/1 and
        a week as its ISO text), or, ``by_week``, of ``_weeks_statement``'s."""

        # Each column straight from the rows (not zip(*rows) and a list per column first: a third
        # of build_inputs' CPU at a national provider's 300,000 rows, issue 19).
        def column_of(i: int, dtype: Any) -> np.ndarray:
            return np.fromiter(map(itemgetter(i), rows), dtype=dtype, count=len(rows))

        # The measure of every row, decided once per (kind, dimension) pair, not per row (np.unique
        # over the rows' names as Python strings was half of build_inputs at a tenth of a national
        # provider's size). The pairs are streamed, not listed: 300,000 tuples kept alive set off
        # the garbage collector over every object of the process (issue 19).
        def row_pairs() -> Iterator[tuple[str, str]]:
            return zip(map(itemgetter(3), rows), map(itemgetter(4), rows), strict=True)

        pairs = {kd: j for j, kd in enumerate(dict.fromkeys(row_pairs()))}
        names = [k if k in ("csat", "nps", "ces") else (d or "") for k, d in pairs]
        measures = tuple(dict.fromkeys(n for n in names if n))
        pair_measure = np.array([measures.index(n) if n else -1 for n in names], dtype=np.int64)
        pair_of = np.fromiter(map(pairs.__getitem__, row_pairs()), dtype=np.int64, count=len(rows))
        first = (
            np.array(list(map(itemgetter(0), rows)), dtype="datetime64[D]").astype(np.int64)
            if by_week
            else column_of(0, bool)
        )
        return cls(
            first, column_of(1, np.int64), column_of(2, np.int64),
            pair_measure[pair_of] if len(rows) else np.zeros(0, dtype=np.int64), measures,
            column_of(5, float), column_of(6, float), column_of(7, float), column_of(8, np.int64),
        )  # fmt: skip


#: The measures a histogram read as columns names by number (``_measure_code``).
KNOWN_MEASURES = ("csat", "nps", "ces", *DIMENSION_CODES)
#: A row of a dimension's kind whose dimension is none of the six: read as rows instead.
_UNKNOWN = -2


def _measure_code(kind: Any, dimension: Any) -> Any:
    """A histogram row's measure as its index in KNOWN_MEASURES (-1: a dimension's kind without
    a dimension, which no measure takes; _UNKNOWN: a dimension not known)."""
    return case(
        *((kind == k, i) for i, k in enumerate(("csat", "nps", "ces"))),
        (dimension == "", -1),
        *((dimension == d, 3 + j) for j, d in enumerate(DIMENSION_CODES)),
        else_=_UNKNOWN,
    )


#: NumPy's reading of the binary forms _concatenated gives, the side's or the week's first.
_DTYPES: dict[bool, tuple[str, ...]] = {
    False: ("?", ">i4", ">i4", ">i2", ">f8", ">f8", ">f8", ">i8"),
    True: (">i4", ">i4", ">i4", ">i2", ">f8", ">f8", ">f8", ">i8"),
}


def _concatenated(rows: Any, *, by_week: bool) -> Any:
    """The histogram rows ``rows`` (a subquery of one grouping) as one row of eight values: each
    column's numbers in their binary form, concatenated in row order (every aggregate of one
    grouping reads the same rows in the same order)."""
    first = (
        ("int4send", rows.c.part - literal_column("DATE '1970-01-01'"), Integer())
        if by_week
        else ("boolsend", rows.c.part, Boolean())
    )
    # (the function that gives a number's binary form, the number as that function's type)
    parts: tuple[tuple[str, Any, Any], ...] = (
        first,
        ("int4send", rows.c.region_id, Integer()),
        ("int4send", rows.c[2], Integer()),  # the service (-1: none)
        ("int2send", _measure_code(rows.c.kind, rows.c[4]), SmallInteger()),
        ("float8send", rows.c.scale_min, Float(53)),
        ("float8send", rows.c.scale_max, Float(53)),
        ("float8send", rows.c[7], Float(53)),  # the value as the look counts it
        ("int8send", rows.c[8], BigInteger()),  # the count
    )
    nothing: Any = literal_column("''::bytea")
    joined = (func.string_agg(getattr(func, send)(cast(col, tp)), nothing) for send, col, tp in parts)
    return select(*joined).select_from(rows)


def _histogram_columns(session: Session, filters: AnalysisFilters, window: ChangeWindow) -> Histogram:
    """The histogram (``_histogram_statement``) as columns (``_columns_of``)."""
    return _columns_of(session, lambda: _histogram_statement(session, filters, window), by_week=False)


def _weeks_columns(session: Session, filters: AnalysisFilters, weeks: list[date]) -> Histogram:
    """The histogram of ``weeks`` by week (``_weeks_statement``) as columns (``_columns_of``)."""
    return _columns_of(session, lambda: _weeks_statement(session, filters, weeks), by_week=True)


def _columns_of(session: Session, statement: Callable[[], Any], *, by_week: bool) -> Histogram:
    """A histogram statement's rows as columns. On PostgreSQL each column comes back as one value:
    the rows' numbers in their binary form, concatenated in row order by the database (string_agg
    over the histogram's rows: every aggregate of one grouping reads the same rows in the same
    order), and read by NumPy without a Python object per number. At a national provider's size
    the 281,000 rows' tuples and the columns made from them were 0.5-0.9 s of the process's CPU,
    the concatenation costs the database some 0.1 s (issue 19). Elsewhere (SQLite, a tenth of the
    size), or when a dimension is none of the six known, the columns of the rows."""
    if session.get_bind().dialect.name != "postgresql":
        return Histogram.of_rows(_rows_of(statement(), session), by_week=by_week)
    whole = statement()
    # Each member of the statement's UNION ALL concatenated apart (PostgreSQL's parallel processes
    # each concatenate their own grouping's rows, as they group them), joined here.
    members: list[Any] = list(getattr(whole, "selects", [whole]))  # a UNION ALL's, or the one
    joined: list[list[bytes]] = [[] for _ in range(8)]
    stmts = [_concatenated(member.subquery(), by_week=by_week) for member in members]
    query: Any = union_all(*stmts) if len(stmts) > 1 else stmts[0]
    rows: list[Any] = list(session.execute(query))  # (mypy 2.4 fails on the rows' own type)
    for found in rows:
        for column, raw in zip(joined, found, strict=True):
            column.append(raw or b"")
    part, region, service, measure, lo, hi, value, count = (
        np.frombuffer(b"".join(raw), dtype=dtype).astype(dtype.lstrip(">"))
        for raw, dtype in zip(joined, _DTYPES[by_week], strict=True)
    )
    if (measure == _UNKNOWN).any():
        return Histogram.of_rows(_rows_of(statement(), session), by_week=by_week)
    return Histogram(
        part.astype(np.int64) if by_week else part, region.astype(np.int64), service.astype(np.int64),
        measure.astype(np.int64), KNOWN_MEASURES, lo, hi, value, count.astype(np.int64),
    )  # fmt: skip


def _category(kind: str, lo: float, hi: float, value: float) -> tuple[str, float] | None:
    """The measure an answer counts in and its score."""
    if kind == "csat":
        return "csat", 1.0 if value >= hi - 1 else 0.0
    if kind == "nps":
        return "nps", 1.0 if value >= 9 else (-1.0 if value <= 6 else 0.0)
    return None


def build_inputs(rows: list[Any] | Histogram) -> tuple[ScoredInputs, IndexInputs]:
    """Category counts per (unit, measure, side) from the histogram rows; CES and dimensions are
    scored on 0..100 (as the index) so answers on different scales compare.

    Each row counts in the whole organisation, its region, and (with a service) its service and
    its region x service cell. The rows are grouped with NumPy, not one dictionary update per row
    and unit: a national provider's look holds 5,000 cells and hundreds of thousands of rows.
    The sums of the dimensions accumulate in row order, as a loop over the rows would. The
    inputs come back as columns (scoring.drift.ScoredInputs, IndexInputs), not 40,000 objects."""
    h = rows if isinstance(rows, Histogram) else Histogram.of_rows(rows)
    if not len(h):
        return ScoredInputs.of([]), IndexInputs.of([])
    recent, region, service, lo, hi, value, count = (
        h.recent,
        h.region,
        h.service,
        h.lo,
        h.hi,
        h.value,
        h.count,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(hi > lo, 100.0 * (value - lo) / (hi - lo), 0.0)

    # The measures in the order of their names, and each row's code among them (-1: none); the
    # score of every row as _category and the CES / dimension rule give it.
    present = np.unique(h.measure[h.measure >= 0]).tolist()
    measures = sorted({h.measures[i] for i in present})
    recode = np.full(len(h.measures) + 1, -1, dtype=np.int64)  # the last entry: -1 stays -1
    for i in present:
        recode[i] = measures.index(h.measures[i])
    code = recode[h.measure]
    measure_kind = np.array([("csat", "nps").index(m) if m in ("csat", "nps") else 2 for m in measures] + [2])
    kind_of = measure_kind[code]
    is_csat, is_nps = kind_of == 0, kind_of == 1
    with np.errstate(invalid="ignore"):
        score = np.where(
            is_csat,
            np.where(value >= hi - 1, 1.0, 0.0),
            np.where(is_nps, np.where(value >= 9, 1.0, np.where(value <= 6, -1.0, 0.0)), y),
        )
    keep = code >= 0
    rows_at = np.flatnonzero(keep)
    if not len(rows_at):
        return ScoredInputs.of([]), IndexInputs.of([])
    with_service = rows_at[service[rows_at] >= 0]
    # The units of every row as _order ranks them (all, region, service, cell), stacked per level;
    # their ids' codes below.
    levels = ((rows_at, 0), (rows_at, 1), (with_service, 2), (with_service, 3))
    at = np.concatenate([lv[0] for lv in levels])
    rank = np.concatenate([np.full(len(lv[0]), lv[1]) for lv in levels])
    # Where each (unit, measure) first appears in a row-by-row, unit-by-unit pass.
    seen = np.concatenate([lv[0] * 4 + lv[1] for lv in levels])
    # The codes np.unique(..., return_inverse=True) gives, from the distinct values of the rows
    # (a unique over the rows, not over their four units each: sorting those was most of this
    # function, issue 19).
    regions_found, services_found = np.unique(region[rows_at]), np.unique(service[with_service])
    first_found = np.unique(np.concatenate([[0], regions_found, services_found]))
    second_found = np.unique(np.concatenate([[0], np.unique(region[with_service])]))
    # Each row's codes found once and repeated per level (a search over the rows, not over their
    # four units each): the same codes as a search of the stacked ids.
    scores = np.unique(score[rows_at])
    region_code = np.searchsorted(first_found, region[rows_at])
    service_code = np.searchsorted(first_found, service[with_service])
    first_code = np.concatenate(
        [np.zeros(len(rows_at), dtype=np.intp), region_code, service_code, service_code]
    )
    second_code = np.concatenate(
        [
            np.zeros(len(rows_at) * 2 + len(with_service), dtype=np.intp),
            np.searchsorted(second_found, region[with_service]),
        ]
    )
    score_code = np.searchsorted(scores, score)[at]
    shape = (4, int(first_code.max()) + 1, int(second_code.max()) + 1, len(measures), len(scores))
    key = np.ravel_multi_index(
        (rank, first_code.reshape(-1), second_code.reshape(-1), code[at], score_code.reshape(-1)), shape
    )
    cells, cell_of = _unique_inverse(key, int(np.prod(shape)))
    side = recent[at]
    sides = [
        np.bincount(cell_of, weights=np.where(side == s_, count[at], 0), minlength=len(cells))
        for s_ in (False, True)
    ]
    r_, f_, s2, m_, sc = np.unravel_index(cells, shape)
    unit_measure = cells // len(scores)  # cells are sorted: a (unit, measure) is one run
    seen_first = np.full(len(cells), np.iinfo(np.int64).max)
    np.minimum.at(seen_first, cell_of, seen)
    run_starts = np.flatnonzero(np.concatenate([[True], unit_measure[1:] != unit_measure[:-1]]))
    run_ends = np.concatenate([run_starts[1:], [len(cells)]])
    run_seen = np.minimum.reduceat(seen_first, run_starts)
    # The order of _order (rank, unit ids, measure), ties (measures it does not know) by where
    # the (unit, measure) first appears: the codes of the ids sort as the ids.
    measure_rank = np.array([_order((("all",), m))[2] for m in measures], dtype=np.int64)
    order = np.lexsort(
        (run_seen, measure_rank[m_[run_starts]], s2[run_starts], f_[run_starts], r_[run_starts])
    )
    # The inputs as columns (scoring.drift.ScoredInputs): input i is run order[i], its categories
    # the run's cells in score order.
    first_at = run_starts[order]
    sizes = (run_ends - run_starts)[order]
    column = np.arange(int(sizes.max()))
    inside = column[None, :] < sizes[:, None]
    cell_at = np.where(inside, first_at[:, None] + column[None, :], 0)
    unit_shape = shape[:3]
    input_units = _units(
        np.ravel_multi_index((r_[first_at], f_[first_at], s2[first_at]), unit_shape), unit_shape, first_found,
        second_found,
    )  # fmt: skip
    measure_of = m_[first_at]
    scored_inputs = ScoredInputs(
        tuple(input_units),
        tuple(measures[m] for m in measure_of.tolist()),
        sizes,
        np.where(inside, scores[sc][cell_at], 0.0),
        np.where(inside, sides[0].astype(np.int64)[cell_at], 0),
        np.where(inside, sides[1].astype(np.int64)[cell_at], 0),
        np.where(np.array([m == "nps" for m in measures])[measure_of], 100.0, 1.0),
    )
    # The dimensions' sums per (unit, side, dimension), accumulated in row order.
    is_dim = np.array([m in DIMENSION_CODES for m in measures], dtype=bool)[code[at]]
    d_at = np.flatnonzero(is_dim)
    index_inputs = IndexInputs.of([])
    if len(d_at):
        units = (rank, first_code.reshape(-1), second_code.reshape(-1))
        unit_key = np.ravel_multi_index(units, shape[:3])[d_at]
        sum_key = (unit_key * 2 + side[d_at]) * len(measures) + code[at][d_at]
        sum_cells, sum_of = _unique_inverse(sum_key, int(np.prod(shape[:3])) * 2 * len(measures))
        n_d = count[at][d_at]
        y_d = y[at][d_at]
        n_sum = np.bincount(sum_of, weights=n_d, minlength=len(sum_cells))
        y_sum = np.bincount(sum_of, weights=y_d * n_d, minlength=len(sum_cells))
        yy_sum = np.bincount(sum_of, weights=y_d * y_d * n_d, minlength=len(sum_cells))
        measure_codes = sum_cells % len(measures)
        rest = sum_cells // len(measures)
        # Units in the order of their keys, which is _order's; dimensions in the order of their
        # codes, which is their names'.
        unit_keys, unit_of = np.unique(rest // 2, return_inverse=True)
        dimension_codes, dimension_of = np.unique(measure_codes, return_inverse=True)
        at_sum = (unit_of.reshape(-1), rest % 2, dimension_of.reshape(-1))
        shape_sums = (len(unit_keys), 2, len(dimension_codes))
        answered = np.zeros(shape_sums, dtype=bool)
        answered[at_sum] = True
        n_table = np.zeros(shape_sums, dtype=np.int64)
        n_table[at_sum] = n_sum.astype(np.int64)
        sum_tables = np.zeros((2, *shape_sums))
        sum_tables[0][at_sum], sum_tables[1][at_sum] = y_sum, yy_sum
        index_units = _units(unit_keys, shape[:3], first_found, second_found)
        index_inputs = IndexInputs(
            tuple(index_units), tuple(measures[c] for c in dimension_codes.tolist()), answered, n_table,
            sum_tables[0], sum_tables[1],
        )  # fmt: skip
    return scored_inputs, index_inputs


def _units(keys: np.ndarray, shape: tuple[int, ...], first: np.ndarray, second: np.ndarray) -> list[Unit]:
    """The unit of each of ``keys`` (its level, first and second id's codes raveled in ``shape``;
    ``first`` and ``second`` the ids by code), each distinct unit made once and shared: a national
    provider's look has some 46,000 inputs of 5,000 units (issue 19)."""
    distinct, which = np.unique(keys, return_inverse=True)
    first_values, second_values = first.tolist(), second.tolist()
    levels, firsts, seconds = (part.tolist() for part in np.unravel_index(distinct, shape))
    made: list[Unit] = [
        ("all",) if level == 0
        else ("region", int(first_values[f_j])) if level == 1
        else ("service", int(first_values[f_j])) if level == 2
        else ("cell", int(first_values[f_j]), int(second_values[s_j]))
        for level, f_j, s_j in zip(levels, firsts, seconds, strict=True)
    ]  # fmt: skip
    return [made[i] for i in which.reshape(-1).tolist()]


#: Keys below this bound are made unique by a table of every possible key, not by sorting them.
UNIQUE_TABLE_LIMIT = 1 << 23


def _unique_inverse(keys: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` (flat) for non-negative keys below ``bound``: with a
    small bound, by marking every key in a table of all of them and numbering the marked (a
    national provider's look has a million keys below some 7 million: its sorts were a third of
    build_inputs, issue 19)."""
    if bound > UNIQUE_TABLE_LIMIT or not len(keys):
        found, inverse = np.unique(keys, return_inverse=True)
        return found, inverse.reshape(-1)
    present = np.zeros(bound, dtype=bool)
    present[keys] = True
    number = np.cumsum(present, dtype=np.int32) - 1
    return np.flatnonzero(present).astype(keys.dtype), number[keys].astype(np.intp)


def _order(key: tuple[Unit, str]) -> tuple[Any, ...]:
    unit, measure = key
    rank = ("all", "region", "service", "cell").index(unit[0])
    m = MEASURE_ORDER.index(measure) if measure in MEASURE_ORDER else len(MEASURE_ORDER)
    return (rank, unit[1:], m)


def _row(test: ChangeTest, names: Names) -> ChangeRow:
    unit: Unit = test.unit if isinstance(test.unit, tuple) else (test.unit,)
    region_id = unit[1] if unit[0] == "region" else (unit[2] if unit[0] == "cell" else None)
    service_id = unit[1] if unit[0] in ("service", "cell") else None
    region = names.region(region_id) if region_id is not None else None
    service = names.service(service_id) if service_id is not None else None
    return ChangeRow(
        unit, region_id, service_id,
        region.name_zh if region else "", region.name_en if region else "",
        service.name_zh if service else "", service.name_en if service else "",
        test,
    )  # fmt: skip


#: Looks kept per process (see the module docstring): an organisation-wide look at a national
#: provider's size holds some 43,000 tests, about 14 MB; a region's, a hundredth of that.
KEPT_LOOKS = 16
_kept: Kept[ChangeView] = Kept("analysis_change_look", ChangeView, entries=KEPT_LOOKS, own_writes=True)
#: The overview page's part of each look (ChangeSummary), under the same key and counter.
_summaries: Kept[ChangeSummary] = Kept(
    "analysis_change_summary", ChangeSummary, entries=KEPT_LOOKS, own_writes=True
)


def _scope(filters: AnalysisFilters, window: ChangeWindow) -> AnalysisFilters:
    """What reaches the facts: the window and the scope (the period's start and grain do not)."""
    return replace(filters, start=window.baseline_start, end=window.end, region_id=None, grain="week")


def change_view(session: Session, filters: AnalysisFilters, *, today: date | None) -> ChangeView:
    """The look of the filter's last complete weeks (``today`` decides which week is unfinished;
    None trusts the filter's end), kept while the facts and names are unchanged."""
    from perception.kpi.services.data_version import CHANGE_LOOK, read_version

    window = change_window(filters, today)
    if window is None:
        return ChangeView(None, detect_drops([]), ())
    return _kept.get(
        session,
        {"scope": _scope(filters, window)},
        read_version(session, CHANGE_LOOK),
        lambda: computed_view(session, filters, window),
    )


def change_summary(session: Session, filters: AnalysisFilters, *, today: date | None) -> ChangeSummary:
    """``ChangeSummary.of(change_view(...))``, kept apart under the same key and counter: a process
    that finds it stored reads a few flags, not every test of the look."""
    from perception.kpi.services.data_version import CHANGE_LOOK, read_version

    window = change_window(filters, today)
    if window is None:
        return ChangeSummary.of(change_view(session, filters, today=today))
    return _summaries.get(
        session,
        {"scope": _scope(filters, window)},
        read_version(session, CHANGE_LOOK),
        lambda: computed_summary(session, filters, window),
    )


def forget_kept() -> None:
    """Drop the looks and summaries kept in this process (tests, benchmarks); stored rows stay."""
    _kept.forget()
    _summaries.forget()


def computed_view(session: Session, filters: AnalysisFilters, window: ChangeWindow) -> ChangeView:
    """The look of ``window`` computed from the facts now (change_view keeps it)."""
    from perception.analysis.services.change_weeks import window_histogram

    computed_at = utcnow()
    scored, indices = build_inputs(window_histogram(session, filters, window))
    look = detect_drops(scored, indices)
    names = load_names(session, customers=False)
    flags = tuple(_row(t, names) for t in look.flags)
    return ChangeView(window, look, flags, computed_at)


def computed_summary(session: Session, filters: AnalysisFilters, window: ChangeWindow) -> ChangeSummary:
    """``ChangeSummary.of(computed_view(...))`` without the whole look: every p-value and q-value
    is computed as for the look (the correction is over every tested measure), the tests are
    built for the flags alone, and the whole look is not kept for it (issue 19: building and
    storing 40,000 tests was a third of the overview's first load; the API and the alert's
    first read compute the whole look)."""
    from perception.analysis.services.change_weeks import window_histogram

    computed_at = utcnow()
    tests = drop_tests(*build_inputs(window_histogram(session, filters, window)))
    names = load_names(session, customers=False)
    flags = tuple(_row(t, names) for t in tests.flags())
    return ChangeSummary(
        window, flags, len(tests), tests.n_tested, tests.alpha, tests.min_n_recent, tests.min_n_baseline,
        computed_at,
    )  # fmt: skip


def shown_value(measure: str, value: float) -> str:
    """A measure's value as pages and alerts print it: CSAT in %, NPS signed, means to 3 digits."""
    if value != value:
        return "—"
    if measure == "csat":
        return f"{100 * value:.0f}%"
    return f"{value:+.0f}" if measure == "nps" else f"{value:.3g}"


def unit_key(unit: Hashable) -> str:
    """A stable text key of a unit, for alert occurrence keys and page anchors."""
    parts = unit if isinstance(unit, tuple) else (unit,)
    return "-".join(str(p) for p in parts)
