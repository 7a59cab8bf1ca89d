"""A re-run of the text analysis that finds nothing changed does little and changes nothing; one
that finds a change recomputes; a classifier whose labels are unchanged is not retrained; the
results stay those of a full run (issue 15: 100,000 entries under 30 s, in the background)."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from tests.analysis.labelled_set import load
from tests.analysis.test_needs_and_voices import _rate

REGIONS = ("R1", "R2", "R3")


def _write_labelled(write_texts, db_session):
    """Requirements and rated feedback of the labelled set (a third of it: tests stay fast)."""
    texts = [t for t in load() if t.kind in ("requirement", "feedback")][::3]
    needs = [(REGIONS[i % 3], i % 2, t.text) for i, t in enumerate(texts) if t.kind == "requirement"]
    write_texts(needs)
    feedback = [t for t in texts if t.kind == "feedback"]
    ids = write_texts([(REGIONS[i % 3], i % 2, t.text) for i, t in enumerate(feedback)], kind="feedback")
    _rate(db_session, ids, [t.rating for t in feedback])


def _results(db_session):
    from perception.core.models.facts import TextEntry

    rows = db_session.execute(
        select(
            TextEntry.id,
            TextEntry.theme_key,
            TextEntry.category,
            TextEntry.sentiment,
            TextEntry.confidence,
            TextEntry.label_source,
        ).order_by(TextEntry.id)
    ).all()
    return [tuple(r) for r in rows]


def _run(db_session):
    from perception.analysis.services.text_run import run_text_analysis

    return run_text_analysis(db_session)


def test_a_rerun_with_nothing_new_changes_nothing_and_says_so(db_session, write_texts):
    from perception.analysis.models import TextAnalysisRun, TextClassifierModel, TextTheme

    _write_labelled(write_texts, db_session)
    first = _run(db_session)
    assert first.n_changed > 0 and first.n_themes > 3
    results = _results(db_session)
    themes = sorted(db_session.scalars(select(TextTheme.key)))
    trained = {m.target: m.trained_at for m in db_session.scalars(select(TextClassifierModel))}
    again = _run(db_session)
    assert again.n_changed == 0 and again.n_themes == first.n_themes
    run = db_session.get(TextAnalysisRun, again.run_id)
    assert run.status == "done" and run.detail == f"unchanged since run {first.run_id}"
    assert _results(db_session) == results
    assert sorted(db_session.scalars(select(TextTheme.key))) == themes
    assert {m.target: m.trained_at for m in db_session.scalars(select(TextClassifierModel))} == trained

    # What the skip stands for: a full run over the same texts gives the same results.
    db_session.execute(update(TextAnalysisRun).values(input_digest=None))
    full = _run(db_session)
    assert db_session.get(TextAnalysisRun, full.run_id).detail.startswith("changed=0 ")
    assert _results(db_session) == results


def test_a_new_text_or_label_or_decision_makes_the_next_run_recompute(db_session, write_texts):
    from perception.analysis.models import TextAnalysisRun, TextClassifierModel
    from perception.analysis.services.text_labels import label_entry
    from perception.analysis.services.text_settings import rename_theme
    from perception.core.models.facts import TextEntry

    _write_labelled(write_texts, db_session)
    _run(db_session)
    trained = {m.target: m.trained_at for m in db_session.scalars(select(TextClassifierModel))}
    (new,) = write_texts([("R1", 0, "希望开通远程办公 VPN，出差时能访问内网系统")])
    run = _run(db_session)
    assert not db_session.get(TextAnalysisRun, run.run_id).detail.startswith("unchanged")
    assert db_session.get(TextEntry, new).category is not None
    # The requirement taught no classifier anything new (no rating, no seed word, no label):
    # the models and their figures stand, not retrained.
    assert {m.target: m.trained_at for m in db_session.scalars(select(TextClassifierModel))} == trained

    entry = db_session.scalar(select(TextEntry).where(TextEntry.kind == "feedback").limit(1))
    label_entry(db_session, entry, category=None, sentiment="neutral", user_id=None)
    run = _run(db_session)
    assert not db_session.get(TextAnalysisRun, run.run_id).detail.startswith("unchanged")
    sentiment = db_session.scalar(
        select(TextClassifierModel).where(TextClassifierModel.target == "sentiment")
    )
    assert sentiment.trained_at != trained["sentiment"] and sentiment.evaluation["n_from_people"] == 1

    key = db_session.get(TextEntry, new).theme_key or db_session.scalar(
        select(TextEntry.theme_key).where(TextEntry.theme_key.is_not(None)).limit(1)
    )
    assert _run(db_session).n_changed == 0  # settled
    rename_theme(db_session, key, "远程办公")
    run = _run(db_session)
    assert not db_session.get(TextAnalysisRun, run.run_id).detail.startswith("unchanged")

    # Results someone changed outside a run are not taken as the run's own.
    before = db_session.get(TextEntry, new).theme_key
    db_session.execute(update(TextEntry).where(TextEntry.id == new).values(theme_key="elsewhere"))
    db_session.expire_all()
    run = _run(db_session)
    assert not db_session.get(TextAnalysisRun, run.run_id).detail.startswith("unchanged")
    assert db_session.get(TextEntry, new).theme_key == before


def _matches_word_by_word(seeds, plain):
    """The reference: each seed word looked up on its own (Chinese as a substring, Latin as a
    whole word with an optional plural ending)."""
    han = re.compile(r"[\u3400-\u9fff]")
    return any(
        (w in plain) if han.search(w) else bool(re.search(rf"\b{re.escape(w)}(?:s|es)?\b", plain))
        for w in seeds
    )


def test_seed_words_match_in_one_expression_as_word_by_word():
    from scoring.text.categories import default_categories
    from scoring.text.tokenizer import normalise_text

    texts = [normalise_text(t.text) for t in load()] + [
        "apps for approval",
        "wi-fi",
        "7x24 on-site engineers",
    ]
    for category in default_categories():
        for plain in texts:
            assert category.matches(plain) == _matches_word_by_word(category.seeds, plain), (
                category.code,
                plain,
            )
