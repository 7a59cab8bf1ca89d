"""Paragraph styles, fixed bilingual labels and text escaping for the PDF review report.

Every style uses ReportLab's ``wordWrap="CJK"`` path, which :class:`perception.reporting.
pdf_linebreak.ReportParagraph` answers with the Unicode line breaking rules, in both languages:
Chinese breaks between characters, numbers and Latin words never break. Text reaches ReportLab
through :meth:`ReportStyles.markup`, which escapes it and replaces the few characters the
report's font has no glyph for (``›`` in WenQuanYi Zen Hei) by a look-alike that it has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics

from perception.reporting.fonts import FontChoice

Lang = Literal["zh", "en"]
Align = Literal["left", "right", "center"]

ACCENT = colors.HexColor("#1F4E79")
HEADER_FILL = colors.HexColor("#DCE6F0")
ZEBRA_FILL = colors.HexColor("#F3F6FA")
RULE = colors.HexColor("#9DB0C4")

#: Fixed texts the builder writes itself; everything else arrives translated.
LABELS: dict[str, dict[Lang, str]] = {
    "contents": {"zh": "目录", "en": "Contents"},
    "organisation": {"zh": "单位", "en": "Organisation"},
    "period": {"zh": "回顾周期", "en": "Review period"},
    "generated": {"zh": "生成日期", "en": "Generated"},
    "sign_off": {"zh": "签署确认", "en": "Sign-off"},
    "name": {"zh": "姓名", "en": "Name"},
    "role": {"zh": "角色", "en": "Role"},
    "signature": {"zh": "签字", "en": "Signature"},
    "date": {"zh": "日期", "en": "Date"},
}


def label(key: str, lang: Lang) -> str:
    """The fixed label ``key`` in ``lang``."""
    return LABELS[key][lang]


#: Look-alikes for characters that CJK fonts often lack (checked against the font in use).
GLYPH_FALLBACKS = {"›": "»", "‹": "«", "•": "·", "✓": "√", "✗": "×", "\u200b": ""}


def glyph_check(font: FontChoice) -> Callable[[str], bool]:
    """Whether the registered font ``font`` has a glyph for a character (CID fonts: assume yes)."""
    face = getattr(pdfmetrics.getFont(font.name), "face", None)
    char_map = getattr(face, "charToGlyph", None)
    if not isinstance(char_map, dict):
        return lambda ch: True
    return lambda ch: ord(ch) in char_map or ch in "\n\r\t"


def with_glyphs(text: str, has_glyph: Callable[[str], bool]) -> str:
    """``text`` with each character the font lacks replaced by its look-alike, when it has one."""
    if all(has_glyph(ch) for ch in text):
        return text
    return "".join(ch if has_glyph(ch) or ch not in GLYPH_FALLBACKS else GLYPH_FALLBACKS[ch] for ch in text)


def markup(text: str) -> str:
    """Turn user text into safe ReportLab paragraph markup.

    ``&``, ``<`` and ``>`` are escaped (``xml.sax.saxutils.escape``) so text such as
    ``"<b>&"`` is shown literally instead of being parsed as ReportLab's mini-markup, and
    line breaks become ``<br/>``.
    """
    return escape(text).replace("\r\n", "\n").replace("\n", "<br/>")


@dataclass(frozen=True)
class ReportStyles:
    """Every paragraph style the builder uses, all in the report's CJK font."""

    title: ParagraphStyle
    subtitle: ParagraphStyle
    cover_line: ParagraphStyle
    heading1: ParagraphStyle
    heading2: ParagraphStyle
    body: ParagraphStyle
    caption: ParagraphStyle
    cell: dict[Align, ParagraphStyle]
    header_cell: ParagraphStyle
    key: ParagraphStyle
    toc_levels: tuple[ParagraphStyle, ParagraphStyle]
    has_glyph: Callable[[str], bool]

    def markup(self, text: str) -> str:
        """User text as safe paragraph markup in glyphs the report's font has."""
        return markup(with_glyphs(text, self.has_glyph))


def report_styles(font: FontChoice, lang: Lang) -> ReportStyles:
    """Build the styles for one document (font size in points, leading about 1.45x).

    ``lang`` is kept for callers' symmetry: both languages break lines by the same rules."""
    wrap = "CJK"

    def style(name: str, size: float, **extra: object) -> ParagraphStyle:
        return ParagraphStyle(
            name, fontName=font.name, fontSize=size, leading=size * 1.45, wordWrap=wrap, **extra
        )

    cell: dict[Align, ParagraphStyle] = {
        "left": style("cell_left", 8.5, alignment=TA_LEFT),
        "right": style("cell_right", 8.5, alignment=TA_RIGHT),
        "center": style("cell_center", 8.5, alignment=TA_CENTER),
    }
    return ReportStyles(
        title=style("title", 24, alignment=TA_CENTER, textColor=ACCENT, spaceAfter=18),
        subtitle=style("subtitle", 14, alignment=TA_CENTER, spaceAfter=30),
        cover_line=style("cover_line", 11.5, alignment=TA_CENTER, spaceAfter=6),
        heading1=style("heading1", 16, textColor=ACCENT, spaceBefore=10, spaceAfter=8),
        heading2=style("heading2", 12.5, textColor=ACCENT, spaceBefore=8, spaceAfter=5),
        body=style("body", 10, spaceAfter=6),
        caption=style("caption", 8.5, alignment=TA_CENTER, textColor=colors.HexColor("#555555")),
        cell=cell,
        header_cell=style("header_cell", 8.5, textColor=ACCENT),
        key=style("key", 9.5, textColor=colors.HexColor("#555555")),
        toc_levels=(
            style("toc1", 11, leftIndent=0, firstLineIndent=0, spaceBefore=4),
            style("toc2", 10, leftIndent=18, firstLineIndent=0),
        ),
        has_glyph=glyph_check(font),
    )
