"""SLA attainment per standard (the version in force on each ticket's date) and the breach list.

A per-ticket time standard (response/resolution within N covered minutes, kpi_targets) is met by a
ticket when its covered duration is <= the limit of the version in force on its opening day; an
unanswered ticket already past its limit is a breach too (overdue). Per standard and period the
attainment is the share of measured tickets within their limits against the required share
(mean over those tickets, so a version change in mid-period weighs each ticket by its own version),
summarised with scoring.attainment.standard_attainment (met per period, share of periods met,
margins in percentage points).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.org import CustomerOrg, Region
from perception.kpi.models import Ticket
from perception.kpi.services.compute import within_target
from perception.kpi.services.targets import PRIORITIES, TargetBook
from perception.kpi.services.ticket_frame import TicketFrame, load_frame
from perception.kpi.services.ticket_time import period_label, period_starts
from perception.setup.models.catalog import Service
from scoring.attainment import AttainmentResult, standard_attainment

KINDS = ("response", "resolution")


@dataclass(frozen=True)
class Breach:
    ticket_id: int
    external_id: str
    service_code: str
    region_code: str
    customer_code: str | None
    priority: str
    kind: str  # response | resolution
    opened_at: datetime
    limit_minutes: float
    actual_minutes: float  # covered minutes taken, or elapsed so far when still overdue
    over_minutes: float
    overdue: bool  # not answered yet
    standard_version_id: int


@dataclass(frozen=True)
class StandardAttainment:
    standard_id: int
    standard_code: str
    service_id: int
    kind: str
    labels: tuple[str, ...]  # period labels
    measured: tuple[int, ...]
    hits: tuple[int, ...]
    result: AttainmentResult  # values/targets in % per period


def _names(session: Session, model: type) -> dict[int, str]:
    return {row[0]: row[1] for row in session.execute(select(model.id, model.code))}  # type: ignore[attr-defined]


def breach_mask(frame: TicketFrame, kind: str) -> np.ndarray:
    t = frame.targets
    value = frame.response_s if kind == "response" else frame.resolution_s
    limit = t.response_limit_s if kind == "response" else t.resolution_limit_s
    overdue = frame.response_overdue if kind == "response" else frame.resolution_overdue
    with np.errstate(invalid="ignore"):
        late = ~np.isnan(limit) & ~np.isnan(value) & (value > limit)
    return late | overdue


def list_breaches(session: Session, frame: TicketFrame, *, limit: int | None = None) -> list[Breach]:
    """Breaches of in-period tickets, worst (most minutes over) first; a tie by the ticket's place
    in the frame, a ticket's response before its resolution.

    Chosen and ordered over arrays (one sort of every breach's minutes over, then the first
    ``limit``), each ticket made into a Breach only when listed: a national provider's five months
    hold hundreds of thousands of breaches, sorted as Python tuples in 0.9 s (issue 19)."""
    found: list[np.ndarray] = []
    over: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    overdue = {"response": frame.response_overdue, "resolution": frame.resolution_overdue}
    for k, kind in enumerate(KINDS):
        at = np.flatnonzero(breach_mask(frame, kind) & frame.in_period)
        elapsed = frame.response_elapsed_s if kind == "response" else frame.resolution_elapsed_s
        lim = frame.targets.response_limit_s if kind == "response" else frame.targets.resolution_limit_s
        found.append(at)
        over.append(elapsed[at] - lim[at])
        kinds.append(np.full(at.size, k, dtype=np.intp))
    rows, over_s, kind_of = np.concatenate(found), np.concatenate(over), np.concatenate(kinds)
    order = np.lexsort((kind_of, rows, -over_s))  # the last key first: most over, row, kind
    if limit is not None:
        order = order[:limit]
    picks = list(zip(over_s[order].tolist(), rows[order].tolist(), kind_of[order].tolist(), strict=True))
    ids = sorted({int(frame.id[i]) for _, i, _ in picks})
    external: dict[int, str] = {}
    for chunk in range(0, len(ids), 900):
        part = ids[chunk : chunk + 900]
        external.update(
            {
                r[0]: r[1]
                for r in session.execute(select(Ticket.id, Ticket.external_id).where(Ticket.id.in_(part)))
            }
        )
    services, regions, customers = (
        _names(session, Service),
        _names(session, Region),
        _names(session, CustomerOrg),
    )
    out: list[Breach] = []
    for over_one, i, k in picks:
        kind = KINDS[k]
        elapsed = frame.response_elapsed_s if kind == "response" else frame.resolution_elapsed_s
        lim = frame.targets.response_limit_s if kind == "response" else frame.targets.resolution_limit_s
        version = frame.targets.response_version if kind == "response" else frame.targets.resolution_version
        out.append(
            Breach(
                ticket_id=int(frame.id[i]),
                external_id=external.get(int(frame.id[i]), ""),
                service_code=services.get(int(frame.service[i]), "?"),
                region_code=regions.get(int(frame.region[i]), "?"),
                customer_code=customers.get(int(frame.customer[i])),
                priority=PRIORITIES[int(frame.priority[i])],
                kind=kind,
                opened_at=frame.opened[i].astype("datetime64[s]").astype(datetime),
                limit_minutes=float(lim[i]) / 60.0,
                actual_minutes=float(elapsed[i]) / 60.0,
                over_minutes=over_one / 60.0,
                overdue=bool(overdue[kind][i]),
                standard_version_id=int(version[i]),
            )
        )
    return out


def breaches(
    session: Session,
    start: date,
    end: date,
    *,
    region_ids: frozenset[int] | None = None,
    limit: int | None = 500,
    as_of: datetime | None = None,
) -> list[Breach]:
    """Breaches of tickets opened in [start, end) (module docstring)."""
    return list_breaches(
        session, load_frame(session, start, end, region_ids=region_ids, as_of=as_of), limit=limit
    )


def attainment_by_standard(
    session: Session,
    start: date,
    end: date,
    *,
    granularity: str = "month",
    region_ids: frozenset[int] | None = None,
    as_of: datetime | None = None,
    customer_id: int | None = None,
) -> list[StandardAttainment]:
    """Per time standard and kind: share within target per period vs the required share; with
    ``customer_id``, of that customer's tickets only (a customer representative's portal)."""
    book = TargetBook.load(session)
    frame = load_frame(session, start, end, region_ids=region_ids, as_of=as_of, book=book)
    return attainment_of_frame(frame, book, granularity, customer_id)


def attainment_and_breaches(
    session: Session,
    start: date,
    end: date,
    *,
    granularity: str = "month",
    region_ids: frozenset[int] | None = None,
    limit: int | None = 500,
    as_of: datetime | None = None,
) -> tuple[list[StandardAttainment], list[Breach]]:
    """attainment_by_standard and breaches of the same period and scope from one ticket load (the
    attainment page shows both; loading the tickets was most of its time, issue 19)."""
    book = TargetBook.load(session)
    frame = load_frame(session, start, end, region_ids=region_ids, as_of=as_of, book=book)
    return attainment_of_frame(frame, book, granularity, None), list_breaches(session, frame, limit=limit)


def attainment_of_frame(
    frame: TicketFrame, book: TargetBook, granularity: str, customer_id: int | None
) -> list[StandardAttainment]:
    keep = frame.in_period if customer_id is None else frame.in_period & (frame.customer == customer_id)
    frame = frame.subset(keep)
    standard_of = {r.version_id: (r.standard_id, r.standard_code, r.service_id) for r in book.rows}
    # The periods of every ticket found once (each standard's are a subset of them).
    all_periods, period_at = np.unique(period_starts(frame.local_day, granularity), return_inverse=True)
    period_at = period_at.reshape(-1)
    out: list[StandardAttainment] = []
    for kind in KINDS:
        t = frame.targets
        version = t.response_version if kind == "response" else t.resolution_version
        # Each ticket's standard through a table of its version's (version ids are row ids, or -1
        # for none), and the tickets of each standard as one run of a stable sort, in frame order
        # (a dictionary lookup per ticket and a mask over every ticket per standard were most of
        # this function at a national provider's 2,000,000 tickets, issue 19).
        standard_table = np.full(max(int(version.max(initial=0)), max(standard_of, default=0)) + 2, -1)
        for version_id, (standard_id, _, _) in standard_of.items():
            if version_id >= 0:
                standard_table[version_id + 1] = standard_id
        standard = standard_table[np.maximum(version, -1) + 1]
        value_s = frame.response_s if kind == "response" else frame.resolution_s
        overdue = frame.response_overdue if kind == "response" else frame.resolution_overdue
        limit_s = t.response_limit_s if kind == "response" else t.resolution_limit_s
        share = t.response_share if kind == "response" else t.resolution_share
        by_standard = np.argsort(standard, kind="stable")
        sids, starts = np.unique(standard[by_standard], return_index=True)
        ends = np.append(starts[1:], by_standard.size) if starts.size else starts
        for sid, lo, hi in zip(sids.tolist(), starts.tolist(), ends.tolist(), strict=True):
            if sid == -1:
                continue
            tickets = by_standard[lo:hi]  # the standard's, in frame order
            # np.unique(period[tickets], return_inverse=True) through the periods' codes.
            present = np.flatnonzero(np.bincount(period_at[tickets], minlength=all_periods.size))
            renumber = np.zeros(all_periods.size, dtype=np.intp)
            renumber[present] = np.arange(present.size)
            periods, codes = all_periods[present], renumber[period_at[tickets]]
            w = within_target(
                codes.ravel().astype(np.intp),
                periods.size,
                value_s[tickets],
                overdue[tickets],
                limit_s[tickets],
                share[tickets],
                version[tickets],
            )
            labels = tuple(period_label(date.fromisoformat(str(p)), granularity) for p in periods.tolist())
            values = [None if np.isnan(v) else float(v) for v in w.share]
            targets = [None if np.isnan(v) else float(v) for v in w.required]
            code, service = next((c, s) for s_id, c, s in standard_of.values() if s_id == sid)
            out.append(
                StandardAttainment(
                    standard_id=sid,
                    standard_code=code,
                    service_id=service,
                    kind=kind,
                    labels=labels,
                    measured=tuple(int(m) for m in w.measured),
                    hits=tuple(int(h) for h in w.hits),
                    result=standard_attainment(labels, values, ">=", targets),
                )
            )
    return out
