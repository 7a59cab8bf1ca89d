"""Review section 4, demand: the period's common and emerging needs and what became of the needs
handed to the market-expansion department (市场拓展部门).

Needs are read from the requirement texts (TextEntry kind ``requirement``) of the period with
the theme the text analysis assigned (``theme_key``):
- common needs: ``scoring.text.common_needs`` (a theme raised by at least ``min_customers``
  customers in at least ``min_regions`` regions; thresholds from the text-analysis settings,
  default 3 and 3);
- emerging needs: ``scoring.text.emerging_needs`` against the previous period of equal length
  (one-sided Fisher exact test of the theme's share, Benjamini-Hochberg q <= alpha).
Hand-overs: the Opportunity rows created for a period overlapping this one, or still open, with
their status (new, contacted, opportunity, closed).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import or_, select

from perception.models.facts import TextEntry, TextKind
from perception.services.review_blocks import column, paragraph, section, t, table
from perception.services.review_section_kpi import previous_bounds
from perception.services.review_sections import SECTION_TITLES, SectionContext
from scoring.text import ThemeAssignment, common_needs, emerging_needs

STATUS = {
    "new": t("新移交", "new"),
    "contacted": t("已联系客户", "contacted"),
    "opportunity": t("已成商机", "opportunity"),
    "closed": t("已关闭", "closed"),
}


def _settings(ctx: SectionContext) -> tuple[int, int, float, int]:
    from perception.models.analysis import TextAnalysisSettings

    row = ctx.session.scalar(select(TextAnalysisSettings).limit(1))
    if row is None:
        return 3, 3, 0.05, 3
    return row.min_customers, row.min_regions, row.emerging_alpha, row.emerging_min_entries


def _theme_names(ctx: SectionContext) -> dict[str, str]:
    from perception.models.analysis import TextTheme

    return {theme.key: theme.label for theme in ctx.session.scalars(select(TextTheme))}


def _needs(ctx: SectionContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    prev_start, _ = previous_bounds(ctx)
    rows = ctx.session.execute(
        select(
            TextEntry.id,
            TextEntry.theme_key,
            TextEntry.customer_id,
            TextEntry.region_id,
            TextEntry.observed_on,
        ).where(
            TextEntry.kind == TextKind.REQUIREMENT,
            TextEntry.observed_on >= prev_start,
            TextEntry.observed_on < ctx.end,
        )
    ).all()
    if not rows:
        return [], []
    assignments = [ThemeAssignment(r.id, r.theme_key, 1.0) for r in rows]
    period = {r.id: ("now" if r.observed_on >= ctx.start else "before") for r in rows}
    customers = {r.id: str(r.customer_id or f"region-{r.region_id}") for r in rows}
    regions = {r.id: str(r.region_id) for r in rows}
    min_customers, min_regions, alpha, min_entries = _settings(ctx)
    names = _theme_names(ctx)
    common = [
        {
            "_key": f"need:{need.theme_key}",
            "theme": names.get(need.theme_key, need.theme_key),
            "entries": need.n_entries,
            "customers": len(need.customers),
            "regions": len(need.regions),
        }
        for need in common_needs(assignments, customers, regions, period, "now", min_customers, min_regions)
    ]
    emerging = []
    if any(p == "before" for p in period.values()):
        emerging = [
            {
                "_key": f"emerging:{g.theme_key}",
                "theme": names.get(g.theme_key, g.theme_key),
                "count": g.count,
                "share": g.share,
                "previous_share": g.previous_share,
                "q_value": g.q_value,
            }
            for g in emerging_needs(
                assignments, period, "now", "before", alpha=alpha, min_entries=min_entries
            )
        ]
    return common, emerging


def _handed_over(ctx: SectionContext) -> list[dict[str, Any]]:
    from perception.models.analysis import Opportunity

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
