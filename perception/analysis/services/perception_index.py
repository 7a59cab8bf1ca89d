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
the same figures up to rounding, 1e-14 at a national provider's size).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace
from typing import Any, cast

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from perception.analysis.services.facts import DIMENSION_CODES, DIMENSION_KINDS, tune_for_aggregation
from perception.analysis.services.filters import AnalysisFilters, where_facts
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

    With ``use_rollup`` (the ANALYSIS_ROLLUP setting) and current pre-aggregated sums
    (services.rollup), no customer filter: each grouping is summed in SQL from the cells' sums
    and products (``index_from_moments``), without a row per respondent."""
    if voice not in VOICES:
        raise ValueError(f"unknown voice {voice!r}")
    for by in groupings:
        if set(by) - set(BY_COLUMNS):
            raise ValueError(f"cannot group the index by {sorted(set(by) - set(BY_COLUMNS))}")
    if use_rollup and filters.customer_id is None:
        from perception.analysis.services.rollup import rollup_usable

        if rollup_usable(session):
            return [
                _index_from_rollup(session, filters, by, voice, grain, weights, min_n) for by in groupings
            ]
    span = Obs.scale_max - Obs.scale_min
    per_dimension = []
    for code in DIMENSION_CODES:
        y = case(
            (and_(Obs.dimension == code, span > 0), 100.0 * (Obs.value - Obs.scale_min) / span), else_=None
        )
        per_dimension += [func.count(y), func.coalesce(func.sum(y), 0.0)]
    stmt = (
        select(
            Obs.source,
            Obs.source_id,
            Obs.region_id,
            func.coalesce(Obs.service_id, -1),
            Obs.period_start,
            *per_dimension,
        )
        .where(
            *where_facts(Obs, filters),
            Obs.kind.in_(DIMENSION_KINDS),
            Obs.dimension.in_(DIMENSION_CODES),
            Obs.source.in_([str(s) for s in VOICES[voice]]),
        )
        .group_by(Obs.source, Obs.source_id, Obs.region_id, Obs.service_id, Obs.period_start)
    )
    tune_for_aggregation(session)
    rows: list[Any] = list(session.execute(stmt).all())
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
        group = np.zeros(len(rows), dtype=np.int64)
        uniques = []
        for name in by:
            distinct, codes = np.unique(keys[name], return_inverse=True)
            uniques.append(distinct)
            group = group * len(distinct) + codes.reshape(-1)
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
) -> dict[Hashable, PerceptionIndex]:
    """One grouping from the pre-aggregated index sums plus the respondents who span cells."""
    from perception.analysis.models import (
        INDEX_MOMENTS,
        INDEX_SUMS,
        experience_index_rollup,
        experience_index_spanning,
    )
    from perception.analysis.services.rollup import ALL_REGIONS, ALL_SERVICES, BY_SERVICE, has_all_regions

    roll, span = experience_index_rollup.c, experience_index_spanning.c
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
    span_keys = [span[key_of[name]] for name in by]
    spanning = session.execute(
        select(span.source, span.source_id, *span_keys, *(span[c] for c in INDEX_SUMS)).where(
            span.source.in_(sources), *where_facts(experience_index_spanning.c, filters)
        )
    ).all()
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
    # Respondents across cells: merged per group and respondent, then their sums and products.
    merged: dict[tuple[Hashable, Any, Any], np.ndarray] = {}
    for row in spanning:
        key = (label(row[2 : 2 + width]), row[0], row[1])
        vector = np.array([float(v) for v in row[2 + width :]])
        merged[key] = merged[key] + vector if key in merged else vector
    for (key, _, _), vector in merged.items():
        c, t = vector[:n_dims], vector[n_dims:]
        upper = [(d, e) for d in range(n_dims) for e in range(d, n_dims)]
        every = [(d, e) for d in range(n_dims) for e in range(n_dims)]
        extra = np.concatenate(
            [
                [1.0 if (c > 0).any() else 0.0],
                c,
                t,
                [t[d] * t[e] for d, e in upper],
                [t[d] * c[e] for d, e in every],
                [c[d] * c[e] for d, e in upper],
            ]
        )
        groups[key] = groups[key] + extra if key in groups else extra
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
