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
primary key). ``progress(share, step)``, when given, hears how far the run is.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
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
from perception.analysis.services.text_ratings import comment_ratings, stratum, thresholds
from perception.analysis.services.text_settings import decisions, get_settings, save_decisions, tokenizer
from perception.core.jobs.progress import report as report_progress
from perception.core.models.base import utcnow
from perception.core.models.facts import TextEntry
from scoring.text import Tokenizer, discover_themes, train_classifier
from scoring.text.classify import distinct_labelled, evaluate_classifier

Progress = Callable[[float, str], None]

log = logging.getLogger(__name__)

TARGETS = ("category", "sentiment")
MIN_PER_LABEL = 3
MAX_FOLDS = 5
WRITE_CHUNK = 5000
MAX_RATING_LABELS = 4000  # distinct rated comments the sentiment model learns from, at most


def text_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


@dataclass
class _Entry:
    id: int
    source: str
    source_id: int
    kind: str
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
    session: Session, target: str, rated: dict[int, str], entries: Sequence[_Entry]
) -> tuple[list[str], list[str], int]:
    """The texts and labels to learn ``target`` from, and how many labels the ratings gave.

    People's labels come first (in label order: the folds and the fitted model depend on the order
    of the texts, and PostgreSQL returns unordered rows in whatever order the heap holds them);
    for sentiment, each rated comment no person labelled adds the label its rating gives.
    """
    column = TextLabel.category if target == "category" else TextLabel.sentiment
    stmt = select(TextLabel.text, column).where(column.is_not(None)).order_by(TextLabel.id)
    rows = [(t, str(c)) for t, c in session.execute(stmt)]
    from_ratings = 0
    if target == "sentiment":
        labelled = {text_hash(t) for t, _ in rows}
        candidates: dict[str, tuple[str, str]] = {}
        for e in entries:
            label = rated.get(e.id)
            digest = text_hash(e.text)
            if label is not None and digest not in labelled:
                candidates.setdefault(digest, (e.text, label))
        # A fixed sample (by text hash, so re-runs agree) keeps training and cross-validation
        # within seconds on 100,000 comments; people's labels are always all kept.
        room = max(0, MAX_RATING_LABELS - len(rows))
        for digest in sorted(candidates)[:room]:
            rows.append(candidates[digest])
            from_ratings += 1
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
    return texts, labels, from_ratings


def _train(
    session: Session,
    target: str,
    tok: Tokenizer,
    review_threshold: float,
    rated: dict[int, str],
    entries: Sequence[_Entry],
) -> Any:
    """Train and evaluate one target's classifier; store it with its model-card figures."""
    texts, labels, from_ratings = _training_set(session, target, rated, entries)
    stored = session.scalar(select(TextClassifierModel).where(TextClassifierModel.target == target))
    if not texts:
        if stored is not None:
            session.delete(stored)
        return None
    cues = target == "sentiment"
    try:
        report = evaluate_classifier(texts, labels, tok, folds=MAX_FOLDS, sentiment_cues=cues)
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
        "n_from_ratings": from_ratings,
        "n_from_people": len(texts) - from_ratings,
        "n_distinct": report.n_distinct,
        "n_held_back": report.n_held_back,
        "held_back": report.held_back_balanced_accuracy,
    }
    stored.model = model.to_bytes()
    return model


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


def run_text_analysis(
    session: Session, requested_by_id: int | None = None, progress: Progress | None = None
) -> RunResult:
    """Re-run themes and classification over the newest entries (see module docstring)."""
    started = time.perf_counter()

    def report(share: float, step: str) -> None:
        if progress is not None:
            progress(share, step)

    settings = get_settings(session)
    run = TextAnalysisRun(requested_by_id=requested_by_id)
    session.add(run)
    session.flush()
    report_progress("loading", 0, 5)
    entries = _load_entries(session, settings.max_entries)
    rated = comment_ratings(session, [(e.id, e.source, e.source_id, e.kind) for e in entries])
    report(0.05, "loaded")
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
        progress=lambda share, step: report(0.05 + 0.6 * share, step),
    )
    save_decisions(session, theme_model.decisions)
    _replace_themes(session, theme_model, run.id)
    theme_of = theme_model.theme_of()

    report_progress("training", 2, 5)
    user = _user_labels(session)
    models = {t: _train(session, t, tok, settings.review_threshold, rated, entries) for t in TARGETS}
    report(0.85, "classifiers")
    new: dict[int, dict[str, Any]] = {}
    to_predict: list[_Entry] = []
    for e in entries:
        row: dict[str, Any] = {"theme_key": theme_of.get(e.id)}
        label = user.get((e.source, e.source_id, text_hash(e.text)))
        if label is not None:
            row.update(category=label[0], sentiment=label[1], confidence=1.0, label_source=LabelSource.USER)
        elif e.id in rated:  # the comment's own rating says how it feels; the model gives the category
            row.update(category=None, sentiment=rated[e.id], confidence=1.0, label_source=LabelSource.RATING)
            to_predict.append(e)
        else:
            to_predict.append(e)
            row.update(category=None, sentiment=None, confidence=None, label_source=None)
        new[e.id] = row
    texts = [e.text for e in to_predict]
    report_progress("predicting", 3, 5)
    for target, model in models.items():
        if model is None or not texts:
            continue
        for e, (label, confidence) in zip(to_predict, model.predict(texts), strict=True):
            row = new[e.id]
            if target == "sentiment" and row["label_source"] == LabelSource.RATING:
                continue
            row[target] = label
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
