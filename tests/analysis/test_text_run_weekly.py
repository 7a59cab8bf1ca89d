"""The weekly re-run (issue 15): when only new entries arrived since the last run, they are placed
in the stored themes and predicted by the stored models, which gives what a full recompute gives
where text_incremental promises it; anything else that changed makes the run a full recompute."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import select, update

from tests.analysis.labelled_set import load
from tests.analysis.test_needs_and_voices import _rate
from tests.analysis.test_text_run_incremental import _results, _run, _write_labelled

REGIONS = ("R1", "R2", "R3")


def _detail(db_session, result):
    from perception.analysis.models import TextAnalysisRun

    return db_session.get(TextAnalysisRun, result.run_id).detail


def _cards(db_session):
    from perception.analysis.models import TextClassifierModel

    return {
        m.target: (m.trained_at, m.cv_accuracy, m.cv_accuracy_std, m.evaluation["held_back"], m.n_labelled)
        for m in db_session.scalars(select(TextClassifierModel))
    }


def _copies(write_texts, db_session):
    """New entries that repeat analysed texts: a requirement and a rated comment (with its rating)."""
    texts = [t for t in load() if t.kind in ("requirement", "feedback")][::3]
    need = next(t for t in texts if t.kind == "requirement")
    comment = next(t for t in texts if t.kind == "feedback")
    (need_id,) = write_texts([("R2", 1, need.text)])
    (comment_id,) = write_texts([("R3", 0, comment.text)], kind="feedback")
    _rate(db_session, [comment_id], [comment.rating])
    return need_id, comment_id


def test_new_copies_of_analysed_texts_get_what_a_full_recompute_gives(db_session, write_texts):
    from perception.analysis.services.text_run import run_text_analysis

    _write_labelled(write_texts, db_session)
    first = _run(db_session)
    cards = _cards(db_session)
    assert set(cards) == {"category", "sentiment"}
    need_id, comment_id = _copies(write_texts, db_session)
    weekly = _run(db_session)
    assert _detail(db_session, weekly).startswith(f"incremental: 2 new since run {first.run_id}")
    assert weekly.n_changed == 2
    # The model card stays the last full recompute's, and is still reported.
    assert _cards(db_session) == cards
    assert weekly.cv == first.cv and all(v is not None for v in weekly.cv.values())
    incremental = _results(db_session)
    by_id = {row[0]: row for row in incremental}
    comment = next(t for t in load() if t.kind == "feedback")
    assert by_id[comment_id][3] == (
        "negative" if comment.rating <= 2 else "positive" if comment.rating >= 4 else "neutral"
    )
    assert by_id[comment_id][5] == "rating" and by_id[need_id][1] is not None

    full = run_text_analysis(db_session, full=True)
    assert _detail(db_session, full).startswith("changed=")
    assert _results(db_session) == incremental
    assert _cards(db_session) == cards  # same training set: the full recompute did not retrain
    again = _run(db_session)
    assert _detail(db_session, again).startswith("unchanged since run")


@pytest.mark.parametrize("change", ["label", "rename", "seed", "merge", "setting", "edited"])
def test_anything_but_new_entries_makes_the_run_a_full_recompute(db_session, write_texts, change):
    from perception.analysis.models import TextTheme
    from perception.analysis.services.text_labels import label_entry
    from perception.analysis.services.text_settings import (
        SettingsUpdate,
        merge_themes,
        rename_theme,
        split_theme,
        update_settings,
    )
    from perception.core.models.facts import TextEntry

    _write_labelled(write_texts, db_session)
    _run(db_session)
    write_texts([("R1", 0, "希望开通远程办公 VPN，出差时能访问内网系统")])
    themes = list(db_session.scalars(select(TextTheme).order_by(TextTheme.size.desc())))
    if change == "label":
        entry = db_session.scalar(select(TextEntry).where(TextEntry.kind == "feedback").limit(1))
        label_entry(db_session, entry, category=None, sentiment="neutral", user_id=None)
    elif change == "rename":
        rename_theme(db_session, themes[0].key, "远程办公")
    elif change == "seed":
        split_theme(db_session, themes[0].key, [[themes[0].top_terms[0]], [themes[0].top_terms[1]]])
    elif change == "merge":
        merge_themes(db_session, [themes[0].key, themes[1].key])
    elif change == "setting":
        update_settings(db_session, SettingsUpdate(user_words=["内网系统"]))
    else:  # a result changed outside a run
        entry = db_session.scalar(select(TextEntry).where(TextEntry.theme_key.is_not(None)).limit(1))
        db_session.execute(update(TextEntry).where(TextEntry.id == entry.id).values(theme_key="elsewhere"))
        db_session.expire_all()
    assert _detail(db_session, _run(db_session)).startswith("changed=")


def test_the_schedule_asks_for_a_full_recompute(db_session, write_texts):
    from perception.analysis.models import TextAnalysisRun
    from perception.analysis.services.text_incremental import MAX_INCREMENTAL_SHARE
    from perception.core.models.base import utcnow

    _write_labelled(write_texts, db_session)
    first = _run(db_session)
    n = first.n_entries
    write_texts([("R1", 0, "希望开通远程办公 VPN，出差时能访问内网系统")])
    assert _detail(db_session, _run(db_session)).startswith("incremental: 1 new")
    # More new entries since the last full recompute than the share allows: full.
    many = math.floor(MAX_INCREMENTAL_SHARE * (n + 1)) + 1
    write_texts([("R2", i % 2, f"希望增加第 {i} 个机房的巡检报告") for i in range(many)])
    assert _detail(db_session, _run(db_session)).startswith("changed=")
    # A last full recompute older than FULL_EVERY: full.
    write_texts([("R3", 0, "希望开通远程办公 VPN")])
    latest = db_session.scalar(select(TextAnalysisRun).order_by(TextAnalysisRun.id.desc()).limit(1))
    latest.basis = {**latest.basis, "full_at": "2020-01-01T00:00:00"}
    db_session.flush()
    assert utcnow().year > 2020
    assert _detail(db_session, _run(db_session)).startswith("changed=")


def test_a_deleted_entry_makes_the_run_a_full_recompute(db_session, write_texts):
    from perception.core.models.facts import TextEntry

    _write_labelled(write_texts, db_session)
    _run(db_session)
    write_texts([("R1", 0, "希望开通远程办公 VPN，出差时能访问内网系统")])
    gone = db_session.scalar(select(TextEntry).order_by(TextEntry.id).limit(1))
    db_session.delete(gone)
    db_session.flush()
    assert _detail(db_session, _run(db_session)).startswith("changed=")


class _SpaceTokenizer:
    """Tokens split at spaces (the reference needs no dictionary)."""

    def for_themes(self):
        return self

    def tokenize(self, text):
        return text.split()


class _Entry:
    def __init__(self, id, text, theme_key=None):
        self.id, self.text, self.theme_key = id, text, theme_key


def test_a_new_text_joins_the_nearest_signature_of_its_stratum():
    from perception.analysis.services.text_incremental import JOIN_SIMILARITY, place_themes

    signatures = {"A": {"vpn": 0.8, "remote": 0.6}, "B": {"printer": 1.0}, "C": {"vpn": 1.0}}
    old = [_Entry(1, "vpn remote", "A"), _Entry(2, "printer jam", "B"), _Entry(3, "vpn down", "C")]
    strata = {1: "need", 2: "need", 3: "low", 10: "need", 11: "need", 12: "need", 13: "low"}
    new = [
        _Entry(10, "vpn vpn remote"),
        _Entry(11, "coffee"),
        _Entry(12, "  PRINTER jam "),  # equal after normalisation to entry 2: its theme
        _Entry(13, "vpn remote"),  # stratum "low": only C is of that stratum
    ]
    placed = place_themes(new, old, strata, signatures, _SpaceTokenizer())
    # Hand-computed: profile vpn = 1 + ln 2, remote = 1; cosine with A 0.994, with C 0.861.
    profile = np.array([1 + math.log(2), 1.0])
    assert profile @ [0.8, 0.6] / np.linalg.norm(profile) == pytest.approx(0.9940, abs=1e-4)
    assert profile @ [1.0, 0.0] / np.linalg.norm(profile) == pytest.approx(0.8611, abs=1e-4)
    assert JOIN_SIMILARITY < 0.8611
    assert placed == {10: "A", 11: None, 12: "B", 13: "C"}
