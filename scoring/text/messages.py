"""Bilingual (zh/en) sentences about text-analysis results, for pages, reports and notices.

Owns `Message` (a code plus its Chinese and English text) and the builders for common needs,
emerging needs and the classifier's review queue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scoring.text.classify import ReviewItem
from scoring.text.needs import CommonNeed, ThemeGrowth

__all__ = ["Message", "common_need_message", "emerging_need_message", "review_message"]


@dataclass(frozen=True)
class Message:
    code: str
    zh: str
    en: str

    def text(self, language: str) -> str:
        """The text in `language` ("zh" or "en"; anything else falls back to English)."""
        return self.zh if language.startswith("zh") else self.en


def common_need_message(need: CommonNeed, label: str | None = None) -> Message:
    name = label or need.theme_key
    customers, regions = len(need.customers), len(need.regions)
    return Message(
        "text.common_need",
        f"共性需求「{name}」：{customers} 个客户在 {regions} 个地区提出，共 {need.n_entries} 条。",
        f"Common need '{name}': raised by {customers} customers in {regions} regions "
        f"({need.n_entries} entries).",
    )


def emerging_need_message(growth: ThemeGrowth, label: str | None = None) -> Message:
    name = label or growth.theme_key
    share, before = 100 * growth.share, 100 * growth.previous_share
    ratio_zh = "新出现" if math.isinf(growth.rate_ratio) else f"为上期的 {growth.rate_ratio:.1f} 倍"
    ratio_en = "new this period" if math.isinf(growth.rate_ratio) else f"{growth.rate_ratio:.1f} times"
    return Message(
        "text.emerging_need",
        f"新兴需求「{name}」：占比由 {before:.1f}% 升至 {share:.1f}%"
        f"（{ratio_zh}，q = {growth.q_value:.3f}）。",
        f"Emerging need '{name}': share rose from {before:.1f}% to {share:.1f}% "
        f"({ratio_en}, q = {growth.q_value:.3f}).",
    )


def review_message(item: ReviewItem) -> Message:
    confidence = 100 * item.confidence
    return Message(
        "text.review_prediction",
        f"分类「{item.label}」置信度仅 {confidence:.0f}%，请人工复核。",
        f"Label '{item.label}' has only {confidence:.0f}% confidence; please review it.",
    )
