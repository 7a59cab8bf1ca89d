"""People's labels on texts (category and sentiment) and the review queue of low-confidence
predictions. A label or a correction is stored as a TextLabel (training data for the next run)
and applied to the entry at once (label_source "user").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.analysis.models import LabelSource, Sentiment, TextClassifierModel, TextLabel
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.analysis.services.text_run import text_hash
from perception.analysis.services.text_settings import TextAnalysisError, categories, get_settings
from perception.core.models.facts import TextEntry


def label_entry(
    session: Session,
    entry: TextEntry,
    *,
    category: str | None,
    sentiment: str | None,
    user_id: int | None,
) -> TextLabel:
    """Store a person's category and/or sentiment for ``entry`` (the caller checked its scope)."""
    category = (category or "").strip() or None
    sentiment = (sentiment or "").strip() or None
    if category is None and sentiment is None:
        raise TextAnalysisError.one(
            "category", "请选择类别或情感", "choose a category or a sentiment", code="required"
        )
    if category is not None and category not in {c.code for c in categories(session)}:
        raise TextAnalysisError.one(
            "category", f"未知类别“{category}”", f"unknown category {category!r}", code="unknown_category"
        )
    if sentiment is not None and sentiment not in tuple(Sentiment):
        raise TextAnalysisError.one(
            "sentiment",
            f"未知情感“{sentiment}”",
            f"unknown sentiment {sentiment!r}",
            code="unknown_sentiment",
        )
    digest = text_hash(entry.text)
    label = session.scalar(
        select(TextLabel).where(
            TextLabel.source == entry.source,
            TextLabel.source_id == entry.source_id,
            TextLabel.text_hash == digest,
        )
    )
    if label is None:
        label = TextLabel(
            source=entry.source,
            source_id=entry.source_id,
            text_hash=digest,
            text=entry.text,
            region_id=entry.region_id,
        )
        session.add(label)
    label.text_entry_id = entry.id
    label.category = category if category is not None else label.category
    label.sentiment = sentiment if sentiment is not None else label.sentiment
    label.labelled_by_id = user_id
    entry.category = label.category
    entry.sentiment = label.sentiment
    entry.confidence = 1.0
    entry.label_source = LabelSource.USER
    session.flush()
    return label


@dataclass(frozen=True)
class ClassifierStatus:
    target: str
    n_labelled: int
    labels: tuple[str, ...]
    folds: int | None
    cv_accuracy: float | None
    cv_accuracy_std: float | None
    baseline_accuracy: float | None
    per_class: tuple[dict[str, object], ...]
    trained_at: str | None
    # The model card (balanced accuracy; see TextClassifierModel.evaluation), None before a run.
    held_back_accuracy: float | None = None
    n_held_back: int = 0
    n_distinct: int = 0
    n_from_ratings: int = 0
    n_from_people: int = 0


def classifier_status(session: Session) -> dict[str, ClassifierStatus]:
    """The cross-validated accuracy of each trained classifier, for the UI and the API."""
    out: dict[str, ClassifierStatus] = {}
    labelled = {
        "category": session.scalar(select(func.count()).where(TextLabel.category.is_not(None))) or 0,
        "sentiment": session.scalar(select(func.count()).where(TextLabel.sentiment.is_not(None))) or 0,
    }
    for target in ("category", "sentiment"):
        m = session.scalar(select(TextClassifierModel).where(TextClassifierModel.target == target))
        out[target] = ClassifierStatus(
            target=target,
            n_labelled=int(labelled.get(target, 0)),
            labels=tuple(m.labels) if m else (),
            folds=m.folds if m else None,
            cv_accuracy=m.cv_accuracy if m else None,
            cv_accuracy_std=m.cv_accuracy_std if m else None,
            baseline_accuracy=m.baseline_accuracy if m else None,
            per_class=tuple(m.per_class) if m else (),
            trained_at=m.trained_at.isoformat() if m else None,
            **_card(m.evaluation if m else None),
        )
    return out


def _card(evaluation: dict[str, Any] | None) -> dict[str, Any]:
    e = evaluation or {}
    return {
        "held_back_accuracy": e.get("held_back"),
        "n_held_back": int(e.get("n_held_back") or 0),
        "n_distinct": int(e.get("n_distinct") or 0),
        "n_from_ratings": int(e.get("n_from_ratings") or 0),
        "n_from_people": int(e.get("n_from_people") or 0),
    }


def review_queue(
    session: Session, filters: AnalysisFilters, *, limit: int = 50, offset: int = 0
) -> list[TextEntry]:
    """Model predictions below the review threshold, least confident first, inside the filters."""
    threshold = get_settings(session).review_threshold
    stmt = (
        select(TextEntry)
        .where(
            *where_facts(TextEntry, filters),
            TextEntry.label_source == LabelSource.MODEL,
            TextEntry.confidence < threshold,
        )
        .order_by(TextEntry.confidence, TextEntry.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))


def review_queue_size(session: Session, filters: AnalysisFilters) -> int:
    threshold = get_settings(session).review_threshold
    return (
        session.scalar(
            select(func.count()).where(
                *where_facts(TextEntry, filters),
                TextEntry.label_source == LabelSource.MODEL,
                TextEntry.confidence < threshold,
            )
        )
        or 0
    )
