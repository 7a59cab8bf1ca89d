"""Sampling comparison (抽样对比), first half: draw a stratified random sample of closed tickets
and verify a draw. Confirmations and discrepancy rates: ``sampling_results``.

The population is every ticket with status resolved/closed whose closing time (closed_at, else
resolved_at) lies in [period_start, period_end), optionally limited to regions; strata are
(region, service). Size and allocation: ``sampling_math``. The draw is reproducible: the
stored seed, the method name and the population digest let ``verify_run`` recompute it, and the
draw itself is written to the audit log.

What the ticket records: resolved (its status says so) and on time (its resolution standards,
from the StandardCheck of ``feedback_check``; None when no standard could judge it).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from perception.collection.models.fieldwork import SampledTicket, SamplingRun, SamplingStratum, StandardCheck
from perception.collection.services import feedback_check as checks
from perception.collection.services.errors import CollectionError
from perception.collection.services.sampling_math import (
    METHOD,
    allocate,
    draw,
    population_digest,
    required_sample_size,
)
from perception.core.audit import record
from perception.core.models.auth import User
from perception.kpi.models import Ticket


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
            "period_end",
            "结束日期必须晚于开始日期。",
            "The period must end after it starts.",
            code="invalid_period",
        )
    if not 0.005 <= margin <= 0.5:
        raise CollectionError.one(
            "margin",
            "误差范围须在 0.5% 到 50% 之间。",
            "The margin of error must lie between 0.5% and 50%.",
            code="out_of_range",
        )
    regions = sorted(set(region_ids)) if region_ids is not None else None
    units = population(session, start, end, regions)
    if not units:
        raise CollectionError.one(
            "period_start",
            "该期间没有已关闭的工单。",
            "No closed tickets in this period.",
            code="empty_population",
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
