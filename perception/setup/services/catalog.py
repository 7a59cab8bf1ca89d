"""Writing the organisation and the service catalogue: regions, collection points, customers,
contacts, tiers, services (with the regions they are delivered in), subscriptions, and the
versioned service strategy.

Every ``save_*`` upserts by code (the natural key of the document), writes only what changed and
flushes. With ``problems`` given (import), problems are collected there and ``None`` may be
returned; without it, a SetupError is raised at once. Never commits.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.core.models.org import CollectionPoint, Contact, CustomerOrg, Region
from perception.setup.models.catalog import Service, ServiceTier, Subscription
from perception.setup.models.standards import ServiceRegion, ServiceStrategy
from perception.setup.services.defs import (
    ContactDef,
    CustomerDef,
    PointDef,
    RegionDef,
    ServiceDef,
    StrategyDef,
    SubscriptionDef,
    TierDef,
)
from perception.setup.services.errors import Problems
from perception.setup.services.reader import join
from perception.setup.services.refs import Refs, assign


def _start(problems: Problems | None) -> tuple[Problems, bool]:
    return (problems, False) if problems is not None else (Problems(), True)


def _upsert(session: Session, model: type, code: str) -> object:
    obj = session.scalar(select(model).where(model.code == code))  # type: ignore[attr-defined]
    if obj is None:
        obj = model(code=code)
        session.add(obj)
    return obj


def save_region(session: Session, d: RegionDef, path: str = "", problems: Problems | None = None) -> Region:
    p, own = _start(problems)
    region = _upsert(session, Region, d.code)
    assign(region, name_zh=d.name_zh, name_en=d.name_en, timezone=d.timezone)
    if own:
        p.raise_if_any()
    session.flush()
    return region  # type: ignore[return-value]


def save_point(
    session: Session, d: PointDef, path: str = "", problems: Problems | None = None
) -> CollectionPoint | None:
    p, own = _start(problems)
    region_id = Refs(session, p).id_of(Region, d.region, join(path, "region"))
    if own:
        p.raise_if_any()
    if region_id is None:
        return None
    point: CollectionPoint = _upsert(session, CollectionPoint, d.code)  # type: ignore[assignment]
    assign(
        point,
        name_zh=d.name_zh,
        name_en=d.name_en,
        region_id=region_id,
        report_due_weekday=d.report_due_weekday,
        report_due_time=d.report_due_time,
        active=d.active,
        active_from=d.active_from,
    )
    session.flush()
    return point


def save_customer(
    session: Session, d: CustomerDef, path: str = "", problems: Problems | None = None
) -> CustomerOrg | None:
    p, own = _start(problems)
    region_id = Refs(session, p).id_of(Region, d.region, join(path, "region"))
    if own:
        p.raise_if_any()
    if region_id is None:
        return None
    customer: CustomerOrg = _upsert(session, CustomerOrg, d.code)  # type: ignore[assignment]
    assign(customer, name_zh=d.name_zh, name_en=d.name_en, region_id=region_id, industry=d.industry)
    session.flush()
    return customer


def save_contact(
    session: Session,
    d: ContactDef,
    path: str = "",
    problems: Problems | None = None,
    existing: Contact | None = None,
) -> Contact | None:
    """A contact is identified by (customer, email), or (customer, name) without an email."""
    p, own = _start(problems)
    customer = Refs(session, p).by_code(CustomerOrg, d.customer, join(path, "customer"))
    if own:
        p.raise_if_any()
    if customer is None:
        return None
    contact = existing
    if contact is None:
        key = Contact.email == d.email if d.email else Contact.name == d.name
        contact = session.scalar(select(Contact).where(Contact.customer_id == customer.id, key))
    if contact is None:
        contact = Contact(customer_id=customer.id, region_id=customer.region_id, name=d.name)
        session.add(contact)
    assign(
        contact,
        customer_id=customer.id,
        region_id=customer.region_id,
        name=d.name,
        email=d.email,
        phone=d.phone,
        title=d.title,
        language=d.language,
    )
    session.flush()
    return contact


def save_tier(session: Session, d: TierDef, path: str = "", problems: Problems | None = None) -> ServiceTier:
    tier: ServiceTier = _upsert(session, ServiceTier, d.code)  # type: ignore[assignment]
    assign(tier, name_zh=d.name_zh, name_en=d.name_en, rank=d.rank)
    session.flush()
    return tier


def save_service(
    session: Session, d: ServiceDef, path: str = "", problems: Problems | None = None
) -> Service | None:
    p, own = _start(problems)
    refs = Refs(session, p)
    owner_id = refs.user_id(d.owner, join(path, "owner"))
    region_ids = []
    for i, code in enumerate(d.regions):
        region_id = refs.id_of(Region, code, join(join(path, "regions"), i))
        if region_id is not None:
            region_ids.append(region_id)
    if own:
        p.raise_if_any()
    service: Service = _upsert(session, Service, d.code)  # type: ignore[assignment]
    assign(
        service,
        name_zh=d.name_zh,
        name_en=d.name_en,
        description_zh=d.description_zh,
        description_en=d.description_en,
        kind=d.kind,
        owner_id=owner_id,
        active=d.active,
    )
    session.flush()
    set_service_regions(session, service, region_ids)
    return service


def set_service_regions(session: Session, service: Service, region_ids: list[int]) -> None:
    have = set(session.scalars(select(ServiceRegion.region_id).where(ServiceRegion.service_id == service.id)))
    want = set(region_ids)
    for region_id in sorted(want - have):
        session.add(ServiceRegion(service_id=service.id, region_id=region_id))
    for link in session.scalars(
        select(ServiceRegion).where(
            ServiceRegion.service_id == service.id, ServiceRegion.region_id.in_(have - want)
        )
    ):
        session.delete(link)
    session.flush()


def service_region_ids(session: Session, service_id: int) -> list[int]:
    return list(
        session.scalars(select(ServiceRegion.region_id).where(ServiceRegion.service_id == service_id))
    )


def service_region_codes(session: Session) -> dict[int, list[str]]:
    """Every service's region codes (by region id, as ``service_region_ids`` lists them), in one
    query: service id -> codes; a service delivered nowhere is absent."""
    stmt = (
        select(ServiceRegion.service_id, Region.code)
        .join(Region, Region.id == ServiceRegion.region_id)
        .order_by(ServiceRegion.service_id, ServiceRegion.region_id)
    )
    out: dict[int, list[str]] = {}
    for service_id, code in session.execute(stmt):
        out.setdefault(service_id, []).append(code)
    return out


def save_subscription(
    session: Session, d: SubscriptionDef, path: str = "", problems: Problems | None = None
) -> Subscription | None:
    """A customer receives a service at a tier (one subscription per customer and service)."""
    p, own = _start(problems)
    refs = Refs(session, p)
    customer = refs.by_code(CustomerOrg, d.customer, join(path, "customer"))
    service = refs.by_code(Service, d.service, join(path, "service"))
    tier_id = refs.id_of(ServiceTier, d.tier, join(path, "tier"))
    if own:
        p.raise_if_any()
    if customer is None or service is None or (d.tier is not None and tier_id is None):
        return None
    sub = session.scalar(
        select(Subscription).where(
            Subscription.customer_id == customer.id, Subscription.service_id == service.id
        )
    )
    if sub is None:
        sub = Subscription(customer_id=customer.id, service_id=service.id, region_id=customer.region_id)
        session.add(sub)
    assign(sub, tier_id=tier_id, region_id=customer.region_id)
    session.flush()
    return sub


def delete_subscription(session: Session, subscription: Subscription) -> None:
    session.delete(subscription)
    session.flush()


def save_strategy(
    session: Session, d: StrategyDef, path: str = "", problems: Problems | None = None
) -> ServiceStrategy | None:
    """A new strategy version (or, with ``version`` given, that version updated: import)."""
    p, own = _start(problems)
    owner_id = Refs(session, p).user_id(d.owner, join(path, "owner"))
    if own:
        p.raise_if_any()
    strategy = None
    if d.version is not None:
        strategy = session.scalar(select(ServiceStrategy).where(ServiceStrategy.version == d.version))
    if strategy is None:
        number = d.version or (session.scalar(select(func.max(ServiceStrategy.version))) or 0) + 1
        strategy = ServiceStrategy(version=number)
        session.add(strategy)
    assign(
        strategy,
        title_zh=d.title_zh,
        title_en=d.title_en,
        statement_zh=d.statement_zh,
        statement_en=d.statement_en,
        principles_zh=d.principles_zh,
        principles_en=d.principles_en,
        owner_id=owner_id,
        effective_from=d.effective_from,
    )
    session.flush()
    return strategy


def current_strategy(session: Session, on: object = None) -> ServiceStrategy | None:
    """The strategy version with the latest effective date (not after ``on`` when given)."""
    stmt = select(ServiceStrategy).order_by(
        ServiceStrategy.effective_from.desc(), ServiceStrategy.version.desc()
    )
    if on is not None:
        stmt = stmt.where(ServiceStrategy.effective_from <= on)
    return session.scalars(stmt.limit(1)).first()
