"""Weighted SERVQUAL for the experience page: each respondent's gap weighted by the importance points
they gave the SERVQUAL dimensions ("importance" facts: a constant-sum question, or the number
questions of servqual version 1), as ``scoring.weighted_servqual`` defines it.

Two queries whatever the number of respondents: the respondent x dimension means of the paired
perception and expectation ratings (the pairing of ``experience.servqual_rows``), and the
respondent x dimension points. Respondents without points are left out of the weighted gap and
counted, never given others' weights. No importance fact in the selection: the weights were not
asked, and the page says so.

Public API: ``servqual_weighting(session, filters) -> ServqualWeighting | None``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.core.models.facts import ExperienceObservation as Obs
from scoring import DimensionWeight, GapEstimate, GroupMeasure, weighted_servqual
from surveys import ServqualDimension

PERCEPTION, EXPECTATION, IMPORTANCE = "servqual_perception", "servqual_expectation", "importance"
ORDER = [d.value for d in ServqualDimension]


@dataclass(frozen=True)
class WeightedGapRow:
    """An overall gap (weighted or unweighted) over the respondents who gave weights."""

    name: str  # weighted | unweighted
    n: int
    perception: float
    expectation: float
    gap: GroupMeasure


@dataclass(frozen=True)
class ServqualWeighting:
    weighted: WeightedGapRow
    unweighted: WeightedGapRow  # the same respondents, each dimension counting equally
    weights: tuple[DimensionWeight, ...]  # mean points of 100 per dimension
    left_out: int  # respondents with a gap and no usable weights
    confidence: float


def gap_row(estimate: GapEstimate, confidence: float) -> WeightedGapRow:
    measure = GroupMeasure(
        key=(estimate.name,),
        measure="gap",
        n=estimate.n,
        estimate=estimate.gap,
        ci_low=estimate.ci_low,
        ci_high=estimate.ci_high,
        confidence=confidence,
        method="t",
        low_sample=estimate.low_sample,
    )
    return WeightedGapRow(estimate.name, estimate.n, estimate.perception, estimate.expectation, measure)


def servqual_weighting(session: Session, filters: AnalysisFilters) -> ServqualWeighting | None:
    """The weighted SERVQUAL gap with each respondent's own weights; None when nobody in the
    selection gave importance points (weights not asked)."""
    where = where_facts(Obs, filters)
    points = session.execute(
        select(Obs.source, Obs.source_id, Obs.servqual_dimension, func.sum(Obs.value))
        .where(*where, Obs.kind == IMPORTANCE, Obs.servqual_dimension.is_not(None))
        .group_by(Obs.source, Obs.source_id, Obs.servqual_dimension)
    ).all()
    if not points:
        return None
    pair = (
        select(
            Obs.source.label("source"),
            Obs.source_id.label("sid"),
            Obs.servqual_dimension.label("dim"),
            func.max(case((Obs.kind == PERCEPTION, Obs.value))).label("p"),
            func.max(case((Obs.kind == EXPECTATION, Obs.value))).label("e"),
        )
        .where(*where, Obs.kind.in_((PERCEPTION, EXPECTATION)), Obs.item.is_not(None))
        .group_by(Obs.source, Obs.source_id, Obs.servqual_dimension, Obs.item)
        .subquery()
    )
    gaps = session.execute(
        select(pair.c.source, pair.c.sid, pair.c.dim, func.avg(pair.c.p), func.avg(pair.c.e))
        .where(and_(pair.c.p.is_not(None), pair.c.e.is_not(None)), pair.c.dim.is_not(None))
        .group_by(pair.c.source, pair.c.sid, pair.c.dim)
    ).all()
    seen = {str(d) for *_, d, _v in points} | {str(d) for _s, _i, d, _p, _e in gaps}
    dims = [d for d in ORDER if d in seen] + sorted(seen - set(ORDER))
    column = {d: j for j, d in enumerate(dims)}
    who: dict[tuple[str, int], int] = {}
    for source, sid, *_ in (*points, *gaps):
        who.setdefault((str(source), int(sid)), len(who))
    shape = (len(who), len(dims))
    p, e, w = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    for source, sid, dim, perceived, expected in gaps:
        r, j = who[(str(source), int(sid))], column[str(dim)]
        p[r, j], e[r, j] = float(perceived), float(expected)
    for source, sid, dim, value in points:
        w[who[(str(source), int(sid))], column[str(dim)]] = float(value)
    result = weighted_servqual(p, e, w, dims)
    return ServqualWeighting(
        weighted=gap_row(result.weighted, result.confidence),
        unweighted=gap_row(result.unweighted, result.confidence),
        weights=result.weights,
        left_out=result.left_out,
        confidence=result.confidence,
    )
