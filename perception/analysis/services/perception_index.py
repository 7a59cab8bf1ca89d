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
from scoring.index import PerceptionIndex, perception_index_from_sums

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
) -> dict[Hashable, PerceptionIndex]:
    """The index of one ``voice`` per value of the ``by`` columns (keys as services.facts.rollup:
    () for none, the value for one column, a tuple for several; periods as dates, the first of
    the month with ``grain="month"``). Groups without ratings are absent."""
    return index_by_groups(
        session, filters, (tuple(by),), voice=voice, grain=grain, weights=weights, min_n=min_n
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
) -> list[dict[Hashable, PerceptionIndex]]:
    """``index_by`` for several groupings (e.g. everything, per region, per service, per week) from
    ONE query: a row per respondent and region x service x period with its count and sum of
    rescaled ratings per dimension (six pairs of columns), which each grouping merges per
    respondent with NumPy. A page of four groupings reads the facts once, and the rows it reads
    are respondents, not ratings."""
    if voice not in VOICES:
        raise ValueError(f"unknown voice {voice!r}")
    for by in groupings:
        if set(by) - set(BY_COLUMNS):
            raise ValueError(f"cannot group the index by {sorted(set(by) - set(BY_COLUMNS))}")
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
