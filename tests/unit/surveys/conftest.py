"""Fixtures for the questionnaire engine: a definition that uses every question type."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from surveys import Questionnaire, load_definition


def t(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


SCALE_5 = {"min": 1, "max": 5, "min_label": t("很差", "Very poor"), "max_label": t("很好", "Very good")}

KITCHEN_SINK: dict[str, Any] = {
    "schema_version": 1,
    "id": "kitchen_sink",
    "version": "3",
    "title": t("全部题型", "Every question type"),
    "description": t("测试用问卷", "A questionnaire for tests"),
    "pages": [
        {
            "id": "scores",
            "title": t("评分", "Scores"),
            "questions": [
                {
                    "id": "csat",
                    "type": "csat",
                    "text": t("满意度", "Satisfaction"),
                    "required": True,
                    "feedback_dimension": "fault_handling",
                    "standard_code": "STD-7.1",
                },
                {"id": "nps", "type": "nps", "text": t("推荐意愿", "Likelihood to recommend")},
                {"id": "ces", "type": "ces", "text": t("省心程度", "Ease")},
                {
                    "id": "speed",
                    "type": "rating",
                    "text": t("响应速度", "Speed"),
                    "scale": SCALE_5,
                    "feedback_dimension": "response_speed",
                    "help": t("最近一次", "Last time"),
                },
                {
                    "id": "why_low",
                    "type": "multiple_choice",
                    "text": t("原因", "Reasons"),
                    "required": True,
                    "show_if": {"question": "csat", "op": "<=", "value": 2},
                    "choices": [
                        {"value": "slow", "text": t("慢", "Slow")},
                        {"value": "rude", "text": t("态度差", "Rude")},
                        {"value": "broken", "text": t("没修好", "Not fixed")},
                    ],
                    "other": True,
                    "max_selected": 2,
                },
            ],
        },
        {
            "id": "details",
            "questions": [
                {
                    "id": "matrix",
                    "type": "likert_matrix",
                    "text": t("各方面", "Aspects"),
                    "scale": SCALE_5,
                    "feedback_dimension": "staff_attitude",
                    "required": True,
                    "rows": [
                        {"id": "polite", "text": t("礼貌", "Polite")},
                        {
                            "id": "skilled",
                            "text": t("专业", "Skilled"),
                            "feedback_dimension": "deliverable_quality",
                            "standard_code": "STD-2",
                        },
                    ],
                },
                {
                    "id": "reliable",
                    "type": "servqual",
                    "text": t("按时完成", "On time"),
                    "servqual_dimension": "reliability",
                    "required": True,
                },
                {
                    "id": "channel",
                    "type": "single_choice",
                    "text": t("渠道", "Channel"),
                    "choices": [
                        {"value": "phone", "text": t("电话", "Phone")},
                        {"value": "web", "text": t("网页", "Web")},
                    ],
                    "other": t("别的渠道", "Another channel"),
                },
                {
                    "id": "comment",
                    "type": "text",
                    "text": t("意见", "Comment"),
                    "max_length": 20,
                    "multiline": False,
                },
                {
                    "id": "users",
                    "type": "number",
                    "text": t("用户数", "Users"),
                    "min": 1,
                    "max": 500,
                    "unit": t("人", "people"),
                },
                {
                    "id": "share",
                    "type": "number",
                    "text": t("比例", "Share"),
                    "min": 0,
                    "max": 1,
                    "integer": False,
                },
                {
                    "id": "visit",
                    "type": "date",
                    "text": t("上门日期", "Visit date"),
                    "min": "2024-01-01",
                    "max": "2024-12-31",
                },
                {
                    "id": "weights",
                    "type": "constant_sum",
                    "text": t("分配 10 分", "Share 10 points"),
                    "total": 10,
                    "rows": [
                        {"id": "tools", "text": t("工具", "Tools"), "servqual_dimension": "tangibles"},
                        {"id": "care", "text": t("关心", "Care"), "servqual_dimension": "empathy"},
                        {"id": "other_row", "text": t("其余", "The rest")},
                    ],
                },
            ],
        },
        {
            "id": "phone_only",
            "show_if": {"question": "channel", "op": "==", "value": "phone"},
            "questions": [
                {
                    "id": "phone_wait",
                    "type": "rating",
                    "text": t("等待时长", "Waiting time"),
                    "scale": SCALE_5,
                    "required": True,
                },
            ],
        },
    ],
}


@pytest.fixture
def raw_definition() -> dict[str, Any]:
    """A deep copy of the kitchen-sink definition, free to mutate."""
    return copy.deepcopy(KITCHEN_SINK)


@pytest.fixture
def questionnaire() -> Questionnaire:
    return load_definition(copy.deepcopy(KITCHEN_SINK))
