"""Line breaking in the report PDF: a number or a word is never cut, "。" never starts a line,
and characters the font lacks are drawn with a look-alike (issue 17, "The review PDF as a director
would read it": "117" shown as "11 / 7", "0.0793" as "0.079 / 3", "R / eviewer", a missing "›")."""

from __future__ import annotations

import datetime as dt

from reportlab.lib.styles import ParagraphStyle

from perception.reporting.fonts import FontChoice
from perception.reporting.pdf import ReportDocument
from perception.reporting.pdf_linebreak import ReportParagraph
from tests.pdf_text import cut_tokens, pdf_lines, tokens

NUMBERS = ["117", "0.0793", "12,345", "97.4%", "2026-06-30"]
WORDS = ["Reviewer", "decision", "Responded", "watermelon"]


def _narrow_table_report(font: FontChoice, lang: str) -> bytes:
    doc = ReportDocument("回顾", "2026 H1", lang, font)  # type: ignore[arg-type]
    doc.add_cover("某信息技术有限公司", generated_on=dt.date(2026, 7, 5))
    rows = [
        [f"区域{i} Reviewer decision", NUMBERS[i % 5], NUMBERS[(i + 1) % 5], WORDS[i % 4]] for i in range(8)
    ]
    # Column weights that give the number columns far less room than their contents need.
    doc.add_table(["服务 · 区域", "n", "p", "Role"], rows, col_widths=[20, 0.4, 0.4, 0.6])
    doc.add_paragraph(
        "评审人 Reviewer 签署决定 decision：本期 117 个工单中 0.0793 的比例超时，完成率 97.4%（目标 95%）。"
        * 6
    )
    return doc.build()


def test_numbers_and_words_are_never_cut_in_narrow_cells_or_paragraphs(embedded_font: FontChoice) -> None:
    for lang in ("zh", "en"):
        lines = pdf_lines(_narrow_table_report(embedded_font, lang))
        meant = tokens(NUMBERS + WORDS + ["117", "0.0793", "97.4", "95%"])
        assert cut_tokens(lines, meant) == [], lang
        assert "0.0793" in "\n".join(lines)


def _lines_of(text: str, width: float, font: FontChoice) -> list[str]:
    style = ParagraphStyle("t", fontName=font.name, fontSize=10, leading=14, wordWrap="CJK")
    paragraph = ReportParagraph(text, style)
    paragraph.wrap(width, 10_000)
    return ["".join(word.text for word in line.words) for line in paragraph.blPara.lines]


def test_closing_punctuation_never_starts_a_line_at_any_width(embedded_font: FontChoice) -> None:
    text = "客户反馈：服务台响应及时。工程师态度很好，问题一次解决（回访确认）。下周继续跟进。"
    for width in range(40, 400, 7):
        lines = _lines_of(text, width, embedded_font)
        assert "".join(lines) == text  # nothing lost or repeated
        assert not any(line[:1] in "。，、：）」" for line in lines), (width, lines)


def test_a_unit_wider_than_the_line_is_still_cut_rather_than_overflowing(embedded_font: FontChoice) -> None:
    lines = _lines_of("https://example.com/averyveryverylongpathsegment", 60, embedded_font)
    assert len(lines) > 1 and "".join(lines) == "https://example.com/averyveryverylongpathsegment"


def test_line_breaks_in_the_text_are_kept(embedded_font: FontChoice) -> None:
    assert _lines_of("第一行<br/>second line", 300, embedded_font) == ["第一行", "second line"]


def test_a_character_missing_from_the_font_gets_its_look_alike(embedded_font: FontChoice) -> None:
    doc = ReportDocument("回顾", "2026 H1", "en", embedded_font)
    doc.add_paragraph("Findings › Service desk · Beijing")
    text = "\n".join(pdf_lines(doc.build()))
    if not doc.styles.has_glyph("›"):
        assert "Findings » Service desk · Beijing" in text
    else:
        assert "Findings › Service desk · Beijing" in text
