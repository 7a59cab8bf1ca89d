"""The SLA-failure report as an A4 PDF (perception.reporting.pdf.ReportDocument), zh or en.

Content: cover, summary (counts and the total line), the lines that failed, all lines, and for the
monthly report the breaches ticket by ticket (capped; the CSV has them all).
"""

from __future__ import annotations

from typing import Any

from perception.kpi.services.report_csv import BREACH_HEADERS, LINE_HEADERS, breach_cells, line_cells
from perception.kpi.services.reports import MONTHLY, ReportLine, SlaFailureReport
from perception.reporting.pdf import ReportDocument

PDF_BREACH_ROWS = 300
# The PDF table drops the raw counts to fit A4: period, region, service, tickets, response %,
# required %, met, resolution %, required %, met, breaches, worst overrun.
_COLUMNS = (0, 1, 2, 3, 6, 7, 8, 11, 12, 13, 14, 15)


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def report_pdf(report: SlaFailureReport, lang: str, organisation: str = "") -> bytes:
    lang = "zh" if lang.startswith("zh") else "en"
    monthly = report.kind == MONTHLY
    title = (
        _t(lang, "月度 SLA 未达标报告", "Monthly SLA-failure report")
        if monthly
        else _t(lang, "季度 SLA 报告", "Quarterly SLA report")
    )
    doc = ReportDocument(title, report.label, lang=lang)  # type: ignore[arg-type]
    doc.add_cover(
        organisation,
        subtitle=_t(lang, "呈送：项目经理", "For: project managers")
        if monthly
        else _t(lang, "呈送：区域经理", "For: regional managers"),
        generated_on=report.generated_at.date(),
    )
    total = report.total
    doc.add_heading(_t(lang, "概要", "Summary"))
    doc.add_key_values(
        [
            (_t(lang, "期间", "Period"), f"{report.start.isoformat()} – {report.end.isoformat()}"),
            (_t(lang, "工单数", "Tickets"), str(total.tickets)),
            (
                _t(lang, "响应达标率 / 要求", "Response within / required"),
                _pair(total.response_share, total.response_required),
            ),
            (
                _t(lang, "解决达标率 / 要求", "Resolution within / required"),
                _pair(total.resolution_share, total.resolution_required),
            ),
            (_t(lang, "违约数", "Breaches"), str(report.breach_count)),
            (_t(lang, "已触发升级", "Escalations fired"), str(report.escalations)),
            (_t(lang, "未达标条目", "Lines failing"), str(sum(1 for line in report.lines if line.failed))),
        ]
    )
    header = [(LINE_HEADERS[i][0] if lang == "zh" else LINE_HEADERS[i][1]) for i in _COLUMNS]
    widths = (1.2, 1.2, 1.6, 0.9, 1, 1, 0.8, 1, 1, 0.8, 0.9, 1.1)
    align = (
        "left",
        "left",
        "left",
        "right",
        "right",
        "right",
        "center",
        "right",
        "right",
        "center",
        "right",
        "right",
    )

    def table(lines: list[ReportLine], caption: str) -> None:
        rows = [[line_cells(line, lang)[i] for i in _COLUMNS] for line in lines]
        doc.add_table(header, rows, col_widths=widths, align=align, caption=caption, float_format="{:.1f}")  # type: ignore[arg-type]

    failed = [line for line in report.lines if line.failed]
    doc.add_heading(_t(lang, "未达标的服务与区域", "Services and regions that failed"))
    if failed:
        table(failed, _t(lang, "达标率与要求均为百分比。", "Shares and requirements are percentages."))
    else:
        doc.add_paragraph(_t(lang, "本期所有服务均达标。", "Every service met its SLA in this period."))
    doc.add_heading(_t(lang, "全部明细", "All lines"))
    table(list(report.lines) + [report.total], "")
    if monthly:
        doc.add_heading(_t(lang, "违约工单", "Breaches"), new_page=True)
        shown = report.breaches[:PDF_BREACH_ROWS]
        if not shown:
            doc.add_paragraph(_t(lang, "本期没有违约工单。", "No breaches in this period."))
        else:
            rows: list[list[Any]] = [breach_cells(b, lang) for b in shown]
            more = len(report.breaches) - len(shown)
            caption = (
                _t(lang, f"另有 {more} 条见 CSV 导出。", f"{more} more in the CSV export.")
                if more > 0
                else ""
            )
            doc.add_table(
                [zh if lang == "zh" else en for zh, en in BREACH_HEADERS],
                rows,
                col_widths=(1.4, 0.8, 0.9, 1.2, 0.7, 0.8, 1.5, 0.9, 0.9, 0.9, 0.8),
                caption=caption,
                float_format="{:.1f}",
            )
    return doc.build()


def _pair(share: float | None, required: float | None) -> str:
    if share is None:
        return "—"
    return f"{share:.1f}% / {required:.1f}%" if required is not None else f"{share:.1f}%"
