"""Composite perception index per group (region, service, ...) on a 0..100 scale from the six
feedback dimensions, with configurable weights and a linearisation (delta-method) interval.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from scoring.grouping import Groups, group_index
from scoring.results import DEFAULT_MIN_N, GroupMeasure, JsonResult

__all__ = [
    "FEEDBACK_DIMENSIONS",
    "IndexPart",
    "PerceptionIndex",
    "perception_index_by_group",
    "perception_index_from_sums",
]

#: The six feedback dimensions of DOMAIN.md, as (code, Chinese name, English name), in column order.
FEEDBACK_DIMENSIONS: tuple[tuple[str, str, str], ...] = (
    ("response_speed", "服务响应速度", "Response speed"),
    ("fault_handling", "故障处理效果", "Fault-handling effect"),
    ("deliverable_quality", "交付物品质量", "Deliverable quality"),
    ("staff_attitude", "人员服务态度", "Staff attitude"),
    ("service_conformity", "服务规范性", "Conformity to service norms"),
    ("training_effect", "培训效果", "Training effect"),
)


def _weights(weights: Sequence[float] | Mapping[str, float] | None, k: int) -> np.ndarray:
    if weights is None:
        return np.ones(k)
    if isinstance(weights, Mapping):
        codes = [c for c, _, _ in FEEDBACK_DIMENSIONS]
        if k != len(codes) or set(weights) - set(codes):
            raise ValueError(
                "weights by name need the six feedback dimension columns, in FEEDBACK_DIMENSIONS order"
            )
        w = np.array([float(weights.get(c, 0.0)) for c in codes])
    else:
        w = np.asarray(weights, dtype=float)
    if w.shape != (k,) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"need {k} non-negative weights, not all zero")
    return w


def perception_index_by_group(
    ratings: ArrayLike,
    groups: Groups = None,
    *,
    weights: Sequence[float] | Mapping[str, float] | None = None,
    scale: tuple[float, float] = (1, 5),
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> list[GroupMeasure]:
    """Composite index per group from a respondents x dimensions rating matrix (NaN = skipped).

    Each rating is rescaled y = 100 (x - low) / (high - low). Per group g and dimension d the mean
    m_gd is taken over the respondents who answered d; the index is
    I_g = sum_d w_d m_gd / sum_d w_d (sum over dimensions with data in g).
    Interval: I_g ± t_{n-1} sqrt(V), V = n/(n-1) sum_r u_r^2 with the linearised influence
    u_r = sum_d w'_d (y_rd - m_gd) [r answered d] / n_gd, w' the normalised weights, n the
    respondents with any answer (Taylor linearisation: Wolter (2007) Introduction to Variance
    Estimation, ch. 6). With complete data this is exactly the t interval of the per-respondent
    index. ``low_sample`` when n < ``min_n``.
    """
    from scipy import stats

    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2:
        raise ValueError("ratings must be a respondents x dimensions matrix")
    low, high = scale
    if np.nanmin(x, initial=low) < low or np.nanmax(x, initial=high) > high:
        raise ValueError(f"ratings must lie within the scale {scale}")
    k = x.shape[1]
    w = _weights(weights, k)
    index = group_index(groups, x.shape[0])
    g_count = index.n_groups
    answered = ~np.isnan(x)
    y = np.where(answered, 100.0 * (x - low) / (high - low), 0.0)
    codes = index.codes
    n_gd = np.stack([np.bincount(codes, weights=answered[:, d], minlength=g_count) for d in range(k)], axis=1)
    sum_gd = np.stack([np.bincount(codes, weights=y[:, d], minlength=g_count) for d in range(k)], axis=1)
    has = n_gd > 0
    w_g = np.where(has, w[None, :], 0.0)
    w_norm = w_g / np.where(w_g.sum(axis=1, keepdims=True) > 0, w_g.sum(axis=1, keepdims=True), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        m_gd = np.where(has, sum_gd / n_gd, 0.0)
        influence = np.where(
            answered, (y - m_gd[codes]) * (w_norm / np.where(has, n_gd, 1.0))[codes], 0.0
        ).sum(axis=1)
    estimate = (w_norm * m_gd).sum(axis=1)
    respondent = answered.any(axis=1)
    n = np.rint(np.bincount(codes, weights=respondent, minlength=g_count)).astype(np.int64)
    ss = np.bincount(codes, weights=influence**2, minlength=g_count)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(n / (n - 1.0) * ss)
        q = stats.t.ppf(0.5 + confidence / 2.0, np.where(n >= 2, n - 1.0, np.nan))
    estimate = np.where(n > 0, estimate, np.nan)
    lo = np.clip(estimate - q * se, 0.0, 100.0)
    hi = np.clip(estimate + q * se, 0.0, 100.0)
    return [
        GroupMeasure(
            key=index.keys[g],
            measure="perception_index",
            n=int(n[g]),
            estimate=float(estimate[g]),
            ci_low=float(lo[g]),
            ci_high=float(hi[g]),
            confidence=confidence,
            method="linearisation_t",
            low_sample=bool(n[g] < min_n),
        )
        for g in range(g_count)
    ]


@dataclass(frozen=True)
class IndexPart(JsonResult):
    """One dimension of a perception index: its weight (normalised over the dimensions with data),
    how many ratings it has and their mean on 0..100."""

    code: str
    name_zh: str
    name_en: str
    weight: float
    n_ratings: int
    mean: float


@dataclass(frozen=True)
class PerceptionIndex(JsonResult):
    """A perception index with what it is made of. ``measure.n`` is the respondents contributing;
    ``measure.low_sample`` when they are fewer than min_n or any dimension in it has fewer than
    min_n ratings (``thin`` names those dimensions)."""

    measure: GroupMeasure
    parts: tuple[IndexPart, ...]
    thin: tuple[str, ...]


def perception_index_from_sums(
    sums: ArrayLike,
    counts: ArrayLike,
    groups: Groups = None,
    *,
    weights: Sequence[float] | Mapping[str, float] | None = None,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> list[PerceptionIndex]:
    """The perception index per group from each respondent's sum of rescaled ratings (0..100) and
    number of ratings per dimension (respondents x 6 matrices; a respondent may rate a dimension
    more than once, e.g. a Likert matrix).

    m_gd = sum_r S_rd / sum_r C_rd (every rating of d in g), I_g = sum_d w'_d m_gd over the
    dimensions with data, w' the weights normalised over them. Interval: the exact linearisation
    of this ratio estimator, I ± t_{n-1} sqrt(n/(n-1) sum_r u_r^2) with
    u_r = sum_d w'_d (S_rd - m_gd C_rd) / N_gd and n the respondents with any rating (Wolter 2007,
    Introduction to Variance Estimation, ch. 6). It uses each respondent's answers together, so
    dimensions answered by different people are not treated as perfectly correlated (the
    conservative sum of SEs was 2.2-2.95 times too wide). With one rating per respondent and
    dimension it equals :func:`perception_index_by_group`; with every dimension answered by every
    respondent, the t interval of the per-respondent index.
    """

    s = np.asarray(sums, dtype=float)
    c = np.asarray(counts, dtype=float)
    if s.ndim != 2 or s.shape != c.shape:
        raise ValueError("sums and counts must be respondents x dimensions matrices of one shape")
    if np.any(c < 0) or np.any((c == 0) & (s != 0)):
        raise ValueError("counts must be non-negative, and a dimension without ratings has a zero sum")
    k = s.shape[1]
    w = _weights(weights, k)
    index = group_index(groups, s.shape[0])
    g_count, codes = index.n_groups, index.codes
    n_gd = np.stack([np.bincount(codes, weights=c[:, d], minlength=g_count) for d in range(k)], axis=1)
    t_gd = np.stack([np.bincount(codes, weights=s[:, d], minlength=g_count) for d in range(k)], axis=1)
    has = n_gd > 0
    w_g = np.where(has, w[None, :], 0.0)
    total = w_g.sum(axis=1, keepdims=True)
    w_norm = w_g / np.where(total > 0, total, 1.0)
    m_gd = np.where(has, t_gd / np.where(has, n_gd, 1.0), 0.0)
    u = ((s - m_gd[codes] * c) * (w_norm / np.where(has, n_gd, 1.0))[codes]).sum(axis=1)
    respondent = (c > 0).any(axis=1)
    n = np.rint(np.bincount(codes, weights=respondent, minlength=g_count)).astype(np.int64)
    ss = np.bincount(codes, weights=u**2, minlength=g_count)
    names = (
        FEEDBACK_DIMENSIONS
        if k == len(FEEDBACK_DIMENSIONS)
        else tuple((str(d), str(d), str(d)) for d in range(k))
    )
    return [
        index_of_group(
            index.keys[g],
            int(n[g]),
            w_norm[g],
            n_gd[g],
            m_gd[g],
            float(ss[g]),
            names,
            confidence=confidence,
            min_n=min_n,
        )  # fmt: skip
        for g in range(g_count)
    ]


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """Student's t quantile, once per (p, df): the same float as scipy's, without its half a
    millisecond per call for every group of a page (issue 19)."""
    from scipy import stats

    return float(stats.t.ppf(p, df))


def index_of_group(
    key: tuple[object, ...],
    respondents: int,
    weights: np.ndarray,
    counts: np.ndarray,
    means: np.ndarray,
    squares: float,
    names: Sequence[tuple[str, str, str]],
    *,
    confidence: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> PerceptionIndex:
    """One group's index from its normalised dimension ``weights``, its ratings' ``counts`` and
    ``means`` per dimension and ``squares``, the sum over its respondents of their squared
    linearised contributions: the estimate, and the t interval of the ratio by linearisation
    (variance ``n / (n - 1) * squares``), clipped to 0-100. Shared by the respondent-level path
    above and the pre-aggregate's sums (perception.analysis.services.perception_index)."""

    ng = respondents
    estimate = float((weights * means).sum()) if ng else math.nan
    if ng >= 2:
        se = math.sqrt(ng / (ng - 1.0) * squares)
        q = t_quantile(0.5 + confidence / 2.0, ng - 1)
        low, high = max(0.0, estimate - q * se), min(100.0, estimate + q * se)
    else:
        low = high = math.nan
    parts = tuple(
        IndexPart(code, zh, en, float(weights[d]), int(round(float(counts[d]))), float(means[d]))
        for d, (code, zh, en) in enumerate(names)
        if counts[d] > 0
    )
    thin = tuple(part.code for part in parts if part.n_ratings < min_n)
    measure = GroupMeasure(
        key=key,
        measure="perception_index",
        n=ng,
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        method="ratio_linearisation_t",
        low_sample=bool(ng < min_n or thin),
    )
    return PerceptionIndex(measure, parts, thin)
