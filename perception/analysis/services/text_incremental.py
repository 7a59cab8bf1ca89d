"""Incremental text-analysis runs (issue 15: the weekly re-run over 100,000 entries in seconds).

Every run records its basis (``TextAnalysisRun.basis``): the digest of everything besides the
entries that its results depend on (``context``: settings, word lists, theme decisions, active
categories, people's labels, the analysis and library versions), an order-free sum of one digest
per entry (id, source, kind, dimension, text, the rating's sentiment, the derived category and the
results the run left on it), the highest entry id and the last full recompute. The next run whose
context is the same and whose entries are the basis's (less the oldest that left the window) plus
entries with higher ids places only the new entries (``place_themes`` and the stored classifiers).
What that gives, against a full recompute:

- themes: a new text equal (after normalisation) to an analysed text of the same stratum gets that
  text's theme, as a full recompute folds both into one unit; any other text joins the theme of its
  stratum whose signature (the class-based TF-IDF profile the last full run stored in the theme
  decisions) is nearest by cosine, when that reaches ``JOIN_SIMILARITY``, and otherwise stays
  unthemed. No theme forms, splits or merges; names, top terms and quotes stay those of the last
  full recompute; sizes count the entries of the window.
- category and sentiment: the stored classifiers predict the new texts; they are not retrained
  (the model card stays the last full recompute's). People's labels, ratings and derived
  categories apply to the new entries exactly as in a full run; older entries keep their results.

A full recompute runs when anything else changed (a label, a rename, seed, merge or split, a
setting or word list, the categories, an entry's text, rating or results, a deleted entry), when
the entries placed incrementally since the last full recompute pass ``MAX_INCREMENTAL_SHARE`` of
the window, or when the last full recompute is older than ``FULL_EVERY``.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from scoring.text import Tokenizer, normalise_text
from scoring.text.theme_matching import cosine_terms

MAX_INCREMENTAL_SHARE = 0.05  # new entries placed since the last full recompute, of the window
FULL_EVERY = timedelta(days=28)
#: A new text joins the nearest theme signature from this cosine similarity on (the clustering's
#: join similarity for units outside its sample is 0.35 on its own features).
JOIN_SIMILARITY = 0.35
_MODULUS = 2**256


@dataclass(frozen=True)
class Basis:
    """What a run's results rest on (stored as JSON on the run)."""

    context: str
    entries: str  # sum of the entries' digests modulo 2**256, as 64 hex digits
    max_entry_id: int
    n_entries: int
    full_run_id: int
    full_at: str  # ISO time of the last full recompute
    since_full: int  # entries placed incrementally since then

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Basis | None:
        if not data:
            return None
        try:
            return cls(**{key: data[key] for key in cls.__dataclass_fields__})
        except (KeyError, TypeError):
            return None


def entry_digest(entry: Any, rating: Any, derived: Any, output: Sequence[Any]) -> int:
    """One entry's digest as an integer: its identity, what the run reads of it, what it holds."""
    item = (
        entry.id,
        entry.source,
        entry.source_id,
        str(entry.kind),
        entry.dimension,
        entry.text,
        None if rating is None else str(rating),
        None if derived is None else (derived.category, derived.origin),
        tuple(output),
    )
    return int.from_bytes(hashlib.sha256(repr(item).encode("utf-8")).digest(), "big")


def digest_sum(digests: Iterable[int]) -> str:
    """An order-free digest of a set of entries: the sum of their digests modulo 2**256."""
    return format(sum(digests) % _MODULUS, "064x")


def full_due(basis: Basis, n_new: int, n_window: int, now: datetime) -> bool:
    """Whether the schedule asks for a full recompute although only new entries arrived."""
    if basis.since_full + n_new > MAX_INCREMENTAL_SHARE * max(n_window, 1):
        return True
    try:
        full_at = datetime.fromisoformat(basis.full_at)
    except ValueError:
        return True
    return now - full_at > FULL_EVERY


def _text_key(text: str) -> str:
    return " ".join(normalise_text(text).split())


def _profile(tokens: Sequence[str]) -> dict[str, float]:
    return {term: 1.0 + math.log(count) for term, count in Counter(tokens).items()}


def place_themes(
    new: Sequence[Any],
    old: Sequence[Any],
    strata: Mapping[int, Any],
    signatures: Mapping[str, Mapping[str, float]],
    tokenizer: Tokenizer,
) -> dict[int, str | None]:
    """The theme of each new entry (see the module docstring): an equal analysed text's theme,
    else the nearest signature among the themes of its stratum (a theme's stratum: that of most
    of its entries) from JOIN_SIMILARITY on, else None. ``signatures``: the current themes'."""
    same_text: dict[tuple[Any, str], str | None] = {}
    members: dict[str, Counter[Any]] = {}
    for e in old:
        same_text.setdefault((strata[e.id], _text_key(e.text)), e.theme_key)
        if e.theme_key in signatures:
            members.setdefault(e.theme_key, Counter())[strata[e.id]] += 1
    by_stratum: dict[Any, list[tuple[str, Mapping[str, float]]]] = {}
    for key in sorted(members):
        by_stratum.setdefault(members[key].most_common(1)[0][0], []).append((key, signatures[key]))
    themes_tokenizer = tokenizer.for_themes()
    placed: dict[int, str | None] = {}
    for e in new:
        stratum = strata[e.id]
        text_key = (stratum, _text_key(e.text))
        if text_key in same_text:
            placed[e.id] = same_text[text_key]
            continue
        profile = _profile(themes_tokenizer.tokenize(e.text))
        best, best_key = 0.0, None
        for key, signature in by_stratum.get(stratum, ()):
            similarity = cosine_terms(profile, signature) if profile else 0.0
            if similarity > best:
                best, best_key = similarity, key
        placed[e.id] = best_key if best >= JOIN_SIMILARITY else None
        same_text[text_key] = placed[e.id]
    return placed
