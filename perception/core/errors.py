"""The one error type for everything a user can get wrong, in every phase.

A ``UserError`` carries one or more ``Problem``s. A problem names where the input is wrong (a form
field or JSON key, a dotted path in an imported document, or a row and column of an upload), says
why in Chinese and in English (always in that argument order: zh, then en), and has a stable code
that API clients can branch on. Raising one means nothing was stored: operations raise before
they write, or the request's transaction rolls the partial work back.

HTML pages put each problem on the form field it names (or flash it); the JSON API answers every
error, these and HTTP errors alike, in one shape: RFC 9457 ``application/problem+json`` with an
``errors`` list of the problems (``perception.api.errors``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_INDEX = re.compile(r"\[\d+\]$")


def _is_zh(lang: bool | str) -> bool:
    return lang if isinstance(lang, bool) else str(lang).lower().startswith("zh")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input. ``field`` is the form field, JSON key, document path
    (``services[2].kind``) or upload column; ``row`` is the 1-based row of an upload."""

    field: str | None
    zh: str
    en: str
    code: str = "invalid"
    row: int | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        # A NUL character (0x00) in a file's heading or cell is written \0 where it is: printed
        # raw, a page or terminal shows nothing there ("unknown heading improve" of "impro\0ve"),
        # and no text column can keep it.
        for name in ("field", "value"):
            text = getattr(self, name)
            if isinstance(text, str) and "\x00" in text:
                from perception.core.nul import shown  # it builds Problems: imported when needed

                object.__setattr__(self, name, shown(text))

    @property
    def form_field(self) -> str:
        """The form field a page shows the problem on: the path's last part without an index."""
        last = (self.field or "").rsplit(".", 1)[-1]
        return _INDEX.sub("", last)

    def text(self, lang: bool | str) -> str:
        """The reason in the language (``True``/``"zh..."`` for Chinese)."""
        return self.zh if _is_zh(lang) else self.en

    def located(self, lang: bool | str) -> str:
        """'Row 5, column opened, value "2026-13-01": not a valid date' in the language."""
        zh = _is_zh(lang)
        parts: list[str] = []
        if self.row is not None:
            parts.append(f"第 {self.row} 行" if zh else f"Row {self.row}")
        if self.field and self.row is not None:  # an upload: the field is a column
            parts.append(f"列“{self.field}”" if zh else f"column {self.field}")
        elif self.field:
            parts.append(f"“{self.field}”" if zh else self.field)
        if self.value not in (None, ""):
            parts.append(f"值“{self.value}”" if zh else f'value "{self.value}"')
        head = ("，" if zh else ", ").join(parts)
        return f"{head}{'：' if zh else ': '}{self.text(zh)}" if head else self.text(zh)

    def as_json(self) -> dict[str, Any]:
        """The one JSON shape of a problem, in every phase's API."""
        return {
            "field": self.field,
            "row": self.row,
            "value": self.value,
            "code": self.code,
            "detail": self.en,
            "detail_zh": self.zh,
            "detail_en": self.en,
        }


class UserError(ValueError):
    """One or more problems with what a user typed, uploaded or asked for; nothing was stored.

    ``status`` is the HTTP status the API answers with (422 unless the subclass or caller says
    otherwise, e.g. 409 for a conflict with the current state). ``total`` counts every problem
    found when only the first ``problems`` are kept (a large upload).
    """

    status = 422
    title_en = "The input is not valid."
    title_zh = "输入有误。"

    def __init__(
        self, problems: Iterable[Problem], *, status: int | None = None, total: int | None = None
    ) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if status is not None:
            self.status = status
        self.total = total if total is not None else len(self.problems)
        super().__init__("; ".join(p.located("en") for p in self.problems) or self.title_en)

    @classmethod
    def one(
        cls,
        field: str | None,
        zh: str,
        en: str,
        *,
        code: str = "invalid",
        row: int | None = None,
        value: str | None = None,
        status: int | None = None,
    ) -> UserError:
        return cls([Problem(field, zh, en, code=code, row=row, value=value)], status=status)

    # The first problem's parts, for the many places that raise exactly one.
    @property
    def field(self) -> str | None:
        return self.problems[0].field if self.problems else None

    @property
    def zh(self) -> str:
        return self.problems[0].zh if self.problems else self.title_zh

    @property
    def en(self) -> str:
        return self.problems[0].en if self.problems else self.title_en

    @property
    def code(self) -> str:
        return self.problems[0].code if self.problems else "invalid"

    def text(self, lang: bool | str) -> str:
        """Every problem, located, in the language (one line each)."""
        return "\n".join(p.located(lang) for p in self.problems) or (
            self.title_zh if _is_zh(lang) else self.title_en
        )

    def as_json(self) -> list[dict[str, Any]]:
        return [p.as_json() for p in self.problems]


class Problems:
    """Collects problems while reading a whole document or upload, so a person sees all of them."""

    def __init__(self, error: type[UserError] = UserError) -> None:
        self.items: list[Problem] = []
        self._error = error

    def add(self, field: str | None, zh: str, en: str, **extra: Any) -> None:
        self.items.append(Problem(field, zh, en, **extra))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise self._error(self.items)
