"""The text-analysis run (background job ``run_text_analysis``, perception.analysis.jobs): themes
for the newest entries, then the category and sentiment classifiers trained on the users' labels,
evaluated by cross-validation and applied to every entry a person has not labelled.

Steps: read (id, text) of the newest ``max_entries`` TextEntry rows; discover themes keeping the
stored ThemeDecisions (scoring.text.discover_themes); replace the TextTheme rows; re-apply user
labels (TextLabel, matched by source, source id and text); train and cross-validate a classifier
per target with at least two labels of three or more texts each; predict the rest; write back
only the rows whose theme or labels changed (executemany UPDATE by primary key).
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
from perception.analysis.services.text_settings import decisions, get_settings, save_decisions, tokenizer
from perception.core.jobs.progress import report as report_progress
from perception.core.models.base import utcnow
from perception.core.models.facts import TextEntry
from scoring.text import Tokenizer, cross_validated_accuracy, discover_themes, train_classifier

log = logging.getLogger(__name__)

TARGETS = ("category", "sentiment")
MIN_PER_LABEL = 3
MAX_FOLDS = 5
WRITE_CHUNK = 5000


def text_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


@dataclass
class _Entry:
    id: int
    source: str
    source_id: int
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
    return [_Entry(*row) for row in session.execute(stmt)]


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


def _training_set(session: Session, target: str) -> tuple[list[str], list[str]]:
    column = TextLabel.category if target == "category" else TextLabel.sentiment
    # In label order: the cross-validation folds and the fitted model depend on the order of the
    # texts, and PostgreSQL returns unordered rows in whatever order the heap holds them.
    stmt = select(TextLabel.text, column).where(column.is_not(None)).order_by(TextLabel.id)
    rows = [(t, str(c)) for t, c in session.execute(stmt)]
    counts: dict[str, int] = {}
    for _, label in rows:
        counts[label] = counts.get(label, 0) + 1
    keep = {label for label, c in counts.items() if c >= MIN_PER_LABEL}
    if len(keep) < 2:
        return [], []
    texts = [t for t, label in rows if label in keep]
    labels = [label for _, label in rows if label in keep]
    return texts, labels


def _train(session: Session, target: str, tok: Tokenizer, review_threshold: float) -> Any:
    """Train and cross-validate one target's classifier; store it with its CV figures."""
    texts, labels = _training_set(session, target)
    stored = session.scalar(select(TextClassifierModel).where(TextClassifierModel.target == target))
    if not texts:
        if stored is not None:
            session.delete(stored)
        return None
    smallest = min(labels.count(label) for label in set(labels))
    folds = max(2, min(MAX_FOLDS, smallest))
    cues = target == "sentiment"
    report = cross_validated_accuracy(texts, labels, tok, folds, sentiment_cues=cues)
    model = train_classifier(texts, labels, tok, review_threshold=review_threshold, sentiment_cues=cues)
    if stored is None:
        stored = TextClassifierModel(target=target)
        session.add(stored)
    stored.trained_at = utcnow()
    stored.n_labelled = len(texts)
    stored.labels = list(model.labels)
    stored.folds = report.folds
    stored.cv_accuracy = report.accuracy_mean
    stored.cv_accuracy_std = report.accuracy_std
    stored.baseline_accuracy = report.baseline_accuracy
    stored.per_class = [
        {"label": c.label, "precision": c.precision, "recall": c.recall, "support": c.support}
        for c in report.per_class
    ]
    stored.model = model.to_bytes()
    return model


def _replace_themes(session: Session, model: Any, run_id: int) -> None:
    session.execute(delete(TextTheme))
    session.add_all(
        TextTheme(
            key=theme.key,
            name=theme.name,
            top_terms=list(theme.top_terms),
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
    tok = tokenizer(session)
    report_progress("themes", 1, 5)
    theme_model = discover_themes(
        [e.text for e in entries],
        [e.id for e in entries],
        tok,
        k=settings.theme_count,
        decisions=decisions(session),
    )
    save_decisions(session, theme_model.decisions)
    _replace_themes(session, theme_model, run.id)
    theme_of = theme_model.theme_of()

    report_progress("training", 2, 5)
    user = _user_labels(session)
    models = {t: _train(session, t, tok, settings.review_threshold) for t in TARGETS}
    new: dict[int, dict[str, Any]] = {}
    to_predict: list[_Entry] = []
    for e in entries:
        row: dict[str, Any] = {"theme_key": theme_of.get(e.id)}
        label = user.get((e.source, e.source_id, text_hash(e.text)))
        if label is not None:
            row.update(category=label[0], sentiment=label[1], confidence=1.0, label_source=LabelSource.USER)
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
            row[target] = label
            row["confidence"] = (
                confidence if row["confidence"] is None else min(row["confidence"], confidence)
            )
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
