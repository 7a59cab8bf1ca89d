"""The classifier features of distinct texts as bytes, so a text-analysis run can keep them for the
next (issue 15: re-running the analysis on 100,000 entries in under 30 s; hashing the n-grams of
~60,000 distinct texts was a third of a full recompute once their tokens were stored).

`FeatureRows` holds, per text, the SHA-256 digest of the text (never the text), its row of hashed
word and character n-gram counts and its two sentiment-cue values, exactly as
`classifier_features.TextCounts` computes them. `to_bytes` / `from_bytes` give them back bit for
bit: counts as the smallest unsigned integer type that holds them exactly (else float64), cue
values as float64, column indices as per-row differences split into byte planes (most of them
fit two bytes), the whole compressed with zlib at level 1 (about 12 MB for 60,000 texts; a
tenth of a second to read back against seconds to hash again).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["DIGEST_SIZE", "FeatureRows", "text_digest"]

DIGEST_SIZE = 32
_MAGIC = b"perception.text-feature-rows.v1\n"
_COUNT_TYPES = (np.uint8, np.uint16, np.uint32)


def text_digest(text: str) -> bytes:
    """The key of a text's stored row: SHA-256 of its UTF-8 bytes (the text exactly as given)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


@dataclass(frozen=True)
class FeatureRows:
    """Rows of `TextCounts` features: `digests[i]` is the digest of the text of row i of `counts`
    (CSR, the hashed blocks; read back, in the smallest type that holds them) and of `cues`
    (n x k float64, the cue values)."""

    digests: tuple[bytes, ...]
    counts: Any  # scipy.sparse.csr_matrix
    cues: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        n = len(self.digests)
        if self.counts.shape[0] != n or self.cues.shape[0] != n:
            raise ValueError("digests, counts and cues must have one row per text")
        if any(len(d) != DIGEST_SIZE for d in self.digests):
            raise ValueError(f"digests are {DIGEST_SIZE} bytes (text_digest)")

    def index(self) -> dict[bytes, int]:
        """Row of each digest."""
        return {d: i for i, d in enumerate(self.digests)}

    def subset(self, rows: Iterable[int]) -> FeatureRows:
        """These rows, in the order given, their counts as float64 (as `TextCounts` gives them)."""
        pick = np.fromiter(rows, dtype=np.int64)
        counts = self.counts[pick]
        if counts.dtype != np.float64:
            counts = counts.astype(np.float64)
        return FeatureRows(
            tuple(self.digests[i] for i in pick), counts, np.ascontiguousarray(self.cues[pick])
        )

    def to_bytes(self) -> bytes:
        counts = self.counts.tocsr()
        counts.sort_indices()
        data = counts.data
        count_type = next(
            (
                t
                for t in _COUNT_TYPES
                if data.size == 0 or (data.min() >= 0 and data.max() <= np.iinfo(t).max)
            ),
            None,
        )
        stored_data = data.astype(count_type) if count_type is not None else data
        if count_type is not None and not np.array_equal(stored_data, data):  # not whole numbers
            stored_data, count_type = data, None
        indices = counts.indices.astype(np.uint32)
        deltas = indices.copy()
        deltas[1:] -= indices[:-1]  # uint32 wraps where a row starts; reset there:
        starts = counts.indptr[:-1][np.diff(counts.indptr) > 0]
        deltas[starts] = indices[starts]
        header = {
            "n": len(self.digests),
            "shape": list(counts.shape),
            "nnz": int(counts.nnz),
            "data": np.dtype(count_type or np.float64).str,
            "cues": list(self.cues.shape),
        }
        parts = [
            b"".join(self.digests),
            counts.indptr.astype("<i8").tobytes(),
            deltas.astype("<u4").view(np.uint8).reshape(-1, 4).T.tobytes(),  # byte planes
            stored_data.astype(np.dtype(count_type or np.float64).newbyteorder("<")).tobytes(),
            self.cues.astype("<f8").tobytes(),
        ]
        head = json.dumps(header).encode()
        return _MAGIC + len(head).to_bytes(4, "little") + head + zlib.compress(b"".join(parts), 1)

    @classmethod
    def from_bytes(cls, blob: bytes) -> FeatureRows:
        """Rows made by `to_bytes`; ValueError when the bytes are not such rows."""
        import scipy.sparse as sp

        if not blob.startswith(_MAGIC):
            raise ValueError("not stored feature rows (unknown header)")
        at = len(_MAGIC)
        size = int.from_bytes(blob[at : at + 4], "little")
        try:
            header = json.loads(blob[at + 4 : at + 4 + size])
            body = zlib.decompress(blob[at + 4 + size :])
        except (ValueError, zlib.error) as exc:
            raise ValueError(f"unreadable feature rows: {exc}") from exc
        n, nnz = int(header["n"]), int(header["nnz"])
        data_type = np.dtype(header["data"])
        cue_shape = tuple(header["cues"])
        sizes = [
            n * DIGEST_SIZE,
            (n + 1) * 8,
            nnz * 4,
            nnz * data_type.itemsize,
            int(np.prod(cue_shape)) * 8,
        ]
        if sum(sizes) != len(body):
            raise ValueError("unreadable feature rows: wrong length")
        offsets = np.cumsum([0, *sizes])
        chunk = [memoryview(body)[offsets[i] : offsets[i + 1]] for i in range(len(sizes))]
        raw = bytes(chunk[0])
        digests = tuple(raw[i * DIGEST_SIZE : (i + 1) * DIGEST_SIZE] for i in range(n))
        indptr = np.frombuffer(chunk[1], dtype="<i8").astype(np.int64)
        planes = np.frombuffer(chunk[2], dtype=np.uint8).reshape(4, nnz)
        deltas = np.ascontiguousarray(planes.T).view("<u4").reshape(nnz).astype(np.int64)
        # Undo the differences row by row: a running sum less the sum before the row's start.
        running = np.cumsum(deltas)
        lengths = np.diff(indptr)
        before = running[indptr[:-1][lengths > 0]] - deltas[indptr[:-1][lengths > 0]]
        indices = (running - np.repeat(before, lengths[lengths > 0])).astype(np.int32)
        # Counts stay in their stored type until `subset` (a fifth of the memory of float64).
        data = np.frombuffer(chunk[3], dtype=data_type).astype(data_type.newbyteorder("="))
        cues = np.frombuffer(chunk[4], dtype="<f8").reshape(cue_shape).astype(np.float64)
        shape = tuple(int(s) for s in header["shape"])
        counts = sp.csr_matrix((data, indices, indptr), shape=shape)
        if indices.size and (indices.min() < 0 or indices.max() >= shape[1]):
            raise ValueError("unreadable feature rows: column out of range")
        return cls(digests, counts, cues)
