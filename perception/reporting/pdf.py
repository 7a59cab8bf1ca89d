"""The PDF document builder for the semi-annual review report (回顾评价) and other reports.

:class:`ReportDocument` records content in call order and :meth:`ReportDocument.build` lays it
out on A4 with ReportLab platypus: cover, a real table of contents (``TableOfContents`` filled
by ``multiBuild``; headings also become PDF bookmarks), headings, paragraphs, key-value lists,
tables, chart images and a sign-off page; every page carries the period label and "X / Y"
(see ``pdf_pages``). Flowables are created afresh by each ``build()`` because ReportLab
consumes and splits them during layout, so a document can be built more than once.

All text is plain user text and is escaped before it reaches ReportLab's paragraph markup.
No Flask, no database: a background job can build the report.
Reference: ReportLab User Guide ch. 5-7 (platypus, tables, TableOfContents and multiBuild).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    Image,
    PageBreak,
    PageTemplate,
    Spacer,
)
from reportlab.platypus.tableofcontents import TableOfContents

from perception.reporting.fonts import FontChoice, find_cjk_font
from perception.reporting.pdf_linebreak import ReportParagraph
from perception.reporting.pdf_pages import MARGIN, PageCounter, PageDecoration, decorate_page
from perception.reporting.pdf_styles import Align, Lang, ReportStyles, label, report_styles
from perception.reporting.pdf_tables import (
    Cell,
    Signatory,
    check_table_shape,
    data_table,
    key_value_table,
    sign_off_table,
)

__all__ = ["Align", "Cell", "Lang", "ReportDocument", "Signatory"]

_Part = Callable[[], list[Flowable]]
# A heading starts a new page unless this much room is left under it, so it is never
# stranded at a page foot. Headings are not "keep with next" in general: ReportLab would
# push a heading and a long table or paragraph together to the next page, leaving a gap.
_HEADING_ROOM = 40 * mm


class _Heading(ReportParagraph):
    """A heading paragraph that announces itself to the table of contents and the outline."""

    def __init__(self, text: str, styles: ReportStyles, style: Any, level: int, key: str) -> None:
        super().__init__(styles.markup(text), style)
        self.toc_level = level
        self.toc_text = styles.markup(text)  # TableOfContents puts it into markup again
        self.toc_key = key


class _ReportTemplate(BaseDocTemplate):  # type: ignore[misc]
    def beforeDocument(self) -> None:  # noqa: N802 - ReportLab's name; runs at every pass
        self._outline_level = -1

    def afterFlowable(self, flowable: Any) -> None:  # noqa: N802 - ReportLab's name
        if isinstance(flowable, _Heading):
            level = flowable.toc_level - 1
            # The PDF outline cannot skip a level (a level-2 heading before any level-1 one).
            self._outline_level = min(level, self._outline_level + 1)
            self.canv.bookmarkPage(flowable.toc_key)
            self.canv.addOutlineEntry(
                flowable.getPlainText(), flowable.toc_key, level=self._outline_level, closed=False
            )
            self.notify("TOCEntry", (level, flowable.toc_text, self.page, flowable.toc_key))


class ReportDocument:
    """An A4 report assembled by ``add_*`` calls and rendered by :meth:`build`.

    ``lang`` ("zh" or "en") selects the builder's own labels and the line-wrapping rule;
    all other text is passed in already translated. ``font_choice`` defaults to
    :func:`perception.reporting.fonts.find_cjk_font`.
    """

    def __init__(
        self, title: str, period_label: str, lang: Lang = "zh", font_choice: FontChoice | None = None
    ) -> None:
        if lang not in ("zh", "en"):
            raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
        self.title = title
        self.period_label = period_label
        self.lang: Lang = lang
        self.font = font_choice if font_choice is not None else find_cjk_font()
        self.styles = report_styles(self.font, lang)
        self.organisation = ""
        self.frame_width = A4[0] - 2 * MARGIN
        self.frame_height = A4[1] - 2 * MARGIN
        self._parts: list[_Part] = []
        self._has_cover = False
        self._ends_with_page_break = False
        self._headings = 0

    def _add(self, part: _Part, *, page_break_after: bool = False) -> None:
        self._parts.append(part)
        if page_break_after:
            self._parts.append(lambda: [PageBreak()])
        self._ends_with_page_break = page_break_after

    def add_cover(
        self, organisation: str, *, subtitle: str = "", generated_on: dt.date | None = None
    ) -> None:
        """Cover page: title, optional subtitle, organisation, period and generation date."""
        self.organisation = organisation
        self._has_cover = not self._parts
        separator = "：" if self.lang == "zh" else ": "
        lines = [label("organisation", self.lang) + separator + organisation] if organisation else []
        lines += [
            label("period", self.lang) + separator + self.period_label,
            label("generated", self.lang) + separator + (generated_on or dt.date.today()).isoformat(),
        ]
        styles = self.styles

        def make() -> list[Flowable]:
            flowables = [
                Spacer(1, self.frame_height * 0.28),
                ReportParagraph(styles.markup(self.title), styles.title),
            ]
            if subtitle:
                flowables.append(ReportParagraph(styles.markup(subtitle), styles.subtitle))
            return flowables + [ReportParagraph(styles.markup(line), styles.cover_line) for line in lines]

        self._add(make, page_break_after=True)

    def add_table_of_contents(self) -> None:
        """The table of contents of all headings, with page numbers, on its own page(s)."""
        styles = self.styles
        heading = label("contents", self.lang)
        self._add(
            lambda: [
                ReportParagraph(styles.markup(heading), styles.heading1),
                TableOfContents(levelStyles=list(styles.toc_levels), dotsMinLevel=0),
            ],
            page_break_after=True,
        )

    def add_heading(self, text: str, level: int = 1, *, new_page: bool = False) -> None:
        """A level-1 or level-2 heading, listed in the table of contents and the PDF outline."""
        if level not in (1, 2):
            raise ValueError("heading level must be 1 or 2")
        if new_page and self._parts and not self._ends_with_page_break:
            self._parts.append(lambda: [PageBreak()])
        self._headings += 1
        key = f"h{self._headings}"
        style = self.styles.heading1 if level == 1 else self.styles.heading2
        self._add(lambda: [CondPageBreak(_HEADING_ROOM), _Heading(text, self.styles, style, level, key)])

    def add_paragraph(self, text: str) -> None:
        """Body text; markup characters such as ``<b>&`` show literally, newlines are kept."""
        styles = self.styles
        self._add(lambda: [ReportParagraph(styles.markup(text), styles.body)])

    def add_key_values(self, items: Mapping[str, str] | Sequence[tuple[str, str]]) -> None:
        """A two-column list of labels and values (e.g. scope, sample sizes, owners)."""
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        self._add(lambda: [key_value_table(pairs, self.styles, self.frame_width), Spacer(1, 6)])

    def add_table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[Cell]],
        *,
        col_widths: Sequence[float] | None = None,
        align: Sequence[Align] | None = None,
        caption: str = "",
        float_format: str = "{:.2f}",
    ) -> None:
        """A table whose header row repeats on every page it spans.

        ``col_widths`` are relative weights (default equal), ``align`` one of "left",
        "right", "center" per column; floats use ``float_format``, ``None`` shows empty.
        """
        header, rows = list(header), [list(row) for row in rows]
        check_table_shape(len(header), rows, col_widths, align)  # fail at the call, not in build()
        options: dict[str, Any] = {"col_widths": col_widths, "align": align, "float_format": float_format}

        def make() -> list[Flowable]:
            flowables = [data_table(header, rows, self.styles, self.frame_width, **options)]
            if caption:
                flowables.append(ReportParagraph(self.styles.markup(caption), self.styles.caption))
            return [*flowables, Spacer(1, 8)]

        self._add(make)

    def add_image(self, png: bytes, *, caption: str = "", width_fraction: float = 1.0) -> None:
        """A PNG (e.g. a chart) scaled to ``width_fraction`` of the text width, aspect ratio kept."""
        if not 0 < width_fraction <= 1:
            raise ValueError("width_fraction must be in (0, 1]")
        pixel_width, pixel_height = ImageReader(io.BytesIO(png)).getSize()
        width = self.frame_width * width_fraction
        height = width * pixel_height / pixel_width
        limit = self.frame_height * 0.85
        if height > limit:
            width, height = width * limit / height, limit

        def make() -> list[Flowable]:
            image = Image(io.BytesIO(png), width=width, height=height)
            if not caption:
                return [image, Spacer(1, 8)]
            image.keepWithNext = 1  # the caption stays under its figure
            return [image, ReportParagraph(self.styles.markup(caption), self.styles.caption), Spacer(1, 8)]

        self._add(make)

    def add_sign_off(self, signatories: Sequence[Signatory], *, statement: str = "") -> None:
        """A sign-off page: optional statement, then name, role, signature line and date per person."""
        self.add_heading(label("sign_off", self.lang), new_page=True)
        if statement:
            self.add_paragraph(statement)
        people = list(signatories)
        self._add(lambda: [Spacer(1, 12), sign_off_table(people, self.styles, self.frame_width, self.lang)])

    def build(self) -> bytes:
        """Lay out everything (repeated while the TOC and page total settle); return the PDF."""
        buffer = io.BytesIO()
        template = _ReportTemplate(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN,
            title=self.title,
            author=self.organisation,
            subject=self.period_label,
            lang="zh-CN" if self.lang == "zh" else "en",
        )
        frame = Frame(
            MARGIN, MARGIN, self.frame_width, self.frame_height, id="body",
            leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0,
        )  # fmt: skip
        decoration = PageDecoration(
            font_name=self.font.name,
            title=self.title,
            period_label=self.period_label,
            organisation=self.organisation,
            skip_header_on_first_page=self._has_cover,
        )
        counter = PageCounter()

        def on_page_end(page: Any, _doc: Any) -> None:
            decorate_page(page, decoration, counter)

        template.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=on_page_end)])
        story: list[Flowable] = [counter]
        for part in self._parts:
            story += part()
        if isinstance(story[-1], PageBreak):
            story.pop()  # a trailing page break would leave a blank last page
        for heading, following in zip(story, story[1:], strict=False):
            if isinstance(heading, _Heading) and isinstance(following, Image):
                heading.keepWithNext = 1  # a figure cannot split: move its heading with it
        template.multiBuild(story)
        return buffer.getvalue()
