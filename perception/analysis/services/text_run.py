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
primary key). The tokens and the classifier features of the window's texts are kept for the next
full run (text_tokens, text_features), which segments and featurises only texts it has not seen.
A run that finds only new entries since the last one places them in the stored themes and
predicts them with the stored models (text_incremental says what that gives and when a full
recompute runs instead); ``full=True`` forces the full recompute. How far the run is goes to the
job runner (perception.core.jobs.progress.report); outside a job that report does nothing.

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
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from perception.analysis.models import (
    LabelSource,
    TextAnalysisRun,
    TextCategory,
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
from perception.analysis.services.text_features import load_features, store_features
from perception.analysis.services.text_incremental import (
    Basis,
    digest_sum,
    entry_digest,
    full_due,
    place_themes,
)
from perception.analysis.services.text_ratings import comment_ratings, stratum, thresholds
from perception.analysis.services.text_settings import decisions, get_settings, save_decisions, tokenizer
from perception.analysis.services.text_tokens import load_tokens, store_tokens
from perception.core.jobs.progress import report as report_progress
from perception.core.models.base import utcnow
from perception.core.models.facts import TextEntry, TextKind
from scoring.text import Tokenizer, discover_themes, train_classifier
from scoring.text.categories import NEED, VOICE, default_categories
from scoring.text.classify import FeatureCache, TextClassifier, distinct_labelled, evaluate_classifier

log = logging.getLogger(__name__)

TARGETS = ("category", "sentiment")
MIN_PER_LABEL = 3
MAX_FOLDS = 5
WRITE_CHUNK = 5000
MAX_DERIVED_LABELS = 4000  # distinct texts with a derived label a model learns from, at most
MAX_EVALUATED = 1500  # distinct labelled texts the model card's cross-validation uses, at most
#: Bump when the analysis (tokeniser data, clustering, classifier) changes what a run produces:
#: stored results with another version's digest are recomputed.
ANALYSIS_VERSION = "2026-12-06-stable-sample"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def _digest(*parts: object) -> str:
    """A digest of what a result depends on (with the analysis's version), to tell whether a
    stored result can stand."""
    h = hashlib.sha256(f"{ANALYSIS_VERSION}\x1f{_library_versions()}".encode())
    for part in parts:
        h.update(b"\x1e")
        h.update(str(part).encode("utf-8"))
    return h.hexdigest()


@lru_cache(maxsize=1)
def _library_versions() -> str:
    """The libraries' versions and a digest of the shipped word lists (scoring/text/data)."""
    from importlib import resources
    from importlib.metadata import version

    data = hashlib.sha256()
    for item in sorted(resources.files("scoring.text").joinpath("data").iterdir(), key=lambda p: p.name):
        if item.is_file():
            data.update(item.name.encode() + b"\0" + item.read_bytes())
    names = ("scikit-learn", "jieba", "stopwordsiso", "numpy", "scipy")
    versions = " ".join(f"{name}={version(name)}" for name in names)
    return f"{versions} data={data.hexdigest()}"


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


def _load_entries(session: Session, limit: int, offset: int = 0, below: int | None = None) -> list[_Entry]:
    """The newest ``limit`` entries (after ``offset``; only ids up to ``below`` when given)."""
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
        .offset(offset)
    )
    if below is not None:
        stmt = stmt.where(TextEntry.id <= below)
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
    cache: FeatureCache,
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
    pattern = view.pattern if view else ""
    digest = _digest(target, review_threshold, tok.user_words, pattern, len(texts), *texts, *labels)
    if stored is not None and stored.model and (stored.evaluation or {}).get("training_digest") == digest:
        # The same labels as the stored model's: it and its figures stand (training and
        # cross-validation are most of a run's time).
        return TextClassifier.from_bytes(stored.model)
    report = _evaluate(texts, labels, tok, cues, view, cache)
    if report is None:  # too few distinct texts per label to evaluate: no model to trust yet
        if stored is not None:
            session.delete(stored)
        return None
    model = train_classifier(
        texts, labels, tok, review_threshold=review_threshold, sentiment_cues=cues, cache=cache
    )
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
        "training_digest": digest,
    }
    stored.model = model.to_bytes()
    return model


def _evaluate(
    texts: list[str], labels: list[str], tok: Tokenizer, cues: bool, view: Any, cache: FeatureCache
) -> Any:
    """The model card's figures: cross-validated and held-back balanced accuracy on at most
    MAX_EVALUATED distinct labelled texts (people's labels first, then derived ones in their fixed
    order); on all of them when fewer keep every label evaluable. Each of the six fits costs
    about as much as training on its texts, so at 100,000 entries this bounds most of the run;
    the model itself learns from every text of the training set. None: not evaluable."""
    distinct_texts, distinct = distinct_labelled(texts, labels)
    options = [(texts, labels)]
    if len(distinct_texts) > MAX_EVALUATED:
        # Each label keeps its share of the texts (at least ten), the first in order.
        counts: dict[str, int] = {}
        for label in distinct:
            counts[label] = counts.get(label, 0) + 1
        room = {label: max(10, math.ceil(MAX_EVALUATED * c / len(distinct))) for label, c in counts.items()}
        chosen = []
        for i, label in enumerate(distinct):
            if room[label] > 0:
                room[label] -= 1
                chosen.append(i)
        options.insert(0, ([distinct_texts[i] for i in chosen], [distinct[i] for i in chosen]))
    for some_texts, some_labels in options:
        try:
            return evaluate_classifier(
                some_texts,
                some_labels,
                tok,
                folds=MAX_FOLDS,
                sentiment_cues=cues,
                test_view=view,
                cache=cache,
            )
        except ValueError:
            continue
    return None


def _category_predictions(
    model: Any, entries: Sequence[_Entry], texts: list[str], cache: FeatureCache
) -> list[tuple[str | None, float]]:
    """The most probable category of each text's own family: a requirement takes a kind of need
    (or a category of the organisation's own), a comment a feedback dimension (or its own), never
    the other family's built-in category (None when the model knows none of its family);
    confidence is the probability the model gives it."""
    import numpy as np

    proba = model.predict_proba(texts, cache)
    family = {c.code: c.family for c in default_categories()}
    labels = list(model.labels)
    need = np.array([family.get(label) != VOICE for label in labels])
    voice = np.array([family.get(label) != NEED for label in labels])
    # One array operation for all texts (a Python loop over 60,000 rows was a second of a run).
    requirement = np.array([e.kind == TextKind.REQUIREMENT for e in entries], dtype=bool)
    allowed = np.where(requirement[:, None], need[None, :], voice[None, :])
    best = np.where(allowed, proba, -1.0).argmax(axis=1)
    confidence: list[float] = proba[np.arange(len(entries)), best].tolist()
    known: list[bool] = np.asarray(allowed.any(axis=1), dtype=bool).tolist()
    return [
        (labels[b], float(c)) if k else (None, 1.0)
        for b, c, k in zip(best.tolist(), confidence, known, strict=True)
    ]


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
    """Write the changed rows: on PostgreSQL one UPDATE ... FROM unnest(arrays) per chunk (a
    set-based statement; the row-by-row executemany cost several seconds at 100,000 rows),
    elsewhere an executemany UPDATE by primary key."""
    if session.get_bind().dialect.name != "postgresql":
        for start in range(0, len(changes), WRITE_CHUNK):
            session.execute(update(TextEntry), list(changes[start : start + WRITE_CHUNK]))
        return
    statement = text(
        "UPDATE text_entry AS t SET theme_key = v.theme_key, category = v.category, "
        "sentiment = v.sentiment, confidence = v.confidence, label_source = v.label_source "
        "FROM unnest(CAST(:ids AS integer[]), CAST(:keys AS varchar[]), CAST(:categories AS varchar[]), "
        "CAST(:sentiments AS varchar[]), CAST(:confidences AS double precision[]), "
        "CAST(:sources AS varchar[])) AS v(id, theme_key, category, sentiment, confidence, label_source) "
        "WHERE t.id = v.id"
    )
    for start in range(0, len(changes), WRITE_CHUNK):
        chunk = changes[start : start + WRITE_CHUNK]
        session.execute(
            statement,
            {
                "ids": [c["id"] for c in chunk],
                "keys": [c["theme_key"] for c in chunk],
                "categories": [c["category"] for c in chunk],
                "sentiments": [c["sentiment"] for c in chunk],
                "confidences": [c["confidence"] for c in chunk],
                "sources": [None if c["label_source"] is None else str(c["label_source"]) for c in chunk],
            },
        )


def _expire_written(session: Session, changes: Sequence[dict[str, Any]]) -> None:
    """Entries this session already holds forget what the set-based UPDATE replaced: it went
    past the ORM, so a caller reading them in the same session (a CLI command, a test, the
    review built right after a run) would otherwise see the values from before the run."""
    written = {c["id"] for c in changes}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, TextEntry) and obj.id in written:
            session.expire(obj, ["theme_key", "category", "sentiment", "confidence", "label_source"])


def _context(session: Session, settings: Any, decisions_json: str) -> str:
    """The digest of what a run reads besides the entries: settings, word lists (through the
    analysis's version), theme decisions, active categories and people's labels."""
    labels = session.execute(
        select(TextLabel.id, TextLabel.text_hash, TextLabel.category, TextLabel.sentiment).order_by(
            TextLabel.id
        )
    ).all()
    active = sorted(session.scalars(select(TextCategory.code).where(TextCategory.active.is_(True))))
    return _digest(
        settings.theme_count,
        settings.review_threshold,
        settings.user_words,
        settings.max_entries,
        decisions_json,
        active,
        labels,
    )


def _entry_digests(
    entries: Sequence[_Entry],
    rated: dict[int, str],
    categorised: dict[int, Any],
    outputs: Sequence[tuple[Any, ...]],
) -> dict[int, int]:
    return {
        e.id: entry_digest(e, rated.get(e.id), categorised.get(e.id), output)
        for e, output in zip(entries, outputs, strict=True)
    }


def _inputs(context: str, digests: dict[int, int]) -> str:
    """The digest of everything a run reads and of what the entries hold afterwards: when the
    next run finds the same, nothing has changed and the stored results stand."""
    return _digest(context, digest_sum(digests.values()))


def _output(theme_key: Any, category: Any, sentiment: Any, confidence: Any, source: Any) -> tuple[Any, ...]:
    """An entry's results as plain values (a label source read back is a str, not the enum)."""
    return (theme_key, category, sentiment, confidence, None if source is None else str(source))


def _current_outputs(entries: Sequence[_Entry]) -> list[tuple[Any, ...]]:
    return [_output(e.theme_key, e.category, e.sentiment, e.confidence, e.label_source) for e in entries]


def _unchanged(
    session: Session, run: TextAnalysisRun, previous: TextAnalysisRun, n: int, started: float
) -> RunResult:
    """Record a run that found nothing changed since ``previous`` (its themes and labels stand)."""
    run.finished_at = utcnow()
    run.status = TextRunStatus.DONE
    run.n_entries = n
    run.n_themes = previous.n_themes
    run.k_rule = previous.k_rule
    run.input_digest = previous.input_digest
    run.basis = previous.basis
    run.seconds = time.perf_counter() - started
    run.detail = f"unchanged since run {previous.id}"
    session.flush()
    log.info("text analysis: %d entries unchanged since run %d", n, previous.id)
    return RunResult(run.id, n, previous.n_themes, 0, run.seconds, _cv(session))


def _cv(session: Session) -> dict[str, float | None]:
    return {
        t: session.scalar(select(TextClassifierModel.cv_accuracy).where(TextClassifierModel.target == t))
        for t in TARGETS
    }


@dataclass
class _Inputs:
    """What a run read: the entries of the window, their ratings' sentiment and derived
    categories, the per-entry digests (with the results they hold) and the context digest."""

    entries: list[_Entry]
    rated: dict[int, str]
    categorised: dict[int, Any]
    digests: dict[int, int]
    context: str


def _read(session: Session, settings: Any, limit: int, offset: int = 0, below: int | None = None) -> _Inputs:
    entries = _load_entries(session, limit, offset=offset, below=below)
    rated = comment_ratings(session, [(e.id, e.source, e.source_id, e.kind) for e in entries])
    categorised = derived_categories(
        session, [(e.id, e.source, e.source_id, e.kind, e.dimension, e.text) for e in entries]
    )
    digests = _entry_digests(entries, rated, categorised, _current_outputs(entries))
    return _Inputs(entries, rated, categorised, digests, "")


def _incremental_plan(
    session: Session, settings: Any, now_read: _Inputs, previous: TextAnalysisRun
) -> tuple[Basis, list[_Entry], list[_Entry]] | None:
    """(basis, old entries, new entries) when only new entries arrived since ``previous`` and the
    schedule does not ask for a full recompute; else None (text_incremental's docstring)."""
    basis = Basis.from_json(previous.basis)
    if basis is None or basis.context != now_read.context:
        return None
    old = [e for e in now_read.entries if e.id <= basis.max_entry_id]
    new = [e for e in now_read.entries if e.id > basis.max_entry_id]
    if not new or full_due(basis, len(new), len(now_read.entries), utcnow()):
        return None
    # The oldest entries of the basis's window that the new ones pushed out still count in its sum.
    left = []
    if basis.n_entries > len(old):
        left = list(
            _read(
                session, settings, basis.n_entries - len(old), len(old), basis.max_entry_id
            ).digests.values()
        )
    total = digest_sum([*(now_read.digests[e.id] for e in old), *left])
    if total != basis.entries:
        return None
    return basis, old, new


def _rows(
    entries: Sequence[_Entry],
    theme_of: dict[Any, str | None],
    user: dict[tuple[str, int, str], tuple[str | None, str | None]],
    rated: dict[int, str],
    known: dict[int, str],
    models: dict[str, Any],
    cache: FeatureCache,
) -> dict[int, dict[str, Any]]:
    """Each entry's results: its theme; a person's label, else its rating's sentiment and its
    field's category, else the classifiers' predictions."""
    new: dict[int, dict[str, Any]] = {}
    to_predict: dict[str, list[_Entry]] = {t: [] for t in TARGETS}
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
            if e.id not in known:
                to_predict["category"].append(e)
        else:
            row.update(category=known.get(e.id), sentiment=None, confidence=None, label_source=None)
            if e.id not in known:
                to_predict["category"].append(e)
            to_predict["sentiment"].append(e)
        new[e.id] = row
    report_progress("predicting", 3, 5)
    for target, model in models.items():
        todo = to_predict[target]
        if model is None or not todo:
            continue
        predicted = _predict(model, target, todo, cache)
        for e, (guess, confidence) in zip(todo, predicted, strict=True):
            if guess is None:
                continue
            row = new[e.id]
            row[target] = guess
            row["confidence"] = (
                confidence if row["confidence"] is None else min(row["confidence"], confidence)
            )
            if row["label_source"] != LabelSource.RATING:
                row["label_source"] = LabelSource.MODEL
    return new


def _changes(
    entries: Sequence[_Entry], new: dict[int, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """The rows whose results change, and every entry's results after the run (in order)."""
    changes = []
    outputs = []
    for e in entries:
        row = new[e.id]
        current = (e.theme_key, e.category, e.sentiment, e.confidence, e.label_source)
        wanted = (row["theme_key"], row["category"], row["sentiment"], row["confidence"], row["label_source"])
        outputs.append(_output(*wanted))
        if current != wanted:
            changes.append({"id": e.id, **row})
    return changes, outputs


def _known_categories(categorised: dict[int, Any]) -> dict[int, str]:
    # The field's or the low rating's dimension is what the text is about; seed words only teach.
    return {i: d.category for i, d in categorised.items() if d.origin != "seed"}


def _finish(
    session: Session,
    run: TextAnalysisRun,
    read: _Inputs,
    outputs: Sequence[tuple[Any, ...]],
    context: str,
    basis: Basis,
    started: float,
) -> None:
    digests = _entry_digests(read.entries, read.rated, read.categorised, outputs)
    run.finished_at = utcnow()
    run.status = TextRunStatus.DONE
    run.n_entries = len(read.entries)
    run.seconds = time.perf_counter() - started
    run.input_digest = _inputs(context, digests)
    run.basis = replace(
        basis,
        context=context,
        entries=digest_sum(digests.values()),
        max_entry_id=max((e.id for e in read.entries), default=0),
        n_entries=len(read.entries),
    ).to_json()


def _incremental_run(
    session: Session,
    run: TextAnalysisRun,
    read: _Inputs,
    plan: tuple[Basis, list[_Entry], list[_Entry]],
    settings: Any,
    started: float,
) -> RunResult:
    """Place the new entries in the stored themes and predict them with the stored models."""
    basis, old, new = plan
    report_progress("themes", 1, 5)
    themes = {t.key: t for t in session.scalars(select(TextTheme))}
    signatures = {key: terms for key, terms in decisions(session).signature_map().items() if key in themes}
    strata = {e.id: stratum(e.kind, read.rated.get(e.id)) for e in read.entries}
    theme_of: dict[Any, str | None] = dict(place_themes(new, old, strata, signatures, tokenizer(session)))
    report_progress("training", 2, 5)
    models: dict[str, Any] = {}
    for stored in session.scalars(select(TextClassifierModel)):
        if stored.target in TARGETS and stored.model:
            models[stored.target] = TextClassifier.from_bytes(stored.model)
    rows = _rows(
        new,
        theme_of,
        _user_labels(session),
        read.rated,
        _known_categories(read.categorised),
        models,
        FeatureCache(tokenizer(session)),
    )
    changes, new_outputs = _changes(new, rows)
    report_progress("writing", 4, 5)
    _write(session, changes)
    _expire_written(session, changes)
    # A theme's size counts the entries of the window in it (those that left no longer count).
    placed = dict(zip((e.id for e in new), new_outputs, strict=True))
    outputs = [
        placed.get(e.id) or _output(e.theme_key, e.category, e.sentiment, e.confidence, e.label_source)
        for e in read.entries
    ]
    sizes = Counter(output[0] for output in outputs if output[0] is not None)
    for key, theme in themes.items():
        if theme.size != sizes.get(key, 0):
            theme.size = sizes.get(key, 0)
    run.n_themes = len(themes)
    run.k_rule = "incremental"
    run.detail = f"incremental: {len(new)} new since run {basis.full_run_id}, changed={len(changes)}"
    _finish(
        session,
        run,
        read,
        outputs,
        read.context,
        replace(basis, since_full=basis.since_full + len(new)),
        started,
    )
    session.flush()
    log.info("text analysis: %d new of %d entries placed incrementally", len(new), len(read.entries))
    return RunResult(run.id, len(read.entries), len(themes), len(changes), run.seconds or 0.0, _cv(session))


def run_text_analysis(
    session: Session, requested_by_id: int | None = None, *, full: bool = False
) -> RunResult:
    """Re-run themes and classification over the newest entries (see module docstring); only
    the new entries when nothing else changed (text_incremental), unless ``full``.

    BLAS runs on one thread: the solver's and the clustering's vector operations are small, and
    OpenBLAS threads that wait for a busy core spun for most of a run's CPU time (logistic
    regression took 6-7 times the CPU with two threads on a loaded machine). The limit covers only
    the BLAS libraries loaded when it is set, and scipy brings its own OpenBLAS with
    scipy.optimize (the logistic regressions' solver): they are loaded first, or a worker's first
    run spun two threads in the solver (two thirds of a 100,000-entry run's CPU)."""
    import scipy.optimize  # noqa: F401 - loads scipy's OpenBLAS before the limit is set
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _run_text_analysis(session, requested_by_id, full)


def _run_text_analysis(session: Session, requested_by_id: int | None, full: bool) -> RunResult:
    started = time.perf_counter()
    settings = get_settings(session)
    run = TextAnalysisRun(requested_by_id=requested_by_id)
    session.add(run)
    session.flush()
    report_progress("loading", 0, 5)
    ensure_builtin_categories(session)
    read = _read(session, settings, settings.max_entries)
    read.context = _context(session, settings, settings.decisions_json or "")
    entries, rated, categorised = read.entries, read.rated, read.categorised
    previous = session.scalar(
        select(TextAnalysisRun)
        .where(TextAnalysisRun.status == TextRunStatus.DONE, TextAnalysisRun.id != run.id)
        .order_by(TextAnalysisRun.id.desc())
        .limit(1)
    )
    if previous is not None and previous.input_digest is not None and not full:
        if _inputs(read.context, read.digests) == previous.input_digest:
            return _unchanged(session, run, previous, len(entries), started)
        plan = _incremental_plan(session, settings, read, previous)
        if plan is not None:
            return _incremental_run(session, run, read, plan, settings, started)
    tok = tokenizer(session)
    known = load_tokens(session, tok)  # the texts an earlier run segmented (text_tokens)
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
    derived = {"category": {i: d.category for i, d in categorised.items()}, "sentiment": rated}
    # Both classifiers, every fold and the predictions share the counts of each distinct text,
    # computed once, or stored by an earlier full run (text_features).
    cache = FeatureCache(tok)
    known_rows = load_features(session, cache)
    models = {
        t: _train(session, t, tok, settings.review_threshold, derived[t], entries, cache) for t in TARGETS
    }
    rows = _rows(entries, theme_of, user, rated, _known_categories(categorised), models, cache)
    changes, outputs = _changes(entries, rows)
    report_progress("writing", 4, 5)
    _write(session, changes)
    _expire_written(session, changes)
    store_tokens(session, tok, (e.text for e in entries), known)
    store_features(session, cache, (e.text for e in entries), known_rows)

    run.n_themes = len(theme_model.themes)
    run.k_rule = theme_model.k_rule
    run.detail = f"changed={len(changes)} k={theme_model.n_components}"
    session.flush()
    context = _context(session, settings, theme_model.decisions.to_json())
    basis = Basis(context, "", 0, 0, run.id, utcnow().isoformat(), 0)
    _finish(session, run, read, outputs, context, basis, started)
    session.flush()
    log.info(
        "text analysis: %d entries, %d themes, %.1f s",
        len(entries),
        len(theme_model.themes),
        run.seconds or 0.0,
    )
    return RunResult(
        run.id, len(entries), len(theme_model.themes), len(changes), run.seconds or 0.0, _cv(session)
    )


def _predict(
    model: Any, target: str, entries: Sequence[_Entry], cache: FeatureCache
) -> list[tuple[str | None, float]]:
    """The model's label and confidence for each entry, each distinct text computed once."""
    first: dict[tuple[str, str], int] = {}
    unique: list[_Entry] = []
    for e in entries:
        key = (e.kind if target == "category" else "", e.text)
        if key not in first:
            first[key] = len(unique)
            unique.append(e)
    texts = [e.text for e in unique]
    predicted: list[tuple[str | None, float]] = (
        _category_predictions(model, unique, texts, cache)
        if target == "category"
        else list(model.predict(texts, cache))
    )
    return [predicted[first[(e.kind if target == "category" else "", e.text)]] for e in entries]
