"""The validation error of the review phase: which field, and why, in Chinese and English."""

from __future__ import annotations

from typing import Any


class ReviewError(ValueError):
    """A user-facing problem with a review, finding, sign-off or improvement item.

    ``field`` names the offending input (form field or JSON key); ``zh``/``en`` say what to do.
    The HTML views show ``message(lang)`` on the form; the API answers 422 with ``details()``.
    """

    def __init__(self, field: str, zh: str, en: str, *, code: str = "invalid", status: int = 422) -> None:
        super().__init__(f"{field}: {en}")
        self.field = field
        self.zh = zh
        self.en = en
        self.code = code
        self.status = status

    def message(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en

    def details(self) -> list[dict[str, Any]]:
        return [{"field": self.field, "code": self.code, "message_zh": self.zh, "message_en": self.en}]
