"""KPI definitions: the built-in ones computed from tickets, and the ones users define for import.

Built-in definitions are created on first use (idempotent, looked up by code). Their ``metric`` is
the setup metric they measure, which is how a value finds its standard (kpi_targets) and how the
analysis phase finds the experience standard to compare with.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.kpi.models import Direction, KpiDefinition, KpiSource
from perception.kpi.services.messages import KpiError
from perception.setup.models.standards import METRICS


@dataclass(frozen=True)
class BuiltIn:
    code: str
    name_zh: str
    name_en: str
    unit: str
    direction: str
    metric: str | None


TICKET_KPIS: tuple[BuiltIn, ...] = (
    BuiltIn("TK_VOLUME", "工单量", "Ticket volume", "count", Direction.NEUTRAL, None),
    BuiltIn(
        "TK_RESPONSE_P50", "首次响应时间中位数", "First response time, median", "min", Direction.LOWER, None
    ),
    BuiltIn(
        "TK_RESPONSE_P90",
        "首次响应时间 P90",
        "First response time, 90th percentile",
        "min",
        Direction.LOWER,
        None,
    ),
    BuiltIn("TK_RESOLUTION_P50", "解决时间中位数", "Resolution time, median", "min", Direction.LOWER, None),
    BuiltIn(
        "TK_RESOLUTION_P90", "解决时间 P90", "Resolution time, 90th percentile", "min", Direction.LOWER, None
    ),
    BuiltIn(
        "TK_RESPONSE_WITHIN",
        "按时响应率",
        "Responded within target",
        "%",
        Direction.HIGHER,
        "response_within_target_share",
    ),
    BuiltIn(
        "TK_RESOLUTION_WITHIN",
        "按时解决率",
        "Resolved within target",
        "%",
        Direction.HIGHER,
        "resolution_within_target_share",
    ),
    BuiltIn(
        "TK_FCR",
        "首次接触解决率",
        "First-contact resolution",
        "%",
        Direction.HIGHER,
        "first_contact_resolution_rate",
    ),
    BuiltIn("TK_REOPEN", "重开率", "Reopen rate", "%", Direction.LOWER, "reopen_rate"),
    BuiltIn("TK_BACKLOG", "期末积压工单", "Backlog at period end", "count", Direction.LOWER, None),
)


def ensure_ticket_definitions(session: Session) -> dict[str, KpiDefinition]:
    """The built-in ticket KPI definitions by code, created when missing."""
    existing = {
        d.code: d
        for d in session.scalars(
            select(KpiDefinition).where(KpiDefinition.code.in_([b.code for b in TICKET_KPIS]))
        )
    }
    for item in TICKET_KPIS:
        if item.code not in existing:
            definition = KpiDefinition(
                code=item.code,
                name_zh=item.name_zh,
                name_en=item.name_en,
                unit=item.unit,
                direction=item.direction,
                metric=item.metric,
                source=KpiSource.TICKETS,
            )
            session.add(definition)
            existing[item.code] = definition
    session.flush()
    return existing


@dataclass(frozen=True)
class DefinitionSpec:
    code: str
    name_zh: str
    name_en: str
    unit: str
    direction: str
    metric: str | None = None
    standard_id: int | None = None
    default_target: float | None = None
    description_zh: str | None = None
    description_en: str | None = None


def _check(session: Session, spec: DefinitionSpec, current: KpiDefinition | None) -> None:
    code = spec.code.strip().upper()
    if not code or len(code) > 32 or not code.replace("_", "").replace("-", "").isalnum():
        raise KpiError.one(
            "code", "代码为 1 到 32 个字母、数字、- 或 _", "1 to 32 letters, digits, - or _", code="bad_code"
        )
    clash = session.scalar(select(KpiDefinition).where(KpiDefinition.code == code))
    if clash is not None and clash is not current:
        raise KpiError.one(
            "code", "已有相同代码的 KPI", "a KPI with this code already exists", code="duplicate_code"
        )
    if not spec.name_zh.strip() or not spec.name_en.strip():
        raise KpiError.one(
            "name_zh", "请填写中文和英文名称", "give the name in Chinese and in English", code="required"
        )
    if spec.direction not in tuple(Direction):
        raise KpiError.one("direction", "方向无效", "unknown direction", code="bad_choice")
    if spec.metric and spec.metric not in METRICS:
        raise KpiError.one(
            "metric", "不是已知的标准指标", "not a known standard metric", code="unknown_metric"
        )


def save_definition(
    session: Session, spec: DefinitionSpec, current: KpiDefinition | None = None
) -> KpiDefinition:
    """Create (``current`` None) or update an imported KPI's definition. Built-ins stay as they are."""
    if current is not None and current.source == KpiSource.TICKETS:
        raise KpiError.one(
            "code", "内置 KPI 不能修改", "built-in KPIs cannot be changed", code="computed_kpi"
        )
    _check(session, spec, current)
    definition = current or KpiDefinition(source=KpiSource.IMPORT)
    definition.code = spec.code.strip().upper()
    definition.name_zh, definition.name_en = spec.name_zh.strip(), spec.name_en.strip()
    definition.unit, definition.direction = spec.unit.strip() or "%", spec.direction
    definition.metric, definition.standard_id = spec.metric or None, spec.standard_id
    definition.default_target = spec.default_target
    definition.description_zh, definition.description_en = spec.description_zh, spec.description_en
    if current is None:
        session.add(definition)
    session.flush()
    return definition
