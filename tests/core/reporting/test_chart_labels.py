"""Chart labels people can read (issue 17, "Charts where people look"): the overview trend's event
labels overlapped into an unreadable strip, and the quadrant's central labels overlapped with one
cell drawn three times. Measured on the laid-out figure: no two labels' boxes intersect."""

from __future__ import annotations

import itertools
import random
from typing import Any

from perception.reporting.charts import (
    EVENT_LABEL_CHARS,
    EventMarker,
    QuadrantLabels,
    QuadrantPoint,
    TrendSeries,
    event_rows,
    quadrant_chart,
    shorten,
    trend_chart,
)
from perception.reporting.fonts import FontChoice


def _label_boxes(figure: Any, texts: set[str]) -> list[Any]:
    renderer = figure.canvas.get_renderer()
    return [
        t.get_window_extent(renderer)
        for ax in figure.axes
        for t in ax.texts
        if t.get_text() in texts and t.get_visible()
    ]


def _overlaps(boxes: list[Any]) -> list[tuple[int, int]]:
    return [(i, j) for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2) if a.overlaps(b)]


def test_event_labels_a_few_weeks_apart_do_not_overlap(cjk_font: FontChoice) -> None:
    periods = [f"2026-W{w:02d}" for w in range(1, 27)]
    events = [
        EventMarker(periods[i], label)
        for i, label in [
            (3, "服务台换班"),
            (4, "新系统上线"),
            (5, "工程师调整"),
            (6, "春节值班安排"),
            (14, "Upgrade of the ticket system and of the CMDB"),
        ]
    ]
    shown = {
        "服务台换班",
        "新系统上线",
        "工程师调整",
        "春节值班安排",
        shorten("Upgrade of the ticket system and of the CMDB", EVENT_LABEL_CHARS),
    }
    seen: dict[str, Any] = {}
    trend_chart(
        periods, [TrendSeries("CSAT", [80.0] * 26)], events=events, font=cjk_font,
        inspect=lambda figure: seen.update(boxes=_label_boxes(figure, shown)),  # in the chart's fonts
    )  # fmt: skip
    boxes = seen["boxes"]
    assert len(boxes) == 5
    assert _overlaps(boxes) == []


def test_event_rows_reuse_a_row_once_the_label_before_has_ended() -> None:
    assert event_rows([0, 1, 2, 10, 11], [5, 5, 5, 5, 5]) == [0, 1, 2, 0, 1]
    assert event_rows([0, 3], [3, 3]) == [0, 0]
    assert event_rows([], []) == []


def test_crowded_quadrant_labels_do_not_overlap_and_a_cell_is_drawn_once(cjk_font: FontChoice) -> None:
    rng = random.Random(7)
    points = [
        QuadrantPoint(f"服务台 · 区域{i}", rng.uniform(-0.02, 0.02), rng.uniform(-0.03, 0.03))
        for i in range(12)
    ]
    points += [QuadrantPoint("桌面运维 · 广东", 0.05, -0.4)] * 3  # one cell listed once per KPI
    labels = {p.label for p in points}
    seen: dict[str, Any] = {}

    def measure(figure: Any) -> None:  # inside the chart's fonts, as drawn
        seen["drawn"] = [t.get_text() for ax in figure.axes for t in ax.texts if t.get_text() in labels]
        seen["boxes"] = _label_boxes(figure, labels)

    quadrant_chart(points, QuadrantLabels("a", "b", "c", "d"), font=cjk_font, inspect=measure)
    assert seen["drawn"].count("桌面运维 · 广东") == 1 and len(seen["drawn"]) == 13
    assert _overlaps(seen["boxes"]) == []
