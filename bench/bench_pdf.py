"""Benchmark: a 30-region semi-annual review report (~20 A4 pages, 10 charts, large tables).

Run: ``python bench/bench_pdf.py [output.pdf]``. Prints seconds for font setup, the 10 PNG
charts, the same charts as SVG (what a dashboard would render), and the PDF layout
(``ReportDocument.build``: Paragraph creation, the multi-pass TOC/page-total layout, writing).
Target: font + charts + layout under 5 s on the 2-core development machine.
"""

from __future__ import annotations

import functools
import io
import sys
import time
from collections.abc import Callable

import numpy as np
import pypdf

from perception.reporting.charts import (
    ChartFormat,
    EventMarker,
    GroupEstimate,
    QuadrantLabels,
    QuadrantPoint,
    TrendSeries,
    heatmap_chart,
    interval_bar_chart,
    quadrant_chart,
    trend_chart,
)
from perception.reporting.fonts import find_cjk_font
from perception.reporting.pdf import Align, ReportDocument, Signatory

DIMENSIONS = ["响应速度", "故障处理效果", "交付物品质量", "人员服务态度", "服务规范性", "培训效果"]
REGIONS = [f"{name}区域" for name in "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁"]
FEEDBACK = "现场工程师响应及时，但备件到货偏慢，希望提供进度通知。"
REGION_TABLE_ALIGN: list[Align] = ["left", "right", "right", "right", "right", "right", "right", "left"]
MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


def main() -> None:
    rng = np.random.default_rng(20240701)
    started = time.perf_counter()
    font = find_cjk_font()
    font_seconds = time.perf_counter() - started

    csat = rng.uniform(0.70, 0.95, len(REGIONS))
    half = rng.uniform(0.02, 0.08, len(REGIONS))
    sizes = rng.integers(8, 400, len(REGIONS))
    kpi_margin = rng.normal(2.0, 3.0, len(REGIONS))
    gap = rng.normal(-0.1, 0.4, len(REGIONS))
    scores = rng.uniform(2.5, 4.9, (len(REGIONS), len(DIMENSIONS)))
    monthly = 0.8 + np.cumsum(rng.normal(0.003, 0.01, (len(DIMENSIONS) + 1, len(MONTHS))), axis=1)

    def charts(fmt: ChartFormat) -> list[bytes]:
        made: list[Callable[[], bytes]] = [
            lambda: trend_chart(
                MONTHS,
                [TrendSeries("满意度 CSAT", monthly[0], monthly[0] - 0.03, monthly[0] + 0.03)],
                title="全国满意度趋势 / national CSAT",
                y_label="CSAT",
                events=[EventMarker("2024-04", "系统升级"), EventMarker("2024-09", "供应商变更")],
                target=0.85,
                target_label="目标",
                fmt=fmt,
                font=font,
            ),
            lambda: interval_bar_chart(
                [
                    GroupEstimate(r, c, c - h, c + h, int(n))
                    for r, c, h, n in zip(REGIONS, csat, half, sizes, strict=True)
                ],
                title="各区域满意度 (95% CI)",
                y_label="CSAT",
                low_sample_label="样本不足 n<30",
                reference=float(csat.mean()),
                reference_label="全国",
                fmt=fmt,
                font=font,
            ),
            lambda: quadrant_chart(
                [
                    QuadrantPoint(r, float(x), float(y))
                    for r, x, y in zip(REGIONS, kpi_margin, gap, strict=True)
                ],
                QuadrantLabels("体验好 KPI 未达标", "双优", "双差", "西瓜 (KPI 达标, 体验差)"),
                title="KPI 与用户体验",
                x_label="KPI 达成余量 (百分点)",
                y_label="体验差距",
                fmt=fmt,
                font=font,
            ),
            lambda: heatmap_chart(
                REGIONS,
                DIMENSIONS,
                scores,
                title="区域 x 维度 均分",
                colorbar_label="均分",
                fmt=fmt,
                font=font,
            ),
        ]

        def dimension_trend(i: int) -> bytes:
            return trend_chart(
                MONTHS,
                [TrendSeries(DIMENSIONS[i], monthly[i + 1]), TrendSeries("全国", monthly[0])],
                title=f"{DIMENSIONS[i]} 趋势",
                target=0.85,
                fmt=fmt,
                font=font,
            )

        made += [functools.partial(dimension_trend, i) for i in range(len(DIMENSIONS))]
        return [make() for make in made]

    started = time.perf_counter()
    pngs = charts("png")
    png_seconds = time.perf_counter() - started
    started = time.perf_counter()
    charts("svg")
    svg_seconds = time.perf_counter() - started

    started = time.perf_counter()
    doc = ReportDocument("用户感知体系半年度回顾报告", "2024 下半年 (H2)", "zh", font)
    doc.add_cover("某信息技术服务有限公司", subtitle="回顾评价 · 30 个区域")
    doc.add_table_of_contents()
    doc.add_heading("一、总体情况", new_page=True)
    doc.add_paragraph("本期共回收问卷 12,345 份，覆盖 30 个区域。" * 6)
    doc.add_key_values({"体系负责人": "张三", "回顾周期": "2024-07-01 至 2024-12-31", "采集点": "30"})
    doc.add_image(pngs[0], caption="图 1 全国满意度趋势")
    doc.add_heading("二、区域对比", new_page=True)
    doc.add_image(pngs[1], caption="图 2 各区域满意度")
    doc.add_table(
        ["区域", "样本量", "满意度", "95% 下限", "95% 上限", "KPI 余量", "体验差距", "备注"],
        [
            [r, int(n), c, c - h, c + h, float(k), float(g), "样本不足" if n < 30 else ""]
            for r, n, c, h, k, g in zip(REGIONS, sizes, csat, half, kpi_margin, gap, strict=True)
        ],
        col_widths=[1.4, 1, 1, 1, 1, 1, 1, 1.4],
        align=REGION_TABLE_ALIGN,
        caption="表 1 区域指标",
    )
    doc.add_image(pngs[2], caption="图 3 KPI 与体验四象限")
    doc.add_image(pngs[3], caption="图 4 区域 x 维度")
    doc.add_heading("三、六个反馈维度", new_page=True)
    for i, dimension in enumerate(DIMENSIONS):
        doc.add_heading(f"3.{i + 1} {dimension}", level=2)
        doc.add_image(pngs[4 + i], caption=f"图 {5 + i} {dimension}趋势", width_fraction=0.8)
    doc.add_heading("四、用户反馈与个性化需求", new_page=True)
    doc.add_table(
        ["编号", "区域", "维度", "反馈原文"],
        [
            [f"F{i:04d}", REGIONS[i % 30], DIMENSIONS[i % 6], FEEDBACK * (1 + i % 4)]
            for i in range(160)
        ],
        col_widths=[0.8, 1, 1.2, 5],
        caption="表 2 反馈明细",
    )  # fmt: skip
    doc.add_heading("五、持续改进登记册", new_page=True)
    doc.add_table(
        ["编号", "改进事项", "负责人", "状态", "衡量结果"],
        [
            [f"CI-{i:03d}", "缩短备件物流时间并主动通知客户" * 2, "李四", "进行中", "平均到货 3.2 天"]
            for i in range(40)
        ],
        col_widths=[0.8, 4, 1, 1, 2],
    )
    doc.add_sign_off(
        [
            Signatory("张三", "体系负责人", "2025-01-10"),
            Signatory("李四", "评审人"),
            Signatory("王五", "客户代表"),
        ],
        statement="以上回顾内容经服务方与客户双方确认。",
    )
    pdf = doc.build()
    layout_seconds = time.perf_counter() - started

    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "wb") as handle:
            handle.write(pdf)
    total = font_seconds + png_seconds + layout_seconds
    print(f"font: {font.name} {font.path} embedded={font.embedded}  setup {font_seconds:.3f} s")
    print(f"charts: 10 PNG {png_seconds:.3f} s ({png_seconds / 10:.3f} s each)")
    print(f"charts: 10 SVG {svg_seconds:.3f} s ({svg_seconds / 10:.3f} s each)")
    print(f"layout: {pages} pages, {len(pdf) / 1024:.0f} KiB, {layout_seconds:.3f} s")
    print(f"total (font + PNG charts + layout): {total:.3f} s  (target < 5 s)")


if __name__ == "__main__":
    main()
