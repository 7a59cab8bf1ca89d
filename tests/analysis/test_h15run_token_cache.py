"""The tokens kept between text-analysis runs (text_tokens, issue 15: a full recompute over 100,000
entries in under 30 s): a run with the stored tokens gives exactly the results of a run without
them and segments no text of its window again; the tokens are keyed by everything segmentation
depends on, so a changed user word or dictionary never reuses them."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from scoring.text import Tokenizer
from scoring.text import tokenizer as tokenizer_module
from tests.analysis.test_text_run_incremental import _results, _write_labelled


def test_the_key_changes_with_the_words_the_dictionary_and_the_version(monkeypatch):
    base = Tokenizer().cache_key()
    assert Tokenizer().cache_key() == base  # the same settings, the same key
    assert Tokenizer(user_words=["驻场巡检"]).cache_key() != base
    assert Tokenizer(user_words=["驻场巡检"]).cache_key() != Tokenizer(user_words=["巡检驻场"]).cache_key()
    assert Tokenizer(stopwords=["的"]).cache_key() != base
    assert Tokenizer(synonyms={}).cache_key() != base
    assert Tokenizer(stem_english=False).cache_key() != base
    themes = Tokenizer().for_themes()
    assert themes.cache_key() not in (base, "")
    # The shipped dictionary (its words, their frequencies) and the tokens' version are in the key.
    words = tokenizer_module.default_domain_words()
    monkeypatch.setattr(tokenizer_module, "default_domain_words", lambda: (*words, "驻场巡检"))
    assert Tokenizer().cache_key() != base
    monkeypatch.undo()
    monkeypatch.setattr(tokenizer_module, "_domain_frequencies", lambda: {words[0]: 5000})
    assert Tokenizer().cache_key() != base
    monkeypatch.undo()
    monkeypatch.setattr(tokenizer_module, "TOKENS_VERSION", "another")
    assert Tokenizer().cache_key() != base


def test_remembered_tokens_are_used_and_given_back():
    tok = Tokenizer()
    text = "希望支持微信报修"
    real = tok.tokenize(text)
    fresh = Tokenizer()
    fresh.remember({text: ("remembered",)})
    assert fresh.tokenize(text) == ["remembered"]
    assert fresh.for_themes().tokenize(text) == ["remembered"]  # the theme variant builds on them
    assert fresh.segmented([text, "其他"]) == {text: ("remembered",)}
    assert tok.segmented([text]) == {text: tuple(real)}


def _same(got, want):
    """Equal results: every theme, label and source exactly, confidences to 1e-12 (two runs
    without stored tokens already differ in the last bit of a confidence)."""
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert a[:4] == b[:4] and a[5:] == b[5:]
        assert (a[4] is None and b[4] is None) or abs(a[4] - b[4]) <= 1e-12


def _reset(db_session):
    """Nothing analysed, as before a first run (the stored tokens stay)."""
    from perception.analysis.models import (
        TextAnalysisRun,
        TextAnalysisSettings,
        TextClassifierModel,
        TextTheme,
    )
    from perception.core.models.facts import TextEntry

    db_session.execute(
        update(TextEntry).values(
            theme_key=None, category=None, sentiment=None, confidence=None, label_source=None
        )
    )
    for model in (TextTheme, TextClassifierModel, TextAnalysisRun, TextAnalysisSettings):
        db_session.execute(delete(model))
    db_session.flush()
    db_session.expire_all()


def _segmenting(monkeypatch):
    """The texts jieba segments from now on (the base tokenizer's own work, not its cache's)."""
    seen: list[str] = []
    original = Tokenizer._tokenize

    def counting(self, text):
        if self._base is None:
            seen.append(text)
        return original(self, text)

    monkeypatch.setattr(Tokenizer, "_tokenize", counting)
    return seen


def test_a_run_with_stored_tokens_equals_one_without_and_segments_no_window_text_again(
    db_session, write_texts, monkeypatch
):
    from perception.analysis.models import TextTokenCache
    from perception.analysis.services.text_run import run_text_analysis
    from perception.analysis.services.text_settings import tokenizer
    from perception.core.models.facts import TextEntry

    _write_labelled(write_texts, db_session)
    run_text_analysis(db_session)
    without = _results(db_session)
    (row,) = db_session.scalars(select(TextTokenCache))
    window = set(db_session.scalars(select(TextEntry.text)))
    assert row.key == tokenizer(db_session).cache_key() and row.n_texts == len(window)

    _reset(db_session)
    seen = _segmenting(monkeypatch)
    run_text_analysis(db_session, full=True)
    _same(_results(db_session), without)
    assert not window & set(seen)  # only texts outside the window (seed-blanked views) segmented

    # A poisoned store under the current key is read (the run's themes follow it) ...
    _reset(db_session)
    import json
    import zlib

    texts = sorted(window)
    poisoned = {"texts": texts, "tokens": [["同一个词"] for _ in texts]}
    row = db_session.get(TextTokenCache, row.key)
    row.data = zlib.compress(json.dumps(poisoned).encode())
    db_session.flush()
    run_text_analysis(db_session, full=True)
    assert _results(db_session) != without

    # ... and never once the words change: the run segments again and replaces the row.
    from perception.analysis.services.text_settings import SettingsUpdate, update_settings

    _reset(db_session)
    update_settings(db_session, SettingsUpdate(user_words=["远程办公"]))
    seen.clear()
    run_text_analysis(db_session, full=True)
    assert window <= set(seen)
    (row,) = db_session.scalars(select(TextTokenCache))
    assert row.key == tokenizer(db_session).cache_key() and row.key != Tokenizer().cache_key()
    with_words = _results(db_session)

    # The same words without any stored tokens give the same results.
    _reset(db_session)
    update_settings(db_session, SettingsUpdate(user_words=["远程办公"]))
    db_session.execute(delete(TextTokenCache))
    run_text_analysis(db_session, full=True)
    _same(_results(db_session), with_words)


def test_derived_categories_once_per_distinct_text_equal_the_per_entry_rule(db_session):
    from perception.analysis.services.text_categories import (
        active_builtin,
        derived_categories,
        ensure_builtin_categories,
    )
    from scoring.text.categories import NEED, VOICE, derived_category

    ensure_builtin_categories(db_session)

    texts = [
        "希望增加驻场工程师",
        "等保测评和漏洞扫描",
        "驻场工程师做等保",
        "希望增加驻场工程师",
        "nothing here",
    ]
    entries = []
    for i in range(40):
        kind = ("requirement", "feedback", "comment")[i % 3]
        dimension = ("response_speed", None)[i % 2] if kind != "requirement" else None
        entries.append((i, "feedback", 10_000 + i, kind, dimension, texts[i % len(texts)]))
    got = derived_categories(db_session, entries)
    categories = active_builtin(db_session)
    want = {}
    for i, _, _, kind, dimension, text in entries:
        label = derived_category(
            text, NEED if kind == "requirement" else VOICE, field_dimension=dimension, categories=categories
        )
        if label is not None:
            want[i] = label
    assert got == want and want


_BLAS_PROBE = """
from perception.analysis.services import text_run

def probe(session, requested_by_id, full):
    import sklearn.linear_model  # what training imports, inside the run
    from threadpoolctl import threadpool_info
    return [(i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]

text_run._run_text_analysis = probe
print(max(n for _, n in text_run.run_text_analysis(None)))
"""


def test_every_blas_library_runs_one_thread_in_a_workers_first_run():
    """scipy's own OpenBLAS (the solver's) loads with scipy.optimize; threadpoolctl's limit covers
    only the libraries loaded when it is set, so a worker's first run spun two solver threads."""
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run(
        [sys.executable, "-c", _BLAS_PROBE],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "1"


def test_cue_counts_skipping_absent_cues_equal_every_cue_searched():
    from scoring.text import sentiment_cues as sc
    from tests.analysis.labelled_set import load

    def reference(text):
        normalised = sc.normalise_text(text)
        zh_pos, zh_neg, en_pos, en_neg = sc._lexicon()
        positive = negative = 0
        for cues, sign in ((zh_pos, 1), (zh_neg, -1)):
            for cue in cues:
                plain, flipped = sc._zh_hits(normalised, cue)
                if sign > 0:
                    positive, negative = positive + plain, negative + flipped
                else:
                    positive, negative = positive + flipped, negative + plain
        words = sc._EN_TOKEN.findall(normalised)
        for i, word in enumerate(words):
            sign = 1 if word in en_pos else -1 if word in en_neg else 0
            if sign and sc._EN_NEGATIONS & set(words[max(0, i - 2) : i]):
                sign = -sign
            positive, negative = positive + (sign > 0), negative + (sign < 0)
        return positive, negative

    texts = [t.text for t in load()] + ["不满意不满意，很满意", "not good, not bad, great", ""]
    assert any(reference(t) != (0, 0) for t in texts)
    assert [sc.cue_counts(t) for t in texts] == [reference(t) for t in texts]
