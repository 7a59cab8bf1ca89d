"""The perception plan (which means perceive which service for which customer group/region, how
often, with what sample) and its coverage view; roles of the system; training records.

Coverage: a service is delivered in a region when the region is listed for the service or a
customer of the region subscribes to it. A (service, region) cell is
- ``covered`` when an active plan line for the service names the region or every region
  (region and customer empty);
- ``partial`` when only lines for some of the region's customers exist;
- ``gap`` otherwise.
A standard in force is *unmeasured* when no data source measures it: a KPI standard whose metric
no KPI feed provides (feeds register their metrics with ``register_kpi_metric``), or a perception
standard for which no active plan line of its service uses its means for its customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.auth import Role, User
from perception.core.models.org import CollectionPoint, CustomerOrg, Region
from perception.setup.models.catalog import Service, ServiceTier, Subscription
from perception.setup.models.standards import (
    PerceptionSystem,
    PlanItem,
    ServiceRegion,
    StandardVersion,
    TrainingRecord,
)
from perception.setup.services.defs import PlanDef, TrainingDef
from perception.setup.services.errors import Problems, SetupError
from perception.setup.services.reader import join
from perception.setup.services.refs import Refs, assign
from perception.setup.services.standards import standards_in_force

# Metrics computed from ticket data (scoring.ticket_kpis); other feeds add theirs.
KPI_FEED_METRICS: set[str] = {
    "first_response_minutes",
    "resolution_minutes",
    "response_within_target_share",
    "resolution_within_target_share",
    "first_contact_resolution_rate",
    "reopen_rate",
}


def register_kpi_metric(metric: str) -> None:
    """A KPI feed (e.g. telephony for answered_by_2nd_ring_share) declares a metric it provides."""
    KPI_FEED_METRICS.add(metric)


# --- plan lines ---------------------------------------------------------------------------------


def save_plan_item(
    session: Session,
    d: PlanDef,
    path: str = "",
    problems: Problems | None = None,
    existing: PlanItem | None = None,
) -> PlanItem | None:
    """Create/update a plan line; without ``existing`` it is matched on (service, region,
    customer, tier, means), the line's identity in a document."""
    p = problems if problems is not None else Problems()
    start = len(p.items)
    refs = Refs(session, p)
    service = refs.by_code(Service, d.service, join(path, "service"))
    region_id = refs.id_of(Region, d.region, join(path, "region"))
    customer = refs.optional(CustomerOrg, d.customer, join(path, "customer"))
    tier_id = refs.id_of(ServiceTier, d.tier, join(path, "tier"))
    owner_id = refs.user_id(d.owner, join(path, "owner"))
    if customer is not None and region_id is not None and customer.region_id != region_id:
        p.add(
            join(path, "customer"),
            "该客户不属于所选地区",
            "The customer does not belong to the chosen region.",
        )
    if d.sample_size is None and d.sample_share is None and d.frequency != "per_ticket":
        p.add(join(path, "sample_size"), "请填写样本量或抽样比例", "Give a sample size or a sample share.")
    if problems is None:
        p.raise_if_any()
    if len(p.items) > start or service is None:
        return None
    customer_id = None if customer is None else customer.id
    if customer is not None and region_id is None:
        region_id = customer.region_id
    item = existing or session.scalar(
        select(PlanItem).where(
            PlanItem.service_id == service.id,
            PlanItem.region_id.is_(None) if region_id is None else PlanItem.region_id == region_id,
            PlanItem.customer_id.is_(None) if customer_id is None else PlanItem.customer_id == customer_id,
            PlanItem.tier_id.is_(None) if tier_id is None else PlanItem.tier_id == tier_id,
            PlanItem.means == d.means,
        )
    )
    if item is None:
        item = PlanItem(service_id=service.id, means=d.means)
        session.add(item)
    assign(
        item,
        service_id=service.id,
        region_id=region_id,
        customer_id=customer_id,
        tier_id=tier_id,
        means=d.means,
        frequency=d.frequency,
        sample_size=d.sample_size,
        sample_share=d.sample_share,
        owner_id=owner_id,
        notes=d.notes,
        active=d.active,
    )
    session.flush()
    return item


def delete_plan_item(session: Session, item: PlanItem) -> None:
    session.delete(item)
    session.flush()


# --- coverage -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnmeasuredStandard:
    version: StandardVersion
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class Coverage:
    services: list[Service]
    regions: list[Region]
    cells: dict[tuple[int, int], str]  # (service_id, region_id) -> covered | partial | gap (delivered only)
    services_without_plan: list[Service]
    unmeasured: list[UnmeasuredStandard]

    @property
    def gaps(self) -> list[tuple[int, int]]:
        return sorted(k for k, v in self.cells.items() if v != "covered")


def _delivered(session: Session) -> dict[int, dict[int, set[int]]]:
    """service -> region -> subscribed customer ids (regions listed for the service map to empty sets)."""
    out: dict[int, dict[int, set[int]]] = {}
    for service_id, region_id in session.execute(select(ServiceRegion.service_id, ServiceRegion.region_id)):
        out.setdefault(service_id, {}).setdefault(region_id, set())
    for service_id, region_id, customer_id in session.execute(
        select(Subscription.service_id, Subscription.region_id, Subscription.customer_id)
    ):
        out.setdefault(service_id, {}).setdefault(region_id, set()).add(customer_id)
    return out


def coverage(session: Session, on: date, region_ids: frozenset[int] | None = None) -> Coverage:
    """The coverage view on ``on`` (standards in force that day; see the module docstring);
    ``region_ids`` limits it to a user's regions."""
    services = list(session.scalars(select(Service).where(Service.active.is_(True)).order_by(Service.code)))
    regions_stmt = select(Region).order_by(Region.code)
    if region_ids is not None:
        regions_stmt = regions_stmt.where(Region.id.in_(region_ids))
    regions = list(session.scalars(regions_stmt))
    visible = {r.id for r in regions}
    items = list(session.scalars(select(PlanItem).where(PlanItem.active.is_(True))))
    delivered = _delivered(session)
    cells: dict[tuple[int, int], str] = {}
    for service in services:
        lines = [i for i in items if i.service_id == service.id]
        for region_id, customers in delivered.get(service.id, {}).items():
            if region_id not in visible:
                continue
            if any(i.customer_id is None and i.region_id in (None, region_id) for i in lines):
                cells[(service.id, region_id)] = "covered"
            elif any(i.customer_id in customers for i in lines):
                cells[(service.id, region_id)] = "partial"
            else:
                cells[(service.id, region_id)] = "gap"
    planned = {i.service_id for i in items}
    customer_region = {
        cid: rid for cid, rid in session.execute(select(CustomerOrg.id, CustomerOrg.region_id))
    }
    unmeasured = []
    for version in standards_in_force(session, on):
        standard = version.standard
        if version.measured_by == "kpi":
            if version.metric not in KPI_FEED_METRICS:
                unmeasured.append(
                    UnmeasuredStandard(
                        version,
                        f"没有 KPI 数据源提供指标 {version.metric}",
                        f"No KPI feed provides the metric {version.metric}.",
                    )
                )
            continue
        cust_region = customer_region.get(standard.customer_id) if standard.customer_id else None
        if not any(
            i.service_id == standard.service_id
            and i.means == version.measured_by
            and (standard.customer_id is None or i.customer_id in (None, standard.customer_id))
            and (cust_region is None or i.region_id in (None, cust_region))
            for i in items
        ):
            unmeasured.append(
                UnmeasuredStandard(
                    version,
                    f"感知计划中没有用“{version.measured_by}”感知该服务的条目",
                    f"No plan line perceives this service by {version.measured_by}.",
                )
            )
    return Coverage(services, regions, cells, [s for s in services if s.id not in planned], unmeasured)


# --- roles and training -------------------------------------------------------------------------


def system_owner_id(session: Session) -> int | None:
    """The system owner's user id, read without creating the system's row (pages that only read)."""
    return session.scalar(select(PerceptionSystem.system_owner_id).order_by(PerceptionSystem.id).limit(1))


def system_record(session: Session) -> PerceptionSystem:
    record = session.scalar(select(PerceptionSystem).order_by(PerceptionSystem.id).limit(1))
    if record is None:
        record = PerceptionSystem()
        session.add(record)
        session.flush()
    return record


def provider_names(session: Session) -> tuple[str, str]:
    """The provider's name in Chinese and English ("" where not set), without creating the row."""
    row = session.execute(
        select(PerceptionSystem.provider_name_zh, PerceptionSystem.provider_name_en)
        .order_by(PerceptionSystem.id)
        .limit(1)
    ).first()
    return (row[0] or "", row[1] or "") if row else ("", "")


def set_provider_names(session: Session, zh: str, en: str) -> PerceptionSystem:
    """Name the service provider (shown on report covers); blank parts are stored empty."""
    record = system_record(session)
    assign(record, provider_name_zh=(zh or "").strip(), provider_name_en=(en or "").strip())
    session.flush()
    return record


def set_system_owner(session: Session, user: User | None, path: str = "system_owner") -> PerceptionSystem:
    if user is not None and not user.has_role(Role.SYSTEM_OWNER):
        raise SetupError.one(
            path, "体系负责人必须具有“体系负责人”角色", "The system owner must hold the system-owner role."
        )
    record = system_record(session)
    assign(record, system_owner_id=None if user is None else user.id)
    session.flush()
    return record


def set_point_roles(
    session: Session, point: CollectionPoint, lead: User | None, organiser: User | None, path: str = ""
) -> CollectionPoint:
    """The collection point's lead and designated organiser (staff of that region or region-free)."""
    p = Problems()
    for key, user in (("lead_id", lead), ("organiser_id", organiser)):
        if user is None:
            continue
        if user.has_role(Role.CUSTOMER_REP) or not user.active:
            p.add(
                join(path, key), "必须是在职的服务方人员", "Must be an active member of the provider's staff."
            )
        elif user.region_id is not None and user.region_id != point.region_id:
            p.add(join(path, key), "该用户属于其他地区", "This user belongs to another region.")
    if organiser is not None and not organiser.has_role(Role.ORGANISER, Role.SYSTEM_OWNER, Role.COLLECTOR):
        p.add(
            join(path, "organiser_id"),
            "指定的整理人应具有整理人或采集员角色",
            "The designated organiser should hold the organiser or collector role.",
        )
    p.raise_if_any()
    assign(
        point,
        lead_id=None if lead is None else lead.id,
        organiser_id=None if organiser is None else organiser.id,
    )
    session.flush()
    return point


def save_training(
    session: Session,
    d: TrainingDef,
    path: str = "",
    problems: Problems | None = None,
    existing: TrainingRecord | None = None,
) -> TrainingRecord | None:
    """A training record; without ``existing`` it is matched on (trainee, date, English topic)."""
    p = problems if problems is not None else Problems()
    start = len(p.items)
    refs = Refs(session, p)
    user_id = refs.user_id(d.user, join(path, "user"))
    region_id = refs.id_of(Region, d.region, join(path, "region"))
    if problems is None:
        p.raise_if_any()
    if len(p.items) > start:
        return None
    record = existing or session.scalar(
        select(TrainingRecord).where(
            TrainingRecord.trainee_name == d.trainee,
            TrainingRecord.held_on == d.held_on,
            TrainingRecord.topic_en == d.topic_en,
        )
    )
    if record is None:
        record = TrainingRecord(
            trainee_name=d.trainee, held_on=d.held_on, topic_zh=d.topic_zh, topic_en=d.topic_en
        )
        session.add(record)
    assign(
        record,
        user_id=user_id,
        trainee_name=d.trainee,
        region_id=region_id,
        held_on=d.held_on,
        topic_zh=d.topic_zh,
        topic_en=d.topic_en,
        trainer=d.trainer,
        hours=d.hours,
    )
    session.flush()
    return record
