"""The review report as a PDF (ReportLab, A4) from a review's content, in Chinese or English.

Order: cover, contents, executive summary (the three things that matter most), the six sections
with their tables and charts, the improvement register, the sign-off page; every page carries
the review period and "page X / Y" (perception.reporting.pdf.ReportDocument). Pure: content is the
JSON of perception.review.services.sections, so a job, a test or the benchmark can call it
without a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from perception.reporting.fonts import FontChoice
from perception.reporting.pdf import ReportDocument, Signatory
from perception.review.services.blocks import Lang, format_cell, pick

TEXT = {
    "title": {"zh": "用户感知体系回顾报告", "en": "User perception system review"},
    "subtitle": {"zh": "回顾与评价 · 持续改进", "en": "Review and evaluation · continual improvement"},
    "summary": {
        "zh": "执行摘要：最重要的三件事",
        "en": "Executive summary: the three things that matter most",
    },
    "findings": {"zh": "最重要的三件事", "en": "The three things that matter most"},
    "nothing": {"zh": "本期没有需要特别关注的问题。", "en": "Nothing stands out in this period."},
    "rule": {
        "zh": "排序规则：先看证据充分的西瓜效应，再看显著下降的满意度，最后看采集报告最不完整的采集点；"
        "不足三项时依次补充其余候选、看似不可行或过低的标准和逾期的改进事项。",
        "en": "Ranking rule: evidenced watermelons first, then significant CSAT drops, then the collection "
        "point with the least complete weekly reports; free places are filled with the remaining "
        "candidates, standards that look infeasible or too weak, and overdue improvement items.",
    },
    "period": {"zh": "回顾周期", "en": "Review period"},
    "previous": {"zh": "上次回顾", "en": "Previous review"},
    "computed": {"zh": "数据计算时间", "en": "Data computed at"},
    "status": {"zh": "状态", "en": "Status"},
    "signed": {"zh": "已签署（内容已冻结）", "en": "signed (content frozen)"},
    "open": {"zh": "进行中（实时数据）", "en": "open (live data)"},
    "statement": {
        "zh": "以上回顾内容由体系负责人签署确认，签署后内容冻结，不随后续数据变化。",
        "en": "The system owner signed this review; its content is frozen at sign-off and does not "
        "change with later data.",
    },
    "owner": {"zh": "体系负责人", "en": "System owner"},
    "customer": {"zh": "客户代表", "en": "Customer representative"},
    "reviewer": {"zh": "评审人", "en": "Reviewer"},
}


def period_text(content: Mapping[str, Any], lang: Lang) -> str:
    review = content["review"]
    end = dt.date.fromisoformat(review["end"]) - dt.timedelta(days=1)
    return f"{pick(review['label'], lang)} ({review['start']} – {end.isoformat()})"


def _add_block(
    doc: ReportDocument,
    block: Mapping[str, Any],
    lang: Lang,
    font: FontChoice | None,
    *,
    width_fraction: float = 0.9,
) -> None:
    kind = block.get("type")
    if kind == "paragraph":
        doc.add_paragraph(pick(block["text"], lang))
    elif kind == "table":
        columns = block["columns"]
        if not block["rows"]:  # one line, not a heading over an empty table
            separator = "：" if lang == "zh" else ": "
            doc.add_paragraph(pick(block["title"], lang) + separator + pick(block["empty"], lang))
            return
        doc.add_heading(pick(block["title"], lang), level=2)
        doc.add_table(
            [pick(c["label"], lang) for c in columns],
            [[format_cell(row.get(c["key"]), c["format"], lang) for c in columns] for row in block["rows"]],
            col_widths=block.get("weights") or None,
            align=[c["align"] for c in columns],
        )
    elif kind == "chart":
        from perception.review.services.charts import render_chart

        doc.add_image(
            render_chart(block, lang, "png", font),
            caption=pick(block["title"], lang),
            width_fraction=width_fraction,
        )


def build_review_pdf(
    content: Mapping[str, Any],
    lang: Lang,
    *,
    organisation: str,
    signatories: Sequence[Signatory] = (),
    signed: bool = False,
    font: FontChoice | None = None,
    generated_on: dt.date | None = None,
) -> bytes:
    """The PDF bytes of a review's content in ``lang`` ("zh" or "en")."""
    doc = ReportDocument(TEXT["title"][lang], period_text(content, lang), lang, font)
    doc.add_cover(organisation, subtitle=TEXT["subtitle"][lang], generated_on=generated_on)
    doc.add_table_of_contents()
    doc.add_heading(TEXT["summary"][lang], new_page=True)
    chart_font = font if font is not None else doc.font
    # The executive page: headline figures and their trend (reviews signed before the scorecard
    # existed have none in their frozen content), then the three findings.
    for block in (content.get("scorecard") or {}).get("blocks", []):
        _add_block(doc, block, lang, chart_font, width_fraction=0.75)
    summary = content.get("summary") or []
    if summary:
        doc.add_heading(TEXT["findings"][lang], level=2)
    for item in summary:
        doc.add_paragraph(f"{item['rank']}. {pick(item['text'], lang)}")
    if not summary:
        doc.add_paragraph(TEXT["nothing"][lang])
    doc.add_paragraph(TEXT["rule"][lang])
    previous = content.get("previous")
    doc.add_key_values(
        [
            (TEXT["period"][lang], period_text(content, lang)),
            (TEXT["previous"][lang], pick(previous["label"], lang) if previous else "—"),
            (TEXT["computed"][lang], str(content.get("computed_at", "")).replace("T", " ")),
            (TEXT["status"][lang], TEXT["signed" if signed else "open"][lang]),
        ]
    )
    for sec in [*content.get("sections", []), content.get("register")]:
        if not sec:
            continue
        doc.add_heading(pick(sec["title"], lang), new_page=True)
        for block in sec["blocks"]:
            _add_block(doc, block, lang, chart_font)
    doc.add_sign_off(list(signatories), statement=TEXT["statement"][lang] if signed else "")
    return doc.build()


def signatories_for(review: Any, lang: Lang) -> list[Signatory]:
    """The sign-off lines of a Review row: owner (and customer) when signed, blank lines otherwise."""
    owner = Signatory(
        review.owner_signatory or "",
        TEXT["owner"][lang],
        review.owner_signed_at.date().isoformat() if review.owner_signed_at else "",
    )
    signed = list(getattr(review, "countersignatures", None) or [])
    customer = Signatory(
        ("、" if lang == "zh" else ", ").join(c.signatory for c in signed),
        TEXT["customer"][lang],
        max(c.signed_at for c in signed).date().isoformat() if signed else "",
    )
    return [owner, Signatory("", TEXT["reviewer"][lang]), customer]
