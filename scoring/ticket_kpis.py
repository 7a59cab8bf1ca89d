"""Grouped ticket KPIs (the provider's internal process measures), vectorised with NumPy.

This module owns the per-group computation of ticket KPIs for N tickets in G groups: count, p50/p90 of
first-response and resolution time (in covered business seconds, see `scoring.calendar`), share within
target, first-contact resolution (FCR) rate, reopen rate and backlog. The caller maps
service x region x tier x period to integer group codes 0..G-1; no per-ticket Python loop runs here.

Percentiles use linear interpolation between order statistics, Hyndman & Fan (1996) type 7, which is
NumPy's default ``method="linear"`` and ``statistics.quantiles(method="inclusive")``: for the m sorted
values x_0 <= ... <= x_{m-1} of a group, h = (m - 1) p, Q(p) = x_floor(h) + (h - floor(h)) (x_ceil(h) -
x_floor(h)). Reference: R. J. Hyndman and Y. Fan, "Sample quantiles in statistical packages", The
American Statistician 50(4), 1996, 361-365.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["TicketKpis", "grouped_percentiles", "ticket_kpis"]

_A = TypeVar("_A", bound=np.ndarray)


def _frozen(a: _A) -> _A:
    a.flags.writeable = False
    return a


def _group_codes(groups: ArrayLike, n_groups: int | None) -> tuple[NDArray[np.intp], int]:
    g = np.asarray(groups)
    if g.ndim != 1 or (g.size and not np.issubdtype(g.dtype, np.integer)):
        raise ValueError("group codes must be a 1-D integer array")
    g = g.astype(np.intp, copy=False)
    size = int(g.max()) + 1 if n_groups is None and g.size else (n_groups or 0)
    if g.size and (int(g.min()) < 0 or int(g.max()) >= size):
        raise ValueError(f"group codes must lie in 0..{size - 1}")
    return g, size


def grouped_percentiles(
    groups: ArrayLike,
    values: ArrayLike,
    q: Sequence[float],
    n_groups: int | None = None,
    *,
    value_order: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Type-7 percentiles (``q`` in 0..100) of ``values`` within each group, ignoring NaN.

    Returns shape (n_groups, len(q)); a group with no non-NaN value gives NaN. Method: one lexsort by
    (group, value) with NaN mapped to +inf so each group's valid values come first; then the module
    docstring's formula Q(p) indexed at the group's offset, for all groups at once.

    ``value_order``: the indices that sort ``values`` ascending with NaN last (``np.argsort(values)``),
    when the caller groups the same values several ways: each grouping is then one stable sort of
    the group codes (a radix sort for up to 65,536 groups) instead of a lexsort, with the same result.
    """
    g, size = _group_codes(groups, n_groups)
    v = np.asarray(values, dtype=np.float64)
    if v.shape != g.shape:
        raise ValueError("groups and values must have the same length")
    p = np.asarray(q, dtype=np.float64) / 100.0
    if np.any((p < 0) | (p > 1)):
        raise ValueError("percentiles must lie in 0..100")
    nan = np.isnan(v)
    sort_key = np.where(nan, np.inf, v)
    if value_order is None:
        order = np.lexsort((sort_key, g))
    else:
        by_value = np.asarray(value_order, dtype=np.intp)
        if by_value.shape != g.shape:
            raise ValueError("value_order must have the values' length")
        codes = g[by_value].astype(np.uint16) if size <= 1 << 16 else g[by_value]
        order = by_value[np.argsort(codes, kind="stable")]
    x = sort_key[order]
    counts = np.bincount(g, minlength=size)
    valid = np.bincount(g, weights=~nan, minlength=size).astype(np.intp)
    offsets = (np.cumsum(counts) - counts).astype(np.intp)
    h = (np.maximum(valid, 1) - 1)[:, None] * p[None, :]
    lo = np.floor(h).astype(np.intp)
    hi = np.minimum(lo + 1, np.maximum(valid, 1)[:, None] - 1)
    out = np.full((size, p.size), np.nan)
    has = valid > 0
    base = offsets[has, None]
    x_lo, x_hi = x[base + lo[has]], x[base + hi[has]]
    out[has] = x_lo + (h[has] - lo[has]) * (x_hi - x_lo)
    return out


@dataclass(frozen=True)
class TicketKpis:
    """Per-group ticket KPIs; every field is a read-only array of length n_groups (index = group code).

    Rates are NaN when their denominator is 0.
    n: tickets; n_responded / n_resolved: tickets with a first response / a resolution time;
    response_p50/p90, resolution_p50/p90: type-7 percentiles in business seconds;
    response_within_target / resolution_within_target: share of measured tickets with value <= the
    group's target (NaN everywhere when no target array was given);
    fcr_rate: first-contact-resolved / resolved tickets; reopen_rate: tickets reopened at least once /
    tickets ever resolved (resolved now, or reopened); backlog: tickets open at period end.
    """

    n: NDArray[np.int64]
    n_responded: NDArray[np.int64]
    n_resolved: NDArray[np.int64]
    response_p50: NDArray[np.float64]
    response_p90: NDArray[np.float64]
    resolution_p50: NDArray[np.float64]
    resolution_p90: NDArray[np.float64]
    response_within_target: NDArray[np.float64]
    resolution_within_target: NDArray[np.float64]
    fcr_rate: NDArray[np.float64]
    reopen_rate: NDArray[np.float64]
    backlog: NDArray[np.int64]


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _within(
    g: NDArray[np.intp],
    v: NDArray[np.float64],
    target: ArrayLike | None,
    measured: NDArray[np.float64],
    size: int,
) -> NDArray[np.float64]:
    if target is None:
        return np.full(size, np.nan)
    t = np.asarray(target, dtype=np.float64)
    if t.shape != (size,):
        raise ValueError(f"target must hold one value per group ({size}), got shape {t.shape}")
    hit = v <= t[g]  # NaN values (not measured) compare False
    return _ratio(np.bincount(g, weights=hit, minlength=size).astype(np.float64), measured)


def ticket_kpis(
    groups: ArrayLike,
    first_response_s: ArrayLike,
    resolution_s: ArrayLike,
    reopen_count: ArrayLike,
    *,
    n_groups: int | None = None,
    first_contact: ArrayLike | None = None,
    is_open: ArrayLike | None = None,
    response_target_s: ArrayLike | None = None,
    resolution_target_s: ArrayLike | None = None,
) -> TicketKpis:
    """Per-group KPIs of N tickets (see `TicketKpis` for each definition).

    groups: int codes 0..n_groups-1; first_response_s / resolution_s: business seconds, NaN when not yet
    responded / resolved; reopen_count: times reopened. A ticket is first-contact resolved when it is
    resolved, was never reopened and ``first_contact`` (the caller's flag, e.g. "no hand-off"; default
    True) holds. ``is_open`` (default: resolution is NaN) marks the backlog at period end. Targets are
    per-group arrays of business seconds (tiers differ). Open tickets are not in the within-target
    denominators: pass their breach state separately if open breaches must count.
    """
    g, size = _group_codes(groups, n_groups)
    resp = np.asarray(first_response_s, dtype=np.float64)
    res = np.asarray(resolution_s, dtype=np.float64)
    reopen = np.asarray(reopen_count)
    fc = np.ones(g.shape, dtype=bool) if first_contact is None else np.asarray(first_contact, dtype=bool)
    open_ = np.isnan(res) if is_open is None else np.asarray(is_open, dtype=bool)
    for name, arr in (("first_response_s", resp), ("resolution_s", res), ("reopen_count", reopen)):
        if arr.shape != g.shape:
            raise ValueError(f"{name} must have the same length as groups ({g.size}), got {arr.shape}")
    if fc.shape != g.shape or open_.shape != g.shape:
        raise ValueError("first_contact and is_open must have the same length as groups")

    def count(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
        return np.bincount(g, weights=mask, minlength=size).astype(np.float64)

    resolved, reopened = ~np.isnan(res), reopen > 0
    n_resp, n_res = count(~np.isnan(resp)), count(resolved)
    resp_q = grouped_percentiles(g, resp, (50.0, 90.0), size)
    res_q = grouped_percentiles(g, res, (50.0, 90.0), size)
    return TicketKpis(
        n=_frozen(np.bincount(g, minlength=size).astype(np.int64)),
        n_responded=_frozen(n_resp.astype(np.int64)),
        n_resolved=_frozen(n_res.astype(np.int64)),
        response_p50=_frozen(resp_q[:, 0]),
        response_p90=_frozen(resp_q[:, 1]),
        resolution_p50=_frozen(res_q[:, 0]),
        resolution_p90=_frozen(res_q[:, 1]),
        response_within_target=_frozen(_within(g, resp, response_target_s, n_resp, size)),
        resolution_within_target=_frozen(_within(g, res, resolution_target_s, n_res, size)),
        fcr_rate=_frozen(_ratio(count(resolved & ~reopened & fc), n_res)),
        reopen_rate=_frozen(_ratio(count(reopened), count(resolved | reopened))),
        backlog=_frozen(count(open_).astype(np.int64)),
    )
