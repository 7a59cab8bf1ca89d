"""The perception index with what it is made of, the respondents behind it and its exact
interval, per group (everything, region, service, week or month), for one voice at a time.

Two voices are kept apart (issue 14): the customers' own answers (surveys, phone callbacks,
sampling) make the headline index; the collectors' weekly-report ratings (the feedback entries
of the weekly collection report) are a second index shown beside it, never mixed in.

One GROUP BY per respondent (source, source_id) and region x service x week returns the sum and
count of the rescaled ratings (0..100) of each dimension, so the interval can use each
respondent's answers together (scoring.perception_index_from_sums); the additive per-dimension
sums of services.facts cannot. Every grouping a page shows (everything, region, service, week or
month) is merged from those rows with NumPy, so a page reads the facts once.

With ``use_rollup`` and current pre-aggregated sums (services.rollup; no customer filter) the
rows per respondent are not read at all: per cell the sums of the respondents' counts and sums
and of their products make the interval of any grouping a sum of cells (``index_from_moments``,
the same figures up to rounding, 1e-14 at a national provider's size). When only answers of the
current week arrived since the sums were built (services.freshness, PARTIAL), their weeks before
the split are read from them and the weeks from the split from the facts (the current week's
respondents), merged per respondent (``_index_from_sums``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

import numpy as np
from sqlalchemy import Integer, and_, bindparam, case, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from perception.analysis.services.facts import DIMENSION_CODES, DIMENSION_KINDS, tune_for_aggregation
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.analysis.services.respondents import fetch_tuples
from perception.core.models.facts import ExperienceObservation as Obs
from perception.core.models.facts import ExperienceSource
from scoring import DEFAULT_MIN_N
from scoring.index import PerceptionIndex, index_of_group, perception_index_from_sums

#: Customers' answers: the headline index. Collectors' weekly-report ratings: shown apart.
VOICES: dict[str, tuple[str, ...]] = {
    "customers": (ExperienceSource.SURVEY, ExperienceSource.CALLBACK, ExperienceSource.SAMPLING),
    "reports": (ExperienceSource.FEEDBACK,),
}
BY_COLUMNS = {"region": Obs.region_id, "service": Obs.service_id, "period": Obs.period_start}


def index_by(
    session: Session,
    filters: AnalysisFilters,
    by: Sequence[str] = (),
    *,
    voice: str = "customers",
    grain: str = "week",
    weights: dict[str, float] | None = None,
    min_n: int = DEFAULT_MIN_N,
    use_rollup: bool = False,
) -> dict[Hashable, PerceptionIndex]:
    """The index of one ``voice`` per value of the ``by`` columns (keys as services.facts.rollup:
    () for none, the value for one column, a tuple for several; periods as dates, the first of
    the month with ``grain="month"``). Groups without ratings are absent."""
    return index_by_groups(
        session,
        filters,
        (tuple(by),),
        voice=voice,
        grain=grain,
        weights=weights,
        min_n=min_n,
        use_rollup=use_rollup,
    )[0]


def index_by_groups(
    session: Session,
    filters: AnalysisFilters,
    groupings: Sequence[tuple[str, ...]],
    *,
    voice: str = "customers",
    grain: str = "week",
    weights: dict[str, float] | None = None,
    min_n: int = DEFAULT_MIN_N,
    use_rollup: bool = False,
) -> list[dict[Hashable, PerceptionIndex]]:
    """``index_by`` for several groupings (e.g. everything, per region, per service, per week) from
    ONE query: a row per respondent and region x service x period with its count and sum of
    rescaled ratings per dimension (six pairs of columns), which each grouping merges per
    respondent with NumPy. A page of four groupings reads the facts once, and the rows it reads
    are respondents, not ratings.

    With ``use_rollup`` (the ANALYSIS_ROLLUP setting) and usable pre-aggregated sums
    (services.rollup.rollup_reading), no customer filter: each grouping is summed in SQL from the
    cells' sums and products (``index_from_moments``), without a row per respondent; the weeks
    from the sums' split (when PARTIAL) from the facts' rows per respondent (_index_from_sums)."""
    if voice not in VOICES:
        raise ValueError(f"unknown voice {voice!r}")
    for by in groupings:
        if set(by) - set(BY_COLUMNS):
            raise ValueError(f"cannot group the index by {sorted(set(by) - set(BY_COLUMNS))}")
    if use_rollup and filters.customer_id is None:
        from perception.analysis.services.rollup import rollup_reading

        reading = rollup_reading(session)
        split = reading.facts_from
        if reading.usable and (split is None or filters.start < split):
            return _index_from_sums(session, filters, groupings, voice, grain, weights, min_n, split)
    rows = _respondent_rows(session, filters, voice)
    if not rows:
        return [{} for _ in groupings]
    columns = list(zip(*rows, strict=True))
    n_dims = len(DIMENSION_CODES)
    counts = np.array(columns[5::2], dtype=float).T
    sums = np.array(columns[6::2], dtype=float).T
    _, source = np.unique(np.array(columns[0], dtype=object), return_inverse=True)
    _, source_id = np.unique(np.array(columns[1], dtype=np.int64), return_inverse=True)
    respondent = source.reshape(-1) * (int(source_id.max()) + 1) + source_id.reshape(-1)
    keys = {
        "region": np.array(columns[2], dtype=np.int64),
        "service": np.array(columns[3], dtype=np.int64),
        "period": np.array(columns[4], dtype="datetime64[D]"),
    }
    if grain == "month":
        keys["period"] = keys["period"].astype("datetime64[M]").astype("datetime64[D]")
    out: list[dict[Hashable, PerceptionIndex]] = []
    for by in groupings:
        group, uniques = _group_codes(keys, by, len(rows))
        # One row per respondent within a group (a respondent seen in two groups counts in each).
        present, row_of = np.unique(group * (int(respondent.max()) + 1) + respondent, return_inverse=True)
        row_of = row_of.reshape(-1)
        merged_sums = np.column_stack(
            [np.bincount(row_of, weights=sums[:, d], minlength=len(present)) for d in range(n_dims)]
        )
        merged_counts = np.column_stack(
            [np.bincount(row_of, weights=counts[:, d], minlength=len(present)) for d in range(n_dims)]
        )
        group_codes, group_at = np.unique(present // (int(respondent.max()) + 1), return_inverse=True)
        labels_of: dict[int, Hashable] = {}
        for code in group_codes.tolist():
            values: list[Any] = []
            rest = int(code)
            for u in reversed(uniques):
                values.append(_label(by[len(by) - 1 - len(values)], u[rest % len(u)]))
                rest //= len(u)
            values.reverse()
            labels_of[code] = () if not by else (values[0] if len(by) == 1 else tuple(values))
        labels = sorted(set(labels_of.values()), key=repr)
        position = {label: j for j, label in enumerate(labels)}
        code_at = np.array([position[labels_of[c]] for c in group_codes.tolist()])[group_at.reshape(-1)]
        results = perception_index_from_sums(
            merged_sums, merged_counts, code_at, weights=weights, min_n=min_n
        )
        # group_index orders groups by their codes, which are the positions in ``labels``.
        found: dict[Hashable, PerceptionIndex] = {}
        for g in results:
            label = labels[int(cast(int, g.measure.key[0]))]
            key = label if isinstance(label, tuple) else (label,)
            found[label] = replace(g, measure=replace(g.measure, key=key))
        out.append(found)
    return out


def _label(name: str, value: Any) -> Any:
    """A key value as the pages use it: a date for a period, None for no service."""
    if name == "period":
        return np.datetime64(value, "D").astype(object)
    number = int(value)
    return None if name == "service" and number < 0 else number


def _respondent_rows(
    session: Session, filters: AnalysisFilters, voice: str, among: _Loose | None = None
) -> list[Any]:
    """Per respondent and region x service x period of the facts (``filters``, the ``voice``): the
    count and sum of its rescaled ratings per dimension (c0, t0, c1, t1, ...), the service -1 for
    none. ``among``: of those respondents only (their index on the facts)."""
    wanted = [
        *where_facts(Obs, filters),
        Obs.kind.in_(DIMENSION_KINDS),
        Obs.dimension.in_(DIMENSION_CODES),
        Obs.source.in_([str(s) for s in VOICES[voice]]),
    ]
    tune_for_aggregation(session)
    if among is None:
        # The driver's tuples: SQLAlchemy's rows cost 0.24 s of CPU for a late callback's weeks at
        # a national provider's size (22,000 rows of seventeen values), these some 0.05 s.
        return fetch_tuples(session, _per_respondent(Obs.__table__.c).where(*wanted), binary=True)
    rows: list[Any] = []
    postgres = session.get_bind().dialect.name == "postgresql"
    for source in sorted(set(among.source.tolist())):
        ids = sorted(set(among.source_id[among.source == source].tolist()))
        if postgres:
            # One statement per source: the respondents as an array, each looked up through the
            # facts' index on the respondent (a LATERAL subquery the planner may not flatten:
            # OFFSET 0). As a join, or as lists of ids, it chose to read the weeks before the
            # split through their index and filter them: a national provider's 22,000 respondents
            # of a late callback's weeks took 0.5-0.65 s in five statements, now 0.15-0.25 s.
            who = func.unnest(bindparam("ids", ids, type_=ARRAY(Integer))).table_valued("id").render_derived()
            theirs = (
                select(Obs.__table__)
                .where(Obs.source == source, Obs.source_id == who.c.id, *wanted)
                .offset(0)
                .lateral()
            )
            rows += fetch_tuples(session, _per_respondent(theirs.c).select_from(who.join(theirs, true())))
            continue
        for at in range(0, len(ids), _CHUNK):
            chunk = ids[at : at + _CHUNK]
            rows += session.execute(
                _per_respondent(Obs.__table__.c).where(
                    *wanted, Obs.source == source, Obs.source_id.in_(chunk)
                )
            ).all()
    return rows


def _per_respondent(facts: Any) -> Any:
    """The rows per respondent and cell of ``facts`` (the facts' columns, or a subquery's):
    _respondent_rows' statement without its conditions."""
    span = facts.scale_max - facts.scale_min
    per_dimension = []
    for code in DIMENSION_CODES:
        y = case(
            (and_(facts.dimension == code, span > 0), 100.0 * (facts.value - facts.scale_min) / span),
            else_=None,
        )
        per_dimension += [func.count(y), func.coalesce(func.sum(y), 0.0)]
    return select(
        facts.source,
        facts.source_id,
        facts.region_id,
        func.coalesce(facts.service_id, -1),
        facts.period_start,
        *per_dimension,
    ).group_by(facts.source, facts.source_id, facts.region_id, facts.service_id, facts.period_start)


#: Respondents per query when the facts are read for some respondents (bound parameters; SQLite).
_CHUNK = 5000


class _Loose:
    """Rows per respondent and cell, merged per respondent and group when read: the spanning
    respondents of the sums, the facts' rows from the split on, and the respondents whose earlier
    cell the sums hold while they have rows from the split on as well (``vectors``: c0..c5, t0..t5)."""

    def __init__(
        self,
        source: np.ndarray,
        source_id: np.ndarray,
        region: np.ndarray,
        service: np.ndarray,
        period: np.ndarray,
        vectors: np.ndarray,
    ) -> None:
        self.source, self.source_id, self.region = source, source_id, region
        self.service, self.period, self.vectors = service, period, vectors
        self._respondents: np.ndarray | None = None

    @classmethod
    def of(cls, rows: Sequence[Any], *, paired: bool) -> _Loose:
        """From rows (source, source_id, region, service, period, then the counts and sums: paired
        per dimension as _respondent_rows gives them, or the counts then the sums)."""
        n_dims = len(DIMENSION_CODES)
        if not rows:
            return cls(
                np.empty(0, dtype=object), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64),
                np.empty(0, dtype=np.int64), np.empty(0, dtype="datetime64[D]"), np.empty((0, 2 * n_dims)),
            )  # fmt: skip
        columns = list(zip(*rows, strict=True))
        stats = columns[5:]
        ordered = [*stats[0::2], *stats[1::2]] if paired else stats
        return cls(
            np.array(columns[0], dtype=object),
            np.array(columns[1], dtype=np.int64),
            np.array(columns[2], dtype=np.int64),
            np.array([-1 if v is None else v for v in columns[3]], dtype=np.int64),
            np.array(columns[4], dtype="datetime64[D]"),
            np.array(ordered, dtype=float).T.reshape(len(rows), 2 * n_dims),
        )

    def __len__(self) -> int:
        return len(self.source_id)

    def respondents(self) -> np.ndarray:
        """Each row's respondent (source, source_id) as a number from 0 (the same for its rows)."""
        if self._respondents is None:
            _, source = np.unique(self.source, return_inverse=True)
            pairs = source.reshape(-1).astype(np.int64) * (int(self.source_id.max()) + 1) + self.source_id
            self._respondents = np.unique(pairs, return_inverse=True)[1].reshape(-1)
        return self._respondents

    def take(self, keep: np.ndarray) -> _Loose:
        return _Loose(
            self.source[keep], self.source_id[keep], self.region[keep], self.service[keep],
            self.period[keep], self.vectors[keep],
        )  # fmt: skip

    @staticmethod
    def joined(parts: Sequence[_Loose]) -> _Loose:
        return _Loose(
            *(np.concatenate([getattr(p, name) for p in parts]) for name in
              ("source", "source_id", "region", "service", "period", "vectors"))
        )  # fmt: skip

    def groups(self, by: tuple[str, ...], grain: str) -> tuple[list[Hashable], np.ndarray]:
        """The labels of the groups of ``by`` these rows fall in, and each row's group."""
        period = self.period
        if grain == "month":
            period = period.astype("datetime64[M]").astype("datetime64[D]")
        keys = {"region": self.region, "service": self.service, "period": period}
        group, uniques = _group_codes(keys, by, len(self))
        present, at = np.unique(group, return_inverse=True)
        labels: list[Hashable] = []
        for code in present.tolist():
            values: list[Any] = []
            rest = int(code)
            for name, u in reversed(list(zip(by, uniques, strict=True))):
                values.append(_label(name, u[rest % len(u)]))
                rest //= len(u)
            values.reverse()
            labels.append(() if not by else (values[0] if len(by) == 1 else tuple(values)))
        return labels, at.reshape(-1)


def _moments(vectors: np.ndarray) -> np.ndarray:
    """Per respondent (c0..c5, t0..t5) what it adds to a cell's sums: whether it has a rating,
    the counts, the sums and the products (as the index sums store them, INDEX_MOMENTS)."""
    n_dims = len(DIMENSION_CODES)
    c, t = vectors[:, :n_dims], vectors[:, n_dims:]
    upper = np.triu_indices(n_dims)
    return np.column_stack(
        [
            (c > 0).any(axis=1).astype(float),
            c,
            t,
            np.einsum("rd,re->rde", t, t)[:, upper[0], upper[1]],
            np.einsum("rd,re->rde", t, c).reshape(len(vectors), n_dims * n_dims),
            np.einsum("rd,re->rde", c, c)[:, upper[0], upper[1]],
        ]
    )


def _index_from_sums(
    session: Session,
    filters: AnalysisFilters,
    groupings: Sequence[tuple[str, ...]],
    voice: str,
    grain: str,
    weights: dict[str, float] | None,
    min_n: int,
    split: Any,
) -> list[dict[Hashable, PerceptionIndex]]:
    """The groupings from the index sums (services.rollup), the weeks from ``split`` on (None: none)
    from the facts (services.freshness: answers of the current week arrived since the sums were
    built). Every figure is a sum over respondents: the facts' rows from the split on are merged
    per respondent with the sums' spanning rows; a respondent whose earlier rows the sums hold in
    one cell and who has rows from the split on too is taken out of that cell's sums and merged
    likewise (its earlier rows read from the facts by respondent), so the result is the facts'."""
    from dataclasses import replace as with_

    from perception.analysis.models import INDEX_SUMS, experience_index_spanning

    span = experience_index_spanning.c
    before = filters if split is None or filters.end <= split else with_(filters, end=split)
    sources = [str(s) for s in VOICES[voice]]
    spanning = _Loose.of(
        session.execute(
            select(span.source, span.source_id, span.region_id, span.service_id, span.period_start,
                   *(span[c] for c in INDEX_SUMS))
            .where(span.source.in_(sources), *where_facts(experience_index_spanning.c, before))
        ).all(),
        paired=False,
    )  # fmt: skip
    loose, minus = spanning, None
    if before is not filters:
        later = _Loose.of(_respondent_rows(session, with_(filters, start=split), voice), paired=True)
        if len(later):
            earlier = _Loose.of(_respondent_rows(session, before, voice, among=later), paired=True)
            known = set(zip(spanning.source.tolist(), spanning.source_id.tolist(), strict=True))
            keep = np.array(
                [
                    (s, i) not in known
                    for s, i in zip(earlier.source.tolist(), earlier.source_id.tolist(), strict=True)
                ],
                dtype=bool,
            )
            minus = earlier.take(keep) if len(earlier) else None
            loose = _Loose.joined([spanning, later, *([minus] if minus is not None else [])])
    return [
        _index_from_rollup(session, before, by, voice, grain, weights, min_n, loose, minus)
        for by in groupings
    ]


def index_from_moments(
    labels: Sequence[Hashable],
    respondents: np.ndarray,
    counts: np.ndarray,
    sums: np.ndarray,
    ss: np.ndarray,
    sc: np.ndarray,
    cc: np.ndarray,
    *,
    weights: dict[str, float] | None = None,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> dict[Hashable, PerceptionIndex]:
    """The index per group from additive sums over its respondents, as
    scoring.perception_index_from_sums computes it from the respondents' rows.

    Per group: n respondents with a rating, N_d = sum_r C_rd and T_d = sum_r S_rd (groups x 6),
    and the 6 x 6 sums of products SS_de = sum_r S_rd S_re, SC_de = sum_r S_rd C_re,
    CC_de = sum_r C_rd C_re. With m_d = T_d / N_d and a_d = w'_d / N_d, the linearisation's
    sum_r u_r^2 = sum_de a_d a_e (SS_de - m_e SC_de - m_d SC_ed + m_d m_e CC_de), since
    u_r = sum_d a_d (S_rd - m_d C_rd). Keys are the labels (a tuple for the measure's key)."""

    from scoring.index import FEEDBACK_DIMENSIONS, _weights

    n_dims = counts.shape[1]
    w = _weights(weights, n_dims)
    has = counts > 0
    w_g = np.where(has, w[None, :], 0.0)
    total = w_g.sum(axis=1, keepdims=True)
    w_norm = w_g / np.where(total > 0, total, 1.0)
    m = np.where(has, sums / np.where(has, counts, 1.0), 0.0)
    a = w_norm / np.where(has, counts, 1.0)
    msc = sc * m[:, None, :]
    v = ss - msc - msc.transpose(0, 2, 1) + m[:, :, None] * cc * m[:, None, :]
    squares = np.maximum(np.einsum("gd,gde,ge->g", a, v, a), 0.0)
    out: dict[Hashable, PerceptionIndex] = {}
    for g, label in enumerate(labels):
        out[label] = index_of_group(
            label if isinstance(label, tuple) else (label,), int(round(float(respondents[g]))),
            w_norm[g], counts[g], m[g], float(squares[g]), FEEDBACK_DIMENSIONS,
            confidence=confidence, min_n=min_n,
        )  # fmt: skip
    return out


def _square(flat: np.ndarray, symmetric: bool) -> np.ndarray:
    """Rows of the stored products (upper triangle or every pair) as groups x 6 x 6 matrices."""
    k = len(DIMENSION_CODES)
    out = np.zeros((flat.shape[0], k, k))
    at = 0
    for d in range(k):
        for e in range(d if symmetric else 0, k):
            out[:, d, e] = flat[:, at]
            if symmetric:
                out[:, e, d] = flat[:, at]
            at += 1
    return out


def _index_from_rollup(
    session: Session,
    filters: AnalysisFilters,
    by: tuple[str, ...],
    voice: str,
    grain: str,
    weights: dict[str, float] | None,
    min_n: int,
    loose: _Loose,
    minus: _Loose | None = None,
) -> dict[Hashable, PerceptionIndex]:
    """One grouping from the pre-aggregated index sums plus the rows per respondent merged per
    respondent (``loose``: the respondents who span cells, and the facts' from a split on), less
    what the respondents of ``minus`` added to their cell's sums (_index_from_sums)."""
    from perception.analysis.models import (
        INDEX_MOMENTS,
        INDEX_SUMS,
        experience_index_rollup,
    )
    from perception.analysis.services.rollup import ALL_REGIONS, ALL_SERVICES, BY_SERVICE, has_all_regions

    roll = experience_index_rollup.c
    per_service = "service" in by or filters.service_id is not None or filters.tier_id is not None
    level = BY_SERVICE if per_service else ALL_SERVICES
    if (
        per_service
        and "region" not in by
        and filters.region_ids is None
        and filters.tier_id is None
        and has_all_regions(session)
    ):  # per service over every region: summed over regions and tiers (issue 19)
        level = ALL_REGIONS
    sources = [str(s) for s in VOICES[voice]]
    key_of = {"region": "region_id", "service": "service_id", "period": "period_start"}
    keys = [roll[key_of[name]] for name in by]
    stmt = (
        select(*keys, func.sum(roll.respondents), *(func.sum(roll[c]) for c in INDEX_SUMS + INDEX_MOMENTS))
        .where(
            roll.level == level,
            roll.source.in_(sources),
            *where_facts(experience_index_rollup.c, filters),
        )
        .group_by(*keys)
    )
    tune_for_aggregation(session)
    cell_rows = session.execute(stmt).all()
    n_dims = len(DIMENSION_CODES)
    width = len(by)

    def label(values: Sequence[Any]) -> Hashable:
        found = []
        for name, value in zip(by, values, strict=True):
            if name == "period" and grain == "month":
                value = value.replace(day=1)
            found.append(_label(name, -1 if name == "service" and value is None else value))
        return () if not by else (found[0] if len(by) == 1 else tuple(found))

    groups: dict[Hashable, np.ndarray] = {}
    for row in cell_rows:
        stats_row = np.array([0.0 if v is None else float(v) for v in row[width:]])
        key = label(row[:width])
        groups[key] = groups[key] + stats_row if key in groups else stats_row
    if minus is not None and len(minus):
        labels, in_group = minus.groups(by, grain)
        taken = _summed_rows(_moments(minus.vectors), in_group, len(labels))
        for g, key in enumerate(labels):
            groups[key] = groups[key] - taken[g] if key in groups else -taken[g]  # (it is there)
    if len(loose):
        # Merged per group and respondent, then their sums and products.
        labels, in_group = loose.groups(by, grain)
        respondents = int(loose.respondents().max()) + 1
        each, row_of = np.unique(in_group * respondents + loose.respondents(), return_inverse=True)
        merged = _summed_rows(loose.vectors, row_of.reshape(-1), len(each))
        added = _summed_rows(_moments(merged), each // respondents, len(labels))
        for g, key in enumerate(labels):
            groups[key] = groups[key] + added[g] if key in groups else added[g]
    groups = {k: v for k, v in groups.items() if v[0] > 0}
    if not groups:
        return {}
    labels = sorted(groups, key=repr)
    data = np.array([groups[k] for k in labels])
    n_upper = n_dims * (n_dims + 1) // 2
    at = 1 + 2 * n_dims
    ss = _square(data[:, at : at + n_upper], True)
    sc = _square(data[:, at + n_upper : at + n_upper + n_dims * n_dims], False)
    cc = _square(data[:, at + n_upper + n_dims * n_dims :], True)
    return index_from_moments(
        labels,
        data[:, 0],
        data[:, 1 : 1 + n_dims],
        data[:, 1 + n_dims : at],
        ss,
        sc,
        cc,
        weights=weights,
        min_n=min_n,
    )


def _summed_rows(values: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    """The rows of ``values`` summed per ``index`` (0 <= index < n): np.add.at's sums to the bit
    (each group's rows added in row order), a column at a time (np.add.at on rows took 0.2 s for a
    late callback's 22,000 respondents at a national provider's size, in four groupings)."""
    out = np.zeros((n, values.shape[1]))
    for column in range(values.shape[1]):
        out[:, column] = np.bincount(index, weights=values[:, column], minlength=n)
    return out


def _group_codes(
    keys: Mapping[str, np.ndarray], by: Sequence[str], n: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """One code per row for the groups of ``by`` (the key columns ``keys``, ``n`` rows), and each
    column's distinct values in the codes' order."""
    group = np.zeros(n, dtype=np.int64)
    uniques = []
    for name in by:
        distinct, codes = np.unique(keys[name], return_inverse=True)
        uniques.append(distinct)
        group = group * len(distinct) + codes.reshape(-1)
    return group, uniques
