"""Applying the user's merges and splits to the theme of each unit of near-duplicate texts.

Owns the step between clustering and the final themes: each unit's theme key is rewritten by
each `ThemeMerge` and `ThemeSplit` in the order the user made them. A merge folds its keys into
one. A split gives each unit of the split theme to one group: the group whose seed terms have the
largest summed TF-IDF weight in the unit, or, for a unit holding no seed term, the group whose
seeded units' mean TF-IDF vector (centroid) is most cosine-similar to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from scoring.text.decisions import ThemeMerge, ThemeOperation
from scoring.text.tokenizer import Tokenizer

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["apply_to_units", "seed_columns"]

Loadings = npt.NDArray[np.float64]


def seed_columns(
    seeds: Sequence[str], vocabulary: Mapping[str, int], tokenizer: Tokenizer
) -> npt.NDArray[np.intp]:
    """Vocabulary columns of seed terms: each seed as typed and each of its tokens."""
    terms = {term for seed in seeds for term in (seed, *tokenizer.tokenize(seed))}
    return np.array(sorted(vocabulary[t] for t in terms if t in vocabulary), dtype=np.intp)


def _group_choice(matrix: sp.csr_matrix, columns: Sequence[npt.NDArray[np.intp]]) -> npt.NDArray[np.intp]:
    n_groups = len(columns)
    scores = np.zeros((matrix.shape[0], n_groups))
    for g, cols in enumerate(columns):
        if cols.size:
            scores[:, g] = np.asarray(matrix[:, cols].sum(axis=1)).ravel()
    choice = scores.argmax(axis=1)
    seeded = scores.max(axis=1) > 0
    if seeded.all():
        return choice
    centroids = np.zeros((n_groups, matrix.shape[1]))
    for g, cols in enumerate(columns):
        rows = np.flatnonzero(seeded & (choice == g))
        if rows.size:
            centroids[g] = np.asarray(matrix[rows].mean(axis=0)).ravel()
        else:
            centroids[g, cols] = 1.0
        norm = np.linalg.norm(centroids[g])
        if norm > 0:
            centroids[g] /= norm
    unseeded = np.flatnonzero(~seeded)
    # TF-IDF rows have unit length, so the dot product with a unit centroid is the cosine.
    similarity = np.asarray(matrix[unseeded] @ centroids.T)
    choice[unseeded] = similarity.argmax(axis=1)
    return choice


def apply_to_units(
    unit_keys: Sequence[str | None],
    operations: Sequence[ThemeOperation],
    matrix: sp.csr_matrix,
    vocabulary: Mapping[str, int],
    tokenizer: Tokenizer,
) -> list[str | None]:
    """The theme key of each unit (a row of `matrix`) after every merge and split, in order.

    A merge renames its keys to `into`; a split sends each unit of its keys to the group of
    `_group_choice` (seed terms first, then the seeded units' centroids).
    """
    keys = list(unit_keys)
    for op in operations:
        if isinstance(op, ThemeMerge):
            absorbed = set(op.keys)
            keys = [op.into if key in absorbed else key for key in keys]
            continue
        family = set(op.keys)
        rows = np.array([u for u, key in enumerate(keys) if key in family], dtype=np.intp)
        if rows.size == 0:
            continue
        columns = [seed_columns(seeds, vocabulary, tokenizer) for _, seeds in op.groups]
        choice = _group_choice(matrix[rows], columns)
        for row, group in zip(rows, choice, strict=True):
            keys[row] = op.groups[int(group)][0]
    return keys
