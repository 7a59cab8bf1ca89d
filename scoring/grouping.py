"""Turning the caller's grouping columns into integer group codes, once, without Python loops.

The web app passes key arrays it got from SQL (region, service, tier, period ...). :func:`group_index`
encodes them with ``np.unique`` (sorting) so that every grouped measure is then a few
``np.bincount`` calls. Build the index once and pass it to several measures to save the sort.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["GroupIndex", "Groups", "group_index"]


@dataclass(frozen=True)
class GroupIndex:
    """Row -> group code mapping: ``codes[i]`` indexes ``keys`` (each key a tuple of key values)."""

    codes: NDArray[np.intp]
    keys: tuple[tuple[Any, ...], ...]

    @property
    def n_groups(self) -> int:
        return len(self.keys)


#: What callers may pass as ``groups``: None (one overall group), one key array, a tuple of key
#: arrays (one per grouping column, e.g. ``(region, service, period)``) or a prebuilt GroupIndex.
Groups = GroupIndex | ArrayLike | tuple[ArrayLike, ...] | None


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _factorize(arr: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """Sorted unique values and the code of each row. Object columns mixing None with strings
    (a NULL tier from SQL) cannot be sorted by NumPy: they fall back to a dictionary pass, with
    None sorted last."""
    try:
        u, inv = np.unique(arr, return_inverse=True)
        return u, inv.reshape(-1).astype(np.intp)
    except TypeError:
        values = arr.tolist()
        ordered = sorted(dict.fromkeys(values), key=lambda v: (v is None, str(v)))
        lookup = {v: i for i, v in enumerate(ordered)}
        uniques = np.empty(len(ordered), dtype=object)
        uniques[:] = ordered
        return uniques, np.fromiter((lookup[v] for v in values), dtype=np.intp, count=len(values))


def group_index(groups: Groups, n_rows: int) -> GroupIndex:
    """Encode ``groups`` for ``n_rows`` rows. A tuple means several key columns; a list or array
    means one key column. Groups are ordered by their sorted key values."""
    if isinstance(groups, GroupIndex):
        if groups.codes.shape[0] != n_rows:
            raise ValueError("GroupIndex was built for a different number of rows")
        return groups
    if groups is None:
        return GroupIndex(np.zeros(n_rows, dtype=np.intp), ((),))
    columns: Sequence[ArrayLike] = groups if isinstance(groups, tuple) else (groups,)
    if not columns:
        return GroupIndex(np.zeros(n_rows, dtype=np.intp), ((),))
    uniques: list[NDArray[Any]] = []
    codes_per_column: list[NDArray[np.intp]] = []
    for column in columns:
        arr = np.asarray(column)
        if arr.ndim != 1 or arr.shape[0] != n_rows:
            raise ValueError(f"each group key array must be 1-D with {n_rows} rows, got {arr.shape}")
        u, inv = _factorize(arr)
        uniques.append(u)
        codes_per_column.append(inv)
    if len(columns) == 1:
        return GroupIndex(codes_per_column[0], tuple((_py(v),) for v in uniques[0]))
    dims = tuple(len(u) for u in uniques)
    combined = np.ravel_multi_index(tuple(codes_per_column), dims)
    present, codes = np.unique(combined, return_inverse=True)
    parts = np.unravel_index(present, dims)
    keys = tuple(
        tuple(_py(uniques[j][parts[j][g]]) for j in range(len(columns))) for g in range(len(present))
    )
    return GroupIndex(codes.reshape(-1).astype(np.intp), keys)
