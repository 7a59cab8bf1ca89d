"""Supervised classification of feedback and requirement texts (categories or sentiment).

Owns `train_classifier`, the `TextClassifier` it returns (predictions with confidence, a review
queue for low-confidence ones, serialisation to bytes) and `cross_validated_accuracy`.
Features (`scoring.text.classifier_features`): hashed counts of word unigrams and bigrams from the
`Tokenizer` and of character 1-3-grams (robust to Chinese segmentation errors and typos), and for
sentiment two cue-word counts (`sentiment_cues`); the counts are stateless, so `FeatureCache`
computes them once per distinct text of a run for both classifiers, every fold and the predictions,
or takes them from rows an earlier run stored (`feature_rows`, under `TextCounts.cache_key`).
TF-IDF per block is learnt on the training texts (terms no training text holds are no features).
Model: multinomial logistic regression on the columns the training texts use, whose predicted
probabilities are calibrated by construction because it minimises log-loss (scikit-learn user
guide, "Probability calibration").
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scoring.text.feature_rows import FeatureRows, text_digest
from scoring.text.themes import EntryId
from scoring.text.tokenizer import Tokenizer, normalise_text

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

__all__ = [
    "CVReport",
    "ClassReport",
    "Evaluation",
    "ReviewItem",
    "TextClassifier",
    "cross_validated_accuracy",
    "distinct_labelled",
    "evaluate_classifier",
    "rating_sentiment",
    "train_classifier",
]

_MAGIC = b"perception.text-classifier.v1\n"


@dataclass(frozen=True)
class ClassReport:
    """Out-of-fold precision TP/(TP+FP) and recall TP/(TP+FN) of one label (0 when undefined)."""

    label: str
    precision: float
    recall: float
    support: int


@dataclass(frozen=True)
class CVReport:
    """Stratified k-fold cross-validation of the classifier on a labelled set.

    `predicted` holds each text's out-of-fold prediction, in input order (for a confusion matrix).
    """

    accuracy_mean: float
    accuracy_std: float
    fold_accuracies: tuple[float, ...]
    per_class: tuple[ClassReport, ...]
    n: int
    folds: int
    baseline_accuracy: float
    predicted: tuple[str, ...]


@dataclass(frozen=True)
class ReviewItem:
    """A prediction whose confidence is below the review threshold, for a person to check."""

    entry_id: EntryId
    text: str
    label: str
    confidence: float


class FeatureCache:
    """`TextCounts` of the texts of one run, each distinct text computed once, or taken from rows
    stored by an earlier run under the same `key` (`remember`; `held` gives the rows to store)."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        from scoring.text.classifier_features import TextCounts

        self.counts = TextCounts(tokenizer)
        self._index: dict[str, int] = {}
        self._matrix: Any = None
        self._stored: FeatureRows | None = None
        self._stored_index: dict[bytes, int] = {}
        self.n_computed = 0  # texts whose features this cache computed (not remembered)

    def key(self) -> str:
        """The key rows must be stored under to be valid here (`TextCounts.cache_key`)."""
        return self.counts.cache_key()

    def remember(self, rows: FeatureRows) -> None:
        """Take rows an earlier run computed with a `TextCounts` of the same `key`: a text whose
        digest they hold is not computed again."""
        self._stored = rows
        self._stored_index = rows.index()

    def matrix(self, texts: Sequence[str]) -> Any:
        """The counts of `texts`, one row per text in order."""
        import scipy.sparse as sp

        missing = list(dict.fromkeys(t for t in texts if t not in self._index))
        if missing:
            order, block = self._rows_of(missing)
            start = 0 if self._matrix is None else self._matrix.shape[0]
            self._matrix = block if self._matrix is None else sp.vstack([self._matrix, block], format="csr")
            self._index.update((t, start + i) for i, t in enumerate(order))
        return self._matrix[[self._index[t] for t in texts]]

    def _rows_of(self, texts: list[str]) -> tuple[list[str], Any]:
        """The rows of `texts` (remembered first, then computed) and those texts in row order."""
        import scipy.sparse as sp

        found: list[int] = []
        found_texts: list[str] = []
        new: list[str] = []
        if self._stored_index:
            for text in texts:
                row = self._stored_index.get(text_digest(text))
                if row is None:
                    new.append(text)
                else:
                    found.append(row)
                    found_texts.append(text)
        else:
            new = texts
        parts = []
        if found:
            assert self._stored is not None
            stored = self._stored.subset(found)
            parts.append(self.counts.assemble(stored.counts, stored.cues))
        if new:
            parts.append(self.counts.transform(new))
            self.n_computed += len(new)
        block = parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr")
        return found_texts + new, block

    def held_digests(self, texts: Iterable[str]) -> list[tuple[str, bytes]]:
        """The distinct `texts` this cache holds rows of (computed or remembered), with their digests."""
        return [(t, text_digest(t)) for t in dict.fromkeys(texts) if t in self._index]

    def held(self, texts: Iterable[str]) -> FeatureRows:
        """The rows this cache holds of the distinct `texts` (computed or remembered), to store."""
        width = 2 * self.counts.n_features
        chosen = [t for t, _ in self.held_digests(texts)]
        if not chosen:
            import scipy.sparse as sp

            return FeatureRows((), sp.csr_matrix((0, width)), np.zeros((0, 2)))
        rows = self._matrix[[self._index[t] for t in chosen]]
        return FeatureRows(
            tuple(text_digest(t) for t in chosen),
            rows[:, :width].tocsr(),
            np.asarray(rows[:, width:].toarray(), dtype=np.float64),
        )


def _pipeline(tokenizer: Tokenizer, c: float, random_state: int, sentiment_cues: bool) -> Pipeline:
    # scikit-learn loads here, not at import time.
    from sklearn.pipeline import Pipeline

    from scoring.text.classifier_features import BlockTfidf, CompactLogisticRegression, TextCounts

    return Pipeline(
        [
            ("counts", TextCounts(tokenizer)),
            ("weights", BlockTfidf(cues=sentiment_cues)),
            ("model", CompactLogisticRegression(C=c, random_state=random_state)),
        ]
    )


def _fit(pipeline: Pipeline, texts: Sequence[str], y: Any, cache: FeatureCache | None) -> Pipeline:
    """Fit on `texts`; with a cache, on its counts (the counting step is stateless)."""
    if cache is None:
        pipeline.fit(list(texts), y)
    else:
        pipeline[1:].fit(cache.matrix(list(texts)), y)
    return pipeline


def _predict_with(pipeline: Pipeline, texts: Sequence[str], cache: FeatureCache | None) -> Any:
    if cache is None:
        return pipeline.predict(list(texts))
    return pipeline[1:].predict(cache.matrix(list(texts)))


class TextClassifier:
    """A trained text classifier; `predict` gives (label, confidence) pairs."""

    def __init__(self, pipeline: Pipeline, review_threshold: float) -> None:
        self._pipeline = pipeline
        self.review_threshold = review_threshold
        self.labels: tuple[str, ...] = tuple(str(label) for label in pipeline.classes_)

    def predict_proba(
        self, texts: Sequence[str], cache: FeatureCache | None = None
    ) -> npt.NDArray[np.float64]:
        """Class probabilities, one row per text, columns in the order of `labels`; `cache`: the
        run's counts of the texts (the counting step is stateless, so the result is the same)."""
        if cache is not None and type(self._pipeline.steps[0][1]).__name__ == "TextCounts":
            return np.asarray(self._pipeline[1:].predict_proba(cache.matrix(list(texts))), dtype=np.float64)
        return np.asarray(self._pipeline.predict_proba(list(texts)), dtype=np.float64)

    def predict(self, texts: Sequence[str], cache: FeatureCache | None = None) -> list[tuple[str, float]]:
        """For each text the most probable label and its probability (the confidence)."""
        if not texts:
            return []
        proba = self.predict_proba(texts, cache)
        best = proba.argmax(axis=1)
        return [(self.labels[j], float(proba[i, j])) for i, j in enumerate(best)]

    def needs_review(self, confidence: float) -> bool:
        return confidence < self.review_threshold

    def review_queue(self, texts: Sequence[str], ids: Sequence[EntryId]) -> list[ReviewItem]:
        """Predictions below the review threshold, least confident first."""
        items = [
            ReviewItem(entry_id, text, label, confidence)
            for entry_id, text, (label, confidence) in zip(ids, texts, self.predict(texts), strict=True)
            if self.needs_review(confidence)
        ]
        return sorted(items, key=lambda item: item.confidence)

    def to_bytes(self) -> bytes:
        """The model as bytes for storage (pickle, with a format header)."""
        return _MAGIC + pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> TextClassifier:
        """Load bytes made by `to_bytes`. Unpickling runs code: load only bytes this application stored.

        A model stored under another scikit-learn version loads with sklearn's
        InconsistentVersionWarning; retrain it then rather than trusting it.
        """
        if not data.startswith(_MAGIC):
            raise ValueError("not a stored text classifier (unknown header)")
        loaded = pickle.load(io.BytesIO(data[len(_MAGIC) :]))  # noqa: S301 - the app's own stored model
        if not isinstance(loaded, cls):
            raise ValueError("stored object is not a TextClassifier")
        return loaded


def _check_labels(texts: Sequence[str], labels: Sequence[str]) -> None:
    if len(texts) != len(labels):
        raise ValueError("texts and labels must have the same length")
    if len(set(labels)) < 2:
        raise ValueError("a classifier needs at least two distinct labels")


def train_classifier(
    texts: Sequence[str],
    labels: Sequence[str],
    tokenizer: Tokenizer,
    *,
    review_threshold: float = 0.6,
    sentiment_cues: bool = False,
    c: float = 10.0,
    random_state: int = 0,
    cache: FeatureCache | None = None,
) -> TextClassifier:
    """Fit the word+character TF-IDF logistic-regression classifier on labelled texts.

    Logistic regression with L2 penalty of strength 1/c and class weights n / (n_classes * n_label)
    (scikit-learn `LogisticRegression(class_weight="balanced")`). Predictions whose probability is
    below `review_threshold` are flagged for review. `sentiment_cues` adds the two cue-word
    features of `sentiment_cues.SentimentCues`; use it for positive/neutral/negative labels.
    """
    _check_labels(texts, labels)
    pipeline = _pipeline(tokenizer, c, random_state, sentiment_cues)
    _fit(pipeline, texts, [str(label) for label in labels], cache)
    return TextClassifier(pipeline, review_threshold)


def cross_validated_accuracy(
    texts: Sequence[str],
    labels: Sequence[str],
    tokenizer: Tokenizer,
    folds: int = 5,
    *,
    sentiment_cues: bool = False,
    c: float = 10.0,
    random_state: int = 0,
) -> CVReport:
    """Accuracy of `train_classifier` under stratified k-fold cross-validation.

    The data are split by `StratifiedKFold(folds, shuffle=True)`; each fold's model is trained on
    the other folds. accuracy_mean and accuracy_std are the mean and population standard
    deviation (ddof=0) of the fold accuracies; precision and recall per label pool the out-of-fold
    predictions. baseline_accuracy is the share of the most frequent label (always guessing it).
    Reference: Kohavi, "A study of cross-validation and bootstrap for accuracy estimation and
    model selection", IJCAI 1995; scikit-learn `StratifiedKFold`.
    """
    from sklearn.model_selection import StratifiedKFold

    _check_labels(texts, labels)
    y = np.array([str(label) for label in labels])
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < folds:
        raise ValueError(f"every label needs at least {folds} texts for {folds}-fold cross-validation")
    documents = np.array(list(texts), dtype=object)
    predicted = np.empty_like(y)
    accuracies: list[float] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    for train, test in splitter.split(documents, y):
        pipeline = _pipeline(tokenizer, c, random_state, sentiment_cues)
        pipeline.fit(list(documents[train]), y[train])
        predicted[test] = pipeline.predict(list(documents[test]))
        accuracies.append(float(np.mean(predicted[test] == y[test])))
    per_class = []
    for label, support in zip(classes, counts, strict=True):
        hits = int(np.sum((predicted == label) & (y == label)))
        guessed = int(np.sum(predicted == label))
        per_class.append(
            ClassReport(str(label), hits / guessed if guessed else 0.0, hits / int(support), int(support))
        )
    return CVReport(
        accuracy_mean=float(np.mean(accuracies)),
        accuracy_std=float(np.std(accuracies)),
        fold_accuracies=tuple(accuracies),
        per_class=tuple(per_class),
        n=int(y.size),
        folds=folds,
        baseline_accuracy=float(counts.max() / y.size),
        predicted=tuple(str(label) for label in predicted),
    )


@dataclass(frozen=True)
class Evaluation:
    """How well a classifier does on real, de-duplicated labels (the model card's figures).

    `cv_balanced_accuracy` is the mean over stratified folds of the training share; the held-back
    share (`n_held_back` distinct texts, never trained on) gives `held_back_balanced_accuracy`.
    Balanced accuracy is the mean per-label recall, so always guessing the commonest label scores
    1 / n_labels, whatever the label shares (Brodersen et al., ICPR 2010; scikit-learn
    `balanced_accuracy_score`).
    """

    n_labels_given: int
    n_distinct: int
    n_held_back: int
    folds: int
    cv_balanced_accuracy: float
    cv_balanced_accuracy_std: float
    held_back_balanced_accuracy: float | None
    labels: tuple[str, ...]


def distinct_labelled(texts: Sequence[str], labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """One row per distinct text (after normalisation, punctuation and spaces ignored), labelled by
    its most frequent label (ties: the first given), so repeats neither train nor test twice."""
    import re

    votes: dict[str, dict[str, int]] = {}
    first: dict[str, str] = {}
    for text, label in zip(texts, labels, strict=True):
        key = re.sub(r"[\W_]+", "", normalise_text(text))
        if not key:
            continue
        first.setdefault(key, text)
        counts = votes.setdefault(key, {})
        counts[str(label)] = counts.get(str(label), 0) + 1
    keys = list(first)
    return [first[k] for k in keys], [max(votes[k], key=lambda lab: votes[k][lab]) for k in keys]


def evaluate_classifier(
    texts: Sequence[str],
    labels: Sequence[str],
    tokenizer: Tokenizer,
    *,
    held_back: float = 0.2,
    folds: int = 5,
    sentiment_cues: bool = False,
    random_state: int = 0,
    test_view: Callable[[str], str] | None = None,
    cache: FeatureCache | None = None,
) -> Evaluation:
    """Cross-validated and held-back balanced accuracy on the distinct labelled texts.

    A stratified `held_back` share of the distinct texts is set aside first (when every label has
    at least 2 texts there); the rest is cross-validated with stratified k-fold, k = min(`folds`,
    the rarest label's count). `test_view`, when given, is applied to every text a model is
    scored on (never to its training texts): e.g. blanking the seed words that gave the labels.
    Raises ValueError with fewer than two labels of 2+ texts each.
    """
    view = test_view if test_view is not None else (lambda text: text)
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold, train_test_split

    distinct_texts, distinct = distinct_labelled(texts, labels)
    y = np.array(distinct)
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2 or counts.min() < 2:
        raise ValueError("every label needs at least two distinct texts")
    documents = np.array(distinct_texts, dtype=object)
    held_score: float | None = None
    n_held = 0
    train_idx = np.arange(y.size)
    if held_back > 0 and counts.min() >= 4:
        train_idx, test_idx = train_test_split(
            np.arange(y.size), test_size=held_back, stratify=y, random_state=random_state
        )
        model = _fit(
            _pipeline(tokenizer, 10.0, random_state, sentiment_cues),
            documents[train_idx],
            y[train_idx],
            cache,
        )
        tested = [view(str(d)) for d in documents[test_idx]]
        held_score = float(balanced_accuracy_score(y[test_idx], _predict_with(model, tested, cache)))
        n_held = int(test_idx.size)
    train_y = y[train_idx]
    k = int(min(folds, np.unique(train_y, return_counts=True)[1].min()))
    if k < 2:
        raise ValueError("every label needs at least two distinct texts to train on")
    scores = []
    for fit, test in StratifiedKFold(k, shuffle=True, random_state=random_state).split(train_idx, train_y):
        model = _fit(
            _pipeline(tokenizer, 10.0, random_state, sentiment_cues),
            documents[train_idx[fit]],
            train_y[fit],
            cache,
        )
        predicted = _predict_with(model, [view(str(d)) for d in documents[train_idx[test]]], cache)
        scores.append(float(balanced_accuracy_score(train_y[test], predicted)))
    return Evaluation(
        n_labels_given=len(texts),
        n_distinct=int(y.size),
        n_held_back=n_held,
        folds=k,
        cv_balanced_accuracy=float(np.mean(scores)),
        cv_balanced_accuracy_std=float(np.std(scores)),
        held_back_balanced_accuracy=held_score,
        labels=tuple(str(c) for c in classes),
    )


def rating_sentiment(value: float, scale_min: float, scale_max: float) -> str | None:
    """The sentiment a rating gives its comment: the lowest two points of a scale of five or more
    points negative, the top two positive, the middle neutral; None for scales of fewer than
    three points (yes/no confirmations say nothing about how a comment feels)."""
    points = scale_max - scale_min
    if points < 2:
        return None
    low, high = scale_min + (1 if points >= 4 else 0), scale_max - (1 if points >= 4 else 0)
    if points >= 10:  # 0-10 (NPS): detractors 0-6, passives 7-8, promoters 9-10
        low, high = scale_min + 6, scale_max - 1
    if value <= low:
        return "negative"
    if value >= high:
        return "positive"
    return "neutral"
