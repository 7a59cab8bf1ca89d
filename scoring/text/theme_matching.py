"""Mapping themes found in a new run onto the theme keys of earlier runs.

Owns term profiles (a theme's terms with weights, vocabulary-independent so they survive a grown
corpus) and their one-to-one matching to remembered signatures with the Hungarian method.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["cosine_terms", "match_profiles", "top_profile", "with_pins"]

SIGNATURE_TERMS = 30


def top_profile(
    weights: npt.NDArray[np.float64], vocabulary: Sequence[str], n_terms: int = SIGNATURE_TERMS
) -> dict[str, float]:
    """The `n_terms` heaviest terms of one theme's term-weight vector, scaled to unit length."""
    order = np.argsort(-weights, kind="stable")[:n_terms]
    chosen = [(vocabulary[i], float(weights[i])) for i in order if weights[i] > 0]
    norm = math.sqrt(sum(w * w for _, w in chosen))
    return {term: w / norm for term, w in chosen} if norm > 0 else {}


def cosine_terms(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine similarity of two sparse term-weight vectors: sum_t a_t b_t / (|a| |b|)."""
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(term, 0.0) for term, w in a.items())
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm if norm > 0 else 0.0


def with_pins(signature: Mapping[str, float], pinned: Sequence[str]) -> dict[str, float]:
    """A signature with each pinned term raised to the signature's largest weight (1 if empty)."""
    top = max(signature.values(), default=1.0)
    boosted = dict(signature)
    for term in pinned:
        boosted[term] = max(boosted.get(term, 0.0), top)
    return boosted


def match_profiles(
    profiles: Sequence[Mapping[str, float]],
    signatures: Mapping[str, Mapping[str, float]],
    threshold: float,
    *,
    absorb: bool = False,
) -> dict[int, str]:
    """A map from profile index to signature key maximising total cosine similarity.

    Solves the linear assignment problem on the profile x signature similarity matrix (Hungarian
    method; Kuhn, Naval Research Logistics Quarterly 2, 1955; scipy.optimize.linear_sum_assignment)
    and keeps only pairs whose similarity is at least `threshold`. With `absorb`, a profile left
    unmatched then joins its most similar key if that similarity reaches `threshold` (so a theme
    that a new run finds as two halves keeps one key); otherwise it stays unmatched.
    """
    from scipy.optimize import linear_sum_assignment

    keys = sorted(signatures)
    if not profiles or not keys:
        return {}
    similarity = np.array([[cosine_terms(p, signatures[k]) for k in keys] for p in profiles])
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    matched = {int(r): keys[c] for r, c in zip(rows, cols, strict=True) if similarity[r, c] >= threshold}
    if absorb:
        for r in range(len(profiles)):
            best = int(similarity[r].argmax())
            if r not in matched and similarity[r, best] >= threshold:
                matched[r] = keys[best]
    return matched
