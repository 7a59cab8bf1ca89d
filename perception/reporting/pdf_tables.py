"""Table flowables of the review report: data tables, key-value lists and the sign-off grid.

Every cell is a ``ReportParagraph`` of escaped text, so long cells wrap inside their column
(never inside a number or a word, see ``pdf_linebreak``) instead of running over the page edge,
and a column is never narrower than its widest number or word.
Reference: ReportLab User Guide ch. 7 "Tables" (``LongTable``, ``repeatRows``, ``ROWBACKGROUNDS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import LongTable, Table, TableStyle

from perception.reporting.pdf_linebreak import ReportParagraph, break_units
from perception.reporting.pdf_styles import (
    HEADER_FILL,
    RULE,
    ZEBRA_FILL,
    Align,
    Lang,
    ReportStyles,
    label,
)

Cell = str | int | float | None


@dataclass(frozen=True)
class Signatory:
    """One line of the sign-off page; an empty ``date`` leaves a line to write on."""

    name: str
    role: str
    date: str = ""


def data_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    styles: ReportStyles,
    width: float,
    *,
    col_widths: Sequence[float] | None = None,
    align: Sequence[Align] | None = None,
    float_format: str = "{:.2f}",
) -> LongTable:
    """A zebra-striped table ``width`` points wide whose header row repeats on every page."""
    weights, aligns = check_table_shape(len(header), rows, col_widths, align)
    cell_styles = [styles.cell[a] for a in aligns]
    data = [[ReportParagraph(styles.markup(text), styles.header_cell) for text in header]]
    data += [
        [
            ReportParagraph(styles.markup(cell_text(value, float_format)), cell_styles[i])
            for i, value in enumerate(row)
        ]
        for row in rows
    ]
    texts = [[str(text) for text in header]] + [[cell_text(v, float_format) for v in row] for row in rows]
    table = LongTable(
        data, colWidths=column_widths(texts, weights, styles, width), repeatRows=1, hAlign="LEFT"
    )
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA_FILL]),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, RULE),
                ("LINEBELOW", (0, -1), (-1, -1), 0.8, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


#: Left plus right padding ReportLab puts inside every table cell, in points.
CELL_PADDING = 12.0


def column_widths(
    texts: Sequence[Sequence[str]], weights: Sequence[float], styles: ReportStyles, width: float
) -> list[float]:
    """Widths in points that share ``width`` by ``weights`` but never cut a number or a word.

    Each column is at least as wide as its widest unbreakable unit (a number such as "0.0793",
    a word such as "Reviewer") plus the cell padding; the columns that have room to spare give
    it up in proportion to their weights. When even the minimums do not fit, they are scaled
    down together (the widest units are then the ones cut, see ``pdf_linebreak``).
    """
    style = styles.cell["left"]
    needed = [
        max((widest_unit(row[i], style.fontName, style.fontSize) for row in texts), default=0.0)
        + CELL_PADDING
        for i in range(len(weights))
    ]
    if sum(needed) >= width:
        return [width * n / sum(needed) for n in needed]
    fixed: dict[int, float] = {}
    while True:
        free = [i for i in range(len(weights)) if i not in fixed]
        room = width - sum(fixed.values())
        share = {i: room * weights[i] / sum(weights[j] for j in free) for i in free}
        short = [i for i in free if share[i] < needed[i]]
        if not short:
            return [fixed.get(i, share.get(i, 0.0)) for i in range(len(weights))]
        for i in short:
            fixed[i] = needed[i]


def widest_unit(text: str, font_name: str, font_size: float) -> float:
    """The width of the widest piece of ``text`` that may not be broken across lines."""
    return max((stringWidth(unit.rstrip(), font_name, font_size) for unit in break_units(text)), default=0.0)


def check_table_shape(
    columns: int,
    rows: Sequence[Sequence[Cell]],
    col_widths: Sequence[float] | None,
    align: Sequence[Align] | None,
) -> tuple[list[float], list[Align]]:
    """Raise ``ValueError`` unless every row, width and alignment fits ``columns``."""
    if any(len(row) != columns for row in rows):
        raise ValueError(f"every row must have {columns} cells like the header")
    weights = list(col_widths) if col_widths is not None else [1.0] * columns
    if len(weights) != columns or min(weights, default=1.0) <= 0:
        raise ValueError("col_widths needs one positive weight per column")
    aligns: list[Align] = list(align) if align is not None else ["left"] * columns
    if len(aligns) != columns or any(a not in ("left", "right", "center") for a in aligns):
        raise ValueError("align needs one of 'left', 'right', 'center' per column")
    return weights, aligns


def key_value_table(pairs: Sequence[tuple[str, str]], styles: ReportStyles, width: float) -> Table:
    """Labels in a narrow grey column, values beside them."""
    rows = [
        [ReportParagraph(styles.markup(key), styles.key), ReportParagraph(styles.markup(value), styles.body)]
        for key, value in pairs
    ]
    table = Table(rows, colWidths=[width * 0.3, width * 0.7], hAlign="LEFT")
    table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE)])
    )
    return table


def sign_off_table(signatories: Sequence[Signatory], styles: ReportStyles, width: float, lang: Lang) -> Table:
    """Name, role, a signature line and the date (or a line to write it on) per signatory."""
    head = [label(key, lang) for key in ("name", "role", "signature", "date")]
    rows = [[ReportParagraph(styles.markup(text), styles.header_cell) for text in head]]
    rows += [
        [ReportParagraph(styles.markup(text), styles.body) for text in (s.name, s.role, "", s.date)]
        for s in signatories
    ]
    table = Table(
        rows,
        colWidths=[width * share for share in (0.22, 0.26, 0.32, 0.20)],
        rowHeights=[20] + [42] * len(signatories),
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, RULE),
                ("LINEBELOW", (2, 1), (3, -1), 0.6, colors.black),
            ]
        )
    )
    return table


def cell_text(value: Cell, float_format: str) -> str:
    """Cell content as text: ``None`` is empty, floats use ``float_format``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return float_format.format(value)
    return str(value)
