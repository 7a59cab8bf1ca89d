"""The features and model of the text classifiers (scoring.text.classify): hashed word and
character n-gram counts computed once per distinct text, TF-IDF per block learnt on the training
texts, and logistic regression fitted on the columns the training texts use. Imports
scikit-learn, so it is imported only where a classifier is fitted or applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin

from scoring.text.features import TokenAnalyzer
from scoring.text.tokenizer import Tokenizer, normalise_text

__all__ = ["FEATURES_VERSION", "N_HASHED", "BlockTfidf", "CompactLogisticRegression", "TextCounts"]

N_HASHED = 2**18  # columns of each hashed block (word n-grams, character n-grams)
#: The solver stops when no gradient component exceeds this (lbfgs's pgtol; scikit-learn's
#: default). At 1e-3 (half the iterations) a weekly incremental run and the full recompute after
#: it disagreed on the sentiment of 5.0 % of the 1,000 new texts of the 100,000-entry bench (2.0 %
#: at 1e-4, 3.8 % at 5e-4) and a labelled-set prediction flipped against a converged fit; 1e-4
#: costs about 2 s more CPU of a full recompute (solver 3.3-3.9 s -> 5.1-6.0 s), which the stored
#: features pay for (bench/bench_text_rerun.py --agreement).
TOLERANCE = 1e-4
#: Bump when `TextCounts` (or the cue counting, or the text normalisation) changes what a text's
#: features are: rows stored under the old `TextCounts.cache_key` are then never read.
FEATURES_VERSION = "features-2026-12-06"


class TextCounts(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """The stateless part of the features: hashed counts of word unigrams and bigrams (from the
    `Tokenizer`) and of character 1-3-grams within words, side by side, then the two cue features
    of `sentiment_cues.SentimentCues`. Stateless, so a run computes them once per distinct text
    and shares them between both classifiers, every fold and the predictions (`FeatureCache`)."""

    def __init__(self, tokenizer: Tokenizer, n_features: int = N_HASHED) -> None:
        self.tokenizer = tokenizer
        self.n_features = n_features

    def fit(self, texts: Sequence[str], y: Any = None) -> TextCounts:
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        texts = list(texts)
        return self.assemble(self.hashed_counts(texts), self.cue_values(texts))

    def hashed_counts(self, texts: Sequence[str]) -> Any:
        """The hashed word and character n-gram counts of `texts` (CSR, 2 x `n_features` columns)."""
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import HashingVectorizer

        common = {"n_features": self.n_features, "alternate_sign": False, "norm": None, "dtype": np.float64}
        words = HashingVectorizer(analyzer=TokenAnalyzer(self.tokenizer, ngrams=2), **common)
        chars = HashingVectorizer(
            analyzer="char_wb", ngram_range=(1, 3), preprocessor=normalise_text, **common
        )
        texts = list(texts)
        return sp.csr_matrix(sp.hstack([words.transform(texts), chars.transform(texts)], format="csr"))

    def cue_values(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """The cue features of `texts` as a dense n x 2 array (`sentiment_cues.SentimentCues`)."""
        from scoring.text.sentiment_cues import SentimentCues

        return np.asarray(SentimentCues().transform(list(texts)).toarray(), dtype=np.float64)

    @staticmethod
    def assemble(counts: Any, cues: npt.NDArray[np.float64]) -> Any:
        """The features of `transform` from its two parts (computed now or stored earlier)."""
        import scipy.sparse as sp

        return sp.csr_matrix(sp.hstack([counts, sp.csr_matrix(cues)], format="csr"))

    def cache_key(self) -> str:
        """A digest of everything the features of a text depend on besides the text: the
        tokenizer's key, the hashed space, the n-gram settings, the cue lexicon, the versions of
        the code (FEATURES_VERSION), scikit-learn (its hashing and analyzers), NumPy and SciPy,
        and Python's Unicode tables (NFKC). Rows stored under one key are valid for every
        `TextCounts` with the same key (`scoring.text.feature_rows`)."""
        import hashlib
        import sys
        import unicodedata
        from importlib.metadata import version

        from scoring.text import sentiment_cues

        h = hashlib.sha256(FEATURES_VERSION.encode())
        for part in (
            self.tokenizer.cache_key(),
            self.n_features,
            ("words", 2, "char_wb", (1, 3), "normalise_text", "alternate_sign=False", "norm=None"),
            [sorted(side) for side in sentiment_cues._lexicon()],  # noqa: SLF001 - the cue words
            sorted(sentiment_cues._ZH_NEGATIONS),  # noqa: SLF001
            sorted(sentiment_cues._EN_NEGATIONS),  # noqa: SLF001
            [version(name) for name in ("scikit-learn", "numpy", "scipy")],
            tuple(sys.version_info[:2]),
            unicodedata.unidata_version,
        ):
            h.update(b"\x1e" + repr(part).encode("utf-8"))
        return h.hexdigest()


class BlockTfidf(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """TF-IDF of each hashed block of `TextCounts` (tf = 1 + ln(count), smoothed idf learnt on the
    training texts, each block scaled to unit length: scikit-learn `TfidfTransformer`), followed
    by the cue features when `cues`."""

    def __init__(self, width: int = N_HASHED, cues: bool = False) -> None:
        self.width = width
        self.cues = cues

    def fit(self, counts: Any, y: Any = None) -> BlockTfidf:
        from sklearn.feature_extraction.text import TfidfTransformer

        counts = counts.tocsr()
        self.blocks_ = []
        self.seen_ = []
        for start in (0, self.width):
            block = counts[:, start : start + self.width]
            self.blocks_.append(TfidfTransformer(norm=None, sublinear_tf=True).fit(block))
            self.seen_.append(np.unique(block.indices))
        return self

    def transform(self, counts: Any) -> Any:
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize

        counts = counts.tocsr()
        parts = []
        for i, (tfidf, seen) in enumerate(zip(self.blocks_, self.seen_, strict=True)):
            weighted = tfidf.transform(counts[:, i * self.width : (i + 1) * self.width]).tocsc()
            # A term no training text held is no feature (as in a fitted vocabulary): it must
            # not shrink the known terms' weights when the row is scaled to unit length.
            keep = np.zeros(self.width, dtype=np.float64)
            keep[seen] = 1.0
            parts.append(normalize(weighted @ sp.diags(keep), norm="l2"))
        if self.cues:
            parts.append(counts[:, 2 * self.width :])
        return sp.csr_matrix(sp.hstack(parts, format="csr"))


class CompactLogisticRegression(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """`LogisticRegression` fitted on the feature columns the training texts use. A column no
    training text uses gets a zero coefficient under the L2 penalty anyway; leaving the
    hashed space's empty columns out keeps the solver's vectors small (they were most of a run's
    time). Multinomial log-loss with L2 penalty 1/C, class weights "balanced", lbfgs to
    `TOLERANCE`."""

    def __init__(self, C: float = 10.0, random_state: int = 0) -> None:
        self.C = C
        self.random_state = random_state

    def fit(self, features: Any, y: Any) -> CompactLogisticRegression:
        from sklearn.linear_model import LogisticRegression

        features = features.tocsr()
        self.columns_ = np.unique(features.indices)
        self.model_ = LogisticRegression(
            C=self.C, max_iter=5000, tol=TOLERANCE, class_weight="balanced", random_state=self.random_state
        ).fit(features[:, self.columns_], y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, features: Any) -> npt.NDArray[np.float64]:
        return np.asarray(self.model_.predict_proba(features.tocsr()[:, self.columns_]), dtype=np.float64)

    def predict(self, features: Any) -> npt.NDArray[Any]:
        return np.asarray(self.classes_[self.predict_proba(features).argmax(axis=1)])
