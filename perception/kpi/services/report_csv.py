"""The SLA-failure report as CSV (UTF-8 with a BOM, so Excel shows the Chinese), and the labelled
cells that the CSV and the PDF share, in zh or en."""

from __future__ import annotations

import csv
import io

from perception.core.spreadsheet import neutralise
from perception.kpi.services.reports import ReportLine, SlaFailureReport
from perception.kpi.services.sla import Breach


def _lang(lang: str) -> bool:
    return lang.startswith("zh")


LINE_HEADERS = (
    ("期间", "Period"),
    ("区域", "Region"),
    ("服务", "Service"),
    ("工单数", "Tickets"),
    ("响应：计入", "Response: measured"),
    ("响应：达标", "Response: within"),
    ("响应达标率 %", "Response within %"),
    ("响应要求 %", "Response required %"),
    ("响应达标", "Response met"),
    ("解决：计入", "Resolution: measured"),
    ("解决：达标", "Resolution: within"),
    ("解决达标率 %", "Resolution within %"),
    ("解决要求 %", "Resolution required %"),
    ("解决达标", "Resolution met"),
    ("违约数", "Breaches"),
    ("最大超时（分钟）", "Worst overrun (min)"),
)
BREACH_HEADERS = (
    ("工单号", "Ticket"),
    ("区域", "Region"),
    ("服务", "Service"),
    ("客户", "Customer"),
    ("优先级", "Priority"),
    ("类型", "Kind"),
    ("创建时间 (UTC)", "Opened (UTC)"),
    ("时限（分钟）", "Limit (min)"),
    ("用时（分钟）", "Taken (min)"),
    ("超时（分钟）", "Over by (min)"),
    ("仍未处理", "Still open"),
)


def yes_no(value: bool | None, lang: str) -> str:
    if value is None:
        return "—"
    return ("是" if value else "否") if _lang(lang) else ("yes" if value else "no")


def kind_label(kind: str, lang: str) -> str:
    zh = {"response": "响应", "resolution": "解决"}
    return zh.get(kind, kind) if _lang(lang) else kind


def line_cells(line: ReportLine, lang: str) -> list[object]:
    zh = _lang(lang)
    return [
        line.period,
        line.region_zh if zh else line.region_en,
        line.service_zh if zh else line.service_en,
        line.tickets,
        line.response_measured,
        line.response_hits,
        line.response_share,
        line.response_required,
        yes_no(line.response_met, lang),
        line.resolution_measured,
        line.resolution_hits,
        line.resolution_share,
        line.resolution_required,
        yes_no(line.resolution_met, lang),
        line.breaches,
        line.worst_over_minutes,
    ]


def breach_cells(b: Breach, lang: str) -> list[object]:
    return [
        b.external_id,
        b.region_code,
        b.service_code,
        b.customer_code or "",
        b.priority,
        kind_label(b.kind, lang),
        b.opened_at.strftime("%Y-%m-%d %H:%M"),
        round(b.limit_minutes, 1),
        round(b.actual_minutes, 1),
        round(b.over_minutes, 1),
        yes_no(b.overdue, lang),
    ]


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return neutralise(value)  # imported ticket text (ids, engineer names) must not run as a formula


def _csv(headers: tuple[tuple[str, str], ...], rows: list[list[object]], lang: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([zh if _lang(lang) else en for zh, en in headers])
    for row in rows:
        writer.writerow(
            ["" if v is None else (f"{v:.2f}" if isinstance(v, float) else neutralise(v)) for v in row]
        )
    return "\ufeff" + buf.getvalue()


def report_csv(report: SlaFailureReport, lang: str, part: str = "lines") -> str:
    """The report's lines (with the total last), or its breaches, as CSV text."""
    if part == "breaches":
        return _csv(BREACH_HEADERS, [breach_cells(b, lang) for b in report.breaches], lang)
    rows = [line_cells(line, lang) for line in report.lines] + [line_cells(report.total, lang)]
    return _csv(LINE_HEADERS, rows, lang)
