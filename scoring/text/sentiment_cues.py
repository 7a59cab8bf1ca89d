"""Sentiment cue-word features that help a classifier trained on few labelled comments.

Owns the shipped zh+en cue lexicon (`data/sentiment_cues.txt`), `cue_counts` (positive and
negative cues in a text, a cue right after a negation counting for the other side) and
`SentimentCues`, the scikit-learn transformer that adds ln(1 + count) of each side as two
features next to the TF-IDF blocks. Lexicon features with negation handling follow the
lexicon-based approach of Taboada et al., "Lexicon-based methods for sentiment analysis",
Computational Linguistics 37(2), 2011.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from scoring.text.tokenizer import normalise_text

__all__ = ["SentimentCues", "cue_counts"]

_HAN = re.compile(r"[\u3400-\u9fff]")
_EN_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
_ZH_NEGATIONS = frozenset("不没未无别非")
_EN_NEGATIONS = frozenset(
    {"not", "no", "never", "don't", "didn't", "isn't", "wasn't", "hasn't", "cannot", "can't"}
)


@lru_cache(maxsize=1)
def _lexicon() -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str], frozenset[str]]:
    text = resources.files("scoring.text").joinpath("data", "sentiment_cues.txt").read_text(encoding="utf-8")
    sides: dict[str, list[str]] = {"positive": [], "negative": []}
    side = ""
    for raw in text.splitlines():
        line = normalise_text(raw.split("#", 1)[0].strip())
        if line in ("[positive]", "[negative]"):
            side = line[1:-1]
        elif line and side:
            sides[side].append(line)
    zh = {s: tuple(w for w in words if _HAN.search(w)) for s, words in sides.items()}
    en = {s: frozenset(w for w in words if not _HAN.search(w)) for s, words in sides.items()}
    return zh["positive"], zh["negative"], en["positive"], en["negative"]


def _zh_hits(text: str, cue: str) -> tuple[int, int]:
    plain = flipped = 0
    start = text.find(cue)
    while start >= 0:
        if _ZH_NEGATIONS & set(text[max(0, start - 2) : start]):
            flipped += 1
        else:
            plain += 1
        start = text.find(cue, start + 1)
    return plain, flipped


def cue_counts(text: str) -> tuple[int, int]:
    """(positive, negative) cue counts; a cue within two characters (Chinese) or two words
    (English) after a negation such as 不/没/not counts for the opposite side."""
    normalised = normalise_text(text)
    zh_pos, zh_neg, en_pos, en_neg = _lexicon()
    positive = negative = 0
    for cues, sign in ((zh_pos, 1), (zh_neg, -1)):
        for cue in cues:
            if cue not in normalised:  # most cues are absent: no call (a tenth of a run's features)
                continue
            plain, flipped = _zh_hits(normalised, cue)
            if sign > 0:
                positive, negative = positive + plain, negative + flipped
            else:
                positive, negative = positive + flipped, negative + plain
    words = _EN_TOKEN.findall(normalised)
    for i, word in enumerate(words):
        sign = 1 if word in en_pos else -1 if word in en_neg else 0
        if sign == 0:
            continue
        if _EN_NEGATIONS & set(words[max(0, i - 2) : i]):
            sign = -sign
        if sign > 0:
            positive += 1
        else:
            negative += 1
    return positive, negative


class SentimentCues(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Two features per text: ln(1 + positive cues) and ln(1 + negative cues), times `weight`."""

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def fit(self, texts: Sequence[str], y: Any = None) -> SentimentCues:
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        counts = np.array([cue_counts(text) for text in texts], dtype=np.float64).reshape(-1, 2)
        return sp.csr_matrix(self.weight * np.log1p(counts))
