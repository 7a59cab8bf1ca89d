"""Review section 1, system health: is the perception system itself running?

- coverage of the perception plan (perception.setup.services.plan.coverage at the period end);
- weekly report completeness and lateness per collection point
  (perception.collection.services.board.completeness over the period's ISO weeks; rate =
  submitted (on time or late) / weeks whose deadline passed, with a Wilson interval);
- survey response rates per region (invitations sent in the period, share answered);
- phone callbacks done versus planned (collection_analysis.callback_progress);
- sampling-comparison discrepancy rates (collection_analysis.discrepancy_rates).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select

from perception.review.services.blocks import chart, column, paragraph, section, t, table
from perception.review.services.sections import SECTION_TITLES, SectionContext
from scoring import wilson_interval

REGION = column("region", t("区域", "Region"))


def _coverage(ctx: SectionContext) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from perception.setup.services.plan import coverage

    on = min(ctx.end - timedelta(days=1), ctx.today)
    cov = coverage(ctx.session, on)
    cells = cov.cells
    covered = sum(1 for v in cells.values() if v == "covered")
    partial = sum(1 for v in cells.values() if v == "partial")
    gaps = len(cells) - covered - partial
    share = covered / len(cells) if cells else None
    facts = {
        "cells": len(cells),
        "covered": covered,
        "partial": partial,
        "gaps": gaps,
        "share": share,
        "unmeasured": len(cov.unmeasured),
        "services_without_plan": len(cov.services_without_plan),
    }
    pct = f"{share * 100:.1f}%" if share is not None else "—"
    blocks: list[dict[str, Any]] = [
        paragraph(
            t(
                f"感知计划覆盖 {len(cells)} 个“服务 × 区域”交付单元中的 "
                f"{covered} 个（{pct}），部分覆盖 {partial} 个，"
                f"缺口 {gaps} 个；{len(cov.unmeasured)} 项现行标准没有任何感知手段或 KPI 数据源衡量。",
                f"The perception plan covers {covered} of {len(cells)} "
                f"delivered service × region cells ({pct}); "
                f"{partial} are partly covered and {gaps} are gaps; {len(cov.unmeasured)} standards in force "
                "are not measured by any perception means or KPI feed.",
            )
        )
    ]
    rows = [
        {
            "_key": f"coverage:{ctx.code('service', service_id)}:{ctx.code('region', region_id)}",
            "service": ctx.name("service", service_id),
            "region": ctx.name("region", region_id),
            "status": t("部分覆盖", "partly covered") if state == "partial" else t("缺口", "gap"),
        }
        for (service_id, region_id), state in sorted(cells.items())
        if state != "covered"
    ]
    blocks.append(
        table(
            "coverage_gaps",
            t("感知计划缺口", "Gaps in the perception plan"),
            [column("service", t("服务", "Service")), REGION, column("status", t("状态", "Status"))],
            rows,
            empty=t("没有缺口：每个交付单元都在感知计划中", "No gaps: every delivered cell is in the plan"),
        )
    )
    return blocks, facts


def _completeness(ctx: SectionContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from perception.collection.services.board import Completeness, completeness

    cells = completeness(ctx.session, ctx.week_start, ctx.last_week, now=ctx.now)
    by_point: dict[int, list[Any]] = defaultdict(list)
    for cell in cells:
        if cell.counted:
            by_point[cell.collection_point_id].append(cell)
    points = ctx.names("point")
    facts: list[dict[str, Any]] = []
    for point_id, mine in by_point.items():
        on_time = sum(c.state == Completeness.SUBMITTED for c in mine)
        late = [c.lateness_hours or 0.0 for c in mine if c.state == Completeness.LATE]
        missing = sum(c.state == Completeness.MISSING for c in mine)
        low, high = wilson_interval([on_time + len(late)], [len(mine)])
        facts.append(
            {
                "key": f"completeness:{points[point_id]['code'] if point_id in points else point_id}",
                "point": ctx.name("point", point_id),
                "region": ctx.name("region", mine[0].region_id),
                "counted": len(mine),
                "on_time": on_time,
                "late": len(late),
                "missing": missing,
                "rate": (on_time + len(late)) / len(mine),
                "low": float(low[0]),
                "high": float(high[0]),
                "on_time_rate": on_time / len(mine),
                "mean_lateness_hours": round(sum(late) / len(late), 1) if late else None,
            }
        )
    facts.sort(key=lambda f: (f["rate"], -f["missing"], f["on_time_rate"]))
    columns = [
        column("point", t("采集点", "Collection point")),
        REGION,
        column("counted", t("应交周数", "Weeks due"), "int"),
        column("on_time", t("按时", "On time"), "int"),
        column("late", t("迟交", "Late"), "int"),
        column("missing", t("缺交", "Missing"), "int"),
        column("rate", t("完整率", "Completeness"), "pct"),
        column("on_time_rate", t("按时率", "On-time rate"), "pct"),
        column("mean_lateness_hours", t("平均迟交（小时）", "Mean lateness (h)"), "num1"),
    ]
    rows = [{"_key": f["key"], **{c["key"]: f[c["key"]] for c in columns}} for f in facts]
    blocks = [
        table(
            "completeness",
            t(
                "每周采集报告的完整率与迟交（按采集点，最差在前）",
                "Weekly report completeness and lateness per collection point (worst first)",
            ),
            columns,
            rows,
            weights=[2, 1.4, 1, 1, 1, 1, 1.1, 1.1, 1.2],
        )
    ]
    if facts:
        groups = [
            {"label": f["point"], "value": f["rate"], "low": f["low"], "high": f["high"], "n": f["counted"]}
            for f in sorted(facts, key=lambda f: str(f["key"]))
        ]
        blocks.append(
            chart(
                "completeness_chart",
                "interval_bar",
                t(
                    "各采集点报告完整率（95% 区间）",
                    "Report completeness per collection point (95% interval)",
                ),
                {
                    "groups": groups,
                    "y_label": t("完整率", "completeness"),
                    "min_n": 8,
                    "low_sample_label": t("应交周数 < 8", "fewer than 8 weeks due"),
                },
            )
        )
    return blocks, facts


def survey_response_rates(ctx: SectionContext) -> list[dict[str, Any]]:
    """Invitations sent in the period per region and the share answered (minimal query on the
    surveys models: ``used_at`` is set when the invitation's response is stored)."""
    from perception.surveys.models import Invitation

    start, end = datetime.combine(ctx.start, time()), datetime.combine(ctx.end, time())
    rows = ctx.session.execute(
        select(
            Invitation.region_id,
            func.count(Invitation.id),
            func.sum(case((Invitation.used_at.is_not(None), 1), else_=0)),
        )
        .where(Invitation.sent_at >= start, Invitation.sent_at < end)
        .group_by(Invitation.region_id)
    ).all()
    out = []
    for region_id, sent, answered in sorted(rows, key=lambda r: ctx.code("region", r[0])):
        out.append(
            {
                "_key": f"responses:{ctx.code('region', region_id)}",
                "region": ctx.name("region", region_id),
                "sent": int(sent),
                "answered": int(answered or 0),
                "rate": int(answered or 0) / int(sent) if sent else None,
            }
        )
    return out


def _fieldwork(ctx: SectionContext) -> list[dict[str, Any]]:
    from perception.collection.services.analysis import callback_progress, discrepancy_rates

    responses = survey_response_rates(ctx)
    callbacks = [p for p in callback_progress(ctx.session, ctx.start, ctx.end) if p.region_id is not None]
    sampling = [
        d for d in discrepancy_rates(ctx.session, start=ctx.start, end=ctx.end) if d.region_id is not None
    ]
    return [
        table(
            "responses",
            t("问卷回收率（按区域）", "Survey response rates per region"),
            [
                REGION,
                column("sent", t("已发邀请", "Invitations sent"), "int"),
                column("answered", t("已回答", "Answered"), "int"),
                column("rate", t("回收率", "Response rate"), "pct"),
            ],
            responses,
        ),
        table(
            "callbacks",
            t("电话回访：计划与完成（按区域）", "Phone callbacks planned and done per region"),
            [
                REGION,
                column("planned", t("计划", "Planned"), "int"),
                column("attempted", t("已拨打", "Attempted"), "int"),
                column("completed", t("已完成", "Completed"), "int"),
                column("rate", t("完成率", "Completion rate"), "pct"),
            ],
            [
                {
                    "_key": f"callbacks:{ctx.code('region', p.region_id)}",
                    "region": ctx.name("region", p.region_id),
                    "planned": p.planned,
                    "attempted": p.attempted,
                    "completed": p.completed,
                    "rate": p.completion_rate,
                }
                for p in callbacks
            ],
        ),
        table(
            "sampling",
            t(
                "抽样对比：与客户确认不一致的比例（按区域）",
                "Sampling comparison: share contradicted by the customer per region",
            ),
            [
                REGION,
                column("sampled", t("抽样", "Sampled"), "int"),
                column("confirmed", t("已确认", "Confirmed"), "int"),
                column("discrepant", t("不一致", "Discrepant"), "int"),
                column("rate", t("不一致率", "Discrepancy rate"), "pct"),
                column("low", t("95% 下限", "95% low"), "pct"),
                column("high", t("95% 上限", "95% high"), "pct"),
            ],
            [
                {
                    "_key": f"sampling:{ctx.code('region', d.region_id)}",
                    "region": ctx.name("region", d.region_id),
                    "sampled": d.sampled,
                    "confirmed": d.confirmed,
                    "discrepant": d.discrepant,
                    "rate": d.rate,
                    "low": d.low,
                    "high": d.high,
                }
                for d in sampling
            ],
        ),
    ]


def build(ctx: SectionContext) -> dict[str, Any]:
    coverage_blocks, coverage_facts = _coverage(ctx)
    completeness_blocks, point_facts = _completeness(ctx)
    return section(
        "health",
        SECTION_TITLES["health"],
        coverage_blocks + completeness_blocks + _fieldwork(ctx),
        {"coverage": coverage_facts, "points": point_facts},
    )
