"""Sampling comparison (抽样对比): draw a stratified random sample of closed tickets, record what
the customer confirms next to what the ticket records, and compute the discrepancy rate.

The population is every ticket with status resolved/closed whose closing time (closed_at, else
resolved_at) lies in [period_start, period_end), optionally limited to regions; strata are
(region, service). Size and allocation: collection_sampling_math. The draw is reproducible: the
stored seed, the method name and the population digest let ``verify_run`` recompute it, and the
draw itself is written to the audit log.

What the ticket records: resolved (its status says so) and on time (its resolution standards,
from the StandardCheck of collection_feedback_check; None when no standard could judge it).
A confirmation is discrepant when the customer contradicts the ticket on resolved or on time
(pairs where either side is unknown are not compared). The discrepancy rate of a region is
discrepant / confirmed with a Wilson score interval (scoring.intervals.wilson_interval).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from perception.audit import record
from perception.models.auth import User
from perception.models.base import utcnow
from perception.models.collection_fieldwork import SampledTicket, SamplingRun, SamplingStratum, StandardCheck
from perception.models.facts import ExperienceObservation, ExperienceSource
from perception.models.kpi import Ticket
from perception.periods import week_start
from perception.services import collection_feedback_check as checks
from perception.services.collection_sampling_math import (
    METHOD,
    allocate,
    draw,
    population_digest,
    required_sample_size,
)
from perception.services.collection_vocab import CollectionError
from scoring.intervals import wilson_interval


def _closing() -> Any:
    return func.coalesce(Ticket.closed_at, Ticket.resolved_at)


def population(
    session: Session, start: date, end: date, region_ids: Iterable[int] | None = None
) -> list[tuple[int, int, int]]:
    """(ticket id, region id, service id) of every closed ticket of the period, by id."""
    stmt = (
        select(Ticket.id, Ticket.region_id, Ticket.service_id)
        .where(
            Ticket.status.in_(checks.CLOSED),
            _closing() >= datetime.combine(start, time()),
            _closing() < datetime.combine(end, time()),
        )
        .order_by(Ticket.id)
    )
    if region_ids is not None:
        stmt = stmt.where(Ticket.region_id.in_(list(region_ids)))
    return [(int(a), int(b), int(c)) for a, b, c in session.execute(stmt)]


def _plan(
    units: list[tuple[int, int, int]], n: int, seed: str
) -> dict[tuple[int, int], list[tuple[int, str]]]:
    strata: dict[tuple[int, int], list[int]] = {}
    for ticket_id, region_id, service_id in units:
        strata.setdefault((region_id, service_id), []).append(ticket_id)
    sizes = allocate({k: len(v) for k, v in strata.items()}, n)
    return {k: draw(seed, ids, sizes[k]) for k, ids in strata.items()}


def draw_sample(
    session: Session,
    *,
    name: str,
    start: date,
    end: date,
    margin: float,
    confidence: float = 0.95,
    expected_share: float = 0.5,
    seed: str | None = None,
    region_ids: Iterable[int] | None = None,
    user: User | None = None,
) -> SamplingRun:
    if end <= start:
        raise CollectionError.one(
            "period_end", "The period must end after it starts.", "结束日期必须晚于开始日期。"
        )
    if not 0.005 <= margin <= 0.5:
        raise CollectionError.one(
            "margin", "The margin of error must lie between 0.5% and 50%.", "误差范围须在 0.5% 到 50% 之间。"
        )
    regions = sorted(set(region_ids)) if region_ids is not None else None
    units = population(session, start, end, regions)
    if not units:
        raise CollectionError.one(
            "period_start", "No closed tickets in this period.", "该期间没有已关闭的工单。"
        )
    seed = (seed or secrets.token_hex(8)).strip()[:32]
    n = required_sample_size(len(units), margin, confidence, expected_share)
    plan = _plan(units, n, seed)
    run = SamplingRun(
        name=name.strip()[:200] or f"{start}..{end}",
        period_start=start,
        period_end=end,
        margin=margin,
        confidence=confidence,
        expected_share=expected_share,
        seed=seed,
        method=METHOD,
        population=len(units),
        sample_size=sum(len(v) for v in plan.values()),
        population_digest=population_digest(u[0] for u in units),
        region_filter=regions,
        created_by_id=user.id if user else None,
    )
    session.add(run)
    counts: dict[tuple[int, int], int] = {}
    for region_id, service_id in (u[1:] for u in units):
        counts[(region_id, service_id)] = counts.get((region_id, service_id), 0) + 1
    for (region_id, service_id), chosen in sorted(plan.items()):
        run.strata.append(
            SamplingStratum(
                region_id=region_id,
                service_id=service_id,
                population=counts[(region_id, service_id)],
                sample_size=len(chosen),
            )
        )
    session.flush()
    _store_sampled(session, run, plan)
    record(
        session,
        "sampling_draw",
        object_type="SamplingRun",
        object_id=run.id,
        summary=(
            f"seed={seed} method={METHOD} N={run.population} n={run.sample_size} "
            f"digest={run.population_digest}"
        ),
    )
    return run


def _store_sampled(
    session: Session, run: SamplingRun, plan: dict[tuple[int, int], list[tuple[int, str]]]
) -> None:
    ids = [tid for chosen in plan.values() for tid, _ in chosen]
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    done = _checked(session, ids)
    missing = [t for tid, t in tickets.items() if tid not in done]
    checks.check_tickets(session, missing)
    by_ticket = {
        c.source_id: c
        for c in session.scalars(
            select(StandardCheck).where(
                StandardCheck.source == checks.TICKET, StandardCheck.source_id.in_(ids)
            )
        )
    }
    rows = []
    for (region_id, service_id), chosen in plan.items():
        for ticket_id, key in chosen:
            rows.append(
                {
                    "run_id": run.id,
                    "ticket_id": ticket_id,
                    "region_id": region_id,
                    "service_id": service_id,
                    "draw_key": key,
                    "ticket_resolved": tickets[ticket_id].status in checks.CLOSED,
                    "ticket_on_time": checks.ticket_on_time(by_ticket.get(ticket_id)),
                    "status": "pending",
                }
            )
    if rows:
        session.execute(insert(SampledTicket), rows)
    session.flush()


def _checked(session: Session, ids: list[int]) -> set[int]:
    return set(
        session.scalars(
            select(StandardCheck.source_id).where(
                StandardCheck.source == checks.TICKET, StandardCheck.source_id.in_(ids)
            )
        )
    )


def verify_run(session: Session, run: SamplingRun) -> bool:
    """Recompute the population and the draw from the stored seed; True when both are unchanged."""
    units = population(session, run.period_start, run.period_end, run.region_filter)
    if population_digest(u[0] for u in units) != run.population_digest:
        return False
    plan = _plan(
        units, required_sample_size(len(units), run.margin, run.confidence, run.expected_share), run.seed
    )
    expected = {tid for chosen in plan.values() for tid, _ in chosen}
    stored = set(session.scalars(select(SampledTicket.ticket_id).where(SampledTicket.run_id == run.id)))
    return expected == stored


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
) -> SampledTicket:
    """Store what the customer confirmed (or that they could not be reached) and the discrepancy.
    Confirmations also become ExperienceObservation rows (source "sampling", kind "confirmation",
    item resolved / on_time / satisfied, value 1 = yes, 0 = no, scale 0..1)."""
    moment = now or utcnow()
    sampled.confirmed_by_id = user.id if user else None
    sampled.confirmed_at = moment
    sampled.note = (note or "").strip()[:4000] or None
    session.execute(
        delete(ExperienceObservation).where(
            ExperienceObservation.source == ExperienceSource.SAMPLING,
            ExperienceObservation.source_id == sampled.id,
        )
    )
    if not reached:
        sampled.status = "unreachable"
        sampled.confirmed_resolved = sampled.confirmed_on_time = sampled.confirmed_satisfied = None
        sampled.discrepancy = None
        session.flush()
        return sampled
    if resolved is None:
        raise CollectionError.one(
            "resolved", "Record whether the customer confirms the resolution.", "请记录客户是否确认已解决。"
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
    observed = moment.date()
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
