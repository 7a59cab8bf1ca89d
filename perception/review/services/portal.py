"""A customer representative's portal (issue 17): what waits for them and how their organisation
is served. Everything here is of ONE customer: the standards that bind it (to confirm, confirmed
and waiting for the others, in force), its SLA attainment (its own tickets), its experience
results (CSAT, NPS, their monthly trend, its open complaints) and the signed reviews with its
countersignature. Other customers appear nowhere, not even as names of their representatives.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from perception.core.models.org import CustomerOrg
from perception.kpi.services.sla import StandardAttainment, attainment_by_standard
from perception.review.models import Review, ReviewCountersignature, ReviewStatus
from perception.review.services.customer_results import CustomerResults, ServiceExperience, customer_results
from perception.setup.models.catalog import Service, Subscription
from perception.setup.models.standards import ServiceStandard, StandardVersion, VersionStatus
from perception.setup.services.confirm import accepted_without_history, confirmed_customers
from perception.setup.services.standards import versions_in_force

RESULT_MONTHS = 6  # the trend of the experience results: this month and the five before
SLA_MONTHS = 3


@dataclass(frozen=True)
class ReviewToSign:
    review: Review
    countersignature: ReviewCountersignature | None


@dataclass(frozen=True)
class ServiceTile:
    """Experience beside SLA for one service of the customer (the HappySignals-style tile view):
    the share of the customer's tickets answered and resolved within target over the SLA months,
    and the customer's CSAT and NPS of the service over the result months, each with its trend
    (first to last month) and its n."""

    service: Service
    sla_share: float | None  # 0..1, tickets x kinds within target; None: no ticket measured
    sla_tickets: int  # ticket measurements (a ticket counts once per response and resolution)
    sla_met: bool | None  # every standard's required share held in every month; None: no target
    sla_change: float | None  # percentage points, first to last month with tickets
    experience: ServiceExperience | None


@dataclass(frozen=True)
class Portal:
    customer: CustomerOrg
    to_confirm: list[StandardVersion]  # proposed, this customer has not confirmed yet
    waiting_for_others: list[StandardVersion]  # proposed, this customer confirmed
    in_force: list[StandardVersion]
    sla: list[StandardAttainment]
    results: CustomerResults
    reviews: list[ReviewToSign]  # signed reviews, newest first
    tiles: list[ServiceTile]  # one per service the customer receives (or has data of)
    #: ids of the versions to confirm that were proposed with no history to replay (setup_confirm)
    unproven: frozenset[int] = frozenset()

    @property
    def reviews_to_countersign(self) -> list[Review]:
        return [r.review for r in self.reviews if r.countersignature is None]

    @property
    def todo_count(self) -> int:
        return len(self.to_confirm) + len(self.reviews_to_countersign)


def months_back(today: date, months: int) -> date:
    """The first day of the month ``months - 1`` months before today's month."""
    year, month = today.year, today.month - (months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def customer_standards(session: Session, customer_id: int) -> list[ServiceStandard]:
    stmt = (
        select(ServiceStandard)
        .where(ServiceStandard.customer_clause(customer_id), ServiceStandard.active.is_(True))
        .options(selectinload(ServiceStandard.versions).selectinload(StandardVersion.events))
        .order_by(ServiceStandard.code)
    )
    return list(session.scalars(stmt))


def service_tiles(
    session: Session, customer_id: int, sla: list[StandardAttainment], results: CustomerResults
) -> list[ServiceTile]:
    subscribed = select(Subscription.service_id).where(Subscription.customer_id == customer_id)
    ids = set(session.scalars(subscribed)) | {a.service_id for a in sla} | set(results.by_service)
    services = session.scalars(select(Service).where(Service.id.in_(ids)).order_by(Service.code)).all()
    tiles = []
    for service in services:
        mine = [a for a in sla if a.service_id == service.id]
        months: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # label -> [hits, measured]
        for a in mine:
            for label, hits, measured in zip(a.labels, a.hits, a.measured, strict=True):
                months[label][0] += hits
                months[label][1] += measured
        hits, measured = sum(h for h, _ in months.values()), sum(m for _, m in months.values())
        shares = [h / m for _label, (h, m) in sorted(months.items()) if m]
        flags = [p.met for a in mine for p in a.result.periods if p.met is not None]
        tiles.append(
            ServiceTile(
                service=service,
                sla_share=hits / measured if measured else None,
                sla_tickets=measured,
                sla_met=all(flags) if flags else None,
                sla_change=round(100 * (shares[-1] - shares[0]), 1) if len(shares) >= 2 else None,
                experience=results.by_service.get(service.id),
            )
        )
    return tiles


def portal(session: Session, customer_id: int, *, today: date) -> Portal:
    customer = session.get(CustomerOrg, customer_id)
    if customer is None:
        raise LookupError(customer_id)
    standards = customer_standards(session, customer_id)
    to_confirm: list[StandardVersion] = []
    waiting: list[StandardVersion] = []
    for standard in standards:
        for version in standard.versions:
            if version.status == VersionStatus.PROPOSED:
                mine = customer_id in confirmed_customers(version)
                (waiting if mine else to_confirm).append(version)
    in_force = versions_in_force(session, [s.id for s in standards], today)
    end = today + timedelta(days=1)
    signed = session.scalars(
        select(Review).where(Review.status == ReviewStatus.SIGNED).order_by(Review.period_start.desc())
    ).all()
    signatures = {
        c.review_id: c
        for c in session.scalars(
            select(ReviewCountersignature).where(ReviewCountersignature.customer_id == customer_id)
        )
    }
    sla = attainment_by_standard(
        session, months_back(today, SLA_MONTHS), end, granularity="month", customer_id=customer_id
    )
    results = customer_results(session, customer_id, months_back(today, RESULT_MONTHS), end)
    return Portal(
        customer=customer,
        to_confirm=to_confirm,
        waiting_for_others=waiting,
        in_force=[in_force[s.id] for s in standards if s.id in in_force],
        sla=sla,
        results=results,
        reviews=[ReviewToSign(r, signatures.get(r.id)) for r in signed],
        tiles=service_tiles(session, customer_id, sla, results),
        unproven=frozenset(v.id for v in to_confirm + waiting if accepted_without_history(v)),
    )
