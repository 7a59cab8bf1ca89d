"""Page decorations of the review report: running header and "page X / Y" footer.

"X / Y" needs the page total while each page is drawn. The common "NumberedCanvas" recipe
(defer every page and draw the numbers in ``save()``) breaks bookmarks and the table of
contents' links: ReportLab resolves their page references while pages are deferred, so they
all point at page 1. Instead :class:`PageCounter` is an *indexing flowable*, like
``TableOfContents``: ``BaseDocTemplate.multiBuild`` repeats the layout until every indexing
flowable is satisfied, and the counter is satisfied once a pass ends with the same page total
the pass started with, so the final pass prints the true total on every page.
Reference: ReportLab User Guide, ch. 5 "Multi-pass builds" / ``doctemplate.multiBuild``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from perception.reporting.pdf_styles import ACCENT, RULE

MARGIN = 18 * mm


@dataclass(frozen=True)
class PageDecoration:
    """What every page shows: title and period in the header, organisation and X / Y below."""

    font_name: str
    title: str
    period_label: str
    organisation: str = ""
    skip_header_on_first_page: bool = False


class PageCounter(Flowable):  # type: ignore[misc]
    """A zero-size indexing flowable that carries the page total from one pass to the next."""

    def __init__(self) -> None:
        super().__init__()
        self.total: int | None = None
        self._pages_this_pass = 0
        self._stable = False

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return (0, 0)

    def draw(self) -> None:
        pass

    def isIndexing(self) -> bool:  # noqa: N802 - ReportLab's name
        return True

    def notify(self, kind: str, stuff: object) -> None:
        """Indexing flowables receive every notification (e.g. TOC entries); none concern us."""

    def beforeBuild(self) -> None:  # noqa: N802 - ReportLab's name
        self._pages_this_pass = 0

    def page_ended(self, number: int) -> None:
        self._pages_this_pass = max(self._pages_this_pass, number)

    def afterBuild(self) -> None:  # noqa: N802 - ReportLab's name
        self._stable = self._pages_this_pass == self.total
        self.total = self._pages_this_pass

    def isSatisfied(self) -> bool:  # noqa: N802 - ReportLab's name
        return self._stable


def decorate_page(page: Canvas, decoration: PageDecoration, counter: PageCounter) -> None:
    """Draw the header (title, period) and footer (organisation, "X / Y") on the current page."""
    number = page.getPageNumber()
    counter.page_ended(number)
    total = "?" if counter.total is None else str(counter.total)
    width, height = page._pagesize
    page.saveState()
    page.setFont(decoration.font_name, 8)
    page.setFillColor(ACCENT)
    if not (decoration.skip_header_on_first_page and number == 1):
        top = height - MARGIN + 6 * mm
        page.drawString(MARGIN, top, _fit(page, decoration.title, decoration.font_name, width * 0.55))
        page.drawRightString(width - MARGIN, top, decoration.period_label)
        page.setStrokeColor(RULE)
        page.setLineWidth(0.5)
        page.line(MARGIN, top - 2 * mm, width - MARGIN, top - 2 * mm)
    bottom = MARGIN - 9 * mm
    if decoration.organisation:
        page.drawString(
            MARGIN, bottom, _fit(page, decoration.organisation, decoration.font_name, width * 0.4)
        )
    page.drawCentredString(width / 2, bottom, f"{number} / {total}")
    page.restoreState()


def _fit(page: Canvas, text: str, font_name: str, max_width: float) -> str:
    """Shorten ``text`` with an ellipsis so a long title cannot run into the period label."""
    if page.stringWidth(text, font_name, 8) <= max_width:
        return text
    while text and page.stringWidth(text + "…", font_name, 8) > max_width:
        text = text[:-1]
    return text + "…"
