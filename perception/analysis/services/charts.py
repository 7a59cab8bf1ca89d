"""Chart builders for the analysis pages (SVG) and the review PDF (PNG), from the analysis views.

Public API (also used by the review phase), each returning image bytes:
``overview_trend_chart(view, zh, fmt)``, ``region_csat_chart(view, zh, fmt)``,
``quadrant_matrix_chart(view, zh, fmt)``, ``dimension_heatmap_chart(view, zh, fmt)``,
``dimension_bar_chart(view, zh, fmt)``, ``kpi_trend_chart(trend, zh, fmt)``.
All labels are chosen here in the requested language; numbers come from the views.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from perception.analysis.services.experience import ExperienceView
from perception.analysis.services.facts import DIMENSION_CODES
from perception.analysis.services.kpi_experience import KpiExperienceView
from perception.analysis.services.kpis import KpiTrend
from perception.analysis.services.overview import OverviewView, period_label, period_of
from perception.collection.services.vocab import CATEGORIES, DIMENSIONS
from perception.core.periods import iso_week_label, week_start
from perception.reporting.chart_inputs import (
    EventMarker,
    GroupEstimate,
    QuadrantLabels,
    QuadrantPoint,
    TrendSeries,
)
from perception.reporting.charts import heatmap_chart, interval_bar_chart, quadrant_chart, trend_chart
from perception.reporting.figures import ChartFormat
from scoring import DEFAULT_MIN_N, QUADRANTS

NAN = float("nan")


def _t(zh: bool, zh_text: str, en_text: str) -> str:
    return zh_text if zh else en_text


def _pct(m: object, attr: str) -> float:
    value = getattr(m, attr, None) if m is not None else None
    return NAN if value is None or not math.isfinite(value) else 100.0 * value


def overview_trend_chart(view: OverviewView, zh: bool, fmt: ChartFormat = "svg") -> bytes:
    """CSAT (%) and the perception index per week or month with 95 % bands, events marked."""
    labels = [p.label for p in view.trend]
    csat = TrendSeries(
        "CSAT (%)",
        [_pct(p.csat, "estimate") for p in view.trend],
        [_pct(p.csat, "ci_low") for p in view.trend],
        [_pct(p.csat, "ci_high") for p in view.trend],
    )
    index = TrendSeries(
        _t(zh, "感知指数", "Perception index"),
        [p.index.estimate if p.index else NAN for p in view.trend],
        [p.index.ci_low if p.index else NAN for p in view.trend],
        [p.index.ci_high if p.index else NAN for p in view.trend],
    )
    grouped: dict[str, list[str]] = defaultdict(list)
    for event in view.events:
        label = period_label(period_of(week_start(event.event_date), view.filters.grain), view.filters.grain)
        if label in labels:
            name = CATEGORIES.get(event.category, (event.category, event.category))[0 if zh else 1]
            grouped[label].append(name)
    markers = []
    for period, names in grouped.items():
        kinds = list(dict.fromkeys(names))
        # One short label per period keeps a busy timeline readable; the table lists them all.
        label = kinds[0] + (f" +{len(names) - 1}" if len(names) > 1 else "")
        markers.append(EventMarker(period, label))
    return trend_chart(
        labels,
        [csat, index],
        title=_t(zh, "满意度与感知指数趋势", "CSAT and perception index over time"),
        y_label="0–100",
        events=markers,
        fmt=fmt,
    )


def region_csat_chart(view: OverviewView, zh: bool, fmt: ChartFormat = "svg") -> bytes:
    """CSAT per region with Wilson intervals; low-sample regions hatched."""
    groups = [
        GroupEstimate(
            (r.name_zh if zh else r.name_en) or r.code,
            100 * r.csat.estimate,
            100 * r.csat.ci_low,
            100 * r.csat.ci_high,
            r.csat.n,
        )
        for r in view.regions
        if r.csat is not None
    ]
    return interval_bar_chart(
        groups,
        title=_t(zh, "各地区满意度（95% 区间）", "CSAT by region (95 % interval)"),
        y_label="CSAT (%)",
        low_sample_label=_t(zh, "样本不足 n < 30", "low sample n < 30"),
        fmt=fmt,
    )


#: The quadrant chart names every point up to this many cells; beyond, only the top watermelons.
QUADRANT_LABEL_ALL = 40
QUADRANT_LABELLED = 10
QUADRANT_GRID = 0.5  # percentage points: unnamed points on one grid spot are drawn once


def quadrant_matrix_chart(view: KpiExperienceView, zh: bool, fmt: ChartFormat = "svg") -> bytes:
    """Service x region cells: KPI margin (relative to target) against experience gap (relative).

    Up to QUADRANT_LABEL_ALL cells every point is named. A national provider has thousands (issue
    19): then only the QUADRANT_LABELLED top-ranked watermelons are named, and the other points
    are drawn unnamed on a grid of QUADRANT_GRID percentage points, points on one spot drawn once,
    so the chart stays readable and its size bounded; the page's table lists every cell."""
    table = view.cells
    many = len(table) > QUADRANT_LABEL_ALL
    # Every point from the verdicts' arrays; a CellView (its names) only for a point that is named.
    shown = table.classified.watermelons[:QUADRANT_LABELLED] if many else range(len(table))
    named = dict(zip(shown, table.views(shown), strict=True))
    margins, gaps = table.classified.kpi_margin.tolist(), table.classified.experience_gap.tolist()
    points = []
    for i, cell in enumerate(table.classified.cells):
        kpi_target, experience_target = cell.kpi_target, cell.experience_target
        x = margins[i] / abs(kpi_target) if kpi_target else margins[i]
        y = gaps[i] / abs(experience_target) if experience_target else gaps[i]
        c = named.get(i)
        if c is None:
            grid = QUADRANT_GRID
            points.append(QuadrantPoint("", grid * round(100 * x / grid), grid * round(100 * y / grid)))
            continue
        # Names, not codes, and the KPI: one cell has a point per KPI (issue 17 saw one cell three
        # times, each labelled only "DESK·GD").
        name = _t(zh, f"{c.region_name_zh}·{c.service_name_zh}", f"{c.region_name_en} · {c.service_name_en}")
        kpi = _t(zh, c.kpi_name_zh, c.kpi_name_en) or c.kpi_code
        points.append(QuadrantPoint(f"{name}\n{kpi}", 100 * x, 100 * y))
    q = {k: (zh_text if zh else en_text) for k, (zh_text, en_text) in QUADRANTS.items()}
    labels = QuadrantLabels(
        top_left=q["kpi_missed_experience_met"],
        top_right=q["both_met"],
        bottom_left=q["both_missed"],
        bottom_right=q["watermelon"],
    )
    return quadrant_chart(
        points,
        labels,
        title=_t(zh, "KPI 与体验四象限", "KPI versus experience"),
        x_label=_t(zh, "KPI 相对目标余量 (%)", "KPI margin vs target (%)"),
        y_label=_t(zh, "体验相对目标差距 (%)", "Experience gap vs target (%)"),
        fmt=fmt,
    )


def _dimension_names(zh: bool) -> list[str]:
    return [DIMENSIONS[d][0 if zh else 1] for d in DIMENSION_CODES]


def dimension_heatmap_chart(view: ExperienceView, zh: bool, fmt: ChartFormat = "svg") -> bytes:
    """Region x dimension mean rating (1-5) of customers' answers (the weekly-report voice is
    shown apart on the page)."""
    rows = [(r[2] if zh else r[3]) or r[1] for r in view.heat_regions]
    values = np.array(view.heat, dtype=float).reshape(len(rows), len(DIMENSION_CODES))
    counts = np.array(view.heat_n, dtype=float).reshape(len(rows), len(DIMENSION_CODES))
    if not rows:  # no ratings at all: one empty row rather than a degenerate axis
        rows, values = ["—"], np.full((1, len(DIMENSION_CODES)), np.nan)
        counts = np.zeros_like(values)
    return heatmap_chart(
        rows,
        _dimension_names(zh),
        values,
        marked=counts < DEFAULT_MIN_N,  # issue 14: cells on fewer than 30 ratings are marked
        title=_t(
            zh,
            "地区 × 维度平均评分：客户答复（* 评分少于 30 条）",
            "Mean rating by region and dimension: customers' answers (* fewer than 30 ratings)",
        ),
        colorbar_label=_t(zh, "平均分 (1–5)", "mean (1–5)"),
        value_format="{:.2f}",
        vmin=1.0,
        vmax=5.0,
        fmt=fmt,
    )


def dimension_bar_chart(view: ExperienceView, zh: bool, fmt: ChartFormat = "svg") -> bytes:
    names = dict(zip(DIMENSION_CODES, _dimension_names(zh), strict=True))
    groups = [
        GroupEstimate(names[d], m.estimate, m.ci_low, m.ci_high, m.n)
        for d, m in view.dimensions
        if m is not None
    ]
    return interval_bar_chart(
        groups,
        title=_t(
            zh,
            "六个反馈维度：客户答复（95% 区间）",
            "The six feedback dimensions: customers' answers (95 % interval)",
        ),
        y_label=_t(zh, "平均分 (1–5)", "mean (1–5)"),
        low_sample_label=_t(zh, "样本不足 n < 30", "low sample n < 30"),
        fmt=fmt,
        size=(8.0, 3.6),  # six long dimension names side by side
    )


def kpi_trend_chart(trend: KpiTrend, zh: bool, fmt: ChartFormat = "svg") -> bytes:
    return trend_chart(
        [iso_week_label(p) for p in trend.periods],
        [TrendSeries(trend.kpi_code, list(trend.values))],
        title=trend.kpi_name_zh if zh else trend.kpi_name_en,
        target=trend.target,
        target_label=_t(zh, "目标", "target"),
        fmt=fmt,
    )
