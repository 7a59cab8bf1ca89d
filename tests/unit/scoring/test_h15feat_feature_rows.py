"""Stored classifier features (scoring.text.feature_rows, FeatureCache.remember; issue 15: a full
re-run over 100,000 entries under 30 s): rows read back are bit for bit the rows computed, a
classifier fed remembered rows predicts exactly what it predicts from computed ones, a cache
with stored rows computes only texts it has not seen, and the key the rows are stored under
changes with every setting the features depend on (and only then)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from scoring.text import Tokenizer
from scoring.text.classifier_features import TextCounts
from scoring.text.classify import FeatureCache, train_classifier
from scoring.text.feature_rows import FeatureRows, text_digest

TEXTS = [
    "希望开通远程办公 VPN，出差时能访问内网系统",
    "响应太慢了，等了两天才有人回电话",
    "工程师态度很好，问题当天就解决了",
    "The engineer was not helpful at all, very slow response",
    "Great service, thanks for the quick fix!!",
    "希望增加驻场工程师，7x24 值班",
    "报修系统经常打不开",
    "巡检报告很详细，满意",
    "ＩＰｖ６ 改造咨询",  # full-width: normalised before the character n-grams
    "",
    "不满意，服务不及时",
    "no complaints, good job",
]
LABELS = ["neutral", "negative", "positive", "negative", "positive", "neutral"] * 2


def _reference_counts(tokenizer, texts):
    """The features as the code before stored rows computed them (one hstack of the three blocks)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    from scoring.text.features import TokenAnalyzer
    from scoring.text.sentiment_cues import SentimentCues
    from scoring.text.tokenizer import normalise_text

    common = {"n_features": 2**18, "alternate_sign": False, "norm": None, "dtype": np.float64}
    words = HashingVectorizer(analyzer=TokenAnalyzer(tokenizer, ngrams=2), **common)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(1, 3), preprocessor=normalise_text, **common)
    blocks = [words.transform(texts), chars.transform(texts), SentimentCues().transform(texts)]
    return sp.csr_matrix(sp.hstack(blocks, format="csr"))


def _identical(a, b):
    a, b = sp.csr_matrix(a), sp.csr_matrix(b)
    assert a.shape == b.shape
    assert np.array_equal(a.indptr, b.indptr)
    assert np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)  # exact: no tolerance


def test_the_counts_are_those_of_the_code_before():
    tok = Tokenizer()
    _identical(TextCounts(tok).transform(TEXTS), _reference_counts(tok, TEXTS))


def test_rows_read_back_are_the_rows_computed_bit_for_bit():
    tok = Tokenizer()
    cache = FeatureCache(tok)
    computed = cache.matrix(TEXTS)
    rows = cache.held(TEXTS)
    assert rows.digests == tuple(dict.fromkeys(text_digest(t) for t in TEXTS))
    back = FeatureRows.from_bytes(rows.to_bytes())
    assert back.digests == rows.digests
    _identical(back.counts, rows.counts)
    assert np.array_equal(back.cues, rows.cues)

    fresh = FeatureCache(tok)
    fresh.remember(back)
    _identical(fresh.matrix(TEXTS), computed)
    assert fresh.n_computed == 0  # every text from the stored rows
    _identical(fresh.matrix(list(reversed(TEXTS))), computed[list(reversed(range(len(TEXTS))))])


def test_counts_that_are_not_whole_numbers_and_large_counts_survive():
    rng = np.random.default_rng(3)
    counts = sp.random(50, 2**19, density=0.001, format="csr", random_state=4)
    counts.data = rng.normal(size=counts.nnz) * 1e6  # not counts: stored as float64
    cues = rng.normal(size=(50, 2))
    digests = tuple(text_digest(str(i)) for i in range(50))
    back = FeatureRows.from_bytes(FeatureRows(digests, counts, cues).to_bytes())
    _identical(back.counts, counts)
    assert np.array_equal(back.cues, cues)
    big = counts.copy()
    big.data = np.round(np.abs(big.data)) % 70_000  # whole, some above 65,535: four bytes
    _identical(FeatureRows.from_bytes(FeatureRows(digests, big, cues).to_bytes()).counts, big)
    empty = FeatureRows((), sp.csr_matrix((0, 8)), np.zeros((0, 2)))
    assert FeatureRows.from_bytes(empty.to_bytes()).digests == ()


def test_unreadable_bytes_are_refused():
    rows = FeatureCache(Tokenizer())
    rows.matrix(TEXTS)
    blob = rows.held(TEXTS).to_bytes()
    for bad in (b"", b"something else", blob[:-10], blob[:40] + b"x" + blob[41:]):
        with pytest.raises(ValueError):
            FeatureRows.from_bytes(bad)


def test_a_model_on_remembered_rows_predicts_exactly_what_it_predicts_on_computed_ones():
    tok = Tokenizer()
    computing = FeatureCache(tok)
    model = train_classifier(TEXTS, LABELS, tok, sentiment_cues=True, cache=computing)
    want = model.predict_proba(TEXTS, computing)
    assert np.array_equal(want, model.predict_proba(TEXTS))  # no cache at all: the same

    remembering = FeatureCache(tok)
    remembering.remember(FeatureRows.from_bytes(computing.held(TEXTS).to_bytes()))
    again = train_classifier(TEXTS, LABELS, tok, sentiment_cues=True, cache=remembering)
    assert np.array_equal(again.predict_proba(TEXTS, remembering), want)
    assert np.array_equal(model.predict_proba(TEXTS, remembering), want)
    assert remembering.n_computed == 0


def test_only_texts_without_a_stored_row_are_computed():
    tok = Tokenizer()
    first = FeatureCache(tok)
    first.matrix(TEXTS[:6])
    cache = FeatureCache(tok)
    cache.remember(first.held(TEXTS[:6]))
    got = cache.matrix(TEXTS)
    assert cache.n_computed == len(set(TEXTS[6:]))
    _identical(got, FeatureCache(tok).matrix(TEXTS))


def test_the_key_changes_with_every_setting_the_features_depend_on(monkeypatch):
    from scoring.text import classifier_features, sentiment_cues

    base = TextCounts(Tokenizer()).cache_key()
    assert TextCounts(Tokenizer()).cache_key() == base
    assert TextCounts(Tokenizer(user_words=["远程办公"])).cache_key() != base  # the tokens differ
    assert TextCounts(Tokenizer(), n_features=2**10).cache_key() != base
    monkeypatch.setattr(classifier_features, "FEATURES_VERSION", "another")
    assert TextCounts(Tokenizer()).cache_key() != base
    monkeypatch.undo()
    lexicon = sentiment_cues._lexicon()
    monkeypatch.setattr(sentiment_cues, "_lexicon", lambda: (lexicon[0] + ("好极了",), *lexicon[1:]))
    assert TextCounts(Tokenizer()).cache_key() != base
    monkeypatch.undo()
    assert FeatureCache(Tokenizer()).key() == base


def test_the_key_is_the_same_in_every_process():
    """Python salts str hashes per process: a key built from a set's order would never match."""
    code = (
        "from scoring.text import Tokenizer\n"
        "from scoring.text.classifier_features import TextCounts\n"
        "print(TextCounts(Tokenizer()).cache_key())\n"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }
    assert len(keys) == 1 and keys != {""}
    assert keys == {TextCounts(Tokenizer()).cache_key()}


def test_nothing_of_a_text_but_its_digest_and_counts_is_kept():
    tok = Tokenizer()
    cache = FeatureCache(tok)
    cache.matrix(TEXTS)
    blob = cache.held(TEXTS).to_bytes()
    import zlib

    body = zlib.decompress(blob[blob.index(b"}") + 1 :])
    for text in TEXTS:
        if len(text) >= 4:
            assert text.encode() not in body and text.encode() not in blob
