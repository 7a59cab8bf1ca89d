"""Internal-consistency reliability of multi-item scales: Cronbach's alpha, its interval,
alpha-if-item-deleted and corrected item-total correlations, per dimension.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scoring.results import DEFAULT_MIN_N, JsonResult

__all__ = ["AlphaResult", "ItemReliability", "alpha_by_dimension", "cronbach_alpha", "pairwise_covariance"]


@dataclass(frozen=True)
class ItemReliability(JsonResult):
    item: str
    alpha_if_deleted: float
    item_total_correlation: float


@dataclass(frozen=True)
class AlphaResult(JsonResult):
    """Cronbach's alpha of one scale; ``items`` lists alpha-if-deleted per item (NaN when k = 2)."""

    alpha: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    k: int
    items: tuple[ItemReliability, ...]
    low_sample: bool


def pairwise_covariance(data: ArrayLike) -> NDArray[np.float64]:
    """Sample covariance (ddof = 1) of the columns using pairwise-complete rows (NaN = missing),
    the same definition as ``pandas.DataFrame.cov``: for items i, j only rows answering both."""
    x = np.asarray(data, dtype=float)
    present = (~np.isnan(x)).astype(float)
    x0 = np.where(np.isnan(x), 0.0, x)
    n_ij = present.T @ present
    sum_i = x0.T @ present  # [i, j]: sum of x_i over rows where i and j are both present
    sum_xy = x0.T @ x0
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (sum_xy - sum_i * sum_i.T / n_ij) / (n_ij - 1.0)
    return np.asarray(cov, dtype=float)


def _alpha_from_cov(cov: NDArray[np.float64]) -> float:
    k = cov.shape[0]
    total = float(cov.sum())
    if k < 2 or total <= 0:
        return float("nan")
    return k / (k - 1.0) * (1.0 - float(np.trace(cov)) / total)


def cronbach_alpha(
    data: ArrayLike,
    item_names: Sequence[str] | None = None,
    *,
    nan_policy: Literal["pairwise", "listwise"] = "listwise",
    confidence: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> AlphaResult:
    """Cronbach's alpha for a respondents x items matrix.

    alpha = k/(k-1) * (1 - sum_i s_i^2 / s_T^2) = k/(k-1) * (1 - trace(C) / sum(C)), C the item
    covariance matrix: listwise by default (only respondents who answered every item, the alpha
    of ``pingouin.cronbach_alpha(nan_policy="listwise")``), or pairwise-complete over every row
    (pingouin's default; rows with one answer still count in that item's variance). Interval (Feldt 1965,
    Psychometrika 30:357-370; Feldt, Woodruff & Salih 1987): with df1 = n - 1, df2 = (n-1)(k-1),
    [1 - (1-alpha) F_{1-a/2}(df1, df2), 1 - (1-alpha) F_{a/2}(df1, df2)].
    Alpha-if-deleted drops the item's row and column of C; the corrected item-total correlation
    is corr(x_i, sum of the other items) = sum_{j!=i} C_ij / sqrt(C_ii * sum_{j,l!=i} C_jl).
    Reference: Cronbach (1951) Psychometrika 16:297-334; ``pingouin.cronbach_alpha``.
    n is the number of rows used: complete rows for listwise (pingouin's listwise interval keeps
    the n before deletion, which overstates the sample; ours uses the rows that count), every
    row for pairwise (as pingouin).
    """
    from scipy import stats

    x = np.asarray(data, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError("need a respondents x items matrix with at least two items")
    k = x.shape[1]
    names = list(item_names) if item_names is not None else [f"item{i + 1}" for i in range(k)]
    if len(names) != k:
        raise ValueError("item_names must have one name per column")
    if nan_policy == "listwise":
        x = x[(~np.isnan(x)).all(axis=1)]
    n = x.shape[0]
    if n < 2:
        raise ValueError("need at least two respondents")
    cov = pairwise_covariance(x)
    alpha = _alpha_from_cov(cov)
    a = 1.0 - confidence
    df1, df2 = n - 1.0, (n - 1.0) * (k - 1.0)
    low = 1.0 - (1.0 - alpha) * float(stats.f.isf(a / 2.0, df1, df2))
    high = 1.0 - (1.0 - alpha) * float(stats.f.isf(1.0 - a / 2.0, df1, df2))
    items = []
    for i in range(k):
        keep = [j for j in range(k) if j != i]
        sub = cov[np.ix_(keep, keep)]
        rest_var = float(sub.sum())
        rit = (
            float(cov[i, keep].sum()) / float(np.sqrt(cov[i, i] * rest_var)) if rest_var > 0 else float("nan")
        )
        items.append(
            ItemReliability(
                item=names[i],
                alpha_if_deleted=_alpha_from_cov(sub) if k > 2 else float("nan"),
                item_total_correlation=rit,
            )
        )
    return AlphaResult(
        alpha=alpha,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        n=n,
        k=k,
        items=tuple(items),
        low_sample=n < min_n,
    )


def alpha_by_dimension(
    data: ArrayLike,
    item_dimensions: Sequence[str],
    item_names: Sequence[str] | None = None,
    **kwargs: object,
) -> dict[str, AlphaResult]:
    """Cronbach's alpha for every dimension that has at least two items (single-item dimensions
    have no internal consistency to measure and are left out). ``item_dimensions[i]`` names the
    dimension of column i; keyword arguments as :func:`cronbach_alpha`."""
    x = np.asarray(data, dtype=float)
    if len(item_dimensions) != x.shape[1]:
        raise ValueError("item_dimensions must name the dimension of every column")
    names = list(item_names) if item_names is not None else [f"item{i + 1}" for i in range(x.shape[1])]
    out: dict[str, AlphaResult] = {}
    for dim in dict.fromkeys(item_dimensions):
        cols = [i for i, d in enumerate(item_dimensions) if d == dim]
        if len(cols) >= 2:
            out[dim] = cronbach_alpha(x[:, cols], [names[i] for i in cols], **kwargs)  # type: ignore[arg-type]
    return out
