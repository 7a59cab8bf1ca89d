"""Validation problems of the survey services, each naming the field, in Chinese and English.

HTML puts each problem on the form field it names; the API answers 422 with every problem.
Nothing is stored when a ``SurveyError`` is raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    field: str
    zh: str
    en: str

    def text(self, zh: bool) -> str:
        return self.zh if zh else self.en

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.en, "reason_zh": self.zh, "reason_en": self.en}


class SurveyError(Exception):
    """One or more problems with what was asked; nothing was changed."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.field}: {p.en}" for p in self.problems))

    @classmethod
    def one(cls, field: str, zh: str, en: str) -> SurveyError:
        return cls([Problem(field, zh, en)])


class Problems:
    """Collects problems so a person sees all of them at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, field: str, zh: str, en: str) -> None:
        self.items.append(Problem(field, zh, en))

    def raise_if_any(self) -> None:
        if self.items:
            raise SurveyError(self.items)
