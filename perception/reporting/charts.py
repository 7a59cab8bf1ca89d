"""The report and dashboard charts, as PNG (for the PDF) or SVG (for web pages) bytes.

Every label is passed in already translated; nothing here chooses a language. Inputs are
plain numbers (``nan`` marks a missing value); confidence intervals are computed by the
caller (``scoring/``) and only drawn here. Each chart is drawn once per distinct set of
arguments in a process (perception.reporting.drawn): pages ask for the same charts again.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from perception.reporting.chart_inputs import (
    EventMarker,
    GroupEstimate,
    Quadrant,
    QuadrantLabels,
    QuadrantPoint,
    TrendSeries,
)
from perception.reporting.drawn import kept_by_inputs
from perception.reporting.figures import PALETTE, ChartFormat, render
from perception.reporting.fonts import FontChoice

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ChartFormat",
    "EventMarker",
    "GroupEstimate",
    "QuadrantLabels",
    "QuadrantPoint",
    "TrendSeries",
    "heatmap_chart",
    "interval_bar_chart",
    "quadrant_chart",
    "trend_chart",
]


@kept_by_inputs
def trend_chart(
    periods: Sequence[str],
    series: Sequence[TrendSeries],
    *,
    title: str = "",
    y_label: str = "",
    events: Sequence[EventMarker] = (),
    target: float | None = None,
    target_label: str = "",
    fmt: ChartFormat = "svg",
    font: FontChoice | None = None,
    size: tuple[float, float] = (7.0, 3.4),
    inspect: Callable[[Figure], None] | None = None,
) -> bytes:
    """Lines over periods with optional CI bands, a dashed target line and event markers.

    Event labels that would collide (events a few periods apart) go on separate rows, and a long
    label is shortened with "…" (the page lists the events in full beside the chart)."""
    positions = {period: i for i, period in enumerate(periods)}
    for marker in events:
        if marker.period not in positions:
            raise ValueError(f"event period {marker.period!r} is not one of the chart's periods")
    for line in series:
        _check_length(line.label, len(periods), line.values, line.ci_low, line.ci_high)

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        x = np.arange(len(periods))
        for i, line in enumerate(series):
            colour = PALETTE[i % len(PALETTE)]
            axes.plot(x, _floats(line.values), marker="o", color=colour, label=line.label)
            if line.ci_low is not None and line.ci_high is not None:
                axes.fill_between(
                    x, _floats(line.ci_low), _floats(line.ci_high), color=colour, alpha=0.18, linewidth=0
                )
        if target is not None:
            axes.axhline(target, color="#555555", linestyle="--", linewidth=1, label=target_label or None)
        shown = [shorten(m.label, EVENT_LABEL_CHARS) for m in events]
        spans = [label_span(text, len(periods), size[0] - 1.0) for text in shown]
        rows = event_rows([positions[m.period] for m in events], spans)
        for marker, text, row in zip(events, shown, rows, strict=True):
            axes.axvline(positions[marker.period], color="#D55E00", linestyle=":", linewidth=1.2)
            axes.annotate(
                text,
                xy=(positions[marker.period], 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -3 - 11 * row),
                textcoords="offset points",
                va="top",
                fontsize=8,
                color="#D55E00",
                in_layout=False,
            )
        axes.set_xticks(x, list(periods), rotation=30 if len(periods) > 8 else 0)
        axes.set_xlim(-0.3, max(len(periods) - 0.7, 0.3))
        _finish(axes, title, y_label, legend=bool(series) and (len(series) > 1 or bool(target_label)))

    return render(draw, fmt=fmt, size=size, font=font, inspect=inspect)


#: An event label longer than this is shortened on the chart (the page lists events in full).
EVENT_LABEL_CHARS = 28


def label_span(label: str, periods: int, plot_inches: float = 6.0) -> int:
    """How many period positions an 8-pt label covers on a plot ``plot_inches`` wide."""
    inches = sum(0.115 if unicodedata.east_asian_width(ch) in "WF" else 0.065 for ch in label) + 0.08
    return max(1, math.ceil(inches / (plot_inches / max(periods, 1))))


def event_rows(positions: Sequence[int], spans: Sequence[int]) -> list[int]:
    """A label row per event so that no label starts before the one to its left on its row ends."""
    row_free_from: list[int] = []
    rows = []
    for position, span in zip(positions, spans, strict=True):
        row = next((r for r, free in enumerate(row_free_from) if position >= free), len(row_free_from))
        if row == len(row_free_from):
            row_free_from.append(position + span)
        else:
            row_free_from[row] = position + span
        rows.append(row)
    return rows


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def merged_points(points: Sequence[QuadrantPoint]) -> list[QuadrantPoint]:
    """One point per position: points drawn on the same spot share one dot and one label."""
    by_spot: dict[tuple[float, float], list[QuadrantPoint]] = {}
    for point in points:
        by_spot.setdefault((round(point.x, 4), round(point.y, 4)), []).append(point)
    merged = []
    for group in by_spot.values():
        labels = list(dict.fromkeys(p.label for p in group if p.label))
        merged.append(QuadrantPoint(" / ".join(labels), group[0].x, group[0].y))
    return merged


@kept_by_inputs
def interval_bar_chart(
    groups: Sequence[GroupEstimate],
    *,
    title: str = "",
    y_label: str = "",
    min_n: int = 30,
    low_sample_label: str = "n < 30",
    reference: float | None = None,
    reference_label: str = "",
    fmt: ChartFormat = "svg",
    font: FontChoice | None = None,
    size: tuple[float, float] | None = None,
) -> bytes:
    """Bars with interval whiskers; groups with ``n < min_n`` are hatched and named in the legend."""
    width = size or (max(4.0, 0.32 * len(groups) + 1.5), 3.4)

    def draw(figure: Figure) -> None:
        from matplotlib.patches import Patch

        axes = figure.add_subplot()
        x = np.arange(len(groups))
        values = np.array([g.value for g in groups], dtype=float)
        low_sample = [g.n is not None and g.n < min_n for g in groups]
        bars = axes.bar(x, values, color=PALETTE[0], edgecolor=PALETTE[0], width=0.7)
        for bar, weak in zip(bars, low_sample, strict=True):
            if weak:
                bar.set_facecolor("#BFD7EA")
                bar.set_hatch("///")
        lower = [g.value - g.low if g.low is not None else math.nan for g in groups]
        upper = [g.high - g.value if g.high is not None else math.nan for g in groups]
        if any(not math.isnan(v) for v in lower + upper):
            error = np.nan_to_num(np.array([lower, upper], dtype=float), nan=0.0)
            axes.errorbar(x, values, yerr=error, fmt="none", ecolor="#333333", capsize=3, linewidth=1)
        handles: list[Artist] = []
        if reference is not None:
            handles.append(
                axes.axhline(reference, color="#555555", linestyle="--", linewidth=1, label=reference_label)
            )
        if any(low_sample):
            handles.append(
                Patch(facecolor="#BFD7EA", edgecolor=PALETTE[0], hatch="///", label=low_sample_label)
            )
        rotate = 45 if len(groups) > 8 else 0
        axes.set_xticks(x, [g.label for g in groups], rotation=rotate, ha="right" if rotate else "center")
        _finish(axes, title, y_label, legend=False)
        if handles:
            axes.legend(handles=handles, frameon=False, fontsize=8)

    return render(draw, fmt=fmt, size=width, font=font)


@kept_by_inputs
def quadrant_chart(
    points: Sequence[QuadrantPoint],
    labels: QuadrantLabels,
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    x_split: float = 0.0,
    y_split: float = 0.0,
    highlight: Quadrant | None = "bottom_right",
    fmt: ChartFormat = "svg",
    font: FontChoice | None = None,
    size: tuple[float, float] = (6.0, 5.0),
    inspect: Callable[[Figure], None] | None = None,
) -> bytes:
    """KPI margin (x) against experience gap (y), split into four captioned quadrants.

    Points on the same spot are drawn once with their labels joined; labels are pushed apart
    from each other and from the dots (adjustText) so a crowded centre stays readable.

    With ``y`` = perceived minus expected experience, the bottom-right quadrant (KPI met,
    experience short) is the "watermelon" one and is shaded by default (``highlight``).
    """
    xs = np.array([p.x for p in points], dtype=float)
    ys = np.array([p.y for p in points], dtype=float)
    x_half = _half_span(xs, x_split)
    y_half = _half_span(ys, y_split)

    def draw(figure: Figure) -> None:
        from matplotlib.patches import Rectangle

        axes = figure.add_subplot()
        axes.set_xlim(x_split - x_half, x_split + x_half)
        axes.set_ylim(y_split - y_half, y_split + y_half)
        axes.axvline(x_split, color="#777777", linewidth=0.8)
        axes.axhline(y_split, color="#777777", linewidth=0.8)
        corners: dict[Quadrant, tuple[float, float, str, str]] = {
            "top_left": (0.02, 0.98, "left", "top"),
            "top_right": (0.98, 0.98, "right", "top"),
            "bottom_left": (0.02, 0.02, "left", "bottom"),
            "bottom_right": (0.98, 0.02, "right", "bottom"),
        }
        for name, (cx, cy, ha, va) in corners.items():
            shaded = name == highlight
            axes.text(
                cx, cy, getattr(labels, name), transform=axes.transAxes, ha=ha, va=va, fontsize=9,
                color="#B2182B" if shaded else "#555555", in_layout=False,
            )  # fmt: skip
        if highlight is not None:
            left = x_split if highlight.endswith("right") else x_split - x_half
            bottom = y_split if highlight.startswith("top") else y_split - y_half
            axes.add_patch(
                Rectangle((left, bottom), x_half, y_half, facecolor="#F4A582", alpha=0.18, linewidth=0)
            )
        shown = merged_points(points)
        dots = axes.scatter([p.x for p in shown], [p.y for p in shown], s=24, color=PALETTE[0], zorder=3)
        texts = [axes.text(p.x, p.y, p.label, fontsize=7.5, in_layout=False) for p in shown if p.label]
        _finish(axes, title, y_label, legend=False)
        axes.set_xlabel(x_label)
        if texts:
            from adjustText import adjust_text

            figure.canvas.draw()  # lay out first, so text extents are final
            adjust_text(
                texts, ax=axes, objects=dots, expand=(1.2, 1.6), force_text=(0.3, 0.6), iter_lim=2000,
                ensure_inside_axes=True,
                arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.5},
            )  # fmt: skip

    return render(draw, fmt=fmt, size=size, font=font, inspect=inspect)


@kept_by_inputs
def heatmap_chart(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    values: Sequence[Sequence[float]] | np.ndarray,
    *,
    title: str = "",
    colorbar_label: str = "",
    value_format: str = "{:.1f}",
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str = "RdYlGn",
    missing_text: str = "–",
    fmt: ChartFormat = "svg",
    font: FontChoice | None = None,
    size: tuple[float, float] | None = None,
    marked: Sequence[Sequence[bool]] | np.ndarray | None = None,
) -> bytes:
    """Rows (e.g. regions) x columns (e.g. the six feedback dimensions), each cell annotated;
    ``marked`` cells (e.g. fewer than 30 ratings) get a "*" after their value."""
    matrix = np.asarray(values, dtype=float)
    flags = np.zeros(matrix.shape, dtype=bool) if marked is None else np.asarray(marked, dtype=bool)
    if matrix.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"values shape {matrix.shape} != ({len(row_labels)}, {len(col_labels)})")
    figsize = size or (max(4.0, 0.9 * len(col_labels) + 2.5), max(2.5, 0.27 * len(row_labels) + 1.4))

    def draw(figure: Figure) -> None:
        import matplotlib

        axes = figure.add_subplot()
        masked = np.ma.masked_invalid(matrix)
        colour_map = matplotlib.colormaps[cmap].with_extremes(bad="#DDDDDD")
        image = axes.imshow(masked, cmap=colour_map, vmin=vmin, vmax=vmax, aspect="auto")
        norm = image.norm
        colours = np.asarray(image.cmap(norm(masked.filled(np.nan))))
        for (row, col), value in np.ndenumerate(matrix):
            red, green, blue = colours[row, col, :3]
            dark_cell = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            text = missing_text if math.isnan(value) else value_format.format(value)
            text += "*" if flags[row, col] and not math.isnan(value) else ""
            # Cell texts sit inside the axes: keeping them out of the constrained-layout
            # solver saves most of the chart's render time.
            axes.text(col, row, text, ha="center", va="center", fontsize=7.5,
                      color="white" if dark_cell else "black", in_layout=False)  # fmt: skip
        axes.set_xticks(np.arange(len(col_labels)), list(col_labels), rotation=30, ha="right")
        axes.set_yticks(np.arange(len(row_labels)), list(row_labels))
        axes.tick_params(length=0)
        for spine in axes.spines.values():
            spine.set_visible(False)
        colorbar = figure.colorbar(image, ax=axes, shrink=0.8)
        colorbar.set_label(colorbar_label)
        if title:
            axes.set_title(title, loc="left")

    return render(draw, fmt=fmt, size=figsize, font=font)


def _finish(axes: Axes, title: str, y_label: str, *, legend: bool) -> None:
    if title:
        axes.set_title(title, loc="left")
    axes.set_ylabel(y_label)
    axes.grid(axis="y", color="#E5E5E5", linewidth=0.6)
    axes.set_axisbelow(True)
    if legend:
        axes.legend(frameon=False, fontsize=8)


def _half_span(values: np.ndarray, centre: float) -> float:
    finite = values[np.isfinite(values)]
    spread = float(np.max(np.abs(finite - centre))) if finite.size else 1.0
    return spread * 1.2 if spread > 0 else 1.0


def _floats(values: Sequence[float]) -> np.ndarray:
    return np.asarray(values, dtype=float)


def _check_length(label: str, expected: int, *arrays: Sequence[float] | None) -> None:
    for array in arrays:
        if array is not None and len(array) != expected:
            raise ValueError(f"series {label!r}: {len(array)} values for {expected} periods")
