"""Benchmark: the review PDF of a 30-region organisation, charts included.

Run: ``python bench/bench_review_pdf.py [output.pdf] [zh|en]``. The review content is synthesised
directly as the section JSON the review services produce (perception.review.services.blocks):
30 regions x 3 services, 40 standards, 90 KPI-versus-experience cells with 12 watermelons, needs,
25 carried improvement items, 12 findings and a 40-item register; the executive summary is
computed by the real rule (review_summary.top_three). Prints seconds for the font, the charts
alone (PNG), and the whole PDF (charts + ReportLab layout), plus pages and size.
Target: the whole PDF under 5 s on the 2-core development machine.
"""

from __future__ import annotations

import io
import sys
import time
from typing import Any

import numpy as np
import pypdf

from perception.reporting.fonts import find_cjk_font
from perception.review.services.blocks import chart, column, paragraph, section, t, table
from perception.review.services.charts import render_chart
from perception.review.services.pdf import build_review_pdf
from perception.review.services.sections import SECTION_TITLES
from perception.review.services.summary import top_three

REGIONS = [f"{name}区域" for name in "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁"]
SERVICES = [
    ("DESK", "服务台", "Service desk"),
    ("NET", "网络运维", "Network operations"),
    ("DC", "机房运维", "Data centre"),
]
TEXT = "现场工程师响应及时，但备件到货偏慢，希望提供进度通知。"


def _region(i: int) -> dict[str, str]:
    return t(REGIONS[i], f"Region {i + 1:02d}")


def health(rng: np.random.Generator) -> dict[str, Any]:
    rates = rng.uniform(0.55, 1.0, 30)
    points = []
    for i, rate in enumerate(rates):
        counted = 26
        done = int(round(rate * counted))
        points.append(
            {
                "key": f"completeness:CP-{i}",
                "point": t(f"{REGIONS[i]}运维组", f"Team {i + 1}"),
                "region": _region(i),
                "counted": counted,
                "on_time": done - 2 if done > 2 else done,
                "late": 2 if done > 2 else 0,
                "missing": counted - done,
                "rate": done / counted,
                "low": max(done / counted - 0.15, 0),
                "high": min(done / counted + 0.1, 1),
                "on_time_rate": (done - 2) / counted,
                "mean_lateness_hours": 20.5,
            }
        )
    cols = [
        column("point", t("采集点", "Point")),
        column("region", t("区域", "Region")),
        column("counted", t("应交周数", "Weeks due"), "int"),
        column("on_time", t("按时", "On time"), "int"),
        column("late", t("迟交", "Late"), "int"),
        column("missing", t("缺交", "Missing"), "int"),
        column("rate", t("完整率", "Completeness"), "pct"),
        column("on_time_rate", t("按时率", "On time"), "pct"),
        column("mean_lateness_hours", t("平均迟交", "Lateness"), "num1"),
    ]
    region_rows = [
        {"_key": f"r:{i}", "region": _region(i), "sent": 300, "answered": int(300 * r), "rate": r}
        for i, r in enumerate(rng.uniform(0.2, 0.6, 30))
    ]
    rate_cols = [
        column("region", t("区域", "Region")),
        column("sent", t("发出", "Sent"), "int"),
        column("answered", t("回答", "Answered"), "int"),
        column("rate", t("回收率", "Rate"), "pct"),
    ]
    blocks = [
        paragraph(t("感知计划覆盖 90 个交付单元中的 84 个。" * 3, "The plan covers 84 of 90 cells. " * 3)),
        table(
            "coverage_gaps",
            t("感知计划缺口", "Gaps"),
            [column("service", t("服务", "Service")), column("region", t("区域", "Region"))],
            [{"service": t(s[1], s[2]), "region": _region(i)} for i in range(6) for s in SERVICES[:1]],
        ),
        table("completeness", t("完整率", "Completeness"), cols, [{"_key": p["key"], **p} for p in points]),
        chart(
            "completeness_chart",
            "interval_bar",
            t("各采集点报告完整率", "Completeness per point"),
            {
                "groups": [
                    {"label": p["point"], "value": p["rate"], "low": p["low"], "high": p["high"], "n": 26}
                    for p in points
                ],
                "y_label": t("完整率", "completeness"),
                "min_n": 8,
            },
        ),
        table("responses", t("问卷回收率", "Response rates"), rate_cols, region_rows),
        table("callbacks", t("电话回访", "Callbacks"), rate_cols, region_rows),
        table("sampling", t("抽样对比", "Sampling"), rate_cols, region_rows),
    ]
    return section("health", SECTION_TITLES["health"], blocks, {"points": points})


def standards() -> dict[str, Any]:
    rows = [
        {
            "_key": f"standard:S{i:02d}",
            "code": f"S{i:02d}",
            "service": t(*SERVICES[i % 3][1:]),
            "target": ">= 95%",
            "weeks": 26,
            "share_met": 0.8,
            "mean_margin": 1.2,
            "verdict": t("可行", "feasible"),
        }
        for i in range(40)
    ]
    cols = [column(k, t(k, k)) for k in ("code", "service", "target", "verdict")]
    flags = [
        {
            "key": f"standard:S{i:02d}",
            "code": f"S{i:02d}",
            "verdict": "feasible_too_weak",
            "reason": t("目标过低：每期都大幅达标" * 2, "Too weak: beaten by far every week. " * 2),
            "service": t("服务台", "Service desk"),
        }
        for i in range(5)
    ]
    blocks = [
        paragraph(t("本期共有 40 项标准生效。", "40 standards in force.")),
        table("attainment", t("达成情况", "Attainment"), cols, rows),
        table(
            "flags",
            t("不可行或过低", "Infeasible or weak"),
            [column("code", t("标准", "Std")), column("reason", t("原因", "Reason"))],
            flags,
        ),
    ]
    return section("standards", SECTION_TITLES["standards"], blocks, {"flags": flags})


def kpi(rng: np.random.Generator) -> dict[str, Any]:
    points = [
        {
            "label": f"{s[0]}·R{i + 1}" if s[0] == "DESK" and i < 8 else "",
            "x": float(rng.normal(0.02, 0.04)),
            "y": float(rng.normal(-0.02, 0.1)),
        }
        for s in SERVICES
        for i in range(30)
    ]
    melons = [
        {
            "key": f"watermelon:RESP|DESK|R{i}",
            "service": t("服务台", "Service desk"),
            "region": _region(i),
            "kpi": t("响应及时率", "response on time"),
            "gap": -0.2,
            "relative_gap": -0.24,
            "estimate": 0.65,
            "target": 0.85,
            "share": True,
            "evidenced": i < 8,
            "n": 120,
            "p_value": 0.001,
            "rank": i + 1,
        }
        for i in range(12)
    ]
    csat = rng.uniform(0.7, 0.95, 30)
    change_rows = [
        {
            "_key": f"csat_change:R{i}",
            "region": _region(i),
            "before": c + 0.03,
            "after": c,
            "difference": -0.03,
            "ci_low": -0.08,
            "ci_high": 0.02,
            "p_value": 0.2,
            "significant": False,
        }
        for i, c in enumerate(csat)
    ]
    melon_cols = [
        column("service", t("服务", "Service")),
        column("region", t("区域", "Region")),
        column("gap", t("差距", "Gap"), "num2"),
        column("n", t("样本", "n"), "int"),
    ]
    blocks = [
        paragraph(t("本期比较了 90 个单元。", "90 cells compared.")),
        chart(
            "quadrant_chart",
            "quadrant",
            t("KPI 与用户体验四象限", "KPI versus experience"),
            {"points": points},
        ),
        table("watermelons", t("西瓜效应", "Watermelons"), melon_cols, melons),
        chart(
            "csat_chart",
            "interval_bar",
            t("各区域满意度", "CSAT per region"),
            {
                "groups": [
                    {"label": _region(i), "value": c, "low": c - 0.05, "high": c + 0.04, "n": 200}
                    for i, c in enumerate(csat)
                ],
                "y_label": t("CSAT", "CSAT"),
            },
        ),
        table(
            "csat_changes",
            t("与上期比较", "Versus previous"),
            [
                column("region", t("区域", "Region")),
                column("before", t("上期", "Before"), "pct"),
                column("after", t("本期", "Now"), "pct"),
                column("difference", t("变化", "Change"), "pp"),
            ],
            change_rows,
        ),
    ]
    drops = [
        {
            "key": "csat_change:R3",
            "region": _region(3),
            "before": 0.88,
            "after": 0.79,
            "difference": -0.09,
            "p_value": 0.004,
        }
    ]
    return section(
        "kpi_experience", SECTION_TITLES["kpi_experience"], blocks, {"watermelons": melons, "drops": drops}
    )


def simple(code: str, rows: int, width: int) -> dict[str, Any]:
    cols = [column("no", t("编号", "No."), "int"), column("text", t("内容", "Text"))]
    data = [{"_key": f"{code}:{i}", "no": i + 1, "text": TEXT * width} for i in range(rows)]
    return section(
        code,
        SECTION_TITLES.get(code, t("持续改进登记册", "Register")),
        [paragraph(t(TEXT, "Summary text.")), table(code, t("明细", "Details"), cols, data)],
        {},
    )


def content() -> dict[str, Any]:
    rng = np.random.default_rng(20260701)
    out = {
        "schema": 1,
        "review": {
            "id": 1,
            "code": "2026-H1",
            "label": t("2026 年上半年", "2026 H1"),
            "start": "2026-01-01",
            "end": "2026-07-01",
        },
        "previous": {"code": "2025-H2", "label": t("2025 年下半年", "2025 H2")},
        "computed_at": "2026-07-06T09:00:00",
        "sections": [
            health(rng),
            standards(),
            kpi(rng),
            simple("demand", 22, 1),
            simple("improvements", 25, 2),
            simple("findings", 12, 3),
        ],
        "register": simple("register", 40, 1),
    }
    out["summary"] = top_three(out)
    return out


def main() -> None:
    output = sys.argv[1] if len(sys.argv) > 1 else None
    lang = sys.argv[2] if len(sys.argv) > 2 else "zh"
    started = time.perf_counter()
    font = find_cjk_font()
    font_seconds = time.perf_counter() - started
    data = content()
    charts = [b for s in data["sections"] for b in s["blocks"] if b["type"] == "chart"]
    started = time.perf_counter()  # cold: the first PDF of the process pays Matplotlib's warm-up
    pdf = build_review_pdf(data, lang, organisation="某信息技术服务有限公司", font=font, signed=True)  # type: ignore[arg-type]
    pdf_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for block in charts:
        render_chart(block, lang, "png", font)  # type: ignore[arg-type]
    chart_seconds = time.perf_counter() - started
    started = time.perf_counter()
    build_review_pdf(data, lang, organisation="某信息技术服务有限公司", font=font, signed=True)  # type: ignore[arg-type]
    warm_seconds = time.perf_counter() - started
    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    if output:
        with open(output, "wb") as handle:
            handle.write(pdf)
    print(f"font: {font.name} {font.path} embedded={font.embedded}  setup {font_seconds:.3f} s")
    print(
        f"whole PDF ({lang}, charts + layout), first in the process: {pages} pages, "
        f"{len(pdf) / 1024:.0f} KiB, {pdf_seconds:.3f} s (target < 5 s)"
    )
    print(f"charts alone, warm: {len(charts)} PNG in {chart_seconds:.3f} s")
    print(f"whole PDF again, warm: {warm_seconds:.3f} s")
    print(f"font + first PDF: {font_seconds + pdf_seconds:.3f} s")


if __name__ == "__main__":
    main()
