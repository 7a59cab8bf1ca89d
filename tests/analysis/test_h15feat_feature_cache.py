"""The classifier features kept between full text-analysis runs (text_features, issue 15: a full
recompute over 100,000 entries in under 30 s): a run with the stored rows gives the results of a
run without them and computes the features of no text of its window again; the rows are keyed by
everything the features depend on, so a changed user word never reuses them; the table holds no
text, only digests and counts."""

from __future__ import annotations

from sqlalchemy import delete, select

from scoring.text.classify import FeatureCache
from tests.analysis.test_h15run_token_cache import _reset, _same
from tests.analysis.test_text_run_incremental import _results, _write_labelled


def _computing(monkeypatch):
    """The texts whose features runs compute from now on (not those taken from stored rows)."""
    seen: list[str] = []
    original = FeatureCache._rows_of

    def counting(self, texts):
        before = self.n_computed
        order, block = original(self, texts)
        seen.extend(order[len(order) - (self.n_computed - before) :])
        return order, block

    monkeypatch.setattr(FeatureCache, "_rows_of", counting)
    return seen


def test_a_run_with_stored_features_equals_one_without_and_computes_no_window_text_again(
    db_session, write_texts, monkeypatch
):
    from perception.analysis.models import TextFeatureCache, TextTokenCache
    from perception.analysis.services.text_run import run_text_analysis
    from perception.analysis.services.text_settings import tokenizer
    from perception.core.models.facts import TextEntry
    from scoring.text.feature_rows import FeatureRows, text_digest

    _write_labelled(write_texts, db_session)
    seen = _computing(monkeypatch)
    run_text_analysis(db_session)
    without = _results(db_session)
    window = set(db_session.scalars(select(TextEntry.text)))
    (row,) = db_session.scalars(select(TextFeatureCache))
    assert row.key == FeatureCache(tokenizer(db_session)).key()
    stored = FeatureRows.from_bytes(row.data)
    assert row.n_texts == len(stored.digests) > 0
    assert set(stored.digests) <= {text_digest(t) for t in window}  # the window's texts only
    assert set(stored.digests) == {text_digest(t) for t in set(seen) & window}

    # No text in the table: digests and counts only (the token cache beside it holds the texts).
    for text in window:
        if len(text) >= 4:
            assert text.encode() not in row.data

    _reset(db_session)
    seen.clear()
    run_text_analysis(db_session, full=True)
    _same(_results(db_session), without)
    assert not window & set(seen)  # only texts outside the window (seed-blanked views) computed

    # A poisoned store under the current key is read (the predictions follow it) ...
    _reset(db_session)
    first = [0] * len(stored.digests)  # every text given the features of the first
    poisoned = FeatureRows(stored.digests, stored.counts[first], stored.cues[first])
    row = db_session.get(TextFeatureCache, row.key)
    row.data = poisoned.to_bytes()
    db_session.flush()
    run_text_analysis(db_session, full=True)
    assert _results(db_session) != without

    # ... and never once the words change: the run computes again and replaces the row.
    from perception.analysis.services.text_settings import SettingsUpdate, update_settings

    _reset(db_session)
    before = row.key
    update_settings(db_session, SettingsUpdate(user_words=["远程办公"]))
    seen.clear()
    run_text_analysis(db_session, full=True)
    (row,) = db_session.scalars(select(TextFeatureCache))
    assert row.key == FeatureCache(tokenizer(db_session)).key() != before
    assert {text_digest(t) for t in seen} >= set(FeatureRows.from_bytes(row.data).digests)
    with_words = _results(db_session)

    # The same words without any stored tokens or features give the same results.
    _reset(db_session)
    update_settings(db_session, SettingsUpdate(user_words=["远程办公"]))
    db_session.execute(delete(TextFeatureCache))
    db_session.execute(delete(TextTokenCache))
    run_text_analysis(db_session, full=True)
    _same(_results(db_session), with_words)


def test_an_unreadable_store_is_computed_again_and_replaced(db_session, write_texts):
    from perception.analysis.models import TextFeatureCache
    from perception.analysis.services.text_run import run_text_analysis
    from scoring.text.feature_rows import FeatureRows

    _write_labelled(write_texts, db_session)
    run_text_analysis(db_session)
    without = _results(db_session)
    (row,) = db_session.scalars(select(TextFeatureCache))
    row.data = b"not feature rows"
    db_session.flush()
    _reset(db_session)
    run_text_analysis(db_session, full=True)
    _same(_results(db_session), without)
    (row,) = db_session.scalars(select(TextFeatureCache))
    assert FeatureRows.from_bytes(row.data).digests
