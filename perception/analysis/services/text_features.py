"""The classifier features of earlier runs, kept between full text-analysis runs (issue 15: a full
recompute over 100,000 entries in under 30 s; once the tokens were stored, hashing the word and
character n-grams of ~60,000 distinct texts was a third of what was left).

A full run stores the feature rows of the distinct texts of its window that it featurised under
the vectoriser's ``cache_key`` (``TextCounts.cache_key``: the tokenizer's key, the hashed space,
the n-gram settings, the cue lexicon, the libraries' versions) as one document
(scoring.text.feature_rows: each text by its SHA-256 digest, never the text itself; the token
cache beside it holds the texts). The next full run with the same key hands them to its
``FeatureCache`` and computes only texts it has not seen; a run whose key differs finds nothing
under its key, computes everything and replaces the old row. Features are a pure function of the
text and the key, so a run with the stored rows gives exactly the results of a run without them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from perception.analysis.models import TextFeatureCache
from perception.core.models.base import utcnow
from scoring.text.classify import FeatureCache
from scoring.text.feature_rows import FeatureRows


def load_features(session: Session, cache: FeatureCache) -> frozenset[bytes]:
    """Hand the stored rows of ``cache``'s key to it; the digests of the texts they cover."""
    data = session.scalar(select(TextFeatureCache.data).where(TextFeatureCache.key == cache.key()))
    if not data:
        return frozenset()
    try:
        rows = FeatureRows.from_bytes(data)
    except ValueError:  # unreadable: compute again (the run stores a fresh copy)
        return frozenset()
    cache.remember(rows)
    return frozenset(rows.digests)


def store_features(
    session: Session, cache: FeatureCache, texts: Iterable[str], known: frozenset[bytes]
) -> None:
    """Keep the rows ``cache`` holds of the distinct ``texts`` (a run's window) under its key,
    unless they are exactly the ``known`` ones already stored; rows of other keys go."""
    key = cache.key()
    session.execute(delete(TextFeatureCache).where(TextFeatureCache.key != key))
    pairs = cache.held_digests(texts)
    if frozenset(digest for _, digest in pairs) == known:
        return
    held = cache.held(text for text, _ in pairs)
    row = session.get(TextFeatureCache, key)
    if row is None:
        row = TextFeatureCache(key=key)
        session.add(row)
    row.data = held.to_bytes()
    row.n_texts = len(held.digests)
    row.stored_at = utcnow()
