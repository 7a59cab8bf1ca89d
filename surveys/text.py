"""Bilingual text: the `Text` pair every label carries and the `Message` a person reads.

Every string shown to a respondent, an interviewer or a survey author exists in Chinese (zh)
and English (en); nothing here picks a default language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


@dataclass(frozen=True)
class Text:
    """A label in both languages."""

    zh: str
    en: str

    def get(self, lang: Lang) -> str:
        """The label in `lang` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en

    def as_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Message:
    """A message for a person: a stable machine `code` plus the text in both languages."""

    code: str
    zh: str
    en: str

    def get(self, lang: Lang) -> str:
        """The message text in `lang`."""
        return self.zh if lang == "zh" else self.en

    def __str__(self) -> str:
        return self.en
