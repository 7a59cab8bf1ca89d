"""Matplotlib plumbing for the charts: one figure, the CJK font, deterministic PNG/SVG bytes.

No pyplot: each chart builds a :class:`matplotlib.figure.Figure` and renders it with the Agg
canvas. Some settings exist only as ``rcParams`` (``svg.hashsalt``, ``svg.fonttype``, default
fonts for tick labels), so rendering runs inside ``matplotlib.rc_context`` under a process-wide
lock: charts drawn in parallel threads (a threaded web server) cannot see each other's settings.

SVG text choice: ``svg.fonttype = "none"`` writes labels as ``<text>`` elements with a
``font-family`` list (the CJK family first), so Chinese stays selectable, searchable and
small; the browser draws it with that font or its own CJK fallback. The alternative, ``"path"``,
would draw glyph outlines (exact look, but no text and larger files).

Determinism: a fixed ``svg.hashsalt`` (stable element ids), no ``Date`` in SVG metadata and no
``Software`` entry in PNG metadata, so the same input gives the same bytes.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from perception.reporting.fonts import FontChoice, find_cjk_font

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

ChartFormat = Literal["png", "svg"]

#: Colour-blind-safe palette (Okabe & Ito, 2008, "Color Universal Design").
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
SVG_HASHSALT = "perception-reporting"

_LOCK = threading.RLock()


def _rc(font: FontChoice) -> dict[RcKeyType, Any]:
    from matplotlib import font_manager

    families = [font.mpl_family] if font.mpl_family else []
    # Use the CJK face's own weight (WenQuanYi Zen Hei is 500) for all text, so findfont
    # matches exactly instead of logging "Failed to find font weight normal" per lookup.
    weight = next(
        (entry.weight for entry in font_manager.fontManager.ttflist if entry.name == font.mpl_family),
        "normal",
    )
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [*families, "DejaVu Sans"],
        "font.weight": weight,
        "axes.titleweight": weight,
        "axes.labelweight": weight,
        "figure.titleweight": weight,
        "font.size": 9.0,
        "axes.unicode_minus": False,  # CJK fonts often lack U+2212
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.fonttype": "none",
        "svg.hashsalt": SVG_HASHSALT,
    }


def render(
    draw: Callable[[Figure], None],
    *,
    fmt: ChartFormat,
    size: tuple[float, float],
    dpi: int = 150,
    font: FontChoice | None = None,
    inspect: Callable[[Figure], None] | None = None,
) -> bytes:
    """Create a figure of ``size`` inches, let ``draw`` fill it, return PNG or SVG bytes.

    ``inspect`` sees the laid-out figure after saving (tests measure where labels landed)."""
    # Matplotlib loads on the first chart, not when the app starts.
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if fmt not in ("png", "svg"):
        raise ValueError(f"unknown chart format {fmt!r}; use 'png' or 'svg'")
    chosen = font if font is not None else find_cjk_font()
    with _LOCK, matplotlib.rc_context(_rc(chosen)):
        figure = Figure(figsize=size, dpi=dpi, layout="constrained")
        FigureCanvasAgg(figure)
        draw(figure)
        buffer = io.BytesIO()
        metadata: dict[str, str | None] = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
        if inspect is not None:
            inspect(figure)
    return buffer.getvalue()
