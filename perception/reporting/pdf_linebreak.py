"""Line breaking for the report's paragraphs: never inside a number or a word, never before "。".

ReportLab's ``wordWrap="CJK"`` may break between any two characters, so a narrow table cell
showed "117" as "11 / 7" and "0.0793" as "0.079 / 3", and English words inside Chinese text
broke mid-word ("R / eviewer"); plain word wrapping, on the other hand, cannot break Chinese at
all. :class:`ReportParagraph` keeps ReportLab's layout and drawing but chooses the break points
with the Unicode line breaking algorithm (UAX #14, from the ``uniseg`` package): between two
Chinese characters, after a space, never inside "0.0793" or "decision", never before closing
punctuation such as "。" or "）" and never after an opening one. A single unit wider than the
whole line (a URL in a narrow column) is the only thing still cut, so nothing runs over the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from reportlab.platypus.paragraph import (
    Paragraph,
    ParaLines,
    _handleBulletWidth,
    cjkU,
    makeCJKParaLine,
)
from uniseg.linebreak import line_break_units

_FUZZ = 1e-6


@lru_cache(maxsize=16384)
def break_units(text: str) -> tuple[str, ...]:
    """The pieces of ``text`` that must stay on one line (UAX #14), kept per text: ReportLab wraps
    a paragraph again on every layout pass and a table's texts are measured before they are laid
    out, and uniseg's pure-Python algorithm was most of a review PDF's build time."""
    return tuple(line_break_units(text))


class ReportParagraph(Paragraph):
    """A Paragraph whose lines break at UAX #14 opportunities (use with ``wordWrap="CJK"``)."""

    def breakLinesCJK(self, maxWidths: Any) -> Any:  # noqa: N802 (ReportLab's method name)
        if not isinstance(maxWidths, (list, tuple)):
            maxWidths = [maxWidths]
        _handleBulletWidth(self.bulletText, self.style, maxWidths)
        if not self.frags:
            return super().breakLinesCJK(maxWidths)
        if hasattr(self, "blPara") and getattr(self, "_splitpara", False):
            return self.blPara
        auto_leading = getattr(self, "autoLeading", getattr(self.style, "autoLeading", ""))
        return break_frags(self.frags, list(maxWidths), auto_leading not in ("", "off"))


def glyphs(frags: Sequence[Any]) -> list[Any]:
    """One ``cjkU`` (a character with its frag and width) per character, as ReportLab builds them."""
    out: list[Any] = []
    for frag in frags:
        text = frag.text.decode("utf8") if isinstance(frag.text, bytes) else frag.text
        if text:
            out.extend(cjkU(ch, frag, "utf8") for ch in text)
        else:  # a <br/>, an image or another zero-length frag
            out.append(cjkU(text, frag, "utf8"))
    return out


def units(glyph_list: Sequence[Any]) -> list[tuple[int, int]]:
    """``(start, end)`` index ranges of the glyphs that must stay on one line."""
    ranges: list[tuple[int, int]] = []
    run_start = 0

    def close_run(end: int) -> None:
        if end > run_start:
            text = "".join(glyph_list[run_start:end])
            pos = run_start
            for unit in break_units(text):
                ranges.append((pos, pos + len(unit)))
                pos += len(unit)

    for i, g in enumerate(glyph_list):
        if len(g) == 0:  # zero-length frag: a unit on its own
            close_run(i)
            ranges.append((i, i + 1))
            run_start = i + 1
    close_run(len(glyph_list))
    return ranges


def break_frags(frags: Sequence[Any], max_widths: list[float], calc_bounds: bool) -> Any:
    """Greedy line filling over the unbreakable units of ``frags``."""
    glyph_list = glyphs(frags)
    lines: list[Any] = []
    start = 0
    used = 0.0

    def width_of(i: int, j: int) -> float:
        return float(sum(g.width for g in glyph_list[i:j]))

    def current_max() -> float:
        return max_widths[min(len(lines), len(max_widths) - 1)]

    def emit(end: int, line_break: bool) -> None:
        nonlocal start, used
        limit = current_max()
        lines.append(
            makeCJKParaLine(glyph_list[start:end], limit, used, limit - used, line_break, calc_bounds)
        )
        start, used = end, 0.0

    for first, last in units(glyph_list):
        fit = width_of(first, last) - trailing_space_width(glyph_list[first:last])
        if used > 0 and used + fit > current_max() + _FUZZ:
            emit(first, False)
        if fit > current_max() + _FUZZ:  # alone wider than a line: cut it where it must
            for i in range(first, last):
                w = glyph_list[i].width
                if used > 0 and used + w > current_max() + _FUZZ:
                    emit(i, False)
                used += w
        else:
            used += width_of(first, last)
        if last - first == 1 and hasattr(glyph_list[first].frag, "lineBreak"):
            emit(last, True)
    if start < len(glyph_list):
        emit(len(glyph_list), False)
    return ParaLines(kind=1, lines=lines)


def trailing_space_width(unit: Sequence[Any]) -> float:
    """The width of a unit's trailing spaces, which may hang past the line's end."""
    width = 0.0
    for g in reversed(unit):
        if not g.isspace():
            break
        width += g.width
    return width
