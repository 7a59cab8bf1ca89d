"""Text rules behind the five-principle check: does a standard's statement state a quantity,
which vague words does it use, and is it about time. Kept apart from the check itself so the word
lists can grow without touching the logic.

A quantity is an Arabic or full-width digit, a Chinese numeral followed by a unit word (三声,
五分钟 - a bare 一 as in 一致 does not count), or an English number word ("three rings").
"""

from __future__ import annotations

import re

__all__ = ["has_quantity", "mentions_time", "vague_words"]

_DIGIT = re.compile(r"[0-9０-９]")
_ZH_NUMBER = re.compile(
    r"[零〇一二两三四五六七八九十百千万半]+\s*(?:声|响|秒|分钟|分|小时|时|天|日|工作日|周|个|次|遍|月|年|项|件|人|名|倍|成|级|%|％)"
)
_EN_NUMBER = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    r"fifty|sixty|hundred|half)\b",
    re.IGNORECASE,
)
_VAGUE = (
    "尽快",
    "及时",
    "良好",
    "迅速",
    "尽量",
    "适当",
    "较快",
    "合理",
    "满意",
    "promptly",
    "as soon as possible",
    "asap",
    "timely",
    "quickly",
    "reasonable",
    "good",
    "satisfactory",
    "appropriate",
    "fast",
)
_TIME_UNITS = {
    "s",
    "sec",
    "second",
    "seconds",
    "min",
    "mins",
    "minute",
    "minutes",
    "h",
    "hr",
    "hour",
    "hours",
    "day",
    "days",
    "ring",
    "rings",
    "秒",
    "分",
    "分钟",
    "小时",
    "天",
    "日",
    "工作日",
    "声",
}
_TIME_WORDS = (
    "time",
    "within",
    "respon",
    "resolv",
    "resolution",
    "answer",
    "callback",
    "call back",
    "minute",
    "hour",
    "ring",
    "响应",
    "时间",
    "时长",
    "时限",
    "以内",
    "之内",
    "接听",
    "回访",
    "解决",
    "分钟",
    "小时",
)


def has_quantity(text: str) -> bool:
    """Whether a statement states a quantity (see the module docstring for what counts)."""
    return bool(_DIGIT.search(text) or _ZH_NUMBER.search(text) or _EN_NUMBER.search(text))


def vague_words(text: str) -> list[str]:
    """The vague words (尽快, 及时, promptly ...) found in ``text``, whole words for English."""
    return [w for w in _VAGUE if re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", text, re.IGNORECASE)]


def mentions_time(unit: str | None, text: str) -> bool:
    """Whether a standard is time-based: a time unit, or a time word in its metric/statement."""
    if unit is not None and unit.strip().lower() in _TIME_UNITS:
        return True
    lowered = text.lower()
    return any(w in lowered for w in _TIME_WORDS)
