"""Path-tracking primitives for reading a raw definition: typed look-ups that record issues.

Each issue names the PATH of the bad field (``pages[1].questions[3].scale.max``) and says what is
wrong in Chinese and English. Readers return None on a bad value and keep going, so one run of
`load_definition` reports every problem it can find.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from surveys.text import Message, Text

ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")


class DefinitionIssue(NamedTuple):
    """One problem in a definition: where (`path`) and what (`message`, bilingual)."""

    path: str
    message: Message

    def __str__(self) -> str:
        return f"{self.path}: {self.message.en}" if self.path else self.message.en


class DefinitionError(ValueError):
    """A definition could not be loaded; `errors` lists every (path, message) found."""

    def __init__(self, errors: list[DefinitionIssue]) -> None:
        self.errors = errors
        super().__init__("invalid questionnaire definition:\n" + "\n".join(f"  {e}" for e in errors))


def join(path: str, key: str | int) -> str:
    """`join("pages[1]", "title")` -> "pages[1].title"; `join("pages", 1)` -> "pages[1]"."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Reader:
    """Collects issues while the loader walks the raw definition."""

    def __init__(self) -> None:
        self.issues: list[DefinitionIssue] = []

    def issue(self, path: str, code: str, en: str, zh: str) -> None:
        self.issues.append(DefinitionIssue(path, Message(code, zh, en)))

    def mapping(self, raw: object, path: str, allowed: frozenset[str]) -> Mapping[str, Any] | None:
        """`raw` as a mapping, reporting keys outside `allowed` (catches typos like `show-if`)."""
        if not isinstance(raw, Mapping):
            self.issue(path, "not_a_mapping", "must be a mapping (key: value)", "必须是键值映射")
            return None
        for key in raw:
            if key not in allowed:
                self.issue(join(path, str(key)), "unknown_field", "unknown field", "未知字段")
        return raw

    def required(self, raw: Mapping[str, Any], key: str, path: str) -> Any:
        if key not in raw or raw[key] is None:
            self.issue(join(path, key), "required", "required", "必填")
            return None
        return raw[key]

    def text(self, raw: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Text | None:
        """A bilingual label {zh, en}; both halves must be non-empty strings."""
        here = join(path, key)
        if key not in raw or raw[key] is None:
            if required:
                self.issue(here, "required", "required", "必填")
            return None
        value = self.mapping(raw[key], here, frozenset({"zh", "en"}))
        if value is None:
            return None
        halves: dict[str, str] = {}
        for lang, name_en, name_zh in (("zh", "Chinese", "中文"), ("en", "English", "英文")):
            half = value.get(lang)
            if half is not None and not isinstance(half, str):
                self.issue(
                    join(here, lang),
                    "not_a_string",
                    "must be a string (quote yes/no/on/off and numbers in YAML)",
                    "必须是字符串（YAML 中 yes/no/on/off 和数字要加引号）",
                )
            elif half is None or not half.strip():
                self.issue(
                    join(here, lang),
                    "missing_translation",
                    f"{name_en} text is required",
                    f"缺少{name_zh}文本",
                )
            else:
                halves[lang] = half.strip()
        if len(halves) != 2:
            return None
        return Text(zh=halves["zh"], en=halves["en"])

    def identifier(self, raw: Mapping[str, Any], key: str, path: str) -> str | None:
        value = self.required(raw, key, path)
        if value is None:
            return None
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.issue(
                join(path, key),
                "bad_id",
                "must be a letter followed by up to 63 letters, digits or underscores",
                "须以字母开头，由不超过 64 个字母、数字或下划线组成",
            )
            return None
        return value

    def boolean(self, raw: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            self.issue(join(path, key), "not_a_boolean", "must be true or false", "必须是 true 或 false")
            return default
        return value

    def integer(
        self, raw: Mapping[str, Any], key: str, path: str, *, minimum: int | None = None
    ) -> int | None:
        """An optional integer (None when absent)."""
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.issue(join(path, key), "not_an_integer", "must be an integer", "必须是整数")
            return None
        if minimum is not None and value < minimum:
            self.issue(join(path, key), "too_small", f"must be at least {minimum}", f"不能小于 {minimum}")
            return None
        return value

    def number(self, raw: Mapping[str, Any], key: str, path: str) -> int | float | None:
        """An optional finite number (None when absent)."""
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.issue(join(path, key), "not_a_number", "must be a number", "必须是数字")
            return None
        return value

    def code(self, raw: Mapping[str, Any], key: str, path: str) -> str | None:
        """An optional service-standard code."""
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not CODE_PATTERN.match(value):
            self.issue(
                join(path, key),
                "bad_code",
                "must be up to 64 letters, digits, '.', '_', '/' or '-'",
                "须为不超过 64 个字母、数字或 . _ / - 字符",
            )
            return None
        return value

    def sequence(self, raw: Mapping[str, Any], key: str, path: str, *, required: bool) -> list[Any]:
        value = raw.get(key)
        if value is None:
            if required:
                self.issue(join(path, key), "required", "required", "必填")
            return []
        if not isinstance(value, list):
            self.issue(join(path, key), "not_a_list", "must be a list", "必须是列表")
            return []
        if required and not value:
            self.issue(join(path, key), "empty", "must not be empty", "不能为空")
        return value
