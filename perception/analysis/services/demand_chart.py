"""The demand page's chart (issue 17, "charts where people look"): the themes of the period by
size, against the previous period of equal length, named in the reader's language.

``demand_chart(view, zh, fmt)`` draws from the page's own DemandView (perception.analysis.services
.demand): the ``LIMIT`` largest themes of the period (themes with texts only in the previous
period follow, so a need that went quiet still shows), each with its change.
"""

from __future__ import annotations

from perception.analysis.services.demand import DemandView
from perception.reporting.demand_chart import ThemeBar, theme_bars_chart
from perception.reporting.figures import ChartFormat

LIMIT = 10
#: Display width of a theme's name on the chart (a CJK character counts two).
NAME_WIDTH = 44


def _shorten(text: str, width: int = NAME_WIDTH) -> str:
    import unicodedata

    used = 0
    for i, ch in enumerate(text):
        used += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used > width:
            return text[:i].rstrip(" /") + "…"
    return text


def demand_bars(view: DemandView) -> list[ThemeBar]:
    themes = [t for t in view.themes if t.n_entries or t.n_previous]
    themes.sort(key=lambda t: (-t.n_entries, -t.n_previous, t.key))
    return [ThemeBar(_shorten(t.label), t.n_entries, t.n_previous) for t in themes[:LIMIT]]


def demand_chart(view: DemandView, zh: bool, fmt: ChartFormat = "svg") -> bytes:
    return theme_bars_chart(
        demand_bars(view),
        title="主题：本期文本数与上期对比" if zh else "Themes: texts this period against the previous",
        now_label="本期" if zh else "this period",
        previous_label="上期" if zh else "previous period",
        empty_label="本期没有已归入主题的文本" if zh else "No themed texts in the period",
        fmt=fmt,
    )
