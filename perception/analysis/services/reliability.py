"""Reliability of the multi-item dimension questionnaires: Cronbach's alpha of the dimension items
each questionnaire asks together, listwise (only respondents who answered all of them, as
``pingouin.cronbach_alpha(nan_policy="listwise")``; scoring.cronbach_alpha).

Respondents are grouped by the set of dimensions they rated (one set per questionnaire: the
anonymous six-dimension form asks five, the relationship survey four); each set of at least two
items answered by at least ``MIN_RESPONDENTS`` people gets its alpha with the Feldt interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from perception.analysis.services.facts import DIMENSION_CODES, DIMENSION_KINDS, newest_respondent_rows
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.analysis.services.respondents import newest_respondents, respondents_reading
from perception.core.models.facts import ExperienceObservation as Obs
from scoring.reliability import AlphaResult, cronbach_alpha

MIN_RESPONDENTS = 10
MAX_SETS = 3
SAMPLE = 20_000


@dataclass(frozen=True)
class ScaleReliability:
    dimensions: tuple[str, ...]  # the items, in DIMENSION_CODES order
    result: AlphaResult


def dimension_matrix(
    session: Session, filters: AnalysisFilters, limit: int = SAMPLE, *, use_rollup: bool = False
) -> np.ndarray:
    """Respondents x six dimensions (NaN: not rated) of the newest ``limit`` respondents.
    ``use_rollup``: read the per-respondent table (services.respondents) while it matches the facts,
    wholly or before its split (the same rows)."""
    table = respondents_reading(session) if use_rollup else None
    if table is not None and table.usable:
        return _matrix(newest_respondents(session, filters, limit, facts_from=table.facts_from))
    columns = [
        func.max(case((and_(Obs.kind.in_(DIMENSION_KINDS), Obs.dimension == d), Obs.value)))
        for d in DIMENSION_CODES
    ]
    where = [*where_facts(Obs, filters), Obs.kind.in_(DIMENSION_KINDS), Obs.dimension.is_not(None)]

    def build(restrict: Any) -> Any:
        return (
            select(*columns)
            .where(*where, *([] if restrict is None else [restrict]))
            .group_by(Obs.source, Obs.source_id)
            .order_by(func.max(Obs.period_start).desc(), Obs.source, Obs.source_id)
            .limit(limit)
        )

    # The newest respondents without grouping every respondent of the period (issue 19).
    return _matrix(newest_respondent_rows(session, filters, where, build, limit))


def _matrix(rows: list[Any]) -> np.ndarray:
    # NumPy reads None as NaN for a float array, as the ratings' "not rated".
    return np.array([tuple(r) for r in rows], dtype=float).reshape(-1, len(DIMENSION_CODES))


def answer_patterns(x: np.ndarray) -> list[tuple[tuple[bool, ...], int]]:
    """The sets of dimensions rated (a row's non-NaN columns) with their respondents, most frequent
    first and, among as frequent, in the order they first occur (as ``Counter.most_common``)."""
    if x.shape[0] == 0:
        return []
    present = ~np.isnan(x)
    patterns, first, counts = np.unique(present, axis=0, return_index=True, return_counts=True)
    order = sorted(range(len(counts)), key=lambda p: (-int(counts[p]), int(first[p])))
    return [(tuple(bool(v) for v in patterns[p]), int(counts[p])) for p in order]


def scale_reliability(
    session: Session, filters: AnalysisFilters, *, use_rollup: bool = False
) -> tuple[ScaleReliability, ...]:
    x = dimension_matrix(session, filters, use_rollup=use_rollup)
    out: list[ScaleReliability] = []
    for pattern, n in answer_patterns(x):
        if sum(pattern) < 2 or n < MIN_RESPONDENTS or len(out) == MAX_SETS:
            continue
        cols = [i for i, used in enumerate(pattern) if used]
        names = tuple(DIMENSION_CODES[i] for i in cols)
        complete = x[~np.isnan(x[:, cols]).any(axis=1)][:, cols]  # also those who rated more
        out.append(ScaleReliability(names, cronbach_alpha(complete, list(names))))
    return tuple(out)
