"""The demand chart: themes by size in the period against the previous period, as SVG or PNG bytes.

One horizontal bar per theme, largest first, its name written above the bar (so a long name never
squeezes the bars on a 390 px phone), a tick at the previous period's count and the change beside
the count (▲ +5, ▼ -3, = 0; an ASCII minus, which every CJK font has). The figure is 4.2 inches
wide: on a phone it is shown at about its own size, on a desktop it is capped by the page. Labels
arrive translated; nothing here chooses a language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perception.reporting.figures import PALETTE, ChartFormat, render
from perception.reporting.fonts import FontChoice

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ThemeBar", "change_text", "theme_bars_chart"]


@dataclass(frozen=True)
class ThemeBar:
    label: str
    count: int
    previous: int


def change_text(count: int, previous: int) -> str:
    """The count and its change against the previous period: "12 ▲ +5", "4 ▼ -3", "7 = 0"."""
    diff = count - previous
    if diff > 0:
        return f"{count} ▲ +{diff}"
    if diff < 0:
        return f"{count} ▼ -{-diff}"
    return f"{count} = 0"


def theme_bars_chart(
    bars: Sequence[ThemeBar],
    *,
    title: str,
    now_label: str,
    previous_label: str,
    empty_label: str,
    fmt: ChartFormat = "svg",
    font: FontChoice | None = None,
) -> bytes:
    height = 0.5 * max(len(bars), 1) + 1.1

    def draw(figure: Figure) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        axes = figure.add_subplot()
        axes.set_title(title, loc="left")
        if not bars:
            axes.text(0.5, 0.5, empty_label, ha="center", va="center", transform=axes.transAxes)
            axes.set_axis_off()
            return
        top = max(max(b.count, b.previous) for b in bars) or 1
        for i, bar in enumerate(bars):
            y = -i
            axes.barh(y, bar.count, height=0.34, color=PALETTE[0])
            axes.plot([bar.previous, bar.previous], [y - 0.24, y + 0.24], color="#333333", linewidth=1.6)
            axes.text(0, y + 0.24, bar.label, ha="left", va="bottom", fontsize=9)
            colour = PALETTE[3] if bar.count > bar.previous else "#333333"
            axes.text(
                max(bar.count, bar.previous) + top * 0.02,
                y,
                change_text(bar.count, bar.previous),
                ha="left",
                va="center",
                fontsize=8.5,
                color=colour,
            )
        from matplotlib.ticker import MaxNLocator

        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlim(0, top * 1.3)
        axes.set_ylim(-len(bars) + 0.5, 0.75)
        axes.set_yticks([])
        axes.spines["left"].set_visible(False)
        axes.grid(axis="x", color="#E5E5E5", linewidth=0.6)
        axes.set_axisbelow(True)
        axes.legend(
            handles=[
                Patch(color=PALETTE[0], label=now_label),
                Line2D([0], [0], color="#333333", linewidth=1.6, label=previous_label),
            ],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            ncols=2,
            frameon=False,
            fontsize=8,
        )

    return render(draw, fmt=fmt, size=(4.2, height), font=font)
