"""Drawing a review's chart blocks (perception.review.services.blocks.chart) in one language:
SVG for the web page, PNG for the PDF, with the same CJK font as the PDF
(perception.reporting.charts does the drawing).

``data`` per kind:
- ``interval_bar``: groups [{label, value, low, high, n}], y_label, optional min_n,
  low_sample_label, reference, reference_label;
- ``quadrant``: points [{label, x, y}] (x = relative KPI margin, y = relative experience gap);
- ``trend``: periods [str], series [{label, values}], optional y_label, target;
- ``heatmap``: rows [label], cols [label], values [[float]], optional colorbar_label.
Labels may be bilingual dicts or plain strings.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from perception.reporting.charts import (
    ChartFormat,
    GroupEstimate,
    QuadrantLabels,
    QuadrantPoint,
    TrendSeries,
    heatmap_chart,
    interval_bar_chart,
    quadrant_chart,
    trend_chart,
)
from perception.reporting.fonts import FontChoice
from perception.review.services.blocks import Lang, pick

QUADRANT_LABELS = {
    "zh": QuadrantLabels(
        "体验达标 · KPI 未达标", "KPI 与体验均达标", "均未达标", "西瓜效应：KPI 达标、体验未达标"
    ),
    "en": QuadrantLabels(
        "experience met, KPI missed", "both met", "both missed", "watermelon: KPI met, experience missed"
    ),
}
AXES = {
    "zh": ("KPI 余量（相对目标）", "体验差距（相对目标）"),
    "en": ("KPI margin (relative to target)", "experience gap (relative to target)"),
}


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


def render_chart(
    block: Mapping[str, Any], lang: Lang, fmt: ChartFormat, font: FontChoice | None = None
) -> bytes:
    """The chart of one chart block as PNG or SVG bytes."""
    data = block["data"]
    title = pick(block.get("title"), lang)
    kind = block["kind"]
    if kind == "interval_bar":
        groups = [
            GroupEstimate(pick(g["label"], lang), float(g["value"]), g.get("low"), g.get("high"), g.get("n"))
            for g in data["groups"]
        ]
        return interval_bar_chart(
            groups,
            title=title,
            y_label=pick(data.get("y_label"), lang),
            min_n=int(data.get("min_n", 30)),
            low_sample_label=pick(data.get("low_sample_label"), lang)
            or ("样本不足 n<30" if lang == "zh" else "n < 30"),
            reference=data.get("reference"),
            reference_label=pick(data.get("reference_label"), lang),
            fmt=fmt,
            font=font,
        )
    if kind == "quadrant":
        points = [QuadrantPoint(pick(p["label"], lang), _nan(p["x"]), _nan(p["y"])) for p in data["points"]]
        x_label, y_label = AXES[lang]
        return quadrant_chart(
            points, QUADRANT_LABELS[lang], title=title, x_label=x_label, y_label=y_label, fmt=fmt, font=font
        )
    if kind == "trend":
        series = [TrendSeries(pick(s["label"], lang), [_nan(v) for v in s["values"]]) for s in data["series"]]
        return trend_chart(
            list(data["periods"]),
            series,
            title=title,
            y_label=pick(data.get("y_label"), lang),
            target=data.get("target"),
            fmt=fmt,
            font=font,
        )
    if kind == "heatmap":
        return heatmap_chart(
            [pick(r, lang) for r in data["rows"]],
            [pick(c, lang) for c in data["cols"]],
            [[_nan(v) for v in row] for row in data["values"]],
            title=title,
            colorbar_label=pick(data.get("colorbar_label"), lang),
            fmt=fmt,
            font=font,
        )
    raise ValueError(f"unknown chart kind {kind!r}")


def svg_data_uri(block: Mapping[str, Any], lang: Lang, font: FontChoice | None = None) -> str:
    """The chart as a ``data:image/svg+xml;base64`` URI for an <img> (CSP allows data: images)."""
    svg = render_chart(block, lang, "svg", font)
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
