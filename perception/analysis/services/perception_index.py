"""The perception index with what it is made of, the respondents behind it and its exact
interval, per group (everything, region, service, week or month), for one voice at a time.

Two voices are kept apart (issue 14): the customers' own answers (surveys, phone callbacks,
sampling) make the headline index; the collectors' weekly-report ratings (the feedback entries
of the weekly collection report) are a second index shown beside it, never mixed in.

One GROUP BY per respondent (source, source_id) and dimension returns the sum and count of the
rescaled ratings (0..100), so the interval can use each respondent's answers together
(scoring.perception_index_from_sums); the additive per-dimension sums of services.facts cannot.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace
from typing import Any, cast

import numpy as np
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from perception.analysis.services.facts import DIMENSION_CODES, DIMENSION_KINDS, tune_for_aggregation
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.core.models.facts import ExperienceObservation as Obs
from perception.core.models.facts import ExperienceSource
from perception.core.periods import month_start
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
    if voice not in VOICES:
        raise ValueError(f"unknown voice {voice!r}")
    cols = [BY_COLUMNS[b] for b in by]
    span = Obs.scale_max - Obs.scale_min
    y = case((span > 0, 100.0 * (Obs.value - Obs.scale_min) / span), else_=None)
    stmt = (
        select(
            Obs.source, Obs.source_id, *cols, Obs.dimension, func.count(y), func.coalesce(func.sum(y), 0.0)
        )
        .where(
            *where_facts(Obs, filters),
            Obs.kind.in_(DIMENSION_KINDS),
            Obs.dimension.in_(DIMENSION_CODES),
            Obs.source.in_([str(s) for s in VOICES[voice]]),
        )
        .group_by(Obs.source, Obs.source_id, *cols, Obs.dimension)
    )
    tune_for_aggregation(session)
    rows: list[Any] = list(session.execute(stmt).all())
    if not rows:
        return {}
    k = len(by)
    dim_at = {d: i for i, d in enumerate(DIMENSION_CODES)}

    def group_key(values: tuple[Any, ...]) -> Hashable:
        out = tuple(
            (month_start(v) if grain == "month" else v) if name == "period" else v
            for name, v in zip(by, values, strict=True)
        )
        return () if k == 0 else (out[0] if k == 1 else out)

    row_of: dict[tuple[Hashable, str, int], int] = {}
    keys: list[Hashable] = []
    cells: list[tuple[int, int, float, float]] = []
    for r in rows:
        key = group_key(tuple(r[2 : 2 + k]))
        respondent = (key, r[0], r[1])
        i = row_of.setdefault(respondent, len(row_of))
        if i == len(keys):
            keys.append(key)
        cells.append((i, dim_at[r[2 + k]], float(r[3 + k]), float(r[4 + k])))
    sums = np.zeros((len(keys), len(DIMENSION_CODES)))
    counts = np.zeros_like(sums)
    for i, d, count, total in cells:
        counts[i, d] += count
        sums[i, d] += total
    labels = sorted(set(keys), key=repr)
    code_of = {key: j for j, key in enumerate(labels)}
    results = perception_index_from_sums(
        sums, counts, np.array([code_of[key] for key in keys]), weights=weights, min_n=min_n
    )
    # group_index orders groups by their codes, which are the positions in ``labels``.
    out: dict[Hashable, PerceptionIndex] = {}
    for g in results:
        label = labels[int(cast(int, g.measure.key[0]))]
        key = label if isinstance(label, tuple) else (label,)
        out[label] = replace(g, measure=replace(g.measure, key=key))
    return out
