"""The arithmetic of the sampling comparison: sample size from a margin of error, proportional
allocation to strata, and the reproducible draw key. Pure functions, no database.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

from scoring.intervals import z_quantile

K = TypeVar("K", bound=Hashable)
METHOD = "sha256-rank/v1"


def required_sample_size(
    population: int, margin: float, confidence: float = 0.95, expected_share: float = 0.5
) -> int:
    """Sample size to estimate a share within +/- ``margin`` at ``confidence``.

    n0 = z^2 p (1 - p) / e^2, then the finite population correction
    n = n0 / (1 + (n0 - 1) / N), rounded up and capped at N.
    Reference: W. G. Cochran, Sampling Techniques, 3rd ed. (1977), eqs. (4.2) and (4.3)
    (e.g. N = 1000, e = 0.05, p = 0.5, 95 % -> n0 = 384.1, n = 278).
    """
    if population <= 0:
        return 0
    if not 0.0 < margin < 1.0:
        raise ValueError(f"margin must lie in (0, 1), got {margin}")
    if not 0.0 < expected_share < 1.0:
        raise ValueError(f"expected share must lie in (0, 1), got {expected_share}")
    z = z_quantile(confidence)
    n0 = z * z * expected_share * (1.0 - expected_share) / (margin * margin)
    n = n0 / (1.0 + (n0 - 1.0) / population)
    # Guard against 277.0000000001 rounding up to 278 because of floating point.
    return min(population, math.ceil(round(n, 9)))


def allocate(populations: Mapping[K, int], n: int) -> dict[K, int]:
    """Proportional allocation n_h = n N_h / N (Cochran 1977, sec. 5.5), rounded by the largest
    remainder (Hamilton) method so the parts sum to n; ties go to the larger stratum, then to the
    earlier key in sorted order. Every non-empty stratum then gets at least one unit (which may
    raise the total above n) and no stratum more than its population."""
    total = sum(populations.values())
    if total == 0 or n <= 0:
        return {k: 0 for k in populations}
    n = min(n, total)
    quotas = {k: n * size / total for k, size in populations.items()}
    out = {k: math.floor(q) for k, q in quotas.items()}
    left = n - sum(out.values())
    order = sorted(populations, key=lambda k: (-(quotas[k] - out[k]), -populations[k], str(k)))
    for k in order[:left]:
        out[k] += 1
    for k, size in populations.items():
        if size > 0:
            out[k] = min(size, max(out[k], 1))
    return out


def draw_key(seed: str, unit_id: int) -> str:
    """The rank of a unit in the draw: sha256("<seed>:<id>") as hex. Taking the n_h smallest keys
    of a stratum is a simple random sample without replacement (the hash acts as an independent
    uniform random number per unit) that anyone can recompute from the seed and the ids."""
    return hashlib.sha256(f"{seed}:{unit_id}".encode()).hexdigest()


def draw(seed: str, unit_ids: Iterable[int], n: int) -> list[tuple[int, str]]:
    """The ``n`` units with the smallest draw keys, as (id, key) in rank order."""
    keyed = sorted((draw_key(seed, i), i) for i in unit_ids)
    return [(i, key) for key, i in keyed[:n]]


def population_digest(unit_ids: Iterable[int]) -> str:
    """sha256 of the sorted ids, comma-separated: proves later that the population was the same."""
    return hashlib.sha256(",".join(str(i) for i in sorted(unit_ids)).encode()).hexdigest()
