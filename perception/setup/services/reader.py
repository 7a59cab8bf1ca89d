"""Typed readers of untrusted mappings (JSON, YAML, form data): each field read into its value,
with a problem named by the field's path (``services[2].kind``) for every bad one, collected so a
person sees all of them at once (perception.setup.services.errors)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

from perception.core.errors import UserError
from perception.core.periods import parse_day
from perception.setup.services.errors import Problems


def join(prefix: str, key: str | int) -> str:
    """The path of ``key`` under ``prefix``: ``services[2]``, ``services[2].kind``, ``kind``."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


class Reader:
    """Reads typed fields of one mapping at ``path``, recording a problem per bad field."""

    def __init__(self, data: Any, path: str, problems: Problems) -> None:
        self.path = path
        self.problems = problems
        if not isinstance(data, Mapping):
            problems.add(path or "$", "应为对象（键值对）", "Expected an object (key/value pairs).")
            data = {}
        self.data: Mapping[str, Any] = data

    def at(self, key: str) -> str:
        return join(self.path, key)

    def bad(self, key: str, zh: str, en: str, code: str = "invalid") -> None:
        self.problems.add(self.at(key), zh, en, code=code)

    def raw(self, key: str) -> Any:
        value = self.data.get(key)
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def text(self, key: str, *, required: bool = False, max_len: int | None = None) -> str | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.bad(key, "必填", "Required.", code="required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.bad(key, "应为文本", "Expected text.")
            return None
        value = str(value)
        if max_len is not None and len(value) > max_len:
            self.bad(key, f"最长 {max_len} 个字符", f"At most {max_len} characters.")
        return value

    def req(self, key: str, max_len: int | None = None) -> str:
        return self.text(key, required=True, max_len=max_len) or ""

    def choice(self, key: str, allowed: Iterable[str], *, required: bool = False) -> str | None:
        value = self.text(key, required=required)
        options = tuple(allowed)
        if value is not None and value not in options:
            self.bad(
                key,
                f"“{value}”无效，可选：{'、'.join(options)}",
                f"'{value}' is not one of: {', '.join(options)}.",
            )
            return None
        return value

    def number(self, key: str, *, required: bool = False, minimum: float | None = None) -> float | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.bad(key, "必填，应为数字", "Required: a number.", code="required")
            return None
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            self.bad(key, f"“{value}”不是数字", f"'{value}' is not a number.")
            return None
        if not math.isfinite(number):
            self.bad(key, "应为有限数字", "Expected a finite number.")
            return None
        if minimum is not None and number < minimum:
            self.bad(key, f"不能小于 {minimum:g}", f"Must be at least {minimum:g}.")
            return None
        return number

    def integer(self, key: str, *, required: bool = False, minimum: int | None = None) -> int | None:
        number = self.number(key, required=required, minimum=minimum)
        if number is None:
            return None
        if number != int(number):
            self.bad(key, "应为整数", "Expected a whole number.")
            return None
        return int(number)

    def flag(self, key: str, default: bool = True) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "y", "1", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "no", "n", "0", "off", ""):
            return False
        self.bad(key, "应为 true 或 false", "Expected true or false.")
        return default

    def day(self, key: str, *, required: bool = False) -> date | None:
        """A calendar date in any form people write one (``core.periods.parse_day``)."""
        value = self.raw(key)
        if value is None:
            if required:
                self.bad(key, "必填，日期格式 YYYY-MM-DD", "Required: a date YYYY-MM-DD.", code="required")
            return None
        try:
            return parse_day(value, self.at(key))
        except UserError as exc:
            self.problems.extend(exc.problems)
            return None

    def instant(self, key: str) -> datetime | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        try:
            return datetime.fromisoformat(str(value)).replace(tzinfo=None)
        except ValueError:
            self.bad(key, f"“{value}”不是时间（ISO 8601）", f"'{value}' is not a date-time (ISO 8601).")
            return None

    def clock(self, key: str, default: time) -> time:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, time):
            return value
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            self.bad(key, f"“{value}”不是时刻（HH:MM）", f"'{value}' is not a time of day (HH:MM).")
            return default

    def items(self, key: str) -> list[tuple[str, Any]]:
        """The list under ``key`` as (path, element) pairs; a missing list is empty."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad(key, "应为列表", "Expected a list.")
            return []
        return [(join(self.at(key), i), v) for i, v in enumerate(value)]

    def codes(self, key: str) -> tuple[str, ...]:
        out = []
        for path, value in self.items(key):
            if not isinstance(value, str) or not value.strip():
                self.problems.add(path, "应为代码文本", "Expected a code (text).")
            else:
                out.append(value.strip())
        return tuple(out)
