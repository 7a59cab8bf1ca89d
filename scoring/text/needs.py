"""Common needs (共性需求) and emerging needs among themed requirements.

Owns `common_needs` (themes raised in one period by at least M distinct customers in at least R
distinct regions) and `theme_growth` / `emerging_needs` (themes whose share of a period's entries
grew significantly against the previous period), with Benjamini-Hochberg adjustment across themes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from scoring.text.themes import EntryId, ThemeAssignment

__all__ = [
    "CommonNeed",
    "GrowthMethod",
    "ThemeGrowth",
    "benjamini_hochberg",
    "common_needs",
    "emerging_needs",
    "growth_p_value",
    "theme_growth",
]

GrowthMethod = Literal["fisher", "poisson", "ztest"]


@dataclass(frozen=True)
class CommonNeed:
    """A theme raised in the period by enough distinct customers in enough distinct regions."""

    theme_key: str
    period: Hashable
    n_entries: int
    customers: tuple[str, ...]
    regions: tuple[str, ...]
    entry_ids: tuple[EntryId, ...]


@dataclass(frozen=True)
class ThemeGrowth:
    """A theme's share of entries in two periods and the one-sided test that it grew."""

    theme_key: str
    count: int
    total: int
    previous_count: int
    previous_total: int
    share: float
    previous_share: float
    rate_ratio: float
    p_value: float
    q_value: float
    method: GrowthMethod


def common_needs(
    assignments: Sequence[ThemeAssignment],
    entry_customer: Mapping[Any, str],
    entry_region: Mapping[Any, str],
    entry_period: Mapping[Any, Hashable],
    period: Hashable,
    min_customers: int = 3,
    min_regions: int = 3,
    *,
    min_weight: float = 0.0,
) -> list[CommonNeed]:
    """Themes of `period` raised by >= `min_customers` customers in >= `min_regions` regions.

    Counts distinct customers and regions over the period's entries assigned to each theme with
    weight >= `min_weight`. Sorted by number of customers, then regions, then entries (descending).
    """
    entries: dict[str, list[EntryId]] = defaultdict(list)
    for a in assignments:
        if a.theme_key is not None and a.weight >= min_weight and entry_period.get(a.entry_id) == period:
            entries[a.theme_key].append(a.entry_id)
    needs = []
    for key, ids in entries.items():
        customers = tuple(sorted({entry_customer[i] for i in ids}))
        regions = tuple(sorted({entry_region[i] for i in ids}))
        if len(customers) >= min_customers and len(regions) >= min_regions:
            needs.append(CommonNeed(key, period, len(ids), customers, regions, tuple(ids)))
    return sorted(needs, key=lambda n: (-len(n.customers), -len(n.regions), -n.n_entries, n.theme_key))


def growth_p_value(
    count: int, total: int, previous_count: int, previous_total: int, method: GrowthMethod
) -> float:
    """One-sided p-value for H1: share count/total > previous_count/previous_total.

    fisher: Fisher's exact test, the exact test conditional on both margins for two binomial
      proportions: p = P(X >= count), X ~ Hypergeometric(total + previous_total,
      count + previous_count, total) (Agresti, Categorical Data Analysis, 3rd ed., 3.5.1).
    poisson: exact conditional test of two Poisson rates with the period totals as exposures:
      p = P(X >= count), X ~ Binomial(count + previous_count, total / (total + previous_total))
      (Przyborowski & Wilenski, Biometrika 31, 1940; statsmodels test_poisson_2indep 'exact-cond').
    ztest: pooled two-proportion z test, z = (p1 - p0) / sqrt(p(1 - p)(1/n1 + 1/n0)) with
      p = (x1 + x0)/(n1 + n0), p = 1 - Phi(z) (statsmodels proportions_ztest).
    """
    from scipy import stats

    if total <= 0 or previous_total <= 0:
        raise ValueError("both periods need at least one entry")
    if method == "fisher":
        hypergeom = stats.hypergeom(total + previous_total, count + previous_count, total)
        return float(min(1.0, hypergeom.sf(count - 1)))
    if method == "poisson":
        n = count + previous_count
        return float(stats.binom.sf(count - 1, n, total / (total + previous_total))) if n else 1.0
    if method == "ztest":
        pooled = (count + previous_count) / (total + previous_total)
        se = math.sqrt(pooled * (1 - pooled) * (1 / total + 1 / previous_total))
        if se == 0:
            return 1.0
        z = (count / total - previous_count / previous_total) / se
        return float(stats.norm.sf(z))
    raise ValueError(f"unknown method {method!r}")


def benjamini_hochberg(p_values: Sequence[float] | npt.NDArray[np.float64]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values): q_(i) = min_{j >= i} min(1, m p_(j) / j).

    Reference: Benjamini & Hochberg, JRSS B 57 (1995) 289-300; statsmodels multipletests 'fdr_bh'.
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    q = np.empty(m)
    q[order] = adjusted
    return [float(v) for v in q]


def theme_growth(
    assignments: Sequence[ThemeAssignment],
    entry_period: Mapping[Any, Hashable],
    period: Hashable,
    previous_period: Hashable,
    *,
    method: GrowthMethod = "fisher",
) -> list[ThemeGrowth]:
    """Every theme seen in either period, with its growth test; q-values adjust over all of them.

    A theme's count is the number of the period's entries assigned to it; the total is all of the
    period's entries, themed or not. rate_ratio = (count/total) / (previous_count/previous_total)
    (inf when the theme is new). Default test: Fisher's exact (see `growth_p_value`).
    """
    counts: dict[Hashable, dict[str, int]] = {period: defaultdict(int), previous_period: defaultdict(int)}
    totals = {period: 0, previous_period: 0}
    for a in assignments:
        which = entry_period.get(a.entry_id)
        if which not in totals:
            continue
        totals[which] += 1
        if a.theme_key is not None:
            counts[which][a.theme_key] += 1
    n1, n0 = totals[period], totals[previous_period]
    keys = sorted(set(counts[period]) | set(counts[previous_period]))
    rows = []
    for key in keys:
        x1, x0 = counts[period][key], counts[previous_period][key]
        share, previous_share = x1 / n1, x0 / n0
        ratio = share / previous_share if previous_share > 0 else math.inf
        rows.append((key, x1, x0, share, previous_share, ratio, growth_p_value(x1, n1, x0, n0, method)))
    q_values = benjamini_hochberg([row[-1] for row in rows])
    return [
        ThemeGrowth(key, x1, n1, x0, n0, share, prev, ratio, p, q, method)
        for (key, x1, x0, share, prev, ratio, p), q in zip(rows, q_values, strict=True)
    ]


def emerging_needs(
    assignments: Sequence[ThemeAssignment],
    entry_period: Mapping[Any, Hashable],
    period: Hashable,
    previous_period: Hashable,
    *,
    alpha: float = 0.05,
    method: GrowthMethod = "fisher",
    min_entries: int = 3,
) -> list[ThemeGrowth]:
    """Themes that grew significantly: q-value <= `alpha` (Benjamini-Hochberg over all themes),
    share up, and at least `min_entries` entries in `period`. Most significant first."""
    grown = [
        g
        for g in theme_growth(assignments, entry_period, period, previous_period, method=method)
        if g.q_value <= alpha and g.rate_ratio > 1 and g.count >= min_entries
    ]
    return sorted(grown, key=lambda g: (g.p_value, g.theme_key))
