"""Set-based aggregation of ExperienceObservation for the dashboards.

ONE GROUP BY over the facts table at the finest grain a page needs (period x region x service x
kind x dimension) returns additive statistics per cell: n, sum and sum of squares of the value,
the same of the value rescaled to 0..100, the top-2-box count and the NPS promoter/detractor
counts. Everything a page shows (by region, by service, by week or month, overall) is an exact
roll-up of those sums, so a page costs one scan of the filtered facts, never a row per response
in Python. Estimates and intervals then come from scoring (share_from_counts, nps_from_counts,
mean_from_stats).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cached_property
from typing import Any

import numpy as np
from sqlalchemy import Select, case, func, select, text, tuple_
from sqlalchemy.orm import Session

from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.core.models.facts import ExperienceObservation as Obs
from scoring import (
    DEFAULT_MIN_N,
    FEEDBACK_DIMENSIONS,
    GroupMeasure,
    mean_from_stats,
    nps_from_counts,
    nps_interval,
    share_from_counts,
)
from scoring.grouping import group_index

DIMENSION_CODES = tuple(code for code, _, _ in FEEDBACK_DIMENSIONS)
#: Kinds that carry a rating of one of the six dimensions (single rating questions, report
#: feedback entries, rows of a Likert matrix tagged with a dimension).
DIMENSION_KINDS = ("rating", "likert")
INDEX_KINDS = DIMENSION_KINDS


@dataclass
class Acc:
    """Additive statistics of one group of observations."""

    n: int = 0
    s: float = 0.0
    ss: float = 0.0
    y: float = 0.0  # sum of values rescaled to 0..100
    yy: float = 0.0
    top2: int = 0
    promoters: int = 0
    detractors: int = 0

    def add(self, other: Acc) -> None:
        self.n += other.n
        self.s += other.s
        self.ss += other.ss
        self.y += other.y
        self.yy += other.yy
        self.top2 += other.top2
        self.promoters += other.promoters
        self.detractors += other.detractors

    @property
    def mean(self) -> float:
        return self.s / self.n if self.n else math.nan

    @property
    def sd(self) -> float:
        return _sd(self.n, self.s, self.ss)

    @property
    def y_mean(self) -> float:
        return self.y / self.n if self.n else math.nan

    @property
    def y_sd(self) -> float:
        return _sd(self.n, self.y, self.yy)


def _sd(n: int, s: float, ss: float) -> float:
    if n < 2:
        return math.nan
    var = (ss - s * s / n) / (n - 1)
    return math.sqrt(max(var, 0.0))


#: The key columns of a FactTable a caller may group by (services.facts.aggregate ``by``).
FACT_KEYS = ("period", "region", "service")
STAT_COLUMNS = ("n", "s", "ss", "y", "yy", "top2", "promoters", "detractors")


@dataclass(frozen=True)
class FactTable:
    """The aggregate rows as NumPy columns: keys (period as datetime64[D], region, service with -1
    for none, kind, dimension with "" for none) and the additive statistics (rows x 8)."""

    period: np.ndarray
    region: np.ndarray
    service: np.ndarray
    kind: np.ndarray
    dimension: np.ndarray
    stats: np.ndarray

    def __len__(self) -> int:
        return int(self.stats.shape[0])

    def rollup(
        self, by: tuple[str, ...] = (), *, grain: str = "week"
    ) -> dict[Hashable, dict[tuple[str, str | None], Acc]]:
        """Sum the statistics per value of the ``by`` columns and per (kind, dimension).

        Keys: () for no column, the value for one column, a tuple for several; periods come back
        as dates (the first day of the month with ``grain="month"``), a missing service as None.
        One np.unique over the key columns and one bincount per statistic: no Python loop per row.
        """
        out: dict[Hashable, dict[tuple[str, str | None], Acc]] = defaultdict(dict)
        if len(self) == 0:
            return out
        columns = []
        for name in by:
            column = getattr(self, name)
            if name == "period" and grain == "month":
                column = column.astype("datetime64[M]").astype("datetime64[D]")
            columns.append(column)
        index = group_index((*columns, self.kind, self.dimension), len(self))
        sums = np.column_stack(
            [np.bincount(index.codes, weights=self.stats[:, j], minlength=index.n_groups) for j in range(8)]
        )
        for g, key in enumerate(index.keys):
            values = [_key_value(name, v) for name, v in zip(by, key[:-2], strict=True)]
            group: Hashable = () if not by else (values[0] if len(by) == 1 else tuple(values))
            n, s_, ss, y, yy, top2, prom, detr = sums[g]
            acc = Acc(int(round(n)), float(s_), float(ss), float(y), float(yy))
            acc.top2, acc.promoters, acc.detractors = int(round(top2)), int(round(prom)), int(round(detr))
            out[group][(str(key[-2]), str(key[-1]) or None)] = acc
        return out


class CellIndex:
    """Sums per (service, region) and per (service, region, period), each per (kind, dimension),
    looked up in O(1): composite integer codes, one np.unique and a bincount per statistic, and a
    dict from code to row. Built once per page for the per-cell and per-week comparisons."""

    def __init__(self, table: FactTable) -> None:
        self.services = np.unique(table.service)
        self.regions = np.unique(table.region)
        self.periods = np.unique(table.period)
        self.pairs, pair_codes = _pair_codes(table.kind, table.dimension)
        s = np.searchsorted(self.services, table.service)
        r = np.searchsorted(self.regions, table.region)
        w = np.searchsorted(self.periods, table.period)
        cell = (pair_codes * len(self.services) + s) * len(self.regions) + r
        self._cell_codes, self._cell_sums = _sums_by_code(cell, table.stats)
        self._week_codes, self._stats = cell * len(self.periods) + w, table.stats
        self._s = {int(v): i for i, v in enumerate(self.services.tolist())}
        self._r = {int(v): i for i, v in enumerate(self.regions.tolist())}
        self._w = {np.datetime64(v, "D").astype(object): i for i, v in enumerate(self.periods)}

    # The lookup of ``parts``, built on its first call: the page's comparison reads ``totals``
    # and the weeks of a few cells only (at a tenth of national size, 45,000 sums).
    @cached_property
    def _week(self) -> tuple[dict[int, int], np.ndarray]:
        return _lookup(*_sums_by_code(self._week_codes, self._stats))

    def totals(
        self, services: Sequence[int], regions: Sequence[int], pairs: Sequence[tuple[str, str | None]]
    ) -> np.ndarray:
        """Per (service, region) of the two sequences, the sums of ``pairs`` over the period (rows x
        8, the columns of Acc): each pair's sums added in the order given, from zero, as Acc.add
        adds them in kind_total and dimension_acc (the same floats); zero for a pair or a cell
        without sums. One lookup per pair for every cell at once (issue 19: an Acc per cell and
        pair cost a national page some 0.25 s)."""
        out = np.zeros((len(services), 8))
        if not len(services) or not len(self._cell_codes):
            return out
        ns, nr = len(self.services), len(self.regions)
        s, r = np.asarray(services, dtype=np.int64), np.asarray(regions, dtype=np.int64)
        si = np.minimum(np.searchsorted(self.services, s), ns - 1)
        ri = np.minimum(np.searchsorted(self.regions, r), nr - 1)
        known = (self.services[si] == s) & (self.regions[ri] == r)
        at = {pair: p for p, pair in enumerate(self.pairs)}
        for pair in pairs:
            p = at.get(pair)
            if p is None:
                continue
            code = (p * ns + si) * nr + ri
            row = np.minimum(np.searchsorted(self._cell_codes, code), len(self._cell_codes) - 1)
            hit = known & (self._cell_codes[row] == code)
            out[hit] += self._cell_sums[row[hit]]
        return out

    def kind_pairs(self, kind: str) -> list[tuple[str, str | None]]:
        """The pairs of one kind in the order kind_total adds them (a cell's parts, ascending)."""
        return [pair for pair in self.pairs if pair[0] == kind]

    def parts(self, service: int | None, region: int, period: Any) -> dict[tuple[str, str | None], Acc]:
        """The sums per (kind, dimension) of one cell's week ``period`` (empty: none)."""
        si, ri = self._s.get(-1 if service is None else service), self._r.get(region)
        wi = self._w.get(period)
        if si is None or ri is None or wi is None:
            return {}
        lookup, sums = self._week
        out: dict[tuple[str, str | None], Acc] = {}
        for p, pair in enumerate(self.pairs):
            code = (p * len(self.services) + si) * len(self.regions) + ri
            row = lookup.get(code * len(self.periods) + wi)
            if row is not None:
                n, s_, ss, y, yy, top2, prom, detr = sums[row]
                # Counts are sums of whole numbers in float64: exact, int() is enough.
                out[pair] = Acc(int(n), s_, ss, y, yy, int(top2), int(prom), int(detr))
        return out


def _pair_codes(kind: np.ndarray, dimension: np.ndarray) -> tuple[list[tuple[str, str | None]], np.ndarray]:
    """The distinct (kind, dimension) pairs in ascending order (as scoring.grouping.group_index
    orders them) and each row's pair number. A dictionary pass: a few pairs over tens of thousands
    of rows, where sorting the rows' strings (np.unique on objects) cost a national page 50 ms."""
    seen: dict[tuple[str, str], int] = {}
    rows = zip(kind.tolist(), dimension.tolist(), strict=True)
    first = np.array([seen.setdefault(pair, len(seen)) for pair in rows], dtype=np.int64)
    ordered = sorted(seen)
    rank = np.empty(len(ordered), dtype=np.int64)
    rank[[seen[pair] for pair in ordered]] = np.arange(len(ordered))
    return [(str(k), str(d) or None) for k, d in ordered], rank[first]


def _sums_by_code(codes: np.ndarray, stats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes (ascending) and the statistics summed per code."""
    uniq, inv = np.unique(codes, return_inverse=True)
    inv = inv.reshape(-1)
    sums = np.column_stack([np.bincount(inv, weights=stats[:, j], minlength=len(uniq)) for j in range(8)])
    return uniq, sums


def _lookup(uniq: np.ndarray, sums: np.ndarray) -> tuple[dict[int, int], np.ndarray]:
    return dict(zip(uniq.tolist(), range(len(uniq)), strict=True)), sums


def _key_value(name: str, value: Any) -> Any:
    if name == "period":
        return np.datetime64(value, "D").astype(object)
    if name == "service":
        return None if int(value) < 0 else int(value)
    return int(value) if name == "region" else value


#: The additive statistics of a group of facts, as the pre-aggregates keep them (services.rollup):
#: the count, the sum and the sum of squares of the values, the top-2-box, promoter and detractor
#: counts.
STAT_NAMES = ("n", "s", "ss", "top2", "promoters", "detractors")


def fact_sums() -> list[Any]:
    """STAT_NAMES over a group of facts (a GROUP BY over ExperienceObservation)."""
    return [
        func.count(),
        func.sum(Obs.value),
        func.sum(Obs.value * Obs.value),
        func.sum(case((Obs.value >= Obs.scale_max - 1, 1), else_=0)),
        func.sum(case((Obs.value >= 9, 1), else_=0)),
        func.sum(case((Obs.value <= 6, 1), else_=0)),
    ]


def summed_stats(table: Any) -> list[Any]:
    """STAT_NAMES over a group of rows that hold them (the pre-aggregate's)."""
    return [func.sum(getattr(table, name)) for name in STAT_NAMES]


def aggregate(
    session: Session,
    filters: AnalysisFilters,
    *,
    kinds: Sequence[str] | None = None,
    extra_where: Iterable[Any] = (),
    use_rollup: bool = True,
    by: tuple[str, ...] = FACT_KEYS,
    sources: Sequence[str] | None = None,
    cells: Collection[tuple[int, int]] | None = None,
) -> FactTable:
    """One GROUP BY (period, region, service, kind, dimension, scale) -> additive sums.

    ``by`` names the key columns a caller rolls up by (a subset of period, region and service); the
    others are not grouped on and come back as the filter's start, region 0 and no service. A page
    that shows totals per region and service over a year asks for ("region", "service") and
    ("period",) apart: some thousand rows each, where the full grain would return a row per
    region x service x week (a quarter of a million at a national provider's size).
    ``sources`` keeps the observations of those sources only (a voice, perception_index.VOICES);
    ``cells`` those of the (service, region) cells listed only.

    Reads the pre-aggregated weekly sums (services.rollup) when ``use_rollup`` allows it (the
    ANALYSIS_ROLLUP setting, read by the caller), they match the facts, and neither a customer
    filter nor ``extra_where`` asks for what they do not keep; the level summed over services when
    neither the filters nor ``by`` name a service or tier. Otherwise the facts themselves; both give
    the same sums. When only the past weeks of the pre-aggregate are current (services.freshness:
    answers of the current week arrived since it was built), the weeks from its split on are read
    from the facts and added. The sums of the 0..100 rescaled values follow
    from the raw ones per scale: sum y = 100 (S - n lo) / (hi - lo) and
    sum y^2 = (100 / (hi - lo))^2 (SS - 2 lo S + n lo^2).
    """
    return aggregate_each(
        session, filters, [by], kinds=kinds, extra_where=extra_where, use_rollup=use_rollup,
        sources=sources, cells=cells,
    )[0]  # fmt: skip


def aggregate_each(
    session: Session,
    filters: AnalysisFilters,
    bys: Sequence[tuple[str, ...]],
    *,
    kinds: Sequence[str] | None = None,
    extra_where: Iterable[Any] = (),
    use_rollup: bool = True,
    sources: Sequence[str] | None = None,
    cells: Collection[tuple[int, int]] | None = None,
) -> list[FactTable]:
    """``[aggregate(session, filters, by=by, ...) for by in bys]``, the facts read once for every
    grouping on PostgreSQL (one statement, GROUPING SETS): the overview's three groupings read the
    weeks from the pre-aggregate's split three times, each a parallel scan of the same rows, on a
    machine whose cores the change look is using at the same moment (issue 19)."""
    from perception.analysis.services.rollup import rollup_reading

    extra = list(extra_where)
    wanteds: list[list[str]] = []
    for by in bys:
        unknown = set(by) - set(FACT_KEYS)
        if unknown:
            raise ValueError(f"cannot aggregate by {sorted(unknown)}")
        wanteds.append([name for name in FACT_KEYS if name in by])
    split = None
    rollup = use_rollup and not extra and filters.customer_id is None
    if rollup:
        reading = rollup_reading(session)
        rollup, split = reading.usable, reading.facts_from
    tune_for_aggregation(session)

    def facts(within: AnalysisFilters) -> list[Sequence[Any]]:
        return _fact_rows_each(session, within, kinds, wanteds, sources, cells, extra=extra)

    def summed(within: AnalysisFilters) -> list[Sequence[Any]]:
        return [
            _grouped_rows(session, within, kinds, wanted, sources, cells, extra=extra, rollup=True)
            for wanted in wanteds
        ]

    if not rollup or (split is not None and filters.start >= split):
        each = facts(filters)
    elif split is None or filters.end <= split:
        each = summed(filters)
    else:  # the weeks before the split from the pre-aggregate, the rest from the facts
        each = [
            _merged([*before, *after], keys=len(wanted) + 4)
            for before, after, wanted in zip(
                summed(replace(filters, end=split)),
                facts(replace(filters, start=split)),
                wanteds,
                strict=True,
            )
        ]
    return [_table_of(rows, wanted, filters) for rows, wanted in zip(each, wanteds, strict=True)]


def _table_of(rows: Sequence[Any], wanted: Sequence[str], filters: AnalysisFilters) -> FactTable:
    """The FactTable of aggregate's rows keyed by ``wanted``: the keys not grouped on are the
    filter's start, region 0 and no service."""
    if not rows:
        empty = np.empty(0)
        return FactTable(
            empty.astype("datetime64[D]"), empty.astype(int), empty.astype(int), empty.astype(object),
            empty.astype(object), np.empty((0, 8)),
        )  # fmt: skip
    columns = list(zip(*rows, strict=True))  # column-wise in one pass (Row slicing is slow)
    absent = {"period": filters.start, "region": 0, "service": -1}
    for at, name in enumerate(FACT_KEYS):
        if name not in wanted:
            columns.insert(at, (absent[name],) * len(rows))
    return fact_table(
        np.array(columns[0], dtype="datetime64[D]"),
        np.array(columns[1], dtype=np.int64),
        np.array(columns[2], dtype=np.int64),
        np.array(columns[3], dtype=object),
        np.array(columns[4], dtype=object),
        np.asarray(columns[5], dtype=float),
        np.asarray(columns[6], dtype=float),
        np.column_stack([np.asarray(c, dtype=float) for c in columns[7:]]),
    )


def _merged(rows: Sequence[Any], *, keys: int) -> list[tuple[Any, ...]]:
    """Rows of the same key (the first ``keys`` columns) summed: a period split between the
    pre-aggregate and the facts gives each key up to twice when the period is not a key."""
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        key = tuple(row[:keys])
        found = sums.get(key)
        if found is None:
            sums[key] = list(row[keys:])
        else:
            for at, value in enumerate(row[keys:]):
                if value is not None:
                    found[at] = value if found[at] is None else found[at] + value
    return [(*key, *values) for key, values in sums.items()]


def _grouped_rows(
    session: Session,
    filters: AnalysisFilters,
    kinds: Sequence[str] | None,
    wanted: Sequence[str],
    sources: Sequence[str] | None,
    cells: Collection[tuple[int, int]] | None,
    *,
    extra: Sequence[Any],
    rollup: bool,
) -> Sequence[Any]:
    """aggregate's one GROUP BY, over the pre-aggregated sums (``rollup``) or the facts."""
    from perception.analysis.models import ExperienceRollup as Roll
    from perception.analysis.services.rollup import ALL_REGIONS, ALL_SERVICES, BY_SERVICE, has_all_regions

    level: list[Any] = []
    if rollup:
        source: Any = Roll
        sums = summed_stats(Roll)
        per_service = "service" in wanted or filters.service_id is not None or filters.tier_id is not None
        level = [Roll.level == (BY_SERVICE if per_service else ALL_SERVICES)]
        if (
            "region" not in wanted
            and filters.region_ids is None
            and filters.tier_id is None
            and per_service
            and has_all_regions(session)
        ):  # per service over every region: the level summed over regions and tiers
            level = [Roll.level == ALL_REGIONS]
    else:
        source = Obs
        sums = fact_sums()
    selected = {
        "period": source.period_start,
        "region": source.region_id,
        "service": func.coalesce(source.service_id, -1),
    }
    grouped = {"period": source.period_start, "region": source.region_id, "service": source.service_id}
    keys = [
        *(selected[name] for name in wanted),
        source.kind,
        func.coalesce(source.dimension, ""),
        source.scale_min,
        source.scale_max,
    ]
    stmt = (
        select(*keys, *sums)
        .where(*level, *_where(source, filters, kinds, sources, cells, extra))
        .group_by(
            *(grouped[name] for name in wanted),
            source.kind,
            source.dimension,
            source.scale_min,
            source.scale_max,
        )
    )
    return session.execute(stmt).all()


def _where(
    source: Any,
    filters: AnalysisFilters,
    kinds: Sequence[str] | None,
    sources: Sequence[str] | None,
    cells: Collection[tuple[int, int]] | None,
    extra: Sequence[Any],
) -> list[Any]:
    """The conditions every grouped read of ``source`` (the facts or the pre-aggregate) applies."""
    where = [*where_facts(source, filters), *extra]
    if sources is not None:
        where.append(source.source.in_([str(s) for s in sources]))
    if cells is not None:
        where.append(tuple_(source.service_id, source.region_id).in_(sorted(cells)))
    if kinds is not None:
        where.append(source.kind.in_(list(kinds)))
    return where


def _grouping_bits(wanted: Sequence[str]) -> int:
    """What PostgreSQL's GROUPING(period, region, service) gives a row of the grouping ``wanted``:
    a bit per key, the first the highest, set when the grouping leaves that key out."""
    return sum(1 << (2 - at) for at, name in enumerate(FACT_KEYS) if name not in wanted)


def _fact_rows_each(
    session: Session,
    filters: AnalysisFilters,
    kinds: Sequence[str] | None,
    wanteds: Sequence[Sequence[str]],
    sources: Sequence[str] | None,
    cells: Collection[tuple[int, int]] | None,
    *,
    extra: Sequence[Any],
) -> list[Sequence[Any]]:
    """_grouped_rows of the facts for each of ``wanteds``: on PostgreSQL one statement grouping by
    each (GROUPING SETS; GROUPING() tells a row's grouping), elsewhere one statement each. The same
    rows: each grouping's keys, then kind, dimension, scale and the sums."""
    if len(wanteds) < 2 or session.get_bind().dialect.name != "postgresql":
        return [
            _grouped_rows(session, filters, kinds, wanted, sources, cells, extra=extra, rollup=False)
            for wanted in wanteds
        ]
    grouped = {"period": Obs.period_start, "region": Obs.region_id, "service": Obs.service_id}
    rest = (Obs.kind, Obs.dimension, Obs.scale_min, Obs.scale_max)
    distinct = list(dict.fromkeys(tuple(wanted) for wanted in wanteds))  # a grouping set once
    stmt = (
        select(
            func.grouping(*grouped.values()),
            Obs.period_start,
            Obs.region_id,
            func.coalesce(Obs.service_id, -1),
            Obs.kind,
            func.coalesce(Obs.dimension, ""),
            Obs.scale_min,
            Obs.scale_max,
            *fact_sums(),
        )
        .where(*_where(Obs, filters, kinds, sources, cells, extra))
        .group_by(func.grouping_sets(*(tuple_(*(grouped[n] for n in wanted), *rest) for wanted in distinct)))
    )
    rows_of: dict[int, list[Any]] = {_grouping_bits(wanted): [] for wanted in distinct}
    for row in session.execute(stmt):
        rows_of[row[0]].append(row)
    rows_each: list[Sequence[Any]] = []
    for wanted in wanteds:
        keep = [1 + at for at, name in enumerate(FACT_KEYS) if name in wanted]
        rows_each.append([(*(row[k] for k in keep), *row[4:]) for row in rows_of[_grouping_bits(wanted)]])
    return rows_each


def fact_table(
    period: np.ndarray,
    region: np.ndarray,
    service: np.ndarray,
    kind: np.ndarray,
    dimension: np.ndarray,
    scale_min: np.ndarray,
    scale_max: np.ndarray,
    sums: np.ndarray,
) -> FactTable:
    """A FactTable from its keys, each row's scale and its raw sums (rows x 6: n, sum, sum of
    squares, top-2-box, promoters, detractors); the 0..100 rescaled sums follow from the scale (see
    aggregate). Also used by services.experience_cumulative, so both give the same columns."""
    lo, hi = scale_min, scale_max
    n, s_, ss, top2, prom, detr = (sums[:, j] for j in range(6))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(hi > lo, 100.0 / (hi - lo), 0.0)  # a degenerate scale adds nothing
        y = k * (s_ - n * lo)
        yy = k * k * (ss - 2.0 * lo * s_ + n * lo * lo)
    return FactTable(
        period=period,
        region=region,
        service=service,
        kind=kind,
        dimension=dimension,
        stats=np.column_stack([n, s_, ss, y, yy, top2, prom, detr]),
    )


def newest_respondent_rows(
    session: Session,
    filters: AnalysisFilters,
    where: Sequence[Any],
    build: Callable[[Any], Select[Any]],
    limit: int,
) -> list[Any]:
    """The rows of ``build(restrict)``, a statement grouped per respondent (source, source_id) over
    the facts matching ``where``, ordered by the respondent's newest week first and limited to
    ``limit`` rows, without grouping every respondent of the period.

    ``restrict`` (None: no restriction) keeps the respondents with a fact matching ``where`` in the
    last weeks of the period. Those are exactly the respondents whose newest week is at or after
    the cutoff, and their rows are whole (all their facts in the period, not only the recent
    ones), so when the restricted statement fills ``limit`` it returned what the unrestricted one
    would: everyone left out ranks after everyone kept. Otherwise the window widens (from the
    rows found per week) until it fills, or spans the period and the statement runs unrestricted.
    """
    weeks = 1
    while True:
        cutoff = filters.end - timedelta(weeks=weeks)
        if cutoff <= filters.start:
            return list(session.execute(build(None)).all())
        recent = select(Obs.source, Obs.source_id).where(*where, Obs.period_start >= cutoff)
        rows = list(session.execute(build(tuple_(Obs.source, Obs.source_id).in_(recent))).all())
        if len(rows) >= limit:
            return rows
        wanted = math.ceil(weeks * 1.25 * limit / max(len(rows), 1))
        weeks = max(2 * weeks, min(wanted, filters.weeks))


def tune_for_aggregation(session: Session) -> None:
    """On PostgreSQL, let this transaction hash-aggregate in memory instead of sorting on disk
    (work_mem) and skip JIT compilation, which costs more than it saves on these short queries."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))


def rollup(
    table: FactTable, by: tuple[str, ...] = (), *, grain: str = "week"
) -> dict[Hashable, dict[tuple[str, str | None], Acc]]:
    """``table.rollup(by, grain=grain)``."""
    return table.rollup(by, grain=grain)


def kind_total(parts: Mapping[tuple[str, str | None], Acc], kind: str) -> Acc:
    total = Acc()
    for (k, _), acc in parts.items():
        if k == kind:
            total.add(acc)
    return total


def dimension_acc(parts: Mapping[tuple[str, str | None], Acc], dimension: str | None) -> Acc:
    """All ratings of one feedback dimension, whatever question kind carried them."""
    total = Acc()
    for kind in DIMENSION_KINDS:
        part = parts.get((kind, dimension))
        if part is not None:
            total.add(part)
    return total


def csat_measure(
    parts: Mapping[tuple[str, str | None], Acc], key: tuple[Any, ...] = ()
) -> GroupMeasure | None:
    """CSAT = top-2-box share of the ``csat`` answers, Wilson interval (scoring.share_from_counts)."""
    acc = kind_total(parts, "csat")
    if acc.n == 0:
        return None
    return share_from_counts(acc.top2, acc.n, key=key, measure="csat")


def nps_measure(
    parts: Mapping[tuple[str, str | None], Acc], key: tuple[Any, ...] = ()
) -> GroupMeasure | None:
    """NPS from promoter/passive/detractor counts of the ``nps`` answers (scoring.nps_from_counts)."""
    acc = kind_total(parts, "nps")
    if acc.n == 0:
        return None
    passives = acc.n - acc.promoters - acc.detractors
    return nps_from_counts(acc.promoters, passives, acc.detractors, key=key)


def nps_measures(
    groups: Sequence[tuple[tuple[Any, ...], Mapping[tuple[str, str | None], Acc]]],
    *,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> list[GroupMeasure | None]:
    """``nps_measure`` for many groups with ONE call of scoring.nps_interval (its score interval
    bisects all groups at once), so a trend of 52 weeks costs one interval computation."""
    accs = [kind_total(parts, "nps") for _, parts in groups]
    present = [i for i, acc in enumerate(accs) if acc.n > 0]
    out: list[GroupMeasure | None] = [None] * len(groups)
    if not present:
        return out
    prom = np.array([accs[i].promoters for i in present], dtype=float)
    detr = np.array([accs[i].detractors for i in present], dtype=float)
    n = np.array([accs[i].n for i in present], dtype=float)
    low, high = nps_interval(prom, detr, n, confidence, "score")
    for j, i in enumerate(present):
        out[i] = GroupMeasure(
            key=groups[i][0],
            measure="nps",
            n=int(n[j]),
            estimate=float(100.0 * (prom[j] - detr[j]) / n[j]),
            ci_low=float(100.0 * low[j]),
            ci_high=float(100.0 * high[j]),
            confidence=confidence,
            method="score",
            low_sample=bool(n[j] < min_n),
            promoters=int(prom[j]),
            detractors=int(detr[j]),
        )
    return out


def dimension_measure(acc: Acc, key: tuple[Any, ...] = (), measure: str = "mean") -> GroupMeasure | None:
    """Mean rating with its t interval from (n, sum, sum of squares) (scoring.mean_from_stats)."""
    if acc.n == 0:
        return None
    return mean_from_stats(acc.mean, acc.sd, acc.n, key=key, measure=measure)


def index_measure(
    parts: Mapping[tuple[str, str | None], Acc],
    key: tuple[Any, ...] = (),
    *,
    weights: Mapping[str, float] | None = None,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> GroupMeasure | None:
    """Composite perception index 0..100 from per-dimension sums of the rescaled ratings.

    Estimate (as scoring.perception_index_by_group): I = sum_d w'_d m_d, m_d the mean of
    y = 100 (x - low)/(high - low) over the answers to dimension d, w' the weights normalised over
    the dimensions with data. Interval: I ± t_{k-1} * SE with SE = sum_d w'_d s_d / sqrt(n_d),
    k = min_d n_d. This SE is the upper bound of sqrt(Var(sum_d w'_d m_d)) reached when the
    dimension means are perfectly correlated (Minkowski's inequality for standard deviations),
    so the interval is conservative: the exact linearisation variance needs per-respondent
    cross-products, which additive sums do not carry. n is the largest n_d (a lower bound on the
    respondents). Reference: Wolter (2007) Introduction to Variance Estimation, ch. 6.
    """
    dims = {d: acc for d in DIMENSION_CODES if (acc := dimension_acc(parts, d)).n > 0}
    if not dims:
        return None
    raw = {d: float((weights or {}).get(d, 1.0)) for d in dims}
    total_w = sum(raw.values())
    if total_w <= 0:
        return None
    w = {d: v / total_w for d, v in raw.items()}
    estimate = sum(w[d] * acc.y_mean for d, acc in dims.items())
    n_min = min(acc.n for acc in dims.values())
    n_max = max(acc.n for acc in dims.values())
    if n_min >= 2:
        from scipy import stats as sps

        se = sum(w[d] * acc.y_sd / math.sqrt(acc.n) for d, acc in dims.items())
        q = float(sps.t.ppf(0.5 + confidence / 2.0, n_min - 1))
        low, high = max(0.0, estimate - q * se), min(100.0, estimate + q * se)
    else:
        low = high = math.nan
    return GroupMeasure(
        key=key,
        measure="perception_index",
        n=n_max,
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        method="dimension_sums_conservative_t",
        low_sample=n_max < min_n,
    )
