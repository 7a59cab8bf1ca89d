"""Internal KPI versus user experience, per service x region over the filter period: the four
quadrants, the watermelon list ranked by gap and evidence (scoring.compare_kpi_experience), the
rank correlation of KPI margin with experience gap across regions and over weeks, and the
lead/lag check for the watermelons. This is the page a manager opens every Monday.

Public API (also used by the review phase):
``kpi_vs_experience(session, filters, *, use_rollup=True) -> KpiExperienceView`` (``use_rollup``:
the ANALYSIS_ROLLUP setting, see services.facts.aggregate).
``kept_kpi_vs_experience(session, filters, *, use_rollup=True)``: the page's view, kept in the
process while the write counter of its data is the same; ``forget_kept()``.

KPI over the period: a ratio KPI is the n-weighted mean of its weekly values (tiers pooled the same
way); a percentile KPI (P50/P90 response or resolution time) is the percentile of the cell's tickets
over the period's weeks (and of each tier's, for the tier rule), from kpi.services.pooled, the
function the KPI page uses (one ticket load for the page, no query per cell; a mean of weekly
percentiles understates the period's, issue 14), falling back to the mean only when the tickets are
not in the database (imported KPI values). A percentile has no interval: its KPI side is never
evidenced ("kpi_without_interval"). Either is shown beside the strictest tier target of its latest
week. Met or not follows the one pooling rule of the
KPI page and the "standard missed" alert (scoring.attainment.pooled_met): a cell pooling tiers is
met only when every tier, over the period (its n-weighted mean against its own target of its
latest week), met its own target; the tiers that missed are the cell's breaches
(``CellComparison.kpi_breaches``), shown on the page, in the API and the export. Experience over
the period: the experience standard's measure from one set-based aggregate of the facts
(analysis_facts), against the target in force at the end; a target on one feedback dimension
with fewer than 30 ratings in a cell is not measurable yet (``experience_input``: never judged on
overall CSAT instead; ``CellView.experience_basis`` says what a cell was measured on).

Issue 19: the page, its chart and the home's headline (``over_time=False``) read the KPI side as
sums per cell and tier computed by the database (``kpi_cell_sums``: one row per cell and tier with
its latest week's target, instead of 2.6 million weekly rows for a national provider's year) and
the experience side per cell over the period (the running sums of the pre-aggregate,
services.experience_cumulative: two weeks' rows, and after answers of the current week the facts of
the weeks from their split on; after any other write, the facts summed by region and service), and
the weekly rows of the top watermelons only; ``cell_sums_from_rows`` gives the same sums from the
weekly rows the API and the review read anyway. The KPI running sums
come as columns (``cumulative_kpi_cells``: a KpiCellSums is built only for a cell pooling tiers)
and each experience target's sums for all its cells at once (facts.CellIndex.totals): the first
computation after a write costs what 10,000 cells' comparisons and views do, not an object per
series, tier and (kind, dimension) besides (tests/analysis/kve_reference.py gives the same
figures one cell at a time, the way before: tests/analysis/test_h19kve7_page_columns.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, overload

import numpy as np
from sqlalchemy import Float, and_, case, cast, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from perception.analysis.services.experience_cumulative import period_table
from perception.analysis.services.facts import (
    DIMENSION_KINDS,
    Acc,
    CellIndex,
    aggregate,
    dimension_acc,
    kind_total,
    tune_for_aggregation,
)
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.kpi_links import (
    ExperienceTarget,
    KpiLink,
    KpiRow,
    kpi_links,
    kpi_pairs,
    kpi_rows,
    pooled_target,
)
from perception.analysis.services.kpi_links import _kpi_where as kpi_where
from perception.analysis.services.names import Named, load_names
from perception.core.kept import Kept
from perception.core.models.base import utcnow
from perception.kpi.models import Granularity, KpiDefinition, KpiValue
from perception.kpi.services.kpi_cumulative import period_pairs
from perception.kpi.services.pooled import PERCENTILE_KPIS, pooled_percentiles
from scoring import (
    DEFAULT_MIN_N,
    CellComparison,
    ClassifiedCells,
    ComparisonCell,
    KpiExperienceCorrelations,
    LeadLagResult,
    classify_kpi_experience,
    lead_lag,
    margin,
)
from scoring.association import correlations_across_regions, rank_correlations
from scoring.comparison import KpiGroup
from scoring.results import to_jsonable

EXPERIENCE_KINDS = ("csat", "nps", "ces", "rating", "likert")
LEAD_LAG_MIN_WEEKS = 8
DIMENSION_MIN_N = DEFAULT_MIN_N
LEAD_LAG_CELLS = 5
NO_TIER = "-"  # the label of KPI rows kept without a tier beside tiered ones
SHARE_UNITS = ("share", "ratio", "percent", "%")  # a share of tickets: it has a Wilson interval


@dataclass(frozen=True)
class CellView:
    """One service x region x KPI cell with its comparison and the names to show."""

    kpi_code: str
    kpi_name_zh: str
    kpi_name_en: str
    service_id: int
    service_code: str
    service_name_zh: str
    service_name_en: str
    region_id: int
    region_code: str
    region_name_zh: str
    region_name_en: str
    experience_standard: str
    experience_metric: str
    experience_dimension: str | None
    weeks_with_kpi: int
    experience_basis: str  # "dimension:<code>", "overall_csat", "nps" or "ces"
    comparison: CellComparison
    #: (code, zh, en) of the tiers pooled into the KPI (comparison.kpi_groups are labelled by code)
    tier_names: tuple[tuple[str, str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kpi_code}|{self.service_code}|{self.region_code}"

    def tier_name(self, code: str, zh: bool) -> str:
        return next(((z if zh else e) for c, z, e in self.tier_names if c == code), code)


@dataclass(frozen=True)
class WatermelonCell:
    """One region x service cell where a KPI is met and the experience is not, with every KPI of
    the cell that is met (``kpis``, best evidenced first). ``lead`` is the row the cell is judged
    on: evidenced when any of its KPIs is evidenced on both sides under the multiplicity rule
    (scoring.compare_kpi_experience: n >= 30, interval excludes the target, BH q <= 5%, the KPI's
    own interval on the met side); otherwise a candidate with ``reason``."""

    service_id: int
    service_code: str
    service_name_zh: str
    service_name_en: str
    region_id: int
    region_code: str
    region_name_zh: str
    region_name_en: str
    kpis: tuple[CellView, ...]

    @property
    def lead(self) -> CellView:
        return self.kpis[0]

    @property
    def key(self) -> str:
        return f"{self.service_code}|{self.region_code}"

    @property
    def evidenced(self) -> bool:
        return self.lead.comparison.evidenced

    @property
    def reason(self) -> str:
        return self.lead.comparison.reason

    @property
    def n(self) -> int:
        return self.lead.comparison.n

    def to_dict(self) -> dict[str, Any]:
        c = self.lead.comparison
        return {
            "key": self.key,
            "service_id": self.service_id,
            "service_code": self.service_code,
            "service_name_zh": self.service_name_zh,
            "service_name_en": self.service_name_en,
            "region_id": self.region_id,
            "region_code": self.region_code,
            "region_name_zh": self.region_name_zh,
            "region_name_en": self.region_name_en,
            "evidenced": self.evidenced,
            "reason": self.reason,
            "n": self.n,
            "experience_estimate": c.experience_estimate,
            "experience_ci_low": c.experience_ci_low,
            "experience_ci_high": c.experience_ci_high,
            "experience_target": c.experience_target,
            "q_value": c.q_value,
            "kpis": [
                {
                    "kpi_code": k.kpi_code,
                    "kpi_name_zh": k.kpi_name_zh,
                    "kpi_name_en": k.kpi_name_en,
                    "kpi_value": k.comparison.kpi_value,
                    "kpi_target": k.comparison.kpi_target,
                    "kpi_ci_low": k.comparison.kpi_ci_low,
                    "kpi_ci_high": k.comparison.kpi_ci_high,
                    "evidenced": k.comparison.evidenced,
                    "reason": k.comparison.reason,
                }
                for k in self.kpis
            ],
        }


@dataclass(frozen=True)
class WatermelonCells:
    """The one definition of the watermelon list the page, the API, the review and the home use:
    ``evidenced`` cells (the headline counts them) and ``candidates`` with their reason."""

    evidenced: tuple[WatermelonCell, ...]
    candidates: tuple[WatermelonCell, ...]

    @property
    def headline(self) -> int:
        return len(self.evidenced)

    @property
    def all(self) -> tuple[WatermelonCell, ...]:
        return self.evidenced + self.candidates

    def to_dict(self) -> dict[str, Any]:
        return {
            "headline": self.headline,
            "evidenced": [c.to_dict() for c in self.evidenced],
            "candidates": [c.to_dict() for c in self.candidates],
        }


def watermelon_cells(view: KpiExperienceView) -> WatermelonCells:
    """Group the ranked per-KPI watermelons into region x service cells, each listed once with its
    KPIs (the rank order of ``view.watermelons`` is kept: evidenced first, largest shortfall)."""
    grouped: dict[tuple[int, int], list[CellView]] = {}
    for row in view.watermelons:
        grouped.setdefault((row.service_id, row.region_id), []).append(row)
    cells = [
        WatermelonCell(
            service_id=rows[0].service_id,
            service_code=rows[0].service_code,
            service_name_zh=rows[0].service_name_zh,
            service_name_en=rows[0].service_name_en,
            region_id=rows[0].region_id,
            region_code=rows[0].region_code,
            region_name_zh=rows[0].region_name_zh,
            region_name_en=rows[0].region_name_en,
            kpis=tuple(rows),
        )
        for rows in grouped.values()
    ]
    return WatermelonCells(
        evidenced=tuple(c for c in cells if c.evidenced),
        candidates=tuple(c for c in cells if not c.evidenced),
    )


@dataclass(frozen=True)
class Unmatched:
    """A KPI that could not be compared, and why (shown so a missing link is fixed in setup)."""

    kpi_code: str
    service_id: int
    reason: str
    kpi_name_zh: str = ""
    kpi_name_en: str = ""
    service_name_zh: str = ""
    service_name_en: str = ""
    region_name_zh: str = ""
    region_name_en: str = ""
    #: For a dimension standard not measurable yet: which collection would measure it, from the
    #: perception plan's active lines of the service in the region, as (zh, en) sentences.
    measured_by: tuple[tuple[str, str], ...] = ()


class PlanMeans:
    """The perception plan's active lines as (service, region or None) -> means, read once per
    comparison (a lookup per not-measurable cell grew the page's statements with its cells)."""

    def __init__(self, session: Session) -> None:
        from perception.setup.models.standards import PlanItem

        self._by: dict[tuple[int, int | None], set[str]] = defaultdict(set)
        rows = session.execute(
            select(PlanItem.service_id, PlanItem.region_id, PlanItem.means).where(PlanItem.active.is_(True))
        )
        for service_id, region_id, means in rows:
            self._by[(service_id, region_id)].add(means)

    def of(self, service_id: int, region_id: int) -> list[str]:
        """The means of the lines for the service in the region or in every region."""
        return sorted(self._by.get((service_id, region_id), set()) | self._by.get((service_id, None), set()))


def _measured_by(
    plan: PlanMeans, service_id: int, region_id: int, dimension: str | None, missing: int
) -> tuple[tuple[str, str], ...]:
    """What collection would measure a dimension standard that has fewer than 30 ratings: the
    plan's active lines for the service in the region (or all regions), one sentence each."""
    from scoring import FEEDBACK_DIMENSIONS

    dim_zh, dim_en = next(
        ((z, e) for c, z, e in FEEDBACK_DIMENSIONS if c == dimension), (dimension or "", dimension or "")
    )
    means = plan.of(service_id, region_id)
    sentences = {
        "questionnaire": (
            f"问卷：在本服务的问卷中加入“{dim_zh}”评分题（还需 {missing} 个评分）",
            f"Questionnaire: add a rating of “{dim_en}” to this service's survey "
            f"({missing} more ratings needed)",
        ),
        "phone_callback": (
            f"电话回访：在回访话术中请客户为“{dim_zh}”打分（还需 {missing} 个评分）",
            f"Phone callback: ask customers to rate “{dim_en}” in the callback script "
            f"({missing} more ratings needed)",
        ),
        "feedback_record": (
            f"每周采集报告：采集员对“{dim_zh}”的评分（另一来源，单独显示；还需 {missing} 个评分）",
            f"Weekly report: the collectors' rating of “{dim_en}” (another voice, shown apart; "
            f"{missing} more ratings needed)",
        ),
    }
    out = tuple(sentences[m] for m in means if m in sentences)
    return out or (
        (
            "感知计划中没有覆盖本服务和区域的问卷、回访或采集报告：请在感知计划中添加一条",
            "No questionnaire, callback or weekly report of the perception plan covers this service "
            "in this region: add a plan line",
        ),
    )


@dataclass(frozen=True)
class CellNames:
    """What a compared cell shows besides its comparison: its KPI link, service and region with
    their names, its weeks with a KPI value and what its experience was measured on."""

    link: KpiLink
    service_id: int
    region_id: int
    service: Named
    region: Named
    weeks: int
    basis: str


class CellTable(Sequence[CellView]):
    """Every compared cell of a view, in the order compared: their verdicts as arrays
    (scoring.ClassifiedCells) and each cell's names. A CellView, with its CellComparison and
    message, is built for the cells read: a page of fifty out of 10,000 builds fifty (issue 19).
    Each read builds them anew: a caller reading every cell more than once keeps ``tuple(table)``.
    ``order``: the positions in cell_priority order; ``keys``: each cell's CellView.key."""

    def __init__(self, classified: ClassifiedCells, names: list[CellNames], tiers: Any) -> None:
        self.classified = classified
        self._names = names
        self._tiers = tiers  # the names of the tiers pooled into a KPI (load_names)
        self.keys = [f"{n.link.kpi_code}|{n.service.code}|{n.region.code}" for n in names]
        self._at: dict[str, int] = {}
        self._pairs: dict[str, int] = {}
        for i, (key, n) in enumerate(zip(self.keys, names, strict=True)):
            self._at.setdefault(key, i)
            self._pairs.setdefault(f"{n.service.code}:{n.link.kpi_code}", i)
        self.order = _priority_order(self)

    def __len__(self) -> int:
        return len(self._names)

    @overload
    def __getitem__(self, index: int) -> CellView: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[CellView, ...]: ...

    def __getitem__(self, index: int | slice) -> CellView | tuple[CellView, ...]:
        if isinstance(index, slice):
            return tuple(self.views(range(len(self))[index]))
        return self.views([range(len(self))[index]])[0]

    def __iter__(self) -> Iterator[CellView]:
        return iter(self.views(range(len(self))))

    def views(self, positions: Sequence[int]) -> list[CellView]:
        """The CellViews of the cells at ``positions``, in that order."""
        out = []
        for i, comparison in zip(positions, self.classified.results(positions), strict=True):
            n = self._names[i]
            assert n.link.experience is not None
            out.append(
                CellView(
                    kpi_code=n.link.kpi_code,
                    kpi_name_zh=n.link.kpi_name_zh,
                    kpi_name_en=n.link.kpi_name_en,
                    service_id=n.service_id,
                    service_code=n.service.code,
                    service_name_zh=n.service.name_zh,
                    service_name_en=n.service.name_en,
                    region_id=n.region_id,
                    region_code=n.region.code,
                    region_name_zh=n.region.name_zh,
                    region_name_en=n.region.name_en,
                    experience_standard=n.link.experience.standard_code,
                    experience_metric=n.link.experience.metric,
                    experience_dimension=n.link.experience.dimension,
                    weeks_with_kpi=n.weeks,
                    experience_basis=n.basis,
                    comparison=comparison,
                    tier_names=tuple(
                        (g.label, *_tier_label(self._tiers, g.label)) for g in comparison.kpi_groups
                    ),
                )
            )
        return out

    def position(self, key: str) -> int | None:
        """The position of the (first) cell whose CellView.key is ``key``."""
        return self._at.get(key)

    def pair_names(self, pair: str) -> CellNames | None:
        """The names of the first cell of a "SERVICE:KPI" pair."""
        i = self._pairs.get(pair)
        return None if i is None else self._names[i]


@dataclass(frozen=True)
class KpiExperienceView:
    filters: AnalysisFilters
    cells: CellTable  # each CellView built when read
    watermelons: tuple[CellView, ...]  # ranked: evidenced first, then largest relative shortfall
    quadrant_counts: tuple[tuple[str, int], ...]
    correlations: KpiExperienceCorrelations
    lead_lag: tuple[tuple[str, LeadLagResult], ...]  # cell key -> result, for the top watermelons
    unmatched: tuple[Unmatched, ...]

    def cell(self, key: str) -> CellView | None:
        i = self.cells.position(key)
        return None if i is None else self.cells.views([i])[0]

    def pair_name(self, pair: str, zh: bool) -> str:
        """The service and KPI names of a "SERVICE:KPI" key (the correlations' grouping)."""
        c = self.cells.pair_names(pair)
        if c is None:
            return pair
        return (
            f"{c.service.name_zh} · {c.link.kpi_name_zh}"
            if zh
            else f"{c.service.name_en} · {c.link.kpi_name_en}"
        )

    def ordered_cells(self) -> tuple[CellView, ...]:
        """Every cell in the order a manager reads them (cell_priority): the watermelons by their
        rank, then the cells whose experience missed (evidenced first, largest shortfall first),
        then KPI missed with experience met, then both met. Builds every cell: a page reads
        ``cells.order``."""
        return tuple(self.cells.views(self.cells.order))

    def to_dict(self) -> dict[str, Any]:
        out = to_jsonable(
            {
                "cells": [_cell_dict(c) for c in self.cells],
                "watermelons": [_cell_dict(c) for c in self.watermelons],
                "watermelon_cells": watermelon_cells(self).to_dict(),
                "quadrant_counts": dict(self.quadrant_counts),
                "correlations": self.correlations,
                "lead_lag": [{"cell": k, "result": r} for k, r in self.lead_lag],
                "unmatched": self.unmatched,
            }
        )
        out["filters"] = self.filters.to_dict()
        return out


#: Cells per page of the page's cell table (a national provider compares ~5,000: the headline,
#: the quadrant counts and the chart cover them all, the table shows one page at a time).
CELL_PAGE_SIZE = 50
#: Cells of each quadrant in the phone's list (the rest: the table filtered on the quadrant).
QUADRANT_LIST_SIZE = 5
#: Watermelon cells listed in full on the page, evidenced and candidates each (the rest: the table).
WATERMELON_LIST_SIZE = 25
_QUADRANT_ORDER = {"watermelon": 0, "both_missed": 1, "kpi_missed_experience_met": 2, "both_met": 3}


def cell_priority(c: CellView) -> tuple[Any, ...]:
    """Sort key of a cell for the manager: watermelons first in their rank (evidenced first,
    largest relative shortfall), then experience missed with the KPI missed, then KPI missed with
    experience met, then both met; inside each, evidenced first, then the largest relative
    experience shortfall, then the largest KPI shortfall; the cell key breaks ties."""
    m = c.comparison
    if m.quadrant == "watermelon" and m.watermelon_rank is not None:
        return (0, m.watermelon_rank, 0.0, 0.0, c.key)
    rel = m.experience_gap / abs(m.experience_target) if m.experience_target else m.experience_gap
    kpi = m.kpi_margin / abs(m.kpi_target) if m.kpi_target else m.kpi_margin
    return (_QUADRANT_ORDER.get(m.quadrant, 4), int(not m.evidenced), rel, kpi, c.key)


def _priority_order(table: CellTable) -> list[int]:
    """The positions of the table's cells in cell_priority order, from the verdicts' arrays (no
    CellView) and one stable np.lexsort over the parts of its key. Sorted by cell_priority itself
    when a ratio is not a number: NaN has no order, and Python's sort and NumPy's would each place
    it their own way."""
    classified = table.classified
    size = len(table.keys)
    rank = np.zeros(size, dtype=np.int64)
    rank[classified.watermelons] = np.arange(1, len(classified.watermelons) + 1)
    melon = (classified.quadrant == "watermelon") & (rank > 0)
    place = np.array([_QUADRANT_ORDER.get(q, 4) for q in classified.quadrant.tolist()], dtype=np.int64)
    first = np.where(melon, 0, place)
    second = np.where(melon, rank, (~classified.evidenced).astype(np.int64))
    targets = np.array([(c.experience_target, c.kpi_target) for c in classified.cells], dtype=float).reshape(
        -1, 2
    )
    # zero for a watermelon, as cell_priority's key
    gap = np.where(melon, 0.0, classified.experience_gap)
    goal = np.where(melon, 0.0, targets[:, 0])
    margin = np.where(melon, 0.0, classified.kpi_margin)
    target = np.where(melon, 0.0, targets[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):  # the branch not taken may divide by 0
        rel = np.where(goal != 0, gap / np.abs(goal), gap)
        kpi = np.where(target != 0, margin / np.abs(target), margin)
    if np.isnan(rel).any() or np.isnan(kpi).any():
        views = list(table)
        return sorted(range(size), key=lambda i: cell_priority(views[i]))
    order: list[int] = np.lexsort((np.array(table.keys, dtype=str), kpi, rel, second, first)).tolist()
    return order


@dataclass(frozen=True)
class CellPage:
    """One page of the cell table: ``cells`` (in cell_priority order), the page (from 1, clamped
    to the pages there are), the page count, the cells in the table (``total``, after the
    ``quadrant`` filter) and the 1-based position of the first cell shown."""

    cells: tuple[CellView, ...]
    page: int
    pages: int
    total: int
    quadrant: str | None
    first: int


def cell_page(
    view: KpiExperienceView, page: int | None, quadrant: str | None = None, size: int | None = None
) -> CellPage:
    """The ``page``-th page of the cells (of one ``quadrant`` when it names one; an unknown one is
    ignored). A page number that is missing, not positive or past the end gives the first or the
    last page, never an error."""
    size = size or CELL_PAGE_SIZE
    chosen = quadrant if quadrant in _QUADRANT_ORDER else None
    positions = view.cells.order
    if chosen is not None:
        quadrants = view.cells.classified.quadrant
        positions = [i for i in positions if quadrants[i] == chosen]
    pages = max(1, -(-len(positions) // size))
    number = min(max(page or 1, 1), pages)
    start = (number - 1) * size
    shown = tuple(view.cells.views(positions[start : start + size]))
    return CellPage(shown, number, pages, len(positions), chosen, start + 1)


def quadrant_lists(view: KpiExperienceView, size: int | None = None) -> dict[str, tuple[CellView, ...]]:
    """The first ``size`` cells of each quadrant in cell_priority order (the phone's list)."""
    size = size or QUADRANT_LIST_SIZE
    out: dict[str, list[int]] = defaultdict(list)
    quadrants = view.cells.classified.quadrant.tolist()
    for i in view.cells.order:
        chosen = out[quadrants[i]]
        if len(chosen) < size:
            chosen.append(i)
    return {k: tuple(view.cells.views(v)) for k, v in out.items()}


def _cell_dict(c: CellView) -> dict[str, Any]:
    d = {k: getattr(c, k) for k in CellView.__dataclass_fields__ if k != "comparison"}
    d["key"] = c.key
    d["comparison"] = c.comparison.to_dict()
    return d


def experience_input(
    acc_by_part: dict[tuple[str, str | None], Acc], target: ExperienceTarget
) -> tuple[dict[str, Any], str]:
    """ComparisonCell experience fields for one target from the rolled-up sums (empty: no data),
    and the basis they were measured on.

    csat_share: top-2-box count (4-5 of 1..5); csat_mean / ces_mean / dimension_rating_mean: mean
    and SD of the answers. A target that names a feedback dimension is measured on that
    dimension's ratings when the cell has at least DIMENSION_MIN_N of them; with fewer it is not
    measurable yet (empty, basis ``not_measurable_yet:<n>``): never silently judged on overall
    CSAT, which answers another question (issue 14).
    nps: the promoter and detractor counts (the NPS score interval and test), with the mean of
    per-respondent scores +100 / 0 / -100 (the NPS) and their SD sqrt((10^4 (P + D) - n NPS^2) / (n - 1)).
    """
    kind, basis = measured_on(target)
    acc = dimension_acc(acc_by_part, target.dimension) if kind is None else kind_total(acc_by_part, kind)
    return experience_fields(acc, target, basis)


def measured_on(target: ExperienceTarget) -> tuple[str | None, str]:
    """The kind of answers a target is measured on (None: its dimension's ratings, whatever kind
    carried them) and the basis experience_input names."""
    metric, dim = target.metric, target.dimension
    if metric in ("csat_share", "csat_mean", "dimension_rating_mean") and dim:
        return None, f"dimension:{dim}"
    if metric in ("csat_share", "csat_mean", "dimension_rating_mean"):
        return "csat", "overall_csat"
    return ("nps", "nps") if metric == "nps" else ("ces", "ces")


def experience_fields(acc: Acc, target: ExperienceTarget, basis: str) -> tuple[dict[str, Any], str]:
    """experience_input from the sums it is measured on (``acc``, on ``basis``: measured_on)."""
    metric = target.metric
    if basis.startswith("dimension:") and acc.n < DIMENSION_MIN_N:
        return {}, f"not_measurable_yet:{acc.n}"
    if acc.n == 0:
        return {}, basis
    if metric == "csat_share":
        return {"experience_n": acc.n, "experience_successes": acc.top2}, basis
    if metric == "nps":
        n = acc.n
        mean = 100.0 * (acc.promoters - acc.detractors) / n
        spread = max(1e4 * (acc.promoters + acc.detractors) - n * mean * mean, 0.0)
        sd = math.sqrt(spread / (n - 1)) if n > 1 else 0.0
        # Judged with the NPS score interval and test (scoring.comparison._nps_score), as everywhere.
        return {
            "experience_n": n,
            "experience_mean": mean,
            "experience_sd": sd,
            "experience_promoters": acc.promoters,
            "experience_detractors": acc.detractors,
        }, basis
    sd = acc.sd if acc.n > 1 else 0.0
    # The answers' scale bounds the interval (scoring.comparison._bounded_mean): CES 1..7, else 1..5.
    scale = (1.0, 7.0) if basis == "ces" else (1.0, 5.0)
    return {
        "experience_n": acc.n,
        "experience_mean": acc.mean,
        "experience_sd": sd,
        "experience_scale": scale,
    }, basis


def _kpi_tickets(rows: list[KpiRow]) -> int | None:
    """Tickets behind the pooled value (its Wilson interval's n), None when a week lacks them."""
    return sum(int(r.n) for r in rows if r.n) if all(r.n for r in rows) else None


def _weighted(rows: list[KpiRow]) -> float:
    """n-weighted mean value (math.fsum is exactly rounded: independent of the order of ``rows``)."""
    weights = [float(r.n) if r.n else 1.0 for r in rows]
    return math.fsum(w * r.value for w, r in zip(weights, rows, strict=True)) / math.fsum(weights)


def _latest_target(rows: list[KpiRow]) -> tuple[float | None, str | None]:
    """The target/comparator of the rows' latest week, its tiers pooled (the strictest, whatever the
    order of the rows: analysis_kpi_links.pooled_target)."""
    latest = max(r.period for r in rows)
    return pooled_target(r for r in rows if r.period == latest)


@dataclass(frozen=True)
class TierSums:
    """One tier of a cell over the period: the n-weighted sums of its weekly values (weight n, or 1
    for a week without tickets), its tickets (None when a week lacks them), its weeks with a value
    (``rows``, the first and the last) and the target and comparator of its last week."""

    tier_id: int | None
    weighted_sum: float
    weights: float
    tickets: int | None
    rows: int
    first: date | None  # None: not read (the running sums count the cell's weeks themselves)
    last: date
    target: float | None
    comparator: str | None

    @property
    def value(self) -> float:
        return self.weighted_sum / self.weights


@dataclass(frozen=True)
class KpiCellSums:
    """A (definition, service, region) cell's KPI over the period, per tier (sorted by tier id,
    None first) and the number of distinct weeks with a value."""

    tiers: tuple[TierSums, ...]
    weeks: int

    @property
    def value(self) -> float:
        return math.fsum(t.weighted_sum for t in self.tiers) / math.fsum(t.weights for t in self.tiers)

    @property
    def tickets(self) -> int | None:
        counts = [t.tickets for t in self.tiers]
        return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)

    def latest_target(self) -> tuple[float | None, str | None]:
        """The strictest target of the cell's latest week over its tiers (kpi_links.pooled_target)."""
        if len(self.tiers) == 1:  # most cells: its own (pooled_target of one row, without the row)
            t = self.tiers[0]
            return (
                (t.target, t.comparator)
                if t.target is not None and t.comparator is not None
                else (None, None)
            )
        latest = max(t.last for t in self.tiers)
        return pooled_target(
            KpiRow(0, 0, 0, t.tier_id, t.last, 0.0, None, t.target, t.comparator, None)
            for t in self.tiers
            if t.last == latest
        )


def _tier_key(tier_id: int | None) -> tuple[int, int]:
    return (0, 0) if tier_id is None else (1, tier_id)


def cell_sums_from_rows(rows: list[KpiRow]) -> KpiCellSums:
    """The cell's sums from its weekly rows (the reference kpi_cell_sums is tested against)."""
    by_tier: dict[int | None, list[KpiRow]] = defaultdict(list)
    for r in rows:
        by_tier[r.tier_id].append(r)
    tiers = []
    for tier_id in sorted(by_tier, key=_tier_key):
        tier_rows = by_tier[tier_id]
        target, comparator = _latest_target(tier_rows)
        tiers.append(
            TierSums(
                tier_id,
                math.fsum((float(r.n) if r.n else 1.0) * r.value for r in tier_rows),
                math.fsum(float(r.n) if r.n else 1.0 for r in tier_rows),
                _kpi_tickets(tier_rows),
                len(tier_rows),
                min(r.period for r in tier_rows),
                max(r.period for r in tier_rows),
                target,
                comparator,
            )
        )
    return KpiCellSums(tuple(tiers), len({r.period for r in rows}))


#: Cells whose distinct weeks are counted by listing them (more: counted with their KPIs' others).
BROKEN_CELLS_LISTED = 200


def kpi_cell_sums(
    session: Session, filters: AnalysisFilters, definition_ids: Collection[int]
) -> dict[tuple[int, int, int], KpiCellSums]:
    """Per (definition, service, region) cell of the weekly KPI values of the filter period, what the
    comparison reads (KpiCellSums), summed by the database: one row per cell and tier instead of a
    row per week (2.6 million for a national provider's year, issue 19). The latest week's target of
    each tier is that week's row, found through the unique key. A cell whose tiers do not each cover
    one unbroken run of weeks has its distinct weeks counted by a second, narrower query."""
    if not definition_ids:
        return {}
    kv = KpiValue
    no_n = or_(kv.n.is_(None), kv.n == 0)
    weight = case((no_n, literal(1.0, Float)), else_=cast(kv.n, Float))
    agg = (
        select(
            kv.definition_id.label("d"),
            kv.service_id.label("s"),
            kv.region_id.label("r"),
            kv.tier_key.label("tk"),
            kv.tier_id.label("tier"),
            func.sum(weight * kv.value).label("wv"),
            func.sum(weight).label("w"),
            func.sum(kv.n).label("sn"),
            func.sum(case((no_n, 1), else_=0)).label("missing"),
            func.count().label("rows"),
            func.min(kv.period_start).label("first"),
            func.max(kv.period_start).label("last"),
        )
        .where(*kpi_where(filters, Granularity.WEEK), kv.definition_id.in_(sorted(definition_ids)))
        .group_by(kv.definition_id, kv.service_id, kv.region_id, kv.tier_key, kv.tier_id)
        .subquery()
    )
    # The latest week's row of each tier through the unique key (uq_kpi_value_key), one index
    # lookup per cell and tier: a join let PostgreSQL hash the whole table (16 s at a tenth).
    latest = aliased(KpiValue)
    at_last = and_(
        latest.definition_id == agg.c.d,
        latest.service_id == agg.c.s,
        latest.region_id == agg.c.r,
        latest.tier_key == agg.c.tk,
        latest.granularity == Granularity.WEEK,
        latest.period_start == agg.c.last,
    )
    stmt = select(
        agg,
        select(latest.target).where(at_last).scalar_subquery(),
        select(latest.comparator).where(at_last).scalar_subquery(),
    )
    tune_for_aggregation(session)
    tiers: dict[tuple[int, int, int], list[TierSums]] = defaultdict(list)
    for row in session.connection().execute(stmt):
        d, s, r, _, tier, wv, w, sn, missing, rows, first, last, target, comparator = row
        tiers[(int(d), int(s), int(r))].append(
            TierSums(
                None if tier is None else int(tier),
                float(wv),
                float(w),
                None if missing else int(sn),
                int(rows),
                _as_date(first),
                _as_date(last),
                None if target is None else float(target),
                comparator,
            )
        )
    out: dict[tuple[int, int, int], KpiCellSums] = {}
    broken: list[tuple[int, int, int]] = []
    for key, parts in tiers.items():
        parts.sort(key=lambda t: _tier_key(t.tier_id))
        weeks = _union_weeks(parts)
        if weeks is None:
            broken.append(key)
            weeks = 0
        out[key] = KpiCellSums(tuple(parts), weeks)
    if broken:
        counted = (
            select(kv.definition_id, kv.service_id, kv.region_id, func.count(kv.period_start.distinct()))
            .where(
                *kpi_where(filters, Granularity.WEEK), kv.definition_id.in_(sorted({d for d, _, _ in broken}))
            )
            .group_by(kv.definition_id, kv.service_id, kv.region_id)
        )
        if len(broken) <= BROKEN_CELLS_LISTED:
            counted = counted.where(tuple_(kv.definition_id, kv.service_id, kv.region_id).in_(broken))
        wanted = set(broken)
        for d, s, r, n in session.execute(counted):
            key = (int(d), int(s), int(r))
            if key in wanted:
                out[key] = KpiCellSums(out[key].tiers, int(n))
    return out


@dataclass(frozen=True)
class KpiCells:
    """What the comparison reads of each (definition, service, region) cell's KPI over the period,
    as columns in the order of the cell keys: the value (the n-weighted mean, tiers pooled), the
    strictest target of the latest week with its comparator, the distinct weeks with a value, the
    tickets (None when a week lacks them); ``pooled``: the KpiCellSums of the cells with two tiers
    or more (their tiers are judged each against its own target); ``tiered``: the definitions with
    a series of some tier. The same figures as the cells' KpiCellSums (``from_sums``)."""

    keys: list[tuple[int, int, int]]
    value: list[float]
    target: list[float | None]
    comparator: list[str | None]
    weeks: list[int]
    tickets: list[int | None]
    pooled: dict[tuple[int, int, int], KpiCellSums]
    tiered: frozenset[int]

    @classmethod
    def from_sums(cls, sums: dict[tuple[int, int, int], KpiCellSums]) -> KpiCells:
        keys = sorted(sums)
        cells = [sums[k] for k in keys]
        targets = [c.latest_target() for c in cells]
        return cls(
            keys=keys,
            value=[c.value for c in cells],
            target=[t for t, _ in targets],
            comparator=[c for _, c in targets],
            weeks=[c.weeks for c in cells],
            tickets=[c.tickets for c in cells],
            pooled={k: c for k, c in zip(keys, cells, strict=True) if len(c.tiers) > 1},
            tiered=frozenset(
                k[0] for k, c in zip(keys, cells, strict=True) if any(t.tier_id is not None for t in c.tiers)
            ),
        )


def cumulative_kpi_cells(
    session: Session, filters: AnalysisFilters, definition_ids: Collection[int]
) -> KpiCells | None:
    """KpiCells from the running sums of the weekly values (kpi.services.kpi_cumulative), as
    columns: what KpiCells.from_sums of each cell's KpiCellSums gives, without an object per
    series and cell (issue 19: 20,000 series at a tenth of a national provider). None when the
    running sums are not current."""
    from perception.kpi.services.kpi_cumulative import ALL_TIERS, period_columns

    found = period_columns(
        session, filters.start, filters.end, definition_ids, region_ids=filters.region_ids,
        service_id=filters.service_id, tier_id=filters.tier_id,
    )  # fmt: skip
    if found is None:
        return None
    # One integer per cell, ordered as the (definition, service, region) keys.
    d, s, r = found.definition_id, found.service_id, found.region_id
    span_s, span_r = int(s.max(initial=0)) + 1, int(r.max(initial=0)) + 1
    code = (d * span_s + s) * span_r + r
    series = np.flatnonzero(found.tier_key != ALL_TIERS)
    cells, first, count = np.unique(code[series], return_index=True, return_counts=True)
    at = series[first]  # each cell's (first) series
    single = count == 1
    if filters.tier_id is not None:  # that tier's series alone: its weeks are the cell's
        weeks = found.rows[at]
    else:
        every = np.flatnonzero(found.tier_key == ALL_TIERS)
        order = np.argsort(code[every])
        weeks = found.rows[every[order[np.searchsorted(code[every], cells, sorter=order)]]]
    # A cell of one tier: its own value, target and tickets (KpiCellSums of one tier gives these).
    target = found.target[at]
    comparator = [found.comparator[i] for i in at.tolist()]
    judged = ~np.isnan(target) & np.array([c is not None for c in comparator], dtype=bool)
    keys = list(zip(d[at].tolist(), s[at].tolist(), r[at].tolist(), strict=True))
    out = KpiCells(
        keys=keys,
        value=(found.weighted_sum[at] / found.weights[at]).tolist(),
        target=[t if j else None for t, j in zip(target.tolist(), judged.tolist(), strict=True)],
        comparator=[c if j else None for c, j in zip(comparator, judged.tolist(), strict=True)],
        weeks=weeks.tolist(),
        tickets=[
            t if k else None
            for t, k in zip(found.tickets[at].tolist(), found.tickets_known[at].tolist(), strict=True)
        ],
        pooled={},
        tiered=frozenset(int(x) for x, t in zip(d.tolist(), found.tier_id, strict=True) if t is not None),
    )
    if single.all():
        return out
    # The cells pooling tiers, each as before (a few at most: tiers with their own targets).
    members: dict[int, list[int]] = defaultdict(list)
    pooled_cells = set(cells[~single].tolist())
    for i in series.tolist():
        if int(code[i]) in pooled_cells:
            members[int(code[i])].append(i)
    position = {int(c): j for j, c in enumerate(cells.tolist())}
    for c, rows in members.items():
        j = position[c]
        tiers = sorted(
            (
                TierSums(
                    found.tier_id[i],
                    float(found.weighted_sum[i]),
                    float(found.weights[i]),
                    int(found.tickets[i]) if found.tickets_known[i] else None,
                    int(found.rows[i]),
                    None,
                    found.last[i],
                    None if np.isnan(found.target[i]) else float(found.target[i]),
                    found.comparator[i],
                )  # fmt: skip
                for i in rows
            ),
            key=lambda t: _tier_key(t.tier_id),
        )
        sums = KpiCellSums(tuple(tiers), out.weeks[j])
        out.pooled[keys[j]] = sums
        out.value[j] = sums.value
        out.target[j], out.comparator[j] = sums.latest_target()
        out.tickets[j] = sums.tickets
    return out


def _measured_cells(
    index: CellIndex, keys: list[tuple[int, int, int]], links: dict[tuple[int, int], KpiLink]
) -> list[tuple[dict[str, Any], str] | None]:
    """experience_input of each cell of ``keys`` under its KPI's experience target (None: its KPI
    has none), from the sums each target is measured on, summed for all its cells in one pass
    (CellIndex.totals) instead of each cell's parts."""
    by_link: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (definition_id, service_id, _) in enumerate(keys):
        by_link[(definition_id, service_id)].append(i)
    by_target: dict[ExperienceTarget, list[int]] = defaultdict(list)
    for link_key, cells in by_link.items():
        link = links.get(link_key)
        if link is not None and link.experience is not None:
            by_target[link.experience].extend(cells)
    out: list[tuple[dict[str, Any], str] | None] = [None] * len(keys)
    for target, cells in by_target.items():
        kind, basis = measured_on(target)
        pairs = [(k, target.dimension) for k in DIMENSION_KINDS] if kind is None else index.kind_pairs(kind)
        sums = index.totals([keys[i][1] for i in cells], [keys[i][2] for i in cells], pairs).tolist()
        for i, (n, s_, ss, y, yy, top2, prom, detr) in zip(cells, sums, strict=True):
            # Counts are sums of whole numbers in float64: exact, int() is enough.
            acc = Acc(int(n), s_, ss, y, yy, int(top2), int(prom), int(detr))
            out[i] = experience_fields(acc, target, basis)
    return out


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _union_weeks(tiers: list[TierSums]) -> int | None:
    """Distinct weeks of the tiers: a single tier's rows (one a week: the unique key), or the
    union of the tiers' runs when each covers one unbroken run of weeks (its rows span its first
    to last week), else None. Weekly values start on the same weekday, a week apart."""
    if len(tiers) == 1:
        return tiers[0].rows
    spans = []
    for t in tiers:
        if t.first is None:
            return None
        span = (t.last - t.first).days // 7 + 1
        if span != t.rows:
            return None
        spans.append((t.first, t.last))
    spans.sort()
    total, end = 0, None
    for first, last in spans:
        if end is None or first > end:
            total += (last - first).days // 7 + 1
            end = last
        elif last > end:
            total += (last - end).days // 7
            end = last
    return total


def _next_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _exact_percentiles(
    session: Session, filters: AnalysisFilters, codes: set[str], tiered: bool
) -> dict[tuple[object, ...], float]:
    """The percentile KPIs ``codes`` over the filter period from the tickets: keyed (code, service,
    region) and, when ``tiered``, (code, service, region, tier id or None). The tickets are those of
    the weeks kpi_rows reads (starting in [start, end)), loaded once (kpi.services.pooled)."""
    if not codes:
        return {}
    lo, hi = _next_monday(filters.start), _next_monday(filters.end)
    if lo >= hi:
        return {}
    scope: dict[str, Any] = {
        "region_ids": filters.region_ids,
        "service_id": filters.service_id,
        "tier_id": filters.tier_id,
        "granularity": None,
    }
    out: dict[tuple[object, ...], float] = {}
    keeps: list[tuple[str, ...]] = [("service", "region")]
    if tiered:
        keeps.append(("service", "region", "tier"))
    for keep in keeps:
        for key, (value, _) in pooled_percentiles(session, lo, hi, keep, **scope).items():
            if key[0] in codes:
                # tier -1: tickets without a tier (KpiRow.tier_id None)
                ids = [None if k == "tier" and i == -1 else i for k, i in zip(keep, key[1:-1], strict=True)]
                out[(key[0], *ids)] = value
    return out


def _tier_code(names: Any, tier_id: int | None) -> str:
    return str(names.tier(tier_id).code) if tier_id is not None else NO_TIER


def _tier_groups(
    cell: KpiCellSums, names: Any, share: bool, exact: dict[int | None, float] | None = None
) -> tuple[KpiGroup, ...]:
    """The tiers pooled into a cell, each over the period against its own target (its latest week's):
    empty when the cell has a single tier (then its value against its target is the same verdict).
    ``share``: the KPI is a share of tickets, so each tier's tickets give its Wilson interval.
    ``exact``: a percentile KPI's value per tier from the tickets (else the n-weighted mean)."""
    if len(cell.tiers) < 2:
        return ()
    groups = []
    for tier in sorted(cell.tiers, key=lambda t: _tier_code(names, t.tier_id)):
        if tier.target is None or tier.comparator is None:
            continue  # not judged (scoring.pooled_met ignores it)
        groups.append(
            KpiGroup(
                _tier_code(names, tier.tier_id),
                exact[tier.tier_id] if exact is not None and tier.tier_id in exact else tier.value,
                tier.target,
                tier.comparator,
                tier.tickets if share else None,
            )  # fmt: skip
        )
    return tuple(groups)


def _weekly_point(exp: dict[str, Any], target: ExperienceTarget) -> float:
    """The experience gap of one week (positive = better than target), without an interval."""
    n = exp["experience_n"]
    estimate = exp["experience_successes"] / n if "experience_successes" in exp else exp["experience_mean"]
    return margin(estimate, target.target, target.comparator)


def _comparison_cell(
    link: KpiLink,
    service_code: str,
    region_code: str,
    period: Any,
    kpi: tuple[float, float, str],
    exp: dict[str, Any],
    kpi_n: int | None = None,
    kpi_unit: str = "share",
    kpi_groups: tuple[KpiGroup, ...] = (),
) -> ComparisonCell:
    assert link.experience is not None
    return ComparisonCell(
        service=f"{service_code}:{link.kpi_code}",
        region=region_code,
        period=period,
        kpi_value=kpi[0],
        kpi_target=kpi[1],
        kpi_comparator=kpi[2],
        experience_target=link.experience.target,
        experience_comparator=link.experience.comparator,
        # Only a share of tickets has a Wilson interval (scoring.comparison._kpi_interval).
        kpi_n=kpi_n if kpi_unit in SHARE_UNITS else None,
        kpi_share_scale=100.0 if kpi_unit in ("percent", "%") else 1.0,
        kpi_groups=kpi_groups,
        **exp,
    )


def kpi_vs_experience(
    session: Session, filters: AnalysisFilters, *, use_rollup: bool = True, over_time: bool = True
) -> KpiExperienceView:
    """Compare every KPI that has an experience counterpart with that experience, per service x region.

    ``over_time=False`` (the page, its chart and the home's headline, which do not show them): the
    correlations over the weeks of every cell are left out (``correlations.over_time`` empty), and
    the weekly KPI values and experience are read only for the watermelons whose lead and lag the
    page shows. Then the KPI side comes summed per cell and tier from the database
    (kpi_cell_sums) and the experience side per cell over the period (aggregate by region and
    service), instead of every week's rows: at national scale 2.6 million KPI rows and a quarter of
    a million weekly sums fewer for a year (issue 19). The API and the review keep them: with
    ``over_time`` the cells are summed from the weekly rows they read anyway (cell_sums_from_rows);
    both ways give the same figures (tests/analysis/test_h19kve2_cell_sums.py)."""
    names = load_names(session, customers=False)
    # Which KPIs have values and what they compare with first; then the values of those with an
    # experience target only (a volume or a percentile KPI has none and needs no rows).
    pairs = (
        None
        if over_time
        else period_pairs(
            session,
            filters.start,
            filters.end,
            region_ids=filters.region_ids,
            service_id=filters.service_id,
            tier_id=filters.tier_id,
        )  # fmt: skip
    )
    if pairs is None:  # the running sums are not current (or the API's and review's weekly path)
        pairs = kpi_pairs(session, filters)
    on = filters.end - timedelta(days=1)
    links = kpi_links(session, ((d, s) for d, s, _ in pairs), on)
    compared = {d for (d, _), link in links.items() if link.experience is not None}
    kpi: KpiCells | None
    grouped: dict[tuple[int, int, int], list[KpiRow]] = defaultdict(list)
    if over_time:
        for r in kpi_rows(session, filters, definition_ids=compared):
            grouped[(r.definition_id, r.service_id, r.region_id)].append(r)
        kpi = KpiCells.from_sums({key: cell_sums_from_rows(rows) for key, rows in grouped.items()})
        facts = aggregate(session, filters, kinds=EXPERIENCE_KINDS, use_rollup=use_rollup)
    else:
        kpi = cumulative_kpi_cells(session, filters, compared)
        if kpi is None:
            kpi = KpiCells.from_sums(kpi_cell_sums(session, filters, compared))
        # The experience side likewise from its running sums (two weeks' rows) while they match
        # the facts; the pre-aggregate (or the facts) summed over the period otherwise.
        period = period_table(session, filters, kinds=EXPERIENCE_KINDS) if use_rollup else None
        facts = (
            period
            if period is not None
            else aggregate(
                session, filters, kinds=EXPERIENCE_KINDS, use_rollup=use_rollup, by=("region", "service")
            )
        )
    cells_index = CellIndex(facts)

    units: dict[int, str] = {}
    codes: dict[int, str] = {}
    for i, code, unit in session.execute(select(KpiDefinition.id, KpiDefinition.code, KpiDefinition.unit)):
        units[i], codes[i] = unit, code
    percentile_ids = {d for d in compared if codes.get(d) in PERCENTILE_KPIS}
    exact = _exact_percentiles(
        session,
        filters,
        {codes[d] for d in percentile_ids},
        tiered=bool(percentile_ids & kpi.tiered),
    )
    # What cannot be compared, each noted where its (KPI, service, region) comes in that order.
    noted: list[tuple[tuple[int, int, int], tuple[str, int, str], Unmatched]] = []
    for definition_id, service_id, first_region in pairs:
        link = links.get((definition_id, service_id))
        if link is None or link.experience is not None:
            continue
        service_named = names.service(service_id)
        noted.append(
            (
                (definition_id, service_id, first_region),
                (link.kpi_code, service_id, link.reason or ""),
                Unmatched(
                    link.kpi_code, service_id, link.reason or "", kpi_name_zh=link.kpi_name_zh,
                    kpi_name_en=link.kpi_name_en, service_name_zh=service_named.name_zh,
                    service_name_en=service_named.name_en,
                ),
            )
        )  # fmt: skip
    plan = PlanMeans(session)
    inputs: list[tuple[KpiLink, int, int, Named, Named, int, str, ComparisonCell]] = []
    weekly: dict[tuple[str, str], dict[date, tuple[float, float]]] = defaultdict(dict)
    week_points: dict[tuple[int, int, date, ExperienceTarget], float | None] = {}
    #: per "SERVICE:KPI", region key: the cells compared under it (definition, service, region, target)
    compared_cells: dict[tuple[str, str], list[tuple[int, int, int, ExperienceTarget]]] = defaultdict(list)
    # The experience of every cell over the period, per target, in one pass over the sums each.
    measured = _measured_cells(cells_index, kpi.keys, links)
    period_label = f"{filters.start.isoformat()}/{filters.end.isoformat()}"
    for at, value, target, comparator, weeks, tickets, experience in zip(
        kpi.keys, kpi.value, kpi.target, kpi.comparator, kpi.weeks, kpi.tickets, measured, strict=True
    ):
        definition_id, service_id, region_id = at
        link = links.get((definition_id, service_id))
        if link is None or link.experience is None:
            continue  # noted above
        service_named, region_named = names.service(service_id), names.region(region_id)
        named: dict[str, Any] = {
            "kpi_name_zh": link.kpi_name_zh,
            "kpi_name_en": link.kpi_name_en,
            "service_name_zh": service_named.name_zh,
            "service_name_en": service_named.name_en,
        }
        code = codes.get(definition_id, "")
        if (
            definition_id in percentile_ids
            and (pooled_value := exact.get((code, service_id, region_id))) is not None
        ):
            value = pooled_value  # the percentile of the period's tickets
        if target is None or comparator is None:
            noted.append(
                (
                    at,
                    (link.kpi_code, service_id, "kpi_target_missing"),
                    Unmatched(link.kpi_code, service_id, "kpi_target_missing", **named),
                )
            )
            continue
        assert experience is not None  # measured for every cell whose KPI has a target
        exp, basis = experience
        s_code, r_code = service_named.code, region_named.code
        if basis.startswith("not_measurable_yet:"):
            reason = f"{basis}:{DIMENSION_MIN_N}:{r_code}"
            have = int(basis.split(":")[1])
            noted.append((at, (link.kpi_code, service_id, reason), Unmatched(
                link.kpi_code, service_id, reason, **named,
                region_name_zh=region_named.name_zh, region_name_en=region_named.name_en,
                measured_by=_measured_by(
                    plan, service_id, region_id, link.experience.dimension, DIMENSION_MIN_N - have
                ),
            )))  # fmt: skip
        if not exp:
            continue
        unit = units.get(definition_id, "share")
        tiers: tuple[KpiGroup, ...] = ()
        pooled = kpi.pooled.get(at)
        if pooled is not None:  # a cell pooling tiers: each judged against its own target
            by_tier = (
                {
                    t.tier_id: exact[k]
                    for t in pooled.tiers
                    if (k := (code, service_id, region_id, t.tier_id)) in exact
                }
                if definition_id in percentile_ids
                else None
            )
            tiers = _tier_groups(pooled, names, unit in SHARE_UNITS, by_tier)
        cell = _comparison_cell(
            link, s_code, r_code, period_label, (value, target, comparator), exp, tickets, unit, tiers
        )
        inputs.append((link, service_id, region_id, service_named, region_named, weeks, basis, cell))
        compared_cells[(f"{s_code}:{link.kpi_code}", r_code)].append(
            (definition_id, service_id, region_id, link.experience)
        )

    def weekly_series(
        key: tuple[str, str], index: CellIndex, rows: dict[tuple[int, int, int], list[KpiRow]]
    ) -> None:
        """The cell's weekly (KPI margin, experience gap) points, into ``weekly``."""
        for definition_id, service_id, region_id, experience in compared_cells.get(key, []):
            # A week's KPI margin pools its tiers by the same rule: the worst tier against its own target.
            week_margin: dict[date, float] = {}
            for r in rows.get((definition_id, service_id, region_id), []):
                if r.target is not None and r.comparator is not None:
                    m = margin(r.value, r.target, r.comparator)
                    week_margin[r.period] = min(m, week_margin.get(r.period, m))
            for week, kpi_margin in week_margin.items():
                # The KPIs of one cell share their experience target: its weekly point is read once.
                memo = (service_id, region_id, week, experience)
                if memo not in week_points:
                    wexp, _ = experience_input(index.parts(service_id, region_id, week), experience)
                    week_points[memo] = _weekly_point(wexp, experience) if wexp else None
                if (gap := week_points[memo]) is not None:
                    weekly[key][week] = (kpi_margin, gap)

    unmatched: dict[tuple[str, int, str], Unmatched] = {}
    for _, key, entry in sorted(noted, key=lambda item: item[0]):
        unmatched.setdefault(key, entry)
    classified = classify_kpi_experience([c for *_, c in inputs])
    table = CellTable(
        classified,
        [
            CellNames(link, s, r, service, region, weeks, basis)
            for link, s, r, service, region, weeks, basis, _ in inputs
        ],
        names,
    )
    watermelons = tuple(table.views(classified.watermelons))
    lead_cells = [(f"{v.service_code}:{v.kpi_code}", v.region_code) for v in watermelons[:LEAD_LAG_CELLS]]
    if over_time:
        for cell_key in sorted(compared_cells):
            weekly_series(cell_key, cells_index, grouped)
    elif lead_cells:  # each a compared cell (a watermelon is one)
        index, rows = _lead_weeks(session, filters, [compared_cells[k] for k in lead_cells], use_rollup)
        for cell_key in lead_cells:
            weekly_series(cell_key, index, rows)
    series = [(k, pts) for k, pts in sorted(weekly.items()) if len(pts) >= 3] if over_time else []
    over_time_rho = rank_correlations(
        [([m for m, _ in p.values()], [g for _, g in p.values()]) for _, p in series]
    )
    correlations = KpiExperienceCorrelations(
        across_regions=correlations_across_regions(classified).across_regions,
        over_time=tuple(
            ((service, region, None), r)
            for ((service, region), _), r in zip(series, over_time_rho, strict=True)
        ),
    )
    return KpiExperienceView(
        filters=filters,
        cells=table,
        watermelons=watermelons,
        quadrant_counts=classified.quadrant_counts,
        correlations=correlations,
        lead_lag=_lead_lags(watermelons, weekly),
        unmatched=tuple(unmatched.values()),
    )


#: Views kept per process (kept_kpi_vs_experience): a national provider's is some 10,000 cells.
KEPT_VIEWS = 4
_KEPT: Kept[KpiExperienceView] = Kept(
    "analysis_kpi_experience", KpiExperienceView, entries=KEPT_VIEWS, own_writes=True, shared=False
)


def kept_kpi_vs_experience(
    session: Session, filters: AnalysisFilters, *, use_rollup: bool = True
) -> KpiExperienceView:
    """The page's view (``kpi_vs_experience(..., over_time=False)``), kept in the process while
    the write counter of everything it is made from (kpi.services.data_version.KPI_EXPERIENCE) is
    the same: a repeat, a page of the table or another manager with the same filters and scope
    costs one counter read, and the first load after any write computes it again (issue 19). The
    filters carry the user's scope and the period; a view computed over the transaction's own
    uncommitted writes is kept for that transaction alone (perception.core.kept). Not stored in
    the database: writing and reading back 10,000 cells costs about what computing them does."""
    from perception.kpi.services.data_version import KPI_EXPERIENCE, read_version
    from perception.kpi.services.ticket_frame import sla_day

    return _KEPT.get(
        session,
        # a percentile KPI's tickets are measured under the SLAs of the period's last day or, while
        # it runs, today's: the day is an input the counter cannot see
        {"filters": filters, "rollup": use_rollup, "measured_on": sla_day(filters.end, utcnow())},
        read_version(session, KPI_EXPERIENCE),
        lambda: kpi_vs_experience(session, filters, use_rollup=use_rollup, over_time=False),
    )


def forget_kept() -> None:
    """Drop the views kept in this process (tests, benchmarks)."""
    _KEPT.forget()


def _lead_weeks(
    session: Session,
    filters: AnalysisFilters,
    leads: list[list[tuple[int, int, int, ExperienceTarget]]],
    use_rollup: bool,
) -> tuple[CellIndex, dict[tuple[int, int, int], list[KpiRow]]]:
    """The weekly experience sums and KPI rows of the top watermelons (their lead and lag), each
    lead the cells of one service and region: the experience of all of them in one aggregate kept
    to their cells (one scan of the period, not one per lead: 80 ms each on SQLite at a tenth of
    national size), the KPI rows per lead with the filters narrowed to its service and region,
    which lie inside the filters' scope since the cell was compared under them."""
    rows: dict[tuple[int, int, int], list[KpiRow]] = defaultdict(list)
    places: set[tuple[int, int]] = set()
    for cells in leads:
        _, service_id, region_id, _ = cells[0]
        places.add((service_id, region_id))
        narrow = replace(filters, region_ids=frozenset({region_id}), service_id=service_id)
        for r in kpi_rows(session, narrow, definition_ids={d for d, *_ in cells}):
            rows[(r.definition_id, r.service_id, r.region_id)].append(r)
    within = replace(filters, region_ids=frozenset(r for _, r in places))
    table = aggregate(session, within, kinds=EXPERIENCE_KINDS, use_rollup=use_rollup, cells=places)
    return CellIndex(table), rows


def _tier_label(names: Any, code: str) -> tuple[str, str]:
    if code == NO_TIER:
        return "不分等级", "no tier"
    named = next((t for t in names.tiers.values() if t.code == code), None)
    return (named.name_zh, named.name_en) if named is not None else (code, code)


def _lead_lags(
    watermelons: tuple[CellView, ...], series: dict[tuple[str, str], dict[date, tuple[float, float]]]
) -> tuple[tuple[str, LeadLagResult], ...]:
    """Lead/lag of KPI margin and experience gap over the weeks of each top watermelon, on the
    longest run of consecutive weeks that have both (at least LEAD_LAG_MIN_WEEKS)."""
    out: list[tuple[str, LeadLagResult]] = []
    for view in watermelons[:LEAD_LAG_CELLS]:
        points = series.get((f"{view.service_code}:{view.kpi_code}", view.region_code), {})
        run = _longest_run(sorted(points))
        if len(run) < LEAD_LAG_MIN_WEEKS:
            continue
        kpi = [points[p][0] for p in run]
        exp = [points[p][1] for p in run]
        out.append((view.key, lead_lag(kpi, exp, max_lag=min(4, max(1, (len(run) - 2) // 4)))))
    return tuple(out)


def _longest_run(weeks: list[date]) -> list[date]:
    best: list[date] = []
    current: list[date] = []
    for w in weeks:
        if current and w - current[-1] != timedelta(weeks=1):
            current = []
        current.append(w)
        if len(current) > len(best):
            best = list(current)
    return best
