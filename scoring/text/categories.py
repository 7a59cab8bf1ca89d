"""Categories out of the box: the kinds of need and feedback a new organisation starts with, and
the labels a text already carries before anyone labels it.

Owns the shipped category list (`data/categories.txt`: code, family, zh and en names, seed words),
`seed_category` (the one category of a family whose seed words occur in a text) and
`derived_category`, which reads what is known about a text in this order:

1. the form field it was written in: a feedback or comment field of one of the six feedback
   dimensions is about that dimension;
2. the dimension a low rating was on: a comment sent with one low-rated dimension is about it;
3. the seed words of its family (requirements: kinds of need; comments: the dimensions), when
   exactly one category's words occur.

A text none of these label is left to the classifier, which learns from the derived labels and
people's labels together (weak supervision: Ratner et al., "Snorkel", VLDB 2017, with one
labelling function per source and the first that speaks winning). Pure: no Flask or SQLAlchemy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

from scoring.text.tokenizer import normalise_text

__all__ = [
    "Category",
    "DerivedLabel",
    "SeedBlanker",
    "default_categories",
    "derived_category",
    "seed_category",
]

_HAN = re.compile(r"[\u3400-\u9fff]")
NEED = "need"
VOICE = "voice"


@dataclass(frozen=True)
class Category:
    code: str
    family: str  # "need" (requirements) or "voice" (feedback and comments)
    name_zh: str
    name_en: str
    seeds: tuple[str, ...]

    def matches(self, plain: str) -> bool:
        """Whether a seed word occurs in the normalised text: Chinese words as substrings, Latin
        words as whole words with an optional plural -s/-es (so "app" finds "app" and "apps",
        never "approval")."""
        han, latin, initials = self._parts
        for word in han:  # a substring test per word: a third of the time of one expression
            if word in plain:
                return True
        return latin is not None and not initials.isdisjoint(plain) and latin.search(plain) is not None

    @cached_property
    def _parts(self) -> tuple[tuple[str, ...], re.Pattern[str] | None, frozenset[str]]:
        """The Chinese seed words; the Latin ones in one expression, and their first letters (a
        text holding none of them cannot match, so the expression is not run on it)."""
        han = tuple(w for w in self.seeds if _HAN.search(w))
        latin = [w for w in self.seeds if not _HAN.search(w)]
        pattern = re.compile("|".join(rf"\b{re.escape(w)}(?:s|es)?\b" for w in latin)) if latin else None
        return han, pattern, frozenset(w[0] for w in latin if w)


@dataclass(frozen=True)
class DerivedLabel:
    """A category a text carries before anyone labels it, and where it comes from:
    "field" (the form field's dimension), "rating" (the low-rated dimension) or "seed"."""

    category: str
    origin: str


@lru_cache(maxsize=1)
def default_categories() -> tuple[Category, ...]:
    text = resources.files("scoring.text").joinpath("data", "categories.txt").read_text(encoding="utf-8")
    out = []
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        code, family, zh, en, seeds = raw.split("\t")
        words = tuple(normalise_text(w.strip()) for w in seeds.split(",") if w.strip())
        out.append(Category(code, family, zh, en, words))
    return tuple(out)


def seed_category(text: str, family: str, categories: Sequence[Category] | None = None) -> str | None:
    """The category of `family` whose seed words occur in `text` when exactly one category's do;
    None when none or several do (an ambiguous text teaches nothing)."""
    plain = normalise_text(text)
    found = [
        c.code
        for c in (categories if categories is not None else default_categories())
        if c.family == family and c.matches(plain)
    ]
    return found[0] if len(found) == 1 else None


def derived_category(
    text: str,
    family: str,
    *,
    field_dimension: str | None = None,
    low_dimension: str | None = None,
    categories: Sequence[Category] | None = None,
) -> DerivedLabel | None:
    """The label a text already carries (see the module docstring), or None."""
    known = {c.code for c in (categories if categories is not None else default_categories())}
    if family == VOICE:
        if field_dimension in known:
            return DerivedLabel(str(field_dimension), "field")
        if low_dimension in known:
            return DerivedLabel(str(low_dimension), "rating")
    seeded = seed_category(text, family, categories)
    return DerivedLabel(seeded, "seed") if seeded is not None else None


class SeedBlanker:
    """Blanks the seed words of `categories` out of a text (picklable, for evaluate_classifier's
    `test_view`). A model trained on seed-labelled texts recognises those texts by their seed
    words; scored on texts with the seed words blanked it is scored on the rest of the wording,
    which is what it meets in texts no seed word names."""

    def __init__(self, categories: Sequence[Category]) -> None:
        han = sorted({w for c in categories for w in c.seeds if _HAN.search(w)}, key=len, reverse=True)
        latin = sorted({w for c in categories for w in c.seeds if not _HAN.search(w)}, key=len, reverse=True)
        parts = [re.escape(w) for w in han] + [rf"\b{re.escape(w)}(?:s|es)?\b" for w in latin]
        self._pattern = re.compile("|".join(parts)) if parts else None

    @property
    def pattern(self) -> str:
        """The expression of the words it blanks ("" when none)."""
        return self._pattern.pattern if self._pattern is not None else ""

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(" ", normalise_text(text))
