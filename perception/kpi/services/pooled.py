"""Percentile KPIs of pooled groups, from the tickets themselves.

A percentile is not an average: the P90 of two regions' tickets is not the n-weighted mean of the two
regions' P90s (issue 14 measured the mean understating the pooled P90 by 7-12%). When a page shows a
percentile KPI over several stored groups (regions, tiers, services pooled), it asks this module,
which reloads the tickets of those groups (kpi_ticket_frame: the same covered business seconds the
stored values were computed from) and takes the type-7 percentile (scoring.ticket_kpis, numpy's
default ``method="linear"``) over all of them.

Public API: ``pooled_percentiles(session, start, end, keys, ...) -> {(code, key..., period): (minutes, n)}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from sqlalchemy.orm import Session

from perception.kpi.models import Granularity
from perception.kpi.services.arrays import distinct_rows
from perception.kpi.services.ticket_frame import load_frame
from perception.kpi.services.ticket_time import period_starts
from scoring.ticket_kpis import grouped_percentiles

#: Stored KPI codes that are percentiles: (duration column, percentile).
PERCENTILE_KPIS: dict[str, tuple[str, float]] = {
    "TK_RESPONSE_P50": ("response_s", 50.0),
    "TK_RESPONSE_P90": ("response_s", 90.0),
    "TK_RESOLUTION_P50": ("resolution_s", 50.0),
    "TK_RESOLUTION_P90": ("resolution_s", 90.0),
}

#: Grouping columns a caller may keep; the others are pooled.
KEYS = ("service", "region", "tier")

PooledKey = tuple[object, ...]


def pooled_percentiles(
    session: Session,
    start: date,
    end: date,
    keep: Sequence[str],
    *,
    region_ids: frozenset[int] | None = None,
    service_id: int | None = None,
    tier_id: int | None = None,
    granularity: str = Granularity.WEEK,
) -> dict[PooledKey, tuple[float, int]]:
    """Per percentile KPI code, the kept columns (``keep`` from KEYS, in that order) and the period
    start: (value in covered minutes, tickets measured), over the tickets opened in [start, end) in
    the given scope with every other column pooled. Keys: ``(code, *kept ids, period_start)``."""
    unknown = set(keep) - set(KEYS)
    if unknown:
        raise ValueError(f"unknown grouping columns {sorted(unknown)}")
    frame = load_frame(session, start, end, region_ids=region_ids)
    mask = frame.in_period.copy()
    if service_id is not None:
        mask &= frame.service == service_id
    if tier_id is not None:
        mask &= frame.tier == tier_id
    sub = frame.subset(mask)
    if len(sub) == 0:
        return {}
    period = period_starts(sub.local_day, granularity)
    columns = [getattr(sub, k) for k in KEYS if k in keep]
    distinct, codes = distinct_rows(*columns, period.astype(np.int64))
    size = int(distinct[0].size)
    starts = [date.fromisoformat(str(d)) for d in distinct[-1].astype("datetime64[D]").tolist()]
    out: dict[PooledKey, tuple[float, int]] = {}
    for column in ("response_s", "resolution_s"):
        values = getattr(sub, column)
        wanted = [(code, q) for code, (col, q) in PERCENTILE_KPIS.items() if col == column]
        qs = grouped_percentiles(codes, values, [q for _, q in wanted], size)
        n = np.bincount(codes, weights=~np.isnan(values), minlength=size).astype(np.int64)
        for g in range(size):
            if n[g] == 0:
                continue
            ids = tuple(int(c[g]) for c in distinct[:-1])
            for j, (code, _) in enumerate(wanted):
                out[(code, *ids, starts[g])] = (float(qs[g, j]) / 60.0, int(n[g]))
    return out
