"""Percentile KPIs of pooled groups, from the tickets themselves.

A percentile is not an average: the P90 of two regions' tickets is not the n-weighted mean of the two
regions' P90s (issue 14 measured the mean understating the pooled P90 by 7-12%). When a page shows a
percentile KPI over several stored groups (regions, tiers, services pooled), it asks this module,
which reloads the tickets of those groups (kpi_ticket_frame.load_durations: the same covered business
seconds the stored values were computed from) and takes the type-7 percentile (scoring.ticket_kpis,
numpy's default ``method="linear"``) over all of them.

A page pools the same tickets several ways (per service and region, per service, all together), so
the tickets loaded for a period and scope are kept for the rest of the database transaction (in the
connection's ``info``) and forgotten at its end, at a savepoint's rollback and at the first statement
that may write: a page never sees figures older than its own transaction, and never pays the load
twice.

Public API: ``pooled_percentiles(session, start, end, keys, ...) -> {(code, key..., period): (minutes, n)}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from perception.kpi.models import Granularity
from perception.kpi.services.arrays import distinct_rows
from perception.kpi.services.ticket_frame import TicketDurations, load_durations
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

_KEPT = "perception.kpi.pooled.tickets"
#: Statements that change no rows; any other statement on the connection forgets the kept tickets.
_READS = ("SELECT", "SAVEPOINT", "RELEASE", "SET", "SHOW", "PRAGMA")


@dataclass
class _Kept:
    """Tickets of one period and scope, and the order sorting each duration column (lazily)."""

    tickets: TicketDurations
    orders: dict[str, NDArray[np.intp]] = field(default_factory=dict)

    def order(self, column: str) -> NDArray[np.intp]:
        if column not in self.orders:
            self.orders[column] = np.argsort(getattr(self.tickets, column), kind="stable")
        return self.orders[column]


def _kept(session: Session, start: date, end: date, region_ids: frozenset[int] | None) -> _Kept:
    session.flush()  # before the kept copy is looked at: a pending change would forget it
    info = session.connection().info
    key = (start, end, region_ids)
    found = info.get(_KEPT, {}).get(key)
    if found is None:
        found = _Kept(load_durations(session, start, end, region_ids=region_ids))
        info.setdefault(_KEPT, {})[key] = found
    return found  # type: ignore[no-any-return]


# The kept tickets live in the connection's info for one transaction at most: forgotten when a
# transaction begins, commits or rolls back (savepoints too), and when any statement that may write
# runs on the connection (an import's Core INSERT as much as an ORM flush).
@event.listens_for(Engine, "before_cursor_execute")
def _forget_on_write(
    conn: Connection, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    if _KEPT in conn.info and not statement.lstrip()[:9].upper().startswith(_READS):
        del conn.info[_KEPT]


def _forget(conn: Connection, *_: Any) -> None:
    conn.info.pop(_KEPT, None)


for _name in ("begin", "commit", "rollback", "rollback_savepoint"):
    event.listen(Engine, _name, _forget)


def pooled_percentiles(
    session: Session,
    start: date,
    end: date,
    keep: Sequence[str],
    *,
    region_ids: frozenset[int] | None = None,
    service_id: int | None = None,
    tier_id: int | None = None,
    granularity: str | None = Granularity.WEEK,
) -> dict[PooledKey, tuple[float, int]]:
    """Per percentile KPI code, the kept columns (``keep`` from KEYS, in that order) and the period
    start: (value in covered minutes, tickets measured), over the tickets opened in [start, end) in
    the given scope with every other column pooled. Keys: ``(code, *kept ids, period_start)``.
    ``granularity=None``: [start, end) is one period (keyed by ``start``); tier -1 is "no tier"."""
    unknown = set(keep) - set(KEYS)
    if unknown:
        raise ValueError(f"unknown grouping columns {sorted(unknown)}")
    kept = _kept(session, start, end, region_ids)
    tickets = kept.tickets
    mask = np.ones(len(tickets), dtype=bool)
    if service_id is not None:
        mask &= tickets.service == service_id
    if tier_id is not None:
        mask &= tickets.tier == tier_id
    if not mask.any():
        return {}
    whole = bool(mask.all())
    sub = tickets if whole else TicketDurations(**{k: v[mask] for k, v in tickets.__dict__.items()})
    position = None if whole else np.cumsum(mask) - 1

    def value_order(column: str) -> NDArray[np.intp]:
        order = kept.order(column)
        return order if position is None else position[order[mask[order]]]

    period = (
        period_starts(sub.local_day, granularity)
        if granularity is not None
        else np.full(len(sub), np.datetime64(start, "D"))
    )
    columns = [getattr(sub, k) for k in KEYS if k in keep]
    distinct, codes = distinct_rows(*columns, period.astype(np.int64))
    size = int(distinct[0].size)
    starts = [date.fromisoformat(str(d)) for d in distinct[-1].astype("datetime64[D]").tolist()]
    out: dict[PooledKey, tuple[float, int]] = {}
    for column in ("response_s", "resolution_s"):
        values = getattr(sub, column)
        wanted = [(code, q) for code, (col, q) in PERCENTILE_KPIS.items() if col == column]
        qs = grouped_percentiles(codes, values, [q for _, q in wanted], size, value_order=value_order(column))
        n = np.bincount(codes, weights=~np.isnan(values), minlength=size).astype(np.int64)
        for g in range(size):
            if n[g] == 0:
                continue
            ids = tuple(int(c[g]) for c in distinct[:-1])
            for j, (code, _) in enumerate(wanted):
                out[(code, *ids, starts[g])] = (float(qs[g, j]) / 60.0, int(n[g]))
    return out
