"""Applying the user's merges and splits to theme loadings.

Owns the step between factorisation and the final themes: the entries x themes loading matrix,
whose columns carry theme keys, is rewritten by each `ThemeMerge` and `ThemeSplit` in the order
the user made them. A merge adds the loadings of its themes into one column. A split gives each
entry's whole loading on the split theme to one group: the group whose seed terms have the largest
summed TF-IDF weight in the entry, or, for an entry holding no seed term, the group whose
seeded entries' mean TF-IDF vector (centroid) is most cosine-similar to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from scoring.text.decisions import ThemeMerge, ThemeOperation, ThemeSplit
from scoring.text.tokenizer import Tokenizer

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["apply_operations", "apply_to_units", "seed_columns"]

Loadings = npt.NDArray[np.float64]


def seed_columns(
    seeds: Sequence[str], vocabulary: Mapping[str, int], tokenizer: Tokenizer
) -> npt.NDArray[np.intp]:
    """Vocabulary columns of seed terms: each seed as typed and each of its tokens."""
    terms = {term for seed in seeds for term in (seed, *tokenizer.tokenize(seed))}
    return np.array(sorted(vocabulary[t] for t in terms if t in vocabulary), dtype=np.intp)


def _merge(keys: list[str], loadings: Loadings, op: ThemeMerge) -> tuple[list[str], Loadings]:
    members = [i for i, key in enumerate(keys) if key == op.into or key in op.keys]
    if not members:
        return keys, loadings
    rest = [i for i in range(len(keys)) if i not in members]
    combined = loadings[:, members].sum(axis=1)
    return [keys[i] for i in rest] + [op.into], np.column_stack([loadings[:, rest], combined])


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


def _split(
    keys: list[str],
    loadings: Loadings,
    op: ThemeSplit,
    matrix: sp.csr_matrix,
    columns: Sequence[npt.NDArray[np.intp]],
) -> tuple[list[str], Loadings]:
    members = [i for i, key in enumerate(keys) if key in op.keys]
    if not members:
        return keys, loadings
    family = loadings[:, members].sum(axis=1)
    entries = np.flatnonzero(family > 0)
    choice = _group_choice(matrix[entries], columns)
    groups = np.zeros((loadings.shape[0], len(op.groups)))
    groups[entries, choice] = family[entries]
    rest = [i for i in range(len(keys)) if i not in members]
    return [keys[i] for i in rest] + list(op.keys), np.column_stack([loadings[:, rest], groups])


def apply_operations(
    keys: Sequence[str],
    loadings: Loadings,
    operations: Sequence[ThemeOperation],
    matrix: sp.csr_matrix,
    vocabulary: Mapping[str, int],
    tokenizer: Tokenizer,
) -> tuple[list[str], Loadings]:
    """The theme keys and loadings after every merge and split, in the order given."""
    current, result = list(keys), loadings
    for op in operations:
        if isinstance(op, ThemeMerge):
            current, result = _merge(current, result, op)
        else:
            columns = [seed_columns(seeds, vocabulary, tokenizer) for _, seeds in op.groups]
            current, result = _split(current, result, op, matrix, columns)
    return current, result


def apply_to_units(
    unit_keys: Sequence[str | None],
    operations: Sequence[ThemeOperation],
    matrix: sp.csr_matrix,
    vocabulary: Mapping[str, int],
    tokenizer: Tokenizer,
) -> list[str | None]:
    """The theme key of each unit (a row of `matrix`) after every merge and split, in order.

    The hard-assignment form of `apply_operations`: a merge renames its keys to `into`; a split
    sends each unit of its keys to the group of `_group_choice` (seed terms, then centroids).
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
