"""Review section 5, the previous review's improvement actions and their measured results, and the
improvement register appended to the review.

Carrying forward: an item appears in a review's section 5 when it was raised in the previous
review, or when it was still open at the start of this review's period (raised earlier, from any
source). Its result is computed now from the data (perception.review.services.results), so an
open review shows the latest figures and the sign-off freezes them.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import or_, select

from perception.core.models.auth import User
from perception.review.models import OPEN_IMPROVEMENT_STATUSES, ImprovementItem
from perception.review.services.blocks import column, paragraph, section, t, table
from perception.review.services.results import SHARE_METRICS, measure_result
from perception.review.services.sections import SECTION_TITLES, SectionContext

STATUS = {
    "proposed": t("已提出", "proposed"),
    "approved": t("已批准", "approved"),
    "in_progress": t("进行中", "in progress"),
    "completed": t("已完成", "completed"),
    "cancelled": t("已取消", "cancelled"),
}
PRIORITY = {"high": t("高", "high"), "medium": t("中", "medium"), "low": t("低", "low")}
RESULT = {
    "no_metric": t("未设基线指标", "no baseline metric"),
    "not_completed": t("尚未完成", "not completed yet"),
    "insufficient_data": t("数据不足", "not enough data"),
}


def _owners(ctx: SectionContext, items: list[ImprovementItem]) -> dict[int, str]:
    ids = {i.owner_id for i in items if i.owner_id}
    if not ids:
        return {}
    return dict(ctx.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _value(item: ImprovementItem, value: float | None) -> str | None:
    if value is None:
        return None
    return f"{value * 100:.1f}%" if item.metric in SHARE_METRICS else f"{value:.2f}"


def carried_items(ctx: SectionContext) -> list[tuple[ImprovementItem, bool]]:
    """(item, carried) for section 5: raised in the previous review (carried=False) or open at
    this period's start and raised before it (carried=True)."""
    start = datetime.combine(ctx.start, time())
    clauses: list[Any] = [
        (ImprovementItem.created_at < start)
        & or_(
            ImprovementItem.status.in_(OPEN_IMPROVEMENT_STATUSES),
            ImprovementItem.completed_on >= ctx.start,
        )
        & ((ImprovementItem.review_id != ctx.review.id) | ImprovementItem.review_id.is_(None))
    ]
    if ctx.previous is not None:
        clauses.append(ImprovementItem.review_id == ctx.previous.id)
    items = ctx.session.scalars(
        select(ImprovementItem).where(or_(*clauses)).order_by(ImprovementItem.code)
    ).all()
    previous_id = ctx.previous.id if ctx.previous is not None else None
    return [(item, item.review_id != previous_id or previous_id is None) for item in items]


def _result_row(
    ctx: SectionContext, item: ImprovementItem, carried: bool, owners: dict[int, str]
) -> dict[str, Any]:
    result = measure_result(ctx.session, item, ctx.today)
    status = result.get("status")
    if status in ("measured", "measuring"):
        text = result["message"]
        if status == "measuring":
            text = {"zh": text["zh"] + "（衡量期未结束）", "en": text["en"] + " (still measuring)"}
    else:
        text = result.get("message") or RESULT.get(status or "", t("—", "—"))
    return {
        "_key": f"improvement:{item.code}",
        "code": item.code,
        "title": item.titles,
        "owner": owners.get(item.owner_id or 0, "—"),
        "status": STATUS.get(item.status, t(item.status, item.status)),
        "origin": t("延续自更早", "carried forward")
        if carried
        else t("上期回顾提出", "raised in previous review"),
        "baseline": _value(item, item.baseline_value),
        "target": _value(item, item.target_value),
        "result": text,
        "_result": result,
        "_overdue": item.overdue_on(ctx.today),
    }


def build(ctx: SectionContext) -> dict[str, Any]:
    pairs = carried_items(ctx)
    owners = _owners(ctx, [i for i, _ in pairs])
    rows = [_result_row(ctx, item, carried, owners) for item, carried in pairs]
    completed = [r for r in rows if r["_result"].get("status") in ("measured", "measuring")]
    improved = sum(1 for r in completed if r["_result"].get("improved"))
    overdue = [r for r in rows if r["_overdue"]]
    facts = {
        "items": len(rows),
        "completed_measured": len(completed),
        "improved": improved,
        "overdue": [{"key": r["_key"], "code": r["code"], "title": r["title"]} for r in overdue],
    }
    table_rows = [{k: v for k, v in r.items() if k not in ("_result", "_overdue")} for r in rows]
    blocks = [
        paragraph(
            t(
                f"纳入本次回顾的改进事项 {len(rows)} 项：已完成并衡量 "
                f"{len(completed)} 项，其中 {improved} 项显著改善；"
                f"逾期未完成 {len(overdue)} 项。",
                f"{len(rows)} improvement items carry into this "
                f"review: {len(completed)} completed and measured, "
                f"{improved} of them significantly improved; {len(overdue)} are overdue.",
            )
        ),
        table(
            "improvement_results",
            t("上期改进措施及其衡量结果", "Previous improvement actions and their measured results"),
            [
                column("code", t("编号", "No.")),
                column("title", t("改进事项", "Improvement")),
                column("owner", t("负责人", "Owner")),
                column("status", t("状态", "Status")),
                column("origin", t("来源", "Origin")),
                column("baseline", t("基线", "Baseline")),
                column("target", t("目标", "Target")),
                column("result", t("衡量结果（由数据计算）", "Measured result (computed)")),
            ],
            table_rows,
            empty=t("没有需要延续的改进事项", "No improvement item carries into this review"),
            weights=[0.9, 2.2, 1, 0.9, 1.1, 0.8, 0.8, 3.5],
        ),
    ]
    return section("improvements", SECTION_TITLES["improvements"], blocks, facts)


def register(ctx: SectionContext) -> dict[str, Any]:
    """The improvement register as it stands: open items, items completed since the period start,
    and every item raised in this review."""
    items = ctx.session.scalars(
        select(ImprovementItem)
        .where(
            or_(
                ImprovementItem.status.in_(OPEN_IMPROVEMENT_STATUSES),
                ImprovementItem.completed_on >= ctx.start,
                ImprovementItem.review_id == ctx.review.id,
            )
        )
        .order_by(ImprovementItem.priority_score.desc(), ImprovementItem.code)
    ).all()
    owners = _owners(ctx, list(items))
    rows = [
        {
            "_key": f"register:{item.code}",
            "code": item.code,
            "title": item.titles,
            "priority": PRIORITY.get(item.priority, t(item.priority, item.priority)),
            "owner": owners.get(item.owner_id or 0, "—"),
            "due_on": item.due_on.isoformat() if item.due_on else None,
            "status": STATUS.get(item.status, t(item.status, item.status)),
            "overdue": item.overdue_on(ctx.today),
        }
        for item in items
    ]
    return section(
        "register",
        t("持续改进登记册", "Continual improvement register"),
        [
            table(
                "register",
                t("改进事项（按优先级）", "Improvement items (by priority)"),
                [
                    column("code", t("编号", "No.")),
                    column("title", t("改进事项", "Improvement")),
                    column("priority", t("优先级", "Priority")),
                    column("owner", t("负责人", "Owner")),
                    column("due_on", t("到期日", "Due")),
                    column("status", t("状态", "Status")),
                    column("overdue", t("逾期", "Overdue")),
                ],
                rows,
                empty=t("登记册为空", "The register is empty"),
                weights=[0.9, 3.5, 0.8, 1.2, 1.1, 1, 0.8],
            )
        ],
        {"open": sum(1 for i in items if i.is_open), "overdue": sum(1 for r in rows if r["overdue"])},
    )
