"""Experience analysis: the six feedback dimensions (overall and region x dimension), SERVQUAL gaps,
importance-performance quadrants and key drivers of overall satisfaction.

Two voices are kept apart (issue 14), as the perception index keeps them (perception_index.VOICES):
the dimension means, the heat map, importance-performance and the key drivers are the customers' own
answers (surveys, phone callbacks, sampling), the headline; the collectors' weekly-report ratings
(source "feedback") are a second set of dimension means and heat-map cells with their own n, shown
apart and never mixed in. Dimension means and the heat map come from the set-based aggregate
(services.facts.aggregate) restricted to one voice's sources, read from the pre-aggregated weekly
sums while they are current (services.rollup keeps the source).

SERVQUAL gaps are paired per respondent and item in SQL (perception minus expectation), then summed
per item and per dimension, so their t intervals need no per-respondent rows in Python; where
respondents gave importance points, the weighted gap comes from services.servqual_weights. Importance-
performance and key drivers need the respondent x dimension matrix with the overall CSAT answer:
it is pivoted in SQL for at most ``DRIVER_SAMPLE`` respondents (the newest), and the page says so;
while the per-respondent table matches the facts (wholly, or before its split: the current week's
respondents are then grouped from the facts), those respondents are read from one row each, sorted
by week (services.respondents: an index range scan instead of grouping the last weeks' scattered
facts).
Respondents rate the dimensions that concern them (nobody in the demo rates all six), so drivers use
what people answer: pairwise-complete correlations (scoring.drivers, ``missing="pairwise"``) over
the dimensions with at least ``DRIVER_MIN_PAIRS`` respondents behind every correlation they enter,
relative weights with seeded percentile-bootstrap intervals (``DRIVER_BOOT`` resamples of the
respondents); the dimensions left out are named with their n.

The view is kept while the facts and names are unchanged (issue 19: every load computed it again,
0.7-0.9 s at a tenth of a national provider's size, most of it the drivers' bootstrap and the
reliability over 20,000 respondents): under the write counter of the manager's headline
(perception.kpi.services.data_version.HEADLINE), in the process and in the database for every
worker (perception.core.kept), keyed by the filters (which carry the user's scope) and by which of
the facts or their weekly sums it was read from; a view over the transaction's own uncommitted
answers is kept for that transaction alone.

Public API: ``experience(session, filters, *, use_rollup=True) -> ExperienceView`` (``use_rollup``:
the ANALYSIS_ROLLUP setting, see services.facts.aggregate: the dimension means, heat map and CES;
and services.respondents: the drivers' and the reliability's samples); ``computed_experience``
(the same, computed now); ``forget_kept()``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from perception.analysis.services.facts import (
    DIMENSION_CODES,
    DIMENSION_KINDS,
    Acc,
    aggregate,
    dimension_acc,
    dimension_measure,
    kind_total,
    newest_respondent_rows,
    rollup,
)
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.analysis.services.names import load_names
from perception.analysis.services.perception_index import VOICES
from perception.analysis.services.reliability import ScaleReliability, scale_reliability
from perception.analysis.services.respondents import newest_respondents, respondents_reading
from perception.analysis.services.servqual_weights import ServqualWeighting, servqual_weighting
from perception.core.kept import Kept
from perception.core.models.base import utcnow
from perception.core.models.facts import ExperienceObservation as Obs
from scoring import (
    GroupMeasure,
    IpaResult,
    KeyDriverResult,
    importance_performance,
    key_drivers,
    mean_from_stats,
)
from scoring.results import to_jsonable

DRIVER_SAMPLE = 20_000
DRIVER_MIN_PAIRS = 30  # respondents behind each correlation a dimension enters
DRIVER_BOOT = 200
DRIVER_SEED = 14
PERCEPTION, EXPECTATION = "servqual_perception", "servqual_expectation"
HEADLINE_VOICE = "customers"  # the figures the page leads with; "reports" is shown apart


def voice_sources(voice: str) -> list[str]:
    """The ExperienceObservation sources of one voice (perception_index.VOICES)."""
    return [str(s) for s in VOICES[voice]]


@dataclass(frozen=True)
class GapRow:
    """Mean paired gap P - E of an item, a dimension or overall, with its t interval."""

    level: str  # item | dimension | overall
    name: str
    dimension: str
    n: int
    perception: float
    expectation: float
    gap: GroupMeasure


@dataclass(frozen=True)
class ExperienceView:
    filters: AnalysisFilters
    #: The six, in order: customers' answers only (VOICES["customers"]).
    dimensions: tuple[tuple[str, GroupMeasure | None], ...]
    #: The regions with a rating of either voice, by code: (id, code, zh, en).
    heat_regions: tuple[tuple[int, str, str, str], ...]
    heat: tuple[tuple[float, ...], ...]  # region x dimension mean of customers' answers (nan: none)
    heat_n: tuple[tuple[int, ...], ...]
    servqual: tuple[GapRow, ...]
    ipa: IpaResult | None
    drivers: KeyDriverResult | None
    driver_respondents: int  # respondents used (an overall answer and at least one dimension)
    driver_overall: str  # the overall rating explained: csat or nps
    driver_capped: bool  # True when more respondents existed than DRIVER_SAMPLE
    notes: tuple[str, ...]
    reliability: tuple[ScaleReliability, ...] = ()
    driver_left_out: tuple[tuple[str, int], ...] = ()  # (dimension, respondents rating it with the overall)
    servqual_weighting: ServqualWeighting | None = None  # None: no importance weights asked/given
    #: Customer effort: the mean of the customers' CES answers with its t interval, the overview's
    #: figure (overview.ces_measure), shown here too because effort is where a reader of the
    #: experience page looks for it (issue 14: "CES is shown nowhere").
    ces: GroupMeasure | None = None
    #: The collectors' weekly-report ratings (VOICES["reports"]), shown apart: the six dimensions'
    #: means and the region x dimension means over ``heat_regions``, each with its own n.
    reports_dimensions: tuple[tuple[str, GroupMeasure | None], ...] = ()
    reports_heat: tuple[tuple[float, ...], ...] = ()
    reports_heat_n: tuple[tuple[int, ...], ...] = ()
    #: When the view was computed (UTC): it is kept until the answers or the names change.
    computed_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out = to_jsonable(
            {
                "voices": {
                    "headline": HEADLINE_VOICE,
                    **{voice: voice_sources(voice) for voice in VOICES},
                },
                "dimensions": [{"dimension": d, "measure": m} for d, m in self.dimensions],
                "reports_dimensions": [{"dimension": d, "measure": m} for d, m in self.reports_dimensions],
                "heat": {
                    "regions": [
                        {"id": r[0], "code": r[1], "name_zh": r[2], "name_en": r[3]}
                        for r in self.heat_regions
                    ],
                    "dimensions": list(DIMENSION_CODES),
                    "means": self.heat,
                    "n": self.heat_n,
                    "reports_means": self.reports_heat,
                    "reports_n": self.reports_heat_n,
                },
                "servqual": self.servqual,
                "servqual_weighting": self.servqual_weighting,
                "ipa": self.ipa,
                "drivers": self.drivers,
                "driver_respondents": self.driver_respondents,
                "driver_overall": self.driver_overall,
                "driver_capped": self.driver_capped,
                "driver_left_out": [{"dimension": d, "n": n} for d, n in self.driver_left_out],
                "notes": self.notes,
                "reliability": self.reliability,
                "ces": self.ces,
            }
        )
        out["filters"] = self.filters.to_dict()
        return out


def _gap(level: str, name: str, dim: str, n: int, s: float, ss: float, p: float, e: float) -> GapRow:
    acc = Acc(n=n, s=s, ss=ss)
    sd = acc.sd if n > 1 else math.nan
    return GapRow(level, name, dim, n, p, e, mean_from_stats(acc.mean, sd, n, key=(name,), measure="gap"))


def servqual_rows(session: Session, filters: AnalysisFilters) -> list[GapRow]:
    """SERVQUAL gaps by item, dimension and overall (unweighted), as scoring.servqual_gaps defines
    them: item gap = mean over respondents of P - E; dimension gap = mean over respondents of the
    mean of their item gaps in the dimension; overall = mean over respondents of the mean of their
    dimension gaps; paired t intervals (Parasuraman, Zeithaml & Berry 1988)."""
    where = [*where_facts(Obs, filters), Obs.kind.in_((PERCEPTION, EXPECTATION)), Obs.item.is_not(None)]
    pair = (
        select(
            Obs.source.label("source"),
            Obs.source_id.label("sid"),
            Obs.servqual_dimension.label("dim"),
            Obs.item.label("item"),
            func.max(case((Obs.kind == PERCEPTION, Obs.value))).label("p"),
            func.max(case((Obs.kind == EXPECTATION, Obs.value))).label("e"),
        )
        .where(*where)
        .group_by(Obs.source, Obs.source_id, Obs.servqual_dimension, Obs.item)
        .subquery()
    )
    both = and_(pair.c.p.is_not(None), pair.c.e.is_not(None))
    g = pair.c.p - pair.c.e
    rows: list[GapRow] = []
    items = session.execute(
        select(
            pair.c.dim,
            pair.c.item,
            func.count(),
            func.sum(g),
            func.sum(g * g),
            func.avg(pair.c.p),
            func.avg(pair.c.e),
        )
        .where(both)
        .group_by(pair.c.dim, pair.c.item)
        .order_by(pair.c.dim, pair.c.item)
    )
    for dim, item, n, s, ss, p, e in items:
        rows.append(_gap("item", item, dim or "", int(n), float(s), float(ss), float(p), float(e)))
    per_dim = (
        select(
            pair.c.source,
            pair.c.sid,
            pair.c.dim,
            func.avg(g).label("g"),
            func.avg(pair.c.p).label("p"),
            func.avg(pair.c.e).label("e"),
        )
        .where(both)
        .group_by(pair.c.source, pair.c.sid, pair.c.dim)
        .subquery()
    )
    dims = session.execute(
        select(
            per_dim.c.dim,
            func.count(),
            func.sum(per_dim.c.g),
            func.sum(per_dim.c.g * per_dim.c.g),
            func.avg(per_dim.c.p),
            func.avg(per_dim.c.e),
        )
        .group_by(per_dim.c.dim)
        .order_by(per_dim.c.dim)
    )
    for dim, n, s, ss, p, e in dims:
        rows.append(_gap("dimension", dim or "", dim or "", int(n), float(s), float(ss), float(p), float(e)))
    per_resp = (
        select(
            func.avg(per_dim.c.g).label("g"),
            func.avg(per_dim.c.p).label("p"),
            func.avg(per_dim.c.e).label("e"),
        )
        .group_by(per_dim.c.source, per_dim.c.sid)
        .subquery()
    )
    n, s, ss, p, e = session.execute(
        select(
            func.count(),
            func.sum(per_resp.c.g),
            func.sum(per_resp.c.g * per_resp.c.g),
            func.avg(per_resp.c.p),
            func.avg(per_resp.c.e),
        )
    ).one()
    if n:
        rows.append(_gap("overall", "unweighted", "overall", int(n), float(s), float(ss), float(p), float(e)))
    return rows


def driver_matrix(
    session: Session,
    filters: AnalysisFilters,
    limit: int = DRIVER_SAMPLE,
    overall_kind: str = "csat",
    *,
    use_rollup: bool = False,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Respondents x six dimensions ratings and their overall answer of ``overall_kind`` (csat or
    nps; NaN when unanswered), for the newest ``limit`` respondents of the customers' voice
    (VOICES["customers"]) who gave one; and whether the sample was capped. ``use_rollup``: read
    the per-respondent table (services.respondents) while it matches the facts, wholly or before its
    split (the same rows)."""
    table = respondents_reading(session) if use_rollup else None
    if table is not None and table.usable:
        found = newest_respondents(
            session,
            filters,
            limit + 1,
            overall=overall_kind,
            sources=voice_sources(HEADLINE_VOICE),
            facts_from=table.facts_from,
        )
        return _driver_arrays(found, limit)
    columns = [
        func.max(case((and_(Obs.kind.in_(DIMENSION_KINDS), Obs.dimension == d), Obs.value)))
        for d in DIMENSION_CODES
    ]
    overall = func.max(case((Obs.kind == overall_kind, Obs.value)))
    where = [
        *where_facts(Obs, filters),
        Obs.kind.in_((*DIMENSION_KINDS, overall_kind)),
        Obs.source.in_(voice_sources(HEADLINE_VOICE)),
    ]

    def build(restrict: Any) -> Any:
        return (
            select(*columns, overall)
            .where(*where, *([] if restrict is None else [restrict]))
            .group_by(Obs.source, Obs.source_id)
            .having(overall.is_not(None))
            .order_by(func.max(Obs.period_start).desc(), Obs.source, Obs.source_id)
            .limit(limit + 1)
        )

    return _driver_arrays(newest_respondent_rows(session, filters, where, build, limit + 1), limit)


def _driver_arrays(rows: list[Any], limit: int) -> tuple[np.ndarray, np.ndarray, bool]:
    capped = len(rows) > limit
    # NumPy reads None as NaN for a float array, as "not rated" or "not answered".
    data = np.array([tuple(r) for r in rows[:limit]], dtype=float)
    if data.size == 0:
        return np.empty((0, len(DIMENSION_CODES))), np.empty(0), False
    return data[:, :-1], data[:, -1], capped


def driver_dimensions(x: np.ndarray, y: np.ndarray, min_pairs: int = DRIVER_MIN_PAIRS) -> list[int]:
    """Columns of ``x`` that enter the drivers: each rated with the overall answer by at least
    ``min_pairs`` respondents, and each pair of them rated together by as many; while a pair falls
    short, the dimension with fewer answers leaves (ties: the later one)."""
    if len(y) == 0:
        return []
    has = ~np.isnan(x)
    with_y = has & ~np.isnan(y)[:, None]
    keep = [j for j in range(x.shape[1]) if int(with_y[:, j].sum()) >= min_pairs]
    counts = with_y.sum(axis=0)
    while True:
        short = [
            (i, j)
            for a, i in enumerate(keep)
            for j in keep[a + 1 :]
            if int((with_y[:, i] & with_y[:, j]).sum()) < min_pairs
        ]
        if not short:
            return keep
        i, j = short[0]
        keep.remove(j if counts[j] <= counts[i] else i)


def _voice_cells(
    session: Session, filters: AnalysisFilters, voice: str, use_rollup: bool = True
) -> tuple[dict[Any, dict[tuple[str, str | None], Acc]], dict[Any, dict[tuple[str, str | None], Acc]]]:
    """One voice's dimension ratings: (overall, by region) sums per (kind, dimension)."""
    # Grouped by region only (not per service and week): the page shows totals and regions, so
    # the pre-aggregate's level summed over services serves it (services.facts.aggregate).
    cells = aggregate(
        session,
        filters,
        kinds=DIMENSION_KINDS,
        sources=voice_sources(voice),
        use_rollup=use_rollup,
        by=("region",),
    )
    return rollup(cells), rollup(cells, ("region",))


def _means(
    total: dict[Any, dict[tuple[str, str | None], Acc]],
) -> tuple[tuple[str, GroupMeasure | None], ...]:
    parts = total.get((), {})
    return tuple((d, dimension_measure(dimension_acc(parts, d), (d,))) for d in DIMENSION_CODES)


def _heat(
    by_region: dict[Any, dict[tuple[str, str | None], Acc]], region_ids: list[int]
) -> tuple[tuple[tuple[float, ...], ...], tuple[tuple[int, ...], ...]]:
    accs = [[dimension_acc(by_region.get(r, {}), d) for d in DIMENSION_CODES] for r in region_ids]
    return tuple(tuple(a.mean for a in row) for row in accs), tuple(tuple(a.n for a in row) for row in accs)


def _may_have_servqual(session: Session, filters: AnalysisFilters, use_rollup: bool) -> bool:
    """False when the current pre-aggregate shows no SERVQUAL answer in the selection: the gap
    query then has nothing to pair, and skipping it saves a scan of the period's facts (no index
    leads to a kind). True when unknown (no usable sums, a customer filter)."""
    from perception.analysis.services.rollup import rollup_reading

    # The sums read through their split (services.facts.aggregate) give the facts' figures.
    if not use_rollup or filters.customer_id is not None or not rollup_reading(session).usable:
        return True
    return len(aggregate(session, filters, kinds=(PERCEPTION, EXPECTATION), by=())) > 0


#: Views kept per process (module docstring): a national provider's is some 30 kB of JSON.
KEPT_VIEWS = 16
_kept: Kept[ExperienceView] = Kept("analysis_experience", ExperienceView, entries=KEPT_VIEWS, own_writes=True)


def experience(session: Session, filters: AnalysisFilters, *, use_rollup: bool = True) -> ExperienceView:
    """``computed_experience``, kept while the facts and names are unchanged (module docstring)."""
    from perception.analysis.services.rollup import rollup_reading
    from perception.kpi.services.data_version import HEADLINE, read_version

    # Which of the facts or their sums the view is read from (the same figures) is in the key, so
    # a comparison of the two paths compares two computations. The sums and the respondents' table
    # are read wholly or through their split (services.freshness), the same figures either way.
    read = (
        use_rollup and rollup_reading(session).usable,
        use_rollup and respondents_reading(session).usable,
    )

    def compute() -> ExperienceView:
        computed_at = utcnow()
        return replace(computed_experience(session, filters, use_rollup=use_rollup), computed_at=computed_at)

    return _kept.get(
        session,
        {"filters": filters, "rollup": read},
        read_version(session, HEADLINE),
        compute,
    )


def forget_kept() -> None:
    """Drop the views kept in this process (tests, benchmarks); the stored rows stay."""
    _kept.forget()


def computed_experience(
    session: Session, filters: AnalysisFilters, *, use_rollup: bool = True
) -> ExperienceView:
    """The page's view computed now (experience keeps it)."""
    names = load_names(session, customers=False)
    total, by_region = _voice_cells(session, filters, HEADLINE_VOICE, use_rollup)
    reports_total, reports_by_region = _voice_cells(session, filters, "reports", use_rollup)
    effort = rollup(aggregate(session, filters, kinds=("ces",), use_rollup=use_rollup, by=())).get((), {})
    dimensions = _means(total)
    ids = {int(r) for r in (*by_region, *reports_by_region)}
    regions = sorted((names.region(r) for r in ids), key=lambda r: r.code)
    heat, heat_n = _heat(by_region, [r.id for r in regions])
    reports_heat, reports_heat_n = _heat(reports_by_region, [r.id for r in regions])
    notes: list[str] = []
    # The overall rating the drivers explain: CSAT, or NPS where it lets more dimensions in (e.g. a
    # relationship survey asks NPS and the dimensions).
    best: tuple[tuple[int, int], str, np.ndarray, np.ndarray, bool, list[int]] | None = None
    for kind in ("csat", "nps"):
        x_k, y_k, capped_k = driver_matrix(session, filters, overall_kind=kind, use_rollup=use_rollup)
        keep = driver_dimensions(x_k, y_k)
        used = int(((~np.isnan(x_k[:, keep])).any(axis=1) & ~np.isnan(y_k)).sum()) if keep else 0
        if best is None or (len(keep), used) > best[0]:
            best = ((len(keep), used), kind, x_k, y_k, capped_k, keep)
    assert best is not None
    (_, complete), overall_kind, x, y, capped, keep = best
    answered = (~np.isnan(x)) & ~np.isnan(y)[:, None] if len(y) else np.zeros((0, len(DIMENSION_CODES)), bool)
    left_out = tuple((d, int(answered[:, j].sum())) for j, d in enumerate(DIMENSION_CODES) if j not in keep)
    ipa: IpaResult | None = None
    drivers: KeyDriverResult | None = None
    if len(keep) >= 2:
        dims = [DIMENSION_CODES[j] for j in keep]
        try:
            # A dimension everybody rated the same has no correlation; numpy warns, we report it.
            with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                ipa = importance_performance(x[:, keep], y, dims, missing="pairwise")
                drivers = key_drivers(
                    x[:, keep], y, dims, missing="pairwise", n_boot=DRIVER_BOOT, seed=DRIVER_SEED
                )
        except (ValueError, np.linalg.LinAlgError) as exc:
            notes.append(f"drivers: {exc}")
    else:
        notes.append("drivers: too few responses with an overall rating and two dimensions")
    gaps = tuple(servqual_rows(session, filters)) if _may_have_servqual(session, filters, use_rollup) else ()
    return ExperienceView(
        filters=filters,
        dimensions=dimensions,
        heat_regions=tuple((r.id, r.code, r.name_zh, r.name_en) for r in regions),
        heat=heat,
        heat_n=heat_n,
        servqual=gaps,
        servqual_weighting=servqual_weighting(session, filters) if gaps else None,
        ipa=ipa,
        drivers=drivers,
        driver_respondents=complete,
        driver_overall=overall_kind,
        driver_capped=capped,
        driver_left_out=left_out,
        notes=tuple(notes),
        reliability=scale_reliability(session, filters, use_rollup=use_rollup),
        ces=dimension_measure(kind_total(effort, "ces"), measure="ces"),
        reports_dimensions=_means(reports_total),
        reports_heat=reports_heat,
        reports_heat_n=reports_heat_n,
    )
