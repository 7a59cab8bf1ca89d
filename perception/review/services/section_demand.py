"""Review section 4, demand: the period's common and emerging needs and what became of the needs
handed to the market-expansion department (市场拓展部门).

Needs come from the analysis phase (perception.analysis.services.demand.common_and_emerging_needs
over the period's ISO weeks): a common need is a theme raised by at least ``min_customers``
customers in at least ``min_regions`` regions; an emerging need a theme whose share grew against
the previous period of equal length (one-sided Fisher exact test, Benjamini-Hochberg q <= alpha).
Hand-overs: the Opportunity rows created for a period overlapping this one, or still open, with
their status (new, contacted, opportunity, closed).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import or_, select

from perception.review.services.blocks import column, paragraph, section, t, table
from perception.review.services.sections import SECTION_TITLES, SectionContext

STATUS = {
    "new": t("新移交", "new"),
    "contacted": t("已联系客户", "contacted"),
    "opportunity": t("已成商机", "opportunity"),
    "closed": t("已关闭", "closed"),
}


def _needs(ctx: SectionContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from perception.analysis.services.demand import common_and_emerging_needs

    view = common_and_emerging_needs(ctx.session, ctx.week_start, ctx.week_end)
    common = [
        {
            "_key": f"need:{need.theme_key}",
            "theme": need.label,
            "entries": need.n_entries,
            "customers": need.n_customers,
            "regions": need.n_regions,
        }
        for need in view.common
    ]
    emerging = [
        {
            "_key": f"emerging:{g.theme_key}",
            "theme": g.label,
            "count": g.count,
            "share": g.share,
            "previous_share": g.previous_share,
            "q_value": g.q_value,
        }
        for g in view.emerging
    ]
    return common, emerging


def _handed_over(ctx: SectionContext) -> list[dict[str, Any]]:
    from perception.analysis.models import Opportunity

    start, end = datetime.combine(ctx.start, time()), datetime.combine(ctx.end, time())
    stmt = (
        select(Opportunity)
        .where(
            Opportunity.created_at < end,
            or_(Opportunity.status != "closed", Opportunity.updated_at >= start),
        )
        .order_by(Opportunity.created_at)
    )
    out = []
    for opp in ctx.session.scalars(stmt):
        out.append(
            {
                "_key": f"opportunity:{opp.id}",
                "title": opp.title,
                "kind": {"common": t("共性需求", "common"), "emerging": t("新兴需求", "emerging")}.get(
                    opp.kind, t("人工", "manual")
                ),
                "customers": opp.n_customers,
                "handed_on": opp.created_at.date().isoformat(),
                "status": STATUS.get(opp.status, t(opp.status, opp.status)),
                "notes": opp.notes or "",
            }
        )
    return out


def build(ctx: SectionContext) -> dict[str, Any]:
    common, emerging = _needs(ctx)
    handed = _handed_over(ctx)
    won = sum(1 for h in handed if h["status"] == STATUS["opportunity"])
    theme = column("theme", t("需求主题", "Need (theme)"))
    blocks = [
        paragraph(
            t(
                f"本期识别共性需求 {len(common)} 项、新兴需求 "
                f"{len(emerging)} 项；移交市场拓展部门的需求 {len(handed)} 项，"
                f"其中 {won} 项已形成商机。",
                f"{len(common)} common and {len(emerging)} emerging "
                f"needs were found in the period; {len(handed)} needs "
                f"were handed to market expansion, {won} of which became opportunities.",
            )
        ),
        table(
            "common_needs",
            t(
                "共性需求（多个客户、多个区域提出）",
                "Common needs (raised by several customers in several regions)",
            ),
            [
                theme,
                column("entries", t("条数", "Entries"), "int"),
                column("customers", t("客户数", "Customers"), "int"),
                column("regions", t("区域数", "Regions"), "int"),
            ],
            common,
            empty=t("本期没有共性需求", "No common need in this period"),
            weights=[4, 1, 1, 1],
        ),
        table(
            "emerging_needs",
            t("新兴需求（占比显著上升）", "Emerging needs (share grew significantly)"),
            [
                theme,
                column("count", t("条数", "Entries"), "int"),
                column("share", t("本期占比", "Share now"), "pct"),
                column("previous_share", t("上期占比", "Share before"), "pct"),
                column("q_value", t("q 值", "q"), "num2"),
            ],
            emerging,
            empty=t("本期没有新兴需求", "No emerging need in this period"),
            weights=[4, 1, 1, 1, 1],
        ),
        table(
            "handed_over",
            t("移交市场拓展部门的需求及其结果", "Needs handed to market expansion and what became of them"),
            [
                column("title", t("需求", "Need")),
                column("kind", t("类型", "Kind")),
                column("customers", t("客户数", "Customers"), "int"),
                column("handed_on", t("移交日期", "Handed over")),
                column("status", t("结果", "Outcome")),
                column("notes", t("跟进记录", "Follow-up notes")),
            ],
            handed,
            empty=t("本期没有移交的需求", "No need handed over in this period"),
            weights=[3, 1, 1, 1.2, 1.2, 3],
        ),
    ]
    return section(
        "demand",
        SECTION_TITLES["demand"],
        blocks,
        {"common": len(common), "emerging": len(emerging), "handed_over": len(handed), "opportunities": won},
    )
