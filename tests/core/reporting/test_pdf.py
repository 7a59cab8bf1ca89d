"""The review-report PDF: structure, page furniture, table of contents, CJK text, escaping."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pypdf
import pytest
from PIL import Image as PILImage

from perception.reporting.charts import TrendSeries, trend_chart
from perception.reporting.fonts import CID_FALLBACK, FontChoice, find_cjk_font
from perception.reporting.pdf import Cell, ReportDocument, Signatory

PERIOD = "2024 上半年 (H1)"
HOSTILE = 'A <b>& B</b> <font name="x"> &amp; <unclosed'
CHINESE = "用户感知体系：响应速度、故障处理效果、交付物品质量。"
TABLE_HEADER = ["区域编号", "满意度", "说明"]


def _pages(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [page.extract_text() for page in reader.pages]


def _five_page_report(font: FontChoice, lang: str = "zh") -> ReportDocument:
    """Cover, contents, two sections each on a new page, sign-off: exactly five pages."""
    doc = ReportDocument("用户感知体系半年度回顾", PERIOD, lang, font)  # type: ignore[arg-type]
    doc.add_cover("某信息技术有限公司", subtitle="回顾评价", generated_on=dt.date(2024, 7, 5))
    doc.add_table_of_contents()
    doc.add_heading("一、概述", new_page=True)
    doc.add_paragraph(CHINESE)
    doc.add_key_values({"范围": "30 个区域", "样本量": "12,345"})
    doc.add_heading("1.1 方法", level=2)
    doc.add_paragraph("电话回访与问卷调查。")
    doc.add_heading("二、结论", new_page=True)
    doc.add_paragraph("结论。")
    doc.add_sign_off([Signatory("张三", "体系负责人", "2024-07-05"), Signatory("Li Si", "Reviewer")])
    return doc


@pytest.fixture(scope="module")
def five_pages(cjk_font: FontChoice) -> bytes:
    return _five_page_report(cjk_font).build()


def test_is_a_valid_a4_pdf_with_the_expected_pages(five_pages: bytes) -> None:
    assert five_pages.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(five_pages))
    assert len(reader.pages) == 5
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    assert reader.metadata is not None and reader.metadata.title == "用户感知体系半年度回顾"


def test_every_page_shows_x_of_y_and_the_period(five_pages: bytes) -> None:
    pages = _pages(five_pages)
    for number, text in enumerate(pages, start=1):
        assert re.search(rf"(^|\s){number} / {len(pages)}(\s|$)", text), text
        assert PERIOD in text


def test_chinese_text_comes_back_out_exactly(embedded_font: FontChoice) -> None:
    pages = _pages(_five_page_report(embedded_font).build())
    assert CHINESE in pages[2]
    assert "签署确认" in pages[4] and "体系负责人" in pages[4]


def test_embedded_font_is_in_the_file(embedded_font: FontChoice) -> None:
    reader: Any = pypdf.PdfReader(io.BytesIO(_five_page_report(embedded_font).build()))
    fonts = reader.pages[2]["/Resources"]["/Font"]
    descriptors = [font.get_object().get("/FontDescriptor") for font in fonts.values()]
    assert any(d is not None and "/FontFile2" in d.get_object() for d in descriptors)


def test_contents_and_bookmarks_point_at_the_right_pages(five_pages: bytes) -> None:
    pages = _pages(five_pages)
    reader: Any = pypdf.PdfReader(io.BytesIO(five_pages))  # pypdf's object tree is loosely typed
    outline = {}
    for entry in reader.outline:
        items = entry if isinstance(entry, list) else [entry]
        for item in items:
            outline[item.title] = reader.get_destination_page_number(item) + 1
    assert outline == {"一、概述": 3, "1.1 方法": 3, "二、结论": 4, "签署确认": 5}
    for title, page in outline.items():
        assert title in pages[page - 1]
    # The contents page lists the same page numbers in order (pypdf extracts the dotted
    # leader and number of each entry before its title) and its links land on those pages.
    assert [int(n) for n in re.findall(r"\. (\d+)\n", pages[1])] == [3, 3, 4, 5]
    links = [annot.get_object()["/Dest"][0] for annot in reader.pages[1]["/Annots"]]
    assert {reader.get_page_number(reader.get_object(link)) + 1 for link in links} == {3, 4, 5}


def test_long_table_repeats_its_header_on_every_page(cjk_font: FontChoice) -> None:
    doc = ReportDocument("表格", PERIOD, "zh", cjk_font)
    rows: list[list[Cell]] = [
        [f"R{i:03d}", 0.8 + i / 1000, "很长的说明文字" * (12 if i % 7 == 0 else 1)] for i in range(160)
    ]
    doc.add_table(TABLE_HEADER, rows, col_widths=[1, 1, 4], align=["left", "right", "left"])
    pages = _pages(doc.build())
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert all(name in text for name in TABLE_HEADER)
        assert f"{number} / {len(pages)}" in text  # no TOC here: the page total alone needs 2 passes
    everything = "".join(pages)
    assert all(f"R{i:03d}" in everything for i in range(160))
    assert "0.80" in pages[0]  # floats use the default "{:.2f}"


def test_hostile_markup_is_shown_literally(cjk_font: FontChoice) -> None:
    doc = ReportDocument(HOSTILE, HOSTILE, "en", cjk_font)
    doc.add_cover(HOSTILE)
    doc.add_table_of_contents()
    doc.add_heading(HOSTILE)
    doc.add_paragraph(HOSTILE + "\nsecond line")
    doc.add_key_values([(HOSTILE, HOSTILE)])
    doc.add_table([HOSTILE, "x"], [[HOSTILE, None]])
    doc.add_sign_off([Signatory(HOSTILE, HOSTILE)], statement=HOSTILE)
    pages = _pages(doc.build())
    body = " ".join(" ".join(text.split()) for text in pages)
    assert body.count("A <b>& B</b>") >= 8
    assert "&amp;" in body and "<unclosed" in body


def test_english_report_uses_english_labels(cjk_font: FontChoice) -> None:
    pages = _pages(_five_page_report(cjk_font, "en").build())
    assert "Contents" in pages[1]
    assert "Sign-off" in pages[4] and "Signature" in pages[4]
    assert "Review period: " + PERIOD in pages[0]


def test_building_twice_gives_the_same_document(cjk_font: FontChoice) -> None:
    doc = _five_page_report(cjk_font)
    png = trend_chart(["a", "b"], [TrendSeries("s", [1.0, 2.0])], fmt="png", font=cjk_font)
    doc.add_image(png, caption="图 1")
    assert _pages(doc.build()) == _pages(doc.build())


def test_image_is_scaled_to_the_text_width(cjk_font: FontChoice) -> None:
    png = trend_chart(["a", "b"], [TrendSeries("s", [1.0, 2.0])], fmt="png", font=cjk_font)
    with PILImage.open(io.BytesIO(png)) as source:
        pixel_width, pixel_height = source.size
    doc = ReportDocument("图", PERIOD, "zh", cjk_font)
    doc.add_image(png)
    doc.add_image(png, width_fraction=0.5)
    page: Any = pypdf.PdfReader(io.BytesIO(doc.build())).pages[0]
    content = page.get_contents().get_data().decode("latin-1")
    placed = re.findall(r"([\d.]+) 0 0 ([\d.]+) [\d.]+ [\d.]+ cm\s*/\S+ Do", content)
    text_width = (210 - 2 * 18) / 25.4 * 72  # A4 minus both 18 mm margins, in points
    widths = [float(w) for w, _ in placed]
    assert widths == pytest.approx([text_width, text_width / 2], abs=0.01)
    for width, height in placed:
        assert float(height) == pytest.approx(float(width) * pixel_height / pixel_width, abs=0.01)


def test_cid_fallback_still_builds() -> None:
    fallback = find_cjk_font(env={}, candidates=[])
    assert fallback.name == CID_FALLBACK and not fallback.embedded
    assert len(pypdf.PdfReader(io.BytesIO(_five_page_report(fallback).build())).pages) == 5


def test_bad_calls_fail_at_the_call(cjk_font: FontChoice) -> None:
    with pytest.raises(ValueError, match="lang"):
        ReportDocument("t", "p", "fr", cjk_font)  # type: ignore[arg-type]
    doc = ReportDocument("t", "p", "zh", cjk_font)
    with pytest.raises(ValueError, match="level"):
        doc.add_heading("h", level=3)
    with pytest.raises(ValueError, match="3 cells"):
        doc.add_table(TABLE_HEADER, [["a", "b"]])
    with pytest.raises(ValueError, match="col_widths"):
        doc.add_table(TABLE_HEADER, [], col_widths=[1, 0, 1])
    with pytest.raises(ValueError, match="width_fraction"):
        doc.add_image(b"", width_fraction=1.5)


def test_heading_moves_with_a_figure_that_does_not_fit(cjk_font: FontChoice) -> None:
    doc = ReportDocument("图", PERIOD, "zh", cjk_font)
    doc.add_paragraph("填充文字。" * 420)  # most of page 1: the heading fits there, the figure does not
    doc.add_heading("3.3 交付物品质量", level=2)
    doc.add_image(
        trend_chart(["a", "b"], [TrendSeries("s", [1.0, 2.0])], fmt="png", font=cjk_font), caption="图 7"
    )
    pages = _pages(doc.build())
    assert len(pages) == 2
    assert "3.3 交付物品质量" in pages[1] and "图 7" in pages[1]
