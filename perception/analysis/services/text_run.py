"""The text-analysis run (background job ``run_text_analysis``, perception.analysis.jobs): themes
for the newest entries, then the category and sentiment classifiers trained on the users' labels,
evaluated by cross-validation and applied to every entry a person has not labelled.

Steps: read (id, text, kind) of the newest ``max_entries`` TextEntry rows and the rating each
comment came with (``text_ratings``); discover themes keeping the stored ThemeDecisions
(scoring.text.discover_themes), requirements apart from comments and comments apart by the band
of their rating, so praise never absorbs a need; replace the TextTheme rows; re-apply user labels
(TextLabel, matched by source, source id and text); train a classifier per target on the users'
labels and, for sentiment, on the labels the ratings give (low negative, high positive), evaluated
on the distinct labelled texts by cross-validation and on a held-back share it never trains on;
predict the rest; write back only the rows whose theme or labels changed (executemany UPDATE by
primary key). How far the run is goes to the job runner (perception.core.jobs.progress.report);
outside a job that report does nothing.

Categories out of the box: the built-in categories (scoring.text.categories) are added to the
organisation's list once, and every text no person labelled may carry a derived category: the
feedback dimension of the field it was written in, the dimension its low rating was on, or the
seed words of exactly one category (``text_categories``). The category classifier learns from
people's labels and those derived labels, so a new organisation has categories (and a model
card for them) before anyone labels a text.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from perception.analysis.models import (
    LabelSource,
    TextAnalysisRun,
    TextClassifierModel,
    TextLabel,
    TextRunStatus,
    TextTheme,
)
from perception.analysis.services.text_categories import (
    derived_categories,
    ensure_builtin_categories,
    seed_blanker,
)
from perception.analysis.services.text_ratings import comment_ratings, stratum, thresholds
from perception.analysis.services.text_settings import decisions, get_settings, save_decisions, tokenizer
from perception.core.jobs.progress import report as report_progress
from perception.core.models.base import utcnow
from perception.core.models.facts import TextEntry, TextKind
from scoring.text import Tokenizer, discover_themes, train_classifier
from scoring.text.categories import NEED, VOICE, default_categories
from scoring.text.classify import distinct_labelled, evaluate_classifier

log = logging.getLogger(__name__)

TARGETS = ("category", "sentiment")
MIN_PER_LABEL = 3
MAX_FOLDS = 5
WRITE_CHUNK = 5000
MAX_DERIVED_LABELS = 4000  # distinct texts with a derived label a model learns from, at most


def text_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


@dataclass
class _Entry:
    id: int
    source: str
    source_id: int
    kind: str
    dimension: str | None
    text: str
    theme_key: str | None
    category: str | None
    sentiment: str | None
    confidence: float | None
    label_source: str | None


@dataclass(frozen=True)
class RunResult:
    run_id: int
    n_entries: int
    n_themes: int
    n_changed: int
    seconds: float
    cv: dict[str, float | None]


def _load_entries(session: Session, limit: int) -> list[_Entry]:
    stmt = (
        select(
            TextEntry.id,
            TextEntry.source,
            TextEntry.source_id,
            TextEntry.kind,
            TextEntry.dimension,
            TextEntry.text,
            TextEntry.theme_key,
            TextEntry.category,
            TextEntry.sentiment,
            TextEntry.confidence,
            TextEntry.label_source,
        )
        .order_by(TextEntry.period_start.desc(), TextEntry.id.desc())
        .limit(limit)
    )
    return [_Entry(*tuple(row)) for row in session.execute(stmt)]


def _user_labels(session: Session) -> dict[tuple[str, int, str], tuple[str | None, str | None]]:
    rows = session.execute(
        select(
            TextLabel.source,
            TextLabel.source_id,
            TextLabel.text_hash,
            TextLabel.category,
            TextLabel.sentiment,
        )
    )
    return {(s, i, h): (c, m) for s, i, h, c, m in rows}


def _training_set(
    session: Session, target: str, derived: dict[int, str], entries: Sequence[_Entry]
) -> tuple[list[str], list[str], int]:
    """The texts and labels to learn ``target`` from, and how many of them were derived.

    People's labels come first (in label order: the folds and the fitted model depend on the order
    of the texts, and PostgreSQL returns unordered rows in whatever order the heap holds them);
    then each text no person labelled adds its derived label (sentiment: the rating's; category:
    the field's or low rating's dimension, or the seed words').
    """
    column = TextLabel.category if target == "category" else TextLabel.sentiment
    stmt = select(TextLabel.text, column).where(column.is_not(None)).order_by(TextLabel.id)
    rows = [(t, str(c)) for t, c in session.execute(stmt)]
    from_derived = 0
    labelled = {text_hash(t) for t, _ in rows}
    candidates: dict[str, tuple[str, str]] = {}
    for e in entries:
        label = derived.get(e.id)
        digest = text_hash(e.text)
        if label is not None and digest not in labelled:
            candidates.setdefault(digest, (e.text, label))
    # A fixed sample (by text hash, so re-runs agree) keeps training and cross-validation
    # within seconds on 100,000 texts; people's labels are always all kept.
    room = max(0, MAX_DERIVED_LABELS - len(rows))
    for digest in sorted(candidates)[:room]:
        rows.append(candidates[digest])
        from_derived += 1
    counts: dict[str, int] = {}
    for _, label in rows:
        counts[label] = counts.get(label, 0) + 1
    # A label is learnt from at least two distinct texts (a sentence repeated ten times teaches,
    # and tests, one thing), so the evaluation can keep one apart.
    _, distinct = distinct_labelled([t for t, _ in rows], [label for _, label in rows])
    keep = {label for label, c in counts.items() if c >= MIN_PER_LABEL and distinct.count(label) >= 2}
    if len(keep) < 2:
        return [], [], 0
    texts = [t for t, label in rows if label in keep]
    labels = [label for _, label in rows if label in keep]
    from_derived = sum(1 for _, label in rows[len(rows) - from_derived :] if label in keep)
    return texts, labels, from_derived


def _train(
    session: Session,
    target: str,
    tok: Tokenizer,
    review_threshold: float,
    derived: dict[int, str],
    entries: Sequence[_Entry],
) -> Any:
    """Train and evaluate one target's classifier; store it with its model-card figures."""
    texts, labels, from_ratings = _training_set(session, target, derived, entries)
    stored = session.scalar(select(TextClassifierModel).where(TextClassifierModel.target == target))
    if not texts:
        if stored is not None:
            session.delete(stored)
        return None
    cues = target == "sentiment"
    view = seed_blanker(session) if target == "category" else None
    try:
        report = evaluate_classifier(texts, labels, tok, folds=MAX_FOLDS, sentiment_cues=cues, test_view=view)
    except ValueError:  # too few distinct texts per label to evaluate: no model to trust yet
        if stored is not None:
            session.delete(stored)
        return None
    model = train_classifier(texts, labels, tok, review_threshold=review_threshold, sentiment_cues=cues)
    if stored is None:
        stored = TextClassifierModel(target=target)
        session.add(stored)
    stored.trained_at = utcnow()
    stored.n_labelled = len(texts)
    stored.labels = list(model.labels)
    stored.folds = report.folds
    stored.cv_accuracy = report.cv_balanced_accuracy
    stored.cv_accuracy_std = report.cv_balanced_accuracy_std
    stored.baseline_accuracy = 1.0 / len(report.labels)
    stored.per_class = []
    stored.evaluation = {
        "metric": "balanced_accuracy",
        "n_from_ratings": from_ratings,  # derived: ratings, form fields, seed words
        "n_from_people": len(texts) - from_ratings,
        "n_distinct": report.n_distinct,
        "n_held_back": report.n_held_back,
        "held_back": report.held_back_balanced_accuracy,
    }
    stored.model = model.to_bytes()
    return model


def _category_predictions(
    model: Any, entries: Sequence[_Entry], texts: list[str]
) -> list[tuple[str | None, float]]:
    """The most probable category of each text's own family: a requirement takes a kind of need
    (or a category of the organisation's own), a comment a feedback dimension (or its own), never
    the other family's built-in category (None when the model knows none of its family);
    confidence is the probability the model gives it."""
    import numpy as np

    proba = model.predict_proba(texts)
    family = {c.code: c.family for c in default_categories()}
    labels = list(model.labels)
    need = np.array([family.get(label) != VOICE for label in labels])
    voice = np.array([family.get(label) != NEED for label in labels])
    out: list[tuple[str | None, float]] = []
    for e, row in zip(entries, proba, strict=True):
        allowed = need if e.kind == TextKind.REQUIREMENT else voice
        if not allowed.any():
            out.append((None, 1.0))
            continue
        masked = np.where(allowed, row, -1.0)
        best = int(masked.argmax())
        out.append((labels[best], float(row[best])))
    return out


def _replace_themes(session: Session, model: Any, run_id: int) -> None:
    session.execute(delete(TextTheme))
    session.add_all(
        TextTheme(
            key=theme.key,
            name=theme.name,
            top_terms=list(theme.top_terms),
            top_terms_en=list(theme.top_terms_en),
            size=theme.size,
            example_ids=[int(i) for i in theme.example_ids],
            run_id=run_id,
        )
        for theme in model.themes
    )


def _write(session: Session, changes: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(changes), WRITE_CHUNK):
        session.execute(update(TextEntry), list(changes[start : start + WRITE_CHUNK]))


def run_text_analysis(session: Session, requested_by_id: int | None = None) -> RunResult:
    """Re-run themes and classification over the newest entries (see module docstring)."""
    started = time.perf_counter()
    settings = get_settings(session)
    run = TextAnalysisRun(requested_by_id=requested_by_id)
    session.add(run)
    session.flush()
    report_progress("loading", 0, 5)
    entries = _load_entries(session, settings.max_entries)
    rated = comment_ratings(session, [(e.id, e.source, e.source_id, e.kind) for e in entries])
    tok = tokenizer(session)
    strata = [stratum(e.kind, rated.get(e.id)) for e in entries]
    report_progress("themes", 1, 5)
    theme_model = discover_themes(
        [e.text for e in entries],
        [e.id for e in entries],
        tok,
        k=settings.theme_count,
        decisions=decisions(session),
        strata=strata,
        thresholds=thresholds(strata),
    )
    save_decisions(session, theme_model.decisions)
    _replace_themes(session, theme_model, run.id)
    theme_of = theme_model.theme_of()

    report_progress("training", 2, 5)
    user = _user_labels(session)
    ensure_builtin_categories(session)
    categorised = derived_categories(
        session, [(e.id, e.source, e.source_id, e.kind, e.dimension, e.text) for e in entries]
    )
    derived = {"category": {i: d.category for i, d in categorised.items()}, "sentiment": rated}
    # The field's or the low rating's dimension is what the text is about; seed words only teach.
    known = {i: d.category for i, d in categorised.items() if d.origin != "seed"}
    models = {t: _train(session, t, tok, settings.review_threshold, derived[t], entries) for t in TARGETS}
    new: dict[int, dict[str, Any]] = {}
    to_predict: list[_Entry] = []
    for e in entries:
        row: dict[str, Any] = {"theme_key": theme_of.get(e.id)}
        label = user.get((e.source, e.source_id, text_hash(e.text)))
        if label is not None:
            row.update(category=label[0], sentiment=label[1], confidence=1.0, label_source=LabelSource.USER)
        elif e.id in rated:  # the comment's own rating says how it feels; the model gives the category
            row.update(
                category=known.get(e.id),
                sentiment=rated[e.id],
                confidence=1.0,
                label_source=LabelSource.RATING,
            )
            to_predict.append(e)
        else:
            to_predict.append(e)
            row.update(category=known.get(e.id), sentiment=None, confidence=None, label_source=None)
        new[e.id] = row
    texts = [e.text for e in to_predict]
    report_progress("predicting", 3, 5)
    for target, model in models.items():
        if model is None or not texts:
            continue
        predicted: list[tuple[str | None, float]] = (
            _category_predictions(model, to_predict, texts) if target == "category" else model.predict(texts)
        )
        for e, (guess, confidence) in zip(to_predict, predicted, strict=True):
            row = new[e.id]
            if target == "sentiment" and row["label_source"] == LabelSource.RATING:
                continue
            if target == "category" and (e.id in known or guess is None):
                continue
            row[target] = guess
            row["confidence"] = (
                confidence if row["confidence"] is None else min(row["confidence"], confidence)
            )
            if row["label_source"] != LabelSource.RATING:
                row["label_source"] = LabelSource.MODEL
    changes = []
    for e in entries:
        row = new[e.id]
        current = (e.theme_key, e.category, e.sentiment, e.confidence, e.label_source)
        wanted = (row["theme_key"], row["category"], row["sentiment"], row["confidence"], row["label_source"])
        if current != wanted:
            changes.append({"id": e.id, **row})
    report_progress("writing", 4, 5)
    _write(session, changes)

    seconds = time.perf_counter() - started
    run.finished_at = utcnow()
    run.status = TextRunStatus.DONE
    run.n_entries = len(entries)
    run.n_themes = len(theme_model.themes)
    run.k_rule = theme_model.k_rule
    run.seconds = seconds
    cv = {
        t: session.scalar(select(TextClassifierModel.cv_accuracy).where(TextClassifierModel.target == t))
        for t in TARGETS
    }
    run.detail = f"changed={len(changes)} k={theme_model.n_components}"
    session.flush()
    log.info("text analysis: %d entries, %d themes, %.1f s", len(entries), len(theme_model.themes), seconds)
    return RunResult(run.id, len(entries), len(theme_model.themes), len(changes), seconds, cv)
