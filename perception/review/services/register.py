"""The continual improvement register (CIR, 持续改进登记册, ITIL 4): improvement items from any
source, their derived priority, status changes, filters and the overdue rule.

Priority rule (a value/effort matrix, ITIL 4 "Continual improvement" practice: assess and
prioritise improvement ideas by the value they bring against the effort they take):
``score = value x (6 - effort)`` with value and effort on 1..5, so 1..25;
``high`` when score >= 15 (e.g. value 5 / effort 3, value 4 / effort 2), ``medium`` for 8..14,
``low`` below 8. An item is overdue when it is still open (proposed, approved, in progress) and
its due date lies before today.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from perception.core.errors import UserError
from perception.core.models.auth import User
from perception.core.models.org import Region
from perception.core.periods import parse_day
from perception.review.models import (
    OPEN_IMPROVEMENT_STATUSES,
    ImprovementItem,
    ImprovementMetric,
    ImprovementSource,
    ImprovementStatus,
    Review,
    ReviewFinding,
)
from perception.review.services import results as review_results
from perception.review.services.errors import ReviewError
from perception.setup.models.catalog import Service

PRIORITIES = ("high", "medium", "low")
DIMENSIONS = (
    "response_speed",
    "fault_handling",
    "deliverable_quality",
    "staff_attitude",
    "service_conformity",
    "training_effect",
)


def derive_priority(value: int, effort: int) -> tuple[int, str]:
    """(score, band) from value and effort (see the module docstring)."""
    score = value * (6 - effort)
    return score, "high" if score >= 15 else "medium" if score >= 8 else "low"


@dataclass(frozen=True)
class ItemInput:
    title: str  # Chinese; "" when only the English title is given
    title_en: str | None = None
    description: str = ""
    source: str = ImprovementSource.ANALYST
    source_ref: str | None = None
    evidence: str | None = None
    business_case: str | None = None
    value: int = 3
    effort: int = 3
    owner_id: int | None = None
    due_on: date | None = None
    status: str = ImprovementStatus.PROPOSED
    completed_on: date | None = None
    region_id: int | None = None
    review_id: int | None = None
    finding_id: int | None = None
    metric: str | None = None
    metric_service_id: int | None = None
    metric_dimension: str | None = None
    metric_kpi_code: str | None = None
    baseline_from: date | None = None
    baseline_to: date | None = None
    target_value: float | None = None
    measure_weeks: int = 8


FIELDS = tuple(f.name for f in fields(ItemInput))
_INT_FIELDS = {
    "value",
    "effort",
    "owner_id",
    "region_id",
    "review_id",
    "finding_id",
    "metric_service_id",
    "measure_weeks",
}
_DATE_FIELDS = {"due_on", "completed_on", "baseline_from", "baseline_to"}


def _convert(name: str, raw: Any) -> Any:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if name in _DATE_FIELDS:
        try:
            return parse_day(raw, name)
        except UserError as exc:
            raise ReviewError(exc.problems) from None
    try:
        if name in _INT_FIELDS:
            if isinstance(raw, bool):
                raise ValueError
            number = int(raw)
            if not -(2**31) <= number < 2**31:  # an INTEGER column holds no more
                raise ValueError
            return number
        if name == "target_value":
            return float(raw)
    except (TypeError, ValueError):
        raise ReviewError.one(name, "请填写数字", "Enter a number.") from None
    return str(raw).strip()


def parse_item(data: Mapping[str, Any], base: ItemInput | None = None) -> ItemInput:
    """An ItemInput from form or JSON data; keys not given keep ``base``'s values."""
    unknown = sorted(set(data) - set(FIELDS) - {"csrf_token", "submit"})
    if unknown:
        raise ReviewError.one(unknown[0], "未知字段", "Unknown field.", code="unknown_field")
    values = {name: _convert(name, data[name]) for name in FIELDS if name in data}
    if base is None:
        defaults = ItemInput(title="")
        values = {k: (v if v is not None else getattr(defaults, k)) for k, v in values.items()}
        return replace(defaults, **values)
    return replace(base, **values)


def input_of(item: ImprovementItem) -> ItemInput:
    return ItemInput(**{name: getattr(item, name) for name in FIELDS})


def _require(session: Session, model: Any, key: int | None, field: str) -> None:
    if key is not None and session.get(model, key) is None:
        raise ReviewError.one(
            field, "所选对象不存在", "The selected object does not exist.", code="not_found"
        )


def validate(session: Session, data: ItemInput, today: date) -> None:
    if not (data.title or data.title_en) or len(data.title or "") > 200:
        raise ReviewError.one(
            "title",
            "请填写标题（中文或英文，最多 200 字）",
            "Enter a title in Chinese or English (at most 200 characters).",
        )
    if len(data.title_en or "") > 200:
        raise ReviewError.one(
            "title_en", "英文标题最多 200 字", "The English title has at most 200 characters."
        )
    if data.source not in tuple(ImprovementSource):
        raise ReviewError.one("source", "请选择来源", "Choose a source.")
    for name in ("value", "effort"):
        if not 1 <= getattr(data, name) <= 5:
            raise ReviewError.one(name, "请填写 1 到 5 之间的整数", "Enter a whole number from 1 to 5.")
    if data.status not in tuple(ImprovementStatus):
        raise ReviewError.one("status", "请选择状态", "Choose a status.")
    if data.completed_on is not None and data.completed_on > today:
        raise ReviewError.one(
            "completed_on", "完成日期不能晚于今天", "The completion date cannot be in the future."
        )
    if not 1 <= data.measure_weeks <= 52:
        raise ReviewError.one("measure_weeks", "衡量周数须在 1 到 52 之间", "Measure for 1 to 52 weeks.")
    _require(session, User, data.owner_id, "owner_id")
    _require(session, Region, data.region_id, "region_id")
    _require(session, Review, data.review_id, "review_id")
    _require(session, ReviewFinding, data.finding_id, "finding_id")
    _require(session, Service, data.metric_service_id, "metric_service_id")
    if data.metric is None:
        return
    if data.metric not in tuple(ImprovementMetric):
        raise ReviewError.one("metric", "请选择基线指标", "Choose a baseline metric.")
    if data.metric_dimension and data.metric_dimension not in DIMENSIONS:
        raise ReviewError.one(
            "metric_dimension", "请选择六个反馈维度之一", "Choose one of the six feedback dimensions."
        )
    if data.metric in (ImprovementMetric.KPI_VALUE, ImprovementMetric.KPI_ATTAINMENT):
        from perception.kpi.models import KpiDefinition

        if (
            not data.metric_kpi_code
            or session.scalar(select(KpiDefinition.id).where(KpiDefinition.code == data.metric_kpi_code))
            is None
        ):
            raise ReviewError.one(
                "metric_kpi_code", "请填写已定义的 KPI 代码", "Enter the code of a defined KPI."
            )
    if data.baseline_from and data.baseline_to and data.baseline_from >= data.baseline_to:
        raise ReviewError.one(
            "baseline_to", "基线结束日期须晚于开始日期", "The baseline must end after it starts."
        )


def _apply(session: Session, item: ImprovementItem, data: ItemInput, today: date) -> None:
    metric_changed = any(
        getattr(item, name) != getattr(data, name)
        for name in (
            "metric",
            "metric_service_id",
            "metric_dimension",
            "metric_kpi_code",
            "region_id",
            "baseline_from",
            "baseline_to",
        )
    )
    for name in FIELDS:
        setattr(item, name, getattr(data, name))
    item.priority_score, item.priority = derive_priority(data.value, data.effort)
    if item.metric and (item.baseline_from is None or item.baseline_to is None):
        item.baseline_from, item.baseline_to = review_results.default_baseline_window(
            today, item.measure_weeks
        )
        metric_changed = True
    if item.status == ImprovementStatus.COMPLETED:
        item.completed_on = item.completed_on or today
    else:
        item.completed_on = None
    if metric_changed or item.baseline_value is None:
        review_results.compute_baseline(session, item)
    review_results.refresh_result(session, item, today)


def next_code(session: Session) -> str:
    count = session.scalar(select(func.count(ImprovementItem.id))) or 0
    number = count + 1
    while session.scalar(select(ImprovementItem.id).where(ImprovementItem.code == f"CI-{number:04d}")):
        number += 1
    return f"CI-{number:04d}"


def create_item(
    session: Session, data: ItemInput, *, today: date, user_id: int | None = None
) -> ImprovementItem:
    validate(session, data, today)
    item = ImprovementItem(code=next_code(session), created_by_id=user_id)
    session.add(item)
    _apply(session, item, data, today)
    session.flush()
    return item


def update_item(session: Session, item: ImprovementItem, data: ItemInput, *, today: date) -> ImprovementItem:
    validate(session, data, today)
    _apply(session, item, data, today)
    session.flush()
    return item


def set_status(
    session: Session, item: ImprovementItem, status: str, *, today: date, completed_on: date | None = None
) -> ImprovementItem:
    """Change only the status (completing sets ``completed_on``, default today, and measures)."""
    data = replace(input_of(item), status=status, completed_on=completed_on or item.completed_on)
    return update_item(session, item, data, today=today)


@dataclass(frozen=True)
class RegisterFilter:
    status: str | None = None  # a status, or "open"
    priority: str | None = None
    source: str | None = None
    owner_id: int | None = None
    region_id: int | None = None
    review_id: int | None = None
    overdue: bool = False
    q: str | None = None


def apply_filter(stmt: Select[Any], flt: RegisterFilter, today: date) -> Select[Any]:
    item = ImprovementItem
    if flt.status == "open":
        stmt = stmt.where(item.status.in_(OPEN_IMPROVEMENT_STATUSES))
    elif flt.status:
        stmt = stmt.where(item.status == flt.status)
    if flt.priority:
        stmt = stmt.where(item.priority == flt.priority)
    if flt.source:
        stmt = stmt.where(item.source == flt.source)
    if flt.owner_id:
        stmt = stmt.where(item.owner_id == flt.owner_id)
    if flt.region_id:
        stmt = stmt.where(item.region_id == flt.region_id)
    if flt.review_id:
        stmt = stmt.where(item.review_id == flt.review_id)
    if flt.overdue:
        stmt = stmt.where(item.status.in_(OPEN_IMPROVEMENT_STATUSES), item.due_on < today)
    if flt.q:
        like = f"%{flt.q.strip()}%"
        stmt = stmt.where(
            or_(
                item.title.ilike(like),
                item.title_en.ilike(like),
                item.description.ilike(like),
                item.code.ilike(like),
            )
        )
    return stmt.order_by(item.priority_score.desc(), item.due_on.is_(None), item.due_on, item.code)


def item_json(item: ImprovementItem, today: date) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(item, name) for name in FIELDS}
    for name in _DATE_FIELDS:
        out[name] = out[name].isoformat() if out[name] else None
    out.update(
        id=item.id,
        code=item.code,
        priority=item.priority,
        priority_score=item.priority_score,
        overdue=item.overdue_on(today),
        baseline_value=item.baseline_value,
        baseline_n=item.baseline_n,
        result=item.result,
        result_computed_at=item.result_computed_at.isoformat() if item.result_computed_at else None,
    )
    return out
