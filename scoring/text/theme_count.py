"""Choosing the number of themes when the user does not give one.

Owns the factorisation itself (`factorise`, NMF on TF-IDF) and the rule for k: the k in
[2, min(k_max, ceil(sqrt(n)))] whose hard theme assignment has the largest mean silhouette (cosine distance),
computed on a random sample of at most `sample_size` entries.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["choose_theme_count", "factorise"]


def factorise(
    matrix: sp.csr_matrix, k: int, random_state: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Non-negative matrix factorisation X ~ W H with k components (Frobenius loss).

    W (entries x k) holds each entry's loading on each theme, H (k x terms) each theme's terms.
    NNDSVDa initialisation makes the result deterministic for a given `random_state`.
    Reference: Lee & Seung, Nature 401 (1999); Boutsidis & Gallopoulos, Pattern Recognition 41
    (2008) for NNDSVD; scikit-learn `sklearn.decomposition.NMF`.
    """
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    model = NMF(
        n_components=k, init="nndsvda", solver="cd", max_iter=400, tol=1e-4, random_state=random_state
    )
    with warnings.catch_warnings():
        # Coordinate descent that stops at max_iter still gives a usable (if not optimal)
        # factorisation; a themes page should not fail because of it.
        warnings.simplefilter("ignore", ConvergenceWarning)
        # An exact fit (tiny corpora) makes sklearn's reported reconstruction error sqrt(-0.0...);
        # that figure is not used here.
        warnings.filterwarnings("ignore", "invalid value encountered in sqrt", RuntimeWarning)
        weights = np.asarray(model.fit_transform(matrix), dtype=np.float64)
    return weights, np.asarray(model.components_, dtype=np.float64)


def choose_theme_count(
    matrix: sp.csr_matrix, random_state: int, k_max: int = 12, sample_size: int = 2000
) -> tuple[int, tuple[tuple[int, float], ...]]:
    """The number of themes and the silhouette score of every candidate tried.

    For each k in [2, min(k_max, ceil(sqrt(n)))] the sample is factorised, each entry is given
    its heaviest theme, and the mean silhouette s = mean_i (b_i - a_i) / max(a_i, b_i) with cosine
    distance is computed (a_i: mean distance to its own theme, b_i: to the nearest other theme).
    The k with the largest s wins; ties go to the smaller k. The sqrt(n) cap stops the silhouette,
    which on short texts keeps rising as themes shrink to near-duplicate pairs, from splitting a
    small corpus into crumbs. Reference: Rousseeuw, J. Comput. Appl. Math. 20 (1987)
    53-65; scikit-learn `sklearn.metrics.silhouette_score`.
    """
    from sklearn.metrics import silhouette_score

    rows = np.flatnonzero(matrix.getnnz(axis=1))
    if rows.size > sample_size:
        rows = np.sort(np.random.default_rng(random_state).choice(rows, sample_size, replace=False))
    sample = matrix[rows]
    upper = min(k_max, math.ceil(math.sqrt(rows.size)), rows.size - 1, sample.shape[1])
    scores: list[tuple[int, float]] = []
    for k in range(2, upper + 1):
        weights, _ = factorise(sample, k, random_state)
        labels = weights.argmax(axis=1)
        if np.unique(labels).size < 2:
            continue
        score = float(silhouette_score(sample, labels, metric="cosine"))
        scores.append((k, score))
    if not scores:
        return (1 if rows.size else 0), ()
    best = max(scores, key=lambda pair: (pair[1], -pair[0]))
    return best[0], tuple(scores)
