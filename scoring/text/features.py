"""TF-IDF features over pre-tokenised texts, shared by theme discovery and classification.

Owns the analyzers handed to scikit-learn's `TfidfVectorizer`: `identity_analyzer` for token
lists that were already produced (so a corpus is segmented by jieba once, not once per
vectoriser or per cross-validation fold) and `TokenAnalyzer`, a picklable callable that runs a
`Tokenizer` for raw text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from scoring.text.tokenizer import Tokenizer

if TYPE_CHECKING:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["TokenAnalyzer", "identity_analyzer", "tfidf_matrix"]


def identity_analyzer(tokens: Sequence[str]) -> Sequence[str]:
    """The analyzer for documents that are already token lists."""
    return tokens


class TokenAnalyzer:
    """`Tokenizer.tokenize` as a picklable analyzer for `TfidfVectorizer`, with word n-grams.

    With `ngrams=2` the tokens are followed by adjacent pairs joined by a space ("不 及时"), which
    keeps a negation next to the word it negates.
    """

    def __init__(self, tokenizer: Tokenizer, ngrams: int = 1) -> None:
        self.tokenizer = tokenizer
        self.ngrams = ngrams

    def __call__(self, text: str) -> list[str]:
        tokens = self.tokenizer.tokenize(text)
        grams = list(tokens)
        for n in range(2, self.ngrams + 1):
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return grams


def tfidf_matrix(
    tokens: Sequence[Sequence[str]],
    *,
    min_df: int | float = 1,
    max_df: int | float = 1.0,
    max_features: int | None = None,
) -> tuple[sp.csr_matrix, list[str], TfidfVectorizer]:
    """The TF-IDF matrix (rows L2-normalised), its vocabulary and the fitted vectoriser.

    Weights: tf = 1 + ln(count) (sublinear), idf = ln((1 + n) / (1 + df)) + 1 (smoothed), each row
    scaled to unit Euclidean length. Reference: scikit-learn user guide, "Tf-idf term weighting";
    Manning, Raghavan & Schuetze, Introduction to Information Retrieval (2008), ch. 6.
    """
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer=identity_analyzer,
        lowercase=False,
        sublinear_tf=True,
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        dtype=np.float64,
    )
    matrix = sp.csr_matrix(vectorizer.fit_transform(tokens))
    return matrix, list(vectorizer.get_feature_names_out()), vectorizer
