"""Sampling comparison, second half: what the customer confirms for each sampled ticket, the
discrepancy with what the ticket records, and the discrepancy rate per region.

A confirmation is discrepant when the customer contradicts the ticket on resolved or on time
(pairs where either side is unknown are not compared). The discrepancy rate of a region is
discrepant / confirmed with a Wilson score interval (scoring.intervals.wilson_interval).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from perception.collection.models.fieldwork import SampledTicket, SamplingRun
from perception.collection.services.errors import CollectionError
from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.auth import User
from perception.core.models.base import utcnow
from perception.core.models.facts import ExperienceObservation, ExperienceSource
from perception.core.periods import local_date, week_start
from perception.kpi.models import Ticket
from perception.kpi.services.data_version import current_week_write
from scoring.intervals import wilson_interval


def _differs(recorded: bool | None, confirmed: bool | None) -> bool | None:
    if recorded is None or confirmed is None:
        return None
    return recorded != confirmed


def record_confirmation(
    session: Session,
    sampled: SampledTicket,
    user: User | None,
    *,
    reached: bool,
    resolved: bool | None = None,
    on_time: bool | None = None,
    satisfied: bool | None = None,
    note: str | None = None,
    now: datetime | None = None,
    org_timezone: str = DEFAULT_TIMEZONE,
) -> SampledTicket:
    """Store what the customer confirmed (or that they could not be reached) and the discrepancy.
    Confirmations also become ExperienceObservation rows (source "sampling", kind "confirmation",
    item resolved / on_time / satisfied, value 1 = yes, 0 = no, scale 0..1), dated by the
    organisation's calendar: a confirmation at 07:30 Beijing time is that day's, not yesterday's
    (the UTC date)."""
    moment = now or utcnow()
    if sampled.confirmed_at is not None:  # a correction: the earlier answer's rows, of any week
        session.execute(
            delete(ExperienceObservation).where(
                ExperienceObservation.source == ExperienceSource.SAMPLING,
                ExperienceObservation.source_id == sampled.id,
            )
        )
    sampled.confirmed_by_id = user.id if user else None
    sampled.confirmed_at = moment
    sampled.note = (note or "").strip()[:4000] or None
    if not reached:
        sampled.status = "unreachable"
        sampled.confirmed_resolved = sampled.confirmed_on_time = sampled.confirmed_satisfied = None
        sampled.discrepancy = None
        session.flush()
        return sampled
    if resolved is None:
        raise CollectionError.one(
            "resolved",
            "请记录客户是否确认已解决。",
            "Record whether the customer confirms the resolution.",
            code="required",
        )
    sampled.status = "confirmed"
    sampled.confirmed_resolved, sampled.confirmed_on_time, sampled.confirmed_satisfied = (
        resolved,
        on_time,
        satisfied,
    )
    pairs = [_differs(sampled.ticket_resolved, resolved), _differs(sampled.ticket_on_time, on_time)]
    sampled.discrepancy = any(p is True for p in pairs)
    ticket = session.get(Ticket, sampled.ticket_id)
    observed = local_date(moment, org_timezone)
    base = {
        "source": ExperienceSource.SAMPLING,
        "source_id": sampled.id,
        "observed_on": observed,
        "period_start": week_start(observed),
        "region_id": sampled.region_id,
        "customer_id": ticket.customer_id if ticket else None,
        "service_id": sampled.service_id,
        "tier_id": ticket.tier_id if ticket else None,
        "kind": "confirmation",
        "dimension": None,
        "servqual_dimension": None,
        "standard_code": None,
        "scale_min": 0.0,
        "scale_max": 1.0,
    }
    rows = [
        base | {"item": item, "value": 1.0 if value else 0.0}
        for item, value in (("resolved", resolved), ("on_time", on_time), ("satisfied", satisfied))
        if value is not None
    ]
    # Rows of the day's week, declared so: like a survey answer's, they leave the analysis
    # pre-aggregates' past weeks current (data_version.current_week_write; a confirmation recorded
    # for an earlier day, or a week that ended meanwhile, counts as any write at the commit).
    session.flush()
    with current_week_write(
        session.connection(), "experience_observation", week_start(observed), org_timezone
    ):
        session.execute(insert(ExperienceObservation), rows)
    session.flush()
    return sampled


@dataclass(frozen=True)
class DiscrepancyRate:
    """Share of confirmed sampled tickets the customer contradicted, with a Wilson interval."""

    region_id: int | None  # None: all regions together
    sampled: int
    confirmed: int
    discrepant: int
    rate: float | None
    low: float | None
    high: float | None


def discrepancy_rates(
    session: Session,
    run_id: int | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    region_ids: Iterable[int] | None = None,
    confidence: float = 0.95,
) -> list[DiscrepancyRate]:
    """Per region (and a final all-regions row): discrepant / confirmed with the Wilson interval.
    Selects one run, or every run whose period starts in [start, end)."""
    stmt = select(SampledTicket.region_id, SampledTicket.status, SampledTicket.discrepancy)
    if run_id is not None:
        stmt = stmt.where(SampledTicket.run_id == run_id)
    if start is not None or end is not None:
        stmt = stmt.join(SamplingRun, SamplingRun.id == SampledTicket.run_id)
        if start is not None:
            stmt = stmt.where(SamplingRun.period_start >= start)
        if end is not None:
            stmt = stmt.where(SamplingRun.period_start < end)
    if region_ids is not None:
        stmt = stmt.where(SampledTicket.region_id.in_(list(region_ids)))
    tally: dict[int | None, list[int]] = {}
    for region_id, status, flagged in session.execute(stmt):
        for key in (region_id, None):
            counts = tally.setdefault(key, [0, 0, 0])
            counts[0] += 1
            counts[1] += int(status == "confirmed")
            counts[2] += int(bool(flagged) and status == "confirmed")
    keys = sorted(k for k in tally if k is not None) + ([None] if tally else [])
    if not keys:
        return []
    low, high = wilson_interval([tally[k][2] for k in keys], [tally[k][1] for k in keys], confidence)
    out = []
    for i, k in enumerate(keys):
        sampled, confirmed, discrepant = tally[k]
        has = confirmed > 0
        out.append(
            DiscrepancyRate(
                k,
                sampled,
                confirmed,
                discrepant,
                discrepant / confirmed if has else None,
                float(low[i]) if has else None,
                float(high[i]) if has else None,
            )
        )
    return out
