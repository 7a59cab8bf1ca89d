"""The fixed vocabularies of weekly-report entries, each code with its Chinese and English label.

Labels live here (not only in the .po catalogue) because imports accept them as values: a team
may paste "故障处理效果" or "Fault-handling effect" where the code ``fault_handling`` is meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Label = tuple[str, str]  # (zh, en)

KINDS: dict[str, Label] = {
    "dynamic": ("用户动态信息", "User dynamic information"),
    "feedback": ("用户反馈与建议", "Feedback and suggestions"),
    "requirement": ("个性化需求", "Personalised requirement"),
}
CATEGORIES: dict[str, Label] = {
    "major_event": ("重大事件", "Major event"),
    "system_change": ("IT系统升级/变更", "IT system upgrade/change"),
    "supplier_change": ("供应商变更", "Supplier change"),
    "personnel_change": ("人员变动", "Personnel change"),
    "other": ("其他", "Other"),
}
DIMENSIONS: dict[str, Label] = {
    "response_speed": ("服务响应速度", "Response speed"),
    "fault_handling": ("故障处理效果", "Fault-handling effect"),
    "deliverable_quality": ("交付物品质量", "Deliverable quality"),
    "staff_attitude": ("人员服务态度", "Staff attitude"),
    "service_conformity": ("服务规范性", "Service conformity"),
    "training_effect": ("培训效果", "Training effect"),
}
MEANS: dict[str, Label] = {
    "callback": ("电话回访", "Phone callback"),
    "visit": ("现场走访", "Visit"),
    "questionnaire": ("问卷调查", "Questionnaire"),
    "complaint": ("投诉", "Complaint"),
    "other": ("其他", "Other"),
}
URGENCIES: dict[str, Label] = {
    "low": ("低", "Low"),
    "medium": ("中", "Medium"),
    "high": ("高", "High"),
    "critical": ("紧急", "Critical"),
}
SIZES: dict[str, Label] = {
    "small": ("小（少于5人日）", "Small (under 5 person-days)"),
    "medium": ("中（5-20人日）", "Medium (5-20 person-days)"),
    "large": ("大（20人日以上）", "Large (over 20 person-days)"),
}
# Column names accepted in imports and JSON, English and Chinese, mapped to the canonical key.
ALIASES: dict[str, str] = {
    "type": "kind",
    "类型": "kind",
    "种类": "kind",
    "信息类型": "kind",
    "customer_code": "customer",
    "customer_id": "customer",
    "客户": "customer",
    "客户编码": "customer",
    "contact_name": "contact",
    "联系人": "contact",
    "客户/联系人": "contact",
    "service_code": "service",
    "service_id": "service",
    "服务": "service",
    "相关服务": "service",
    "类别": "category",
    "动态类别": "category",
    "event_date": "date",
    "日期": "date",
    "expected_impact": "impact",
    "预期影响": "impact",
    "维度": "dimension",
    "反馈维度": "dimension",
    "评分": "rating",
    "score": "rating",
    "渠道": "means",
    "方式": "means",
    "来源方式": "means",
    "service_area": "area",
    "服务领域": "area",
    "紧急程度": "urgency",
    "estimated_size": "size",
    "规模": "size",
    "预估规模": "size",
    "description": "text",
    "feedback": "text",
    "内容": "text",
    "描述": "text",
    "说明": "text",
}
FIELDS = (
    "kind",
    "customer",
    "contact",
    "service",
    "category",
    "date",
    "impact",
    "dimension",
    "rating",
    "means",
    "area",
    "urgency",
    "size",
    "text",
)
KIND_LETTERS = {"a": "dynamic", "b": "feedback", "c": "requirement"}


def normalise_choice(vocab: Mapping[str, Label], value: Any) -> str | None:
    """The code for a code, an English label (any case) or a Chinese label; None if unknown."""
    text = str(value).strip()
    if text in vocab:
        return text
    folded = text.casefold()
    for code, (zh, en) in vocab.items():
        if folded in (code.casefold(), en.casefold()) or text == zh:
            return code
    return None


def label(vocab: Mapping[str, Label], code: str | None, zh: bool) -> str:
    if code is None:
        return ""
    pair = vocab.get(code)
    if pair is None:
        return code
    return pair[0] if zh else pair[1]
