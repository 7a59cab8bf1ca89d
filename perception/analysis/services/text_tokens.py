"""The tokens of earlier runs, kept between text-analysis runs (issue 15: a full recompute over
100,000 entries in under 30 s; segmenting every text again with jieba was a third of it).

A run stores the tokens of the distinct texts of its window under the tokenizer's ``cache_key``
(the digest of the dictionary with the users' words, stopwords, synonyms and jieba's version) as
one compressed JSON document (TextTokenCache). The next run with the same key hands them to its
tokenizer (``Tokenizer.remember``) and segments only texts it has not seen; a run whose key
differs (a user word added, the shipped dictionary changed) finds nothing under its key, segments
everything and replaces the old row. Tokens are a pure function of the text and the key, so a run
with the cache gives exactly the results of a run without it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from perception.analysis.models import TextTokenCache
from perception.core.models.base import utcnow
from scoring.text import Tokenizer


def load_tokens(session: Session, tokenizer: Tokenizer) -> set[str]:
    """Hand the stored tokens of ``tokenizer``'s key to it; the texts they cover."""
    data = session.scalar(select(TextTokenCache.data).where(TextTokenCache.key == tokenizer.cache_key()))
    if not data:
        return set()
    try:
        stored = json.loads(zlib.decompress(data))
    except (zlib.error, ValueError):  # unreadable: segment again (the run stores a fresh copy)
        return set()
    tokens = dict(zip(stored["texts"], stored["tokens"], strict=True))
    tokenizer.remember(tokens)
    return set(tokens)


def store_tokens(session: Session, tokenizer: Tokenizer, texts: Iterable[str], known: set[str]) -> None:
    """Keep the tokens of the distinct ``texts`` (a run's window) under ``tokenizer``'s key, unless
    they are exactly the ``known`` ones already stored; rows of other keys go."""
    held = tokenizer.segmented(dict.fromkeys(texts))
    key = tokenizer.cache_key()
    session.execute(delete(TextTokenCache).where(TextTokenCache.key != key))
    if set(held) == known:
        return
    document = {"texts": list(held), "tokens": [list(words) for words in held.values()]}
    data = zlib.compress(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 1)
    row = session.get(TextTokenCache, key)
    if row is None:
        row = TextTokenCache(key=key)
        session.add(row)
    row.data = data
    row.n_texts = len(held)
    row.stored_at = utcnow()
