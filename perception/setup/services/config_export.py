"""Configuration as code, the export half: the whole setup as one YAML/JSON document.

The document's format and sections are described in ``perception.setup.services.config``, which
reads documents back (the import). Every section is one query; codes and usernames the rows refer
to are looked up once per section.
"""

from __future__ import annotations

import enum
import json
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from perception.core.audit import record
from perception.core.models.org import CollectionPoint, Contact, CustomerOrg, Region
from perception.setup.models.catalog import Service, ServiceTier, Subscription
from perception.setup.models.standards import (
    PerceptionSystem,
    PlanItem,
    ServiceStandard,
    ServiceStrategy,
    Sla,
    StandardVersion,
    TrainingRecord,
)
from perception.setup.services import catalog
from perception.setup.services.agreements import slas_to_def_dicts
from perception.setup.services.config import FORMAT
from perception.setup.services.refs import codes_of, looked_up, usernames_of
from perception.setup.services.standard_io import export_standards


class _Dumper(yaml.SafeDumper):
    """Safe YAML that also writes the vocabularies' StrEnum members (a row written in this session
    still holds the member, not the plain text it is stored as)."""


_Dumper.add_multi_representer(enum.StrEnum, lambda dumper, value: dumper.represent_str(value.value))


def dump_text(doc: dict[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2)
    return yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def export_document(session: Session) -> dict[str, Any]:
    """The whole setup as one document. Each section is one query for its rows; the codes and
    usernames the rows refer to are looked up once per section, never once per row."""

    def iso(v: Any) -> Any:
        return v.isoformat() if v is not None else None

    def rows(model: type, order: Any, *options: Any) -> list[Any]:
        return list(session.scalars(select(model).options(*options).order_by(order)))

    regions = rows(Region, Region.code)
    points = rows(CollectionPoint, CollectionPoint.code)
    customers = rows(CustomerOrg, CustomerOrg.code)
    contacts = rows(Contact, Contact.id)
    tiers = rows(ServiceTier, ServiceTier.rank)
    services = rows(Service, Service.code)
    subscriptions = rows(Subscription, Subscription.id)
    strategies = rows(ServiceStrategy, ServiceStrategy.version)
    standards = rows(
        ServiceStandard,
        ServiceStandard.code,
        selectinload(ServiceStandard.versions).selectinload(StandardVersion.events),
    )
    slas = rows(
        Sla,
        Sla.code,
        *(
            selectinload(getattr(Sla, nested))
            for nested in (
                "services",
                "holidays",
                "workdays",
                "indicators",
                "promises",
                "escalations",
                "reports",
            )
        ),
    )
    plan = rows(PlanItem, PlanItem.id)
    training = rows(TrainingRecord, TrainingRecord.id)
    system = session.scalar(select(PerceptionSystem).order_by(PerceptionSystem.id).limit(1))

    region_code = codes_of(
        session,
        Region,
        [
            *(p.region_id for p in points),
            *(c.region_id for c in customers),
            *(i.region_id for i in plan),
            *(t.region_id for t in training),
        ],
    )
    customer_code = codes_of(
        session,
        CustomerOrg,
        [
            *(c.customer_id for c in contacts),
            *(s.customer_id for s in subscriptions),
            *(i.customer_id for i in plan),
        ],
    )
    service_code = codes_of(
        session, Service, [*(s.service_id for s in subscriptions), *(i.service_id for i in plan)]
    )
    tier_code = codes_of(
        session, ServiceTier, [*(s.tier_id for s in subscriptions), *(i.tier_id for i in plan)]
    )
    name = usernames_of(
        session,
        [
            *(s.owner_id for s in services),
            *(s.owner_id for s in strategies),
            *(i.owner_id for i in plan),
            *(p.lead_id for p in points),
            *(p.organiser_id for p in points),
            *(t.user_id for t in training),
            system.system_owner_id if system else None,
        ],
    )
    service_regions = catalog.service_region_codes(session)

    doc: dict[str, Any] = {"format": FORMAT}
    doc["regions"] = [
        {"code": r.code, "name_zh": r.name_zh, "name_en": r.name_en, "timezone": r.timezone} for r in regions
    ]
    doc["collection_points"] = [
        {
            "code": p.code,
            "name_zh": p.name_zh,
            "name_en": p.name_en,
            "region": looked_up(region_code, p.region_id),
            "report_due_weekday": p.report_due_weekday,
            "report_due_time": p.report_due_time.strftime("%H:%M"),
            "active": p.active,
            "active_from": p.active_from.isoformat() if p.active_from else None,
        }
        for p in points
    ]
    doc["customers"] = [
        {
            "code": c.code,
            "name_zh": c.name_zh,
            "name_en": c.name_en,
            "region": looked_up(region_code, c.region_id),
            "industry": c.industry,
        }
        for c in customers
    ]
    doc["contacts"] = [
        {
            "customer": looked_up(customer_code, c.customer_id),
            "name": c.name,
            "email": c.email,
            "phone": c.phone,
            "title": c.title,
            "language": c.language,
        }
        for c in contacts
    ]
    doc["tiers"] = [
        {"code": t.code, "name_zh": t.name_zh, "name_en": t.name_en, "rank": t.rank} for t in tiers
    ]
    doc["services"] = [
        {
            "code": s.code,
            "name_zh": s.name_zh,
            "name_en": s.name_en,
            "description_zh": s.description_zh,
            "description_en": s.description_en,
            "kind": s.kind,
            "owner": looked_up(name, s.owner_id),
            "active": s.active,
            "regions": sorted(service_regions.get(s.id, [])),
        }
        for s in services
    ]
    doc["subscriptions"] = [
        {
            "customer": looked_up(customer_code, s.customer_id),
            "service": looked_up(service_code, s.service_id),
            "tier": looked_up(tier_code, s.tier_id),
        }
        for s in subscriptions
    ]
    doc["strategy"] = [
        {
            "version": s.version,
            "title_zh": s.title_zh,
            "title_en": s.title_en,
            "statement_zh": s.statement_zh,
            "statement_en": s.statement_en,
            "principles_zh": s.principles_zh,
            "principles_en": s.principles_en,
            "owner": looked_up(name, s.owner_id),
            "effective_from": iso(s.effective_from),
        }
        for s in strategies
    ]
    doc["standards"] = export_standards(session, standards)
    doc["slas"] = slas_to_def_dicts(session, slas)
    doc["plan"] = [
        {
            "service": looked_up(service_code, i.service_id),
            "region": looked_up(region_code, i.region_id),
            "customer": looked_up(customer_code, i.customer_id),
            "tier": looked_up(tier_code, i.tier_id),
            "means": i.means,
            "frequency": i.frequency,
            "sample_size": i.sample_size,
            "sample_share": i.sample_share,
            "owner": looked_up(name, i.owner_id),
            "notes": i.notes,
            "active": i.active,
        }
        for i in plan
    ]
    doc["roles"] = {
        "system_owner": looked_up(name, system.system_owner_id) if system else None,
        "provider": {
            "zh": system.provider_name_zh if system else "",
            "en": system.provider_name_en if system else "",
        },
        "collection_points": [
            {"code": p.code, "lead": looked_up(name, p.lead_id), "organiser": looked_up(name, p.organiser_id)}
            for p in points
        ],
    }
    doc["training"] = [
        {
            "trainee": t.trainee_name,
            "user": looked_up(name, t.user_id),
            "region": looked_up(region_code, t.region_id),
            "held_on": iso(t.held_on),
            "topic_zh": t.topic_zh,
            "topic_en": t.topic_en,
            "trainer": t.trainer,
            "hours": t.hours,
        }
        for t in training
    ]
    return doc


# --- import -------------------------------------------------------------------------------------


def export_with_audit(session: Session) -> dict[str, Any]:
    doc = export_document(session)
    record(session, "export", object_type="setup", summary="setup export")
    return doc
