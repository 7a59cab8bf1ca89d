"""Customer-experience measures per group: CSAT, NPS, CES, top/bottom-box shares and means.

Each ``*_by_group`` function takes the raw scores (NaN = not answered, dropped) and the caller's
grouping (see :mod:`scoring.grouping`) and returns one :class:`GroupMeasure` per group, with an
interval and the low-sample flag (n < ``min_n``, default 30). Counting is ``np.bincount`` over
integer group codes: no Python loop per response. ``*_from_counts`` variants take aggregates the
caller already computed in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scoring.grouping import GroupIndex, Groups, group_index
from scoring.intervals import NpsMethod, nps_interval, t_interval, wilson_interval
from scoring.results import DEFAULT_MIN_N, GroupMeasure

__all__ = [
    "bottom_box_by_group",
    "ces_by_group",
    "csat",
    "csat_by_group",
    "mean_by_group",
    "mean_from_stats",
    "nps",
    "nps_by_group",
    "nps_from_counts",
    "share_from_counts",
    "top_box_by_group",
]

Scale = tuple[float, float]


def _prepare(
    scores: ArrayLike, groups: Groups, scale: Scale | None
) -> tuple[NDArray[np.float64], NDArray[np.intp], GroupIndex]:
    x = np.asarray(scores, dtype=float).reshape(-1)
    index = group_index(groups, x.shape[0])
    valid = ~np.isnan(x)
    if scale is not None:
        low, high = scale
        if low >= high:
            raise ValueError(f"scale must be (low, high) with low < high, got {scale}")
        xv = x[valid]
        if xv.size and (xv.min() < low or xv.max() > high):
            raise ValueError(f"scores must lie within the scale {scale} (NaN = not answered)")
    return x[valid], index.codes[valid], index


def _counts(codes: NDArray[np.intp], n_groups: int, mask: NDArray[np.bool_] | None = None) -> NDArray[Any]:
    weights = None if mask is None else mask.astype(float)
    return np.rint(np.bincount(codes, weights=weights, minlength=n_groups)).astype(np.int64)


def _share_results(
    keys: Sequence[tuple[Any, ...]],
    successes: NDArray[Any],
    n: NDArray[Any],
    measure: str,
    min_n: int,
    confidence: float,
) -> list[GroupMeasure]:
    low, high = wilson_interval(successes, n, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = successes / n
    return [
        GroupMeasure(
            key=keys[g],
            measure=measure,
            n=int(n[g]),
            estimate=float(p[g]),
            ci_low=float(low[g]),
            ci_high=float(high[g]),
            confidence=confidence,
            method="wilson",
            low_sample=bool(n[g] < min_n),
            successes=int(successes[g]),
        )
        for g in range(len(keys))
    ]


def _box_by_group(
    scores: ArrayLike,
    groups: Groups,
    scale: Scale,
    boxes: int,
    top: bool,
    measure: str,
    min_n: int,
    confidence: float,
) -> list[GroupMeasure]:
    if boxes < 1:
        raise ValueError("boxes must be >= 1")
    x, codes, index = _prepare(scores, groups, scale)
    hit = x > scale[1] - boxes if top else x < scale[0] + boxes
    successes = _counts(codes, index.n_groups, hit)
    n = _counts(codes, index.n_groups)
    return _share_results(index.keys, successes, n, measure, min_n, confidence)


def csat_by_group(
    scores: ArrayLike,
    groups: Groups = None,
    *,
    scale: Scale = (1, 5),
    top: int = 2,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> list[GroupMeasure]:
    """CSAT = share of the top ``top`` boxes (4-5 on 1..5) per group, with a Wilson interval.

    CSAT = #{score > high - top} / n. Reference: Wilson (1927); DOMAIN.md "Measures".
    """
    return _box_by_group(scores, groups, scale, top, True, "csat", min_n, confidence)


def top_box_by_group(
    scores: ArrayLike,
    groups: Groups = None,
    *,
    scale: Scale = (1, 5),
    boxes: int = 1,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> list[GroupMeasure]:
    """Top-box share #{score > high - boxes} / n with a Wilson interval (Wilson 1927)."""
    return _box_by_group(scores, groups, scale, boxes, True, "top_box", min_n, confidence)


def bottom_box_by_group(
    scores: ArrayLike,
    groups: Groups = None,
    *,
    scale: Scale = (1, 5),
    boxes: int = 1,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> list[GroupMeasure]:
    """Bottom-box share #{score < low + boxes} / n with a Wilson interval (Wilson 1927)."""
    return _box_by_group(scores, groups, scale, boxes, False, "bottom_box", min_n, confidence)


def _nps_results(
    keys: Sequence[tuple[Any, ...]],
    promoters: NDArray[Any],
    detractors: NDArray[Any],
    n: NDArray[Any],
    min_n: int,
    confidence: float,
    method: NpsMethod,
) -> list[GroupMeasure]:
    low, high = nps_interval(promoters, detractors, n, confidence, method)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = 100.0 * (promoters - detractors) / n
    return [
        GroupMeasure(
            key=keys[g],
            measure="nps",
            n=int(n[g]),
            estimate=float(est[g]),
            ci_low=float(100.0 * low[g]),
            ci_high=float(100.0 * high[g]),
            confidence=confidence,
            method=method,
            low_sample=bool(n[g] < min_n),
            promoters=int(promoters[g]),
            detractors=int(detractors[g]),
        )
        for g in range(len(keys))
    ]


def nps_by_group(
    scores: ArrayLike,
    groups: Groups = None,
    *,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
    method: NpsMethod = "score",
) -> list[GroupMeasure]:
    """NPS = 100 (p+ - p-) on the 0..10 likelihood-to-recommend scale, per group.

    Promoters score 9-10, detractors 0-6 (Reichheld 2003, HBR 81(12)). The interval is the
    trinomial score interval by default; see :func:`scoring.intervals.nps_interval` (Rocks 2016).
    """
    x, codes, index = _prepare(scores, groups, (0, 10))
    promoters = _counts(codes, index.n_groups, x >= 9)
    detractors = _counts(codes, index.n_groups, x <= 6)
    n = _counts(codes, index.n_groups)
    return _nps_results(index.keys, promoters, detractors, n, min_n, confidence, method)


def mean_by_group(
    scores: ArrayLike,
    groups: Groups = None,
    *,
    scale: Scale | None = None,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
    measure: str = "mean",
) -> list[GroupMeasure]:
    """Mean score per group with a Student t interval, mean ± t_{n-1} s / sqrt(n).

    Two-pass computation (group means, then squared deviations) for numerical stability.
    Reference: Rice (2007) Mathematical Statistics and Data Analysis, sec. 7.3.
    """
    x, codes, index = _prepare(scores, groups, scale)
    n = _counts(codes, index.n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(codes, weights=x, minlength=index.n_groups) / n
        ss = np.bincount(codes, weights=(x - mean[codes]) ** 2, minlength=index.n_groups)
        sd = np.sqrt(ss / (n - 1))
    return _mean_results(index.keys, mean, sd, n, measure, min_n, confidence)


def _mean_results(
    keys: Sequence[tuple[Any, ...]],
    mean: NDArray[Any],
    sd: NDArray[Any],
    n: NDArray[Any],
    measure: str,
    min_n: int,
    confidence: float,
) -> list[GroupMeasure]:
    sd = np.where(n >= 2, sd, np.nan)
    low, high = t_interval(mean, sd, n, confidence)
    return [
        GroupMeasure(
            key=keys[g],
            measure=measure,
            n=int(n[g]),
            estimate=float(mean[g]),
            ci_low=float(low[g]),
            ci_high=float(high[g]),
            confidence=confidence,
            method="t",
            low_sample=bool(n[g] < min_n),
            sd=float(sd[g]),
        )
        for g in range(len(keys))
    ]


def ces_by_group(
    scores: ArrayLike,
    groups: Groups = None,
    *,
    scale: Scale = (1, 7),
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> list[GroupMeasure]:
    """Customer Effort Score: mean agreement on the 1..7 "easy to handle" item, t interval.

    Reference: Dixon, Freeman & Toman (2010) "Stop trying to delight your customers", HBR 88(7)
    (CES 2.0 uses the 7-point agreement scale); interval as :func:`mean_by_group`.
    """
    return mean_by_group(scores, groups, scale=scale, min_n=min_n, confidence=confidence, measure="ces")


def share_from_counts(
    successes: int,
    n: int,
    *,
    key: tuple[Any, ...] = (),
    measure: str = "share",
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> GroupMeasure:
    """A share (e.g. CSAT) from counts already aggregated by the caller; Wilson interval."""
    if not 0 <= successes <= n:
        raise ValueError("need 0 <= successes <= n")
    return _share_results([key], np.array([successes]), np.array([n]), measure, min_n, confidence)[0]


def nps_from_counts(
    promoters: int,
    passives: int,
    detractors: int,
    *,
    key: tuple[Any, ...] = (),
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
    method: NpsMethod = "score",
) -> GroupMeasure:
    """NPS from the three category counts; interval as :func:`nps_by_group`."""
    if min(promoters, passives, detractors) < 0:
        raise ValueError("counts must be non-negative")
    n = np.array([promoters + passives + detractors])
    return _nps_results([key], np.array([promoters]), np.array([detractors]), n, min_n, confidence, method)[0]


def mean_from_stats(
    mean: float,
    sd: float,
    n: int,
    *,
    key: tuple[Any, ...] = (),
    measure: str = "mean",
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> GroupMeasure:
    """A mean from (mean, sample SD, n) aggregated by the caller; Student t interval."""
    return _mean_results([key], np.array([mean]), np.array([sd]), np.array([n]), measure, min_n, confidence)[
        0
    ]


def csat(scores: ArrayLike, **kwargs: Any) -> GroupMeasure:
    """CSAT of all scores as one group; keyword arguments as :func:`csat_by_group`."""
    return csat_by_group(scores, None, **kwargs)[0]


def nps(scores: ArrayLike, **kwargs: Any) -> GroupMeasure:
    """NPS of all scores as one group; keyword arguments as :func:`nps_by_group`."""
    return nps_by_group(scores, None, **kwargs)[0]
