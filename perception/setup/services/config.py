"""Configuration as code: the whole setup as one YAML/JSON document, exported and imported.

Document (``format: perception-setup/1``), sections in dependency order:
regions, collection_points, customers, contacts, tiers, services, subscriptions, strategy,
standards, slas, plan, roles, training. Objects refer to each other by code and to users by
username (users themselves are not part of the document: they are accounts, not setup).

Import is all-or-nothing: every entry is read first (problems name the path of the bad field,
e.g. ``standards[3].versions[0].target``), then applied inside a SAVEPOINT; any problem rolls the
whole document back, and so does a dry run once it has counted the changes. It is idempotent:
entries are matched on their natural key and only changed fields are written, so importing the
same document twice changes nothing the second time (``ImportResult.changes`` counts the audited
row changes). Import adds and updates, never deletes.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from perception.core.audit import record
from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.audit import AuditEntry
from perception.core.models.auth import User
from perception.core.models.org import CollectionPoint, Contact, CustomerOrg, Region
from perception.setup.models.catalog import Service, ServiceTier, Subscription
from perception.setup.models.standards import (
    AgreementKind,
    PerceptionSystem,
    PlanItem,
    ServiceStandard,
    ServiceStrategy,
    Sla,
    StandardVersion,
    TrainingRecord,
)
from perception.setup.services import catalog, schema
from perception.setup.services.agreements import save_sla, slas_to_def_dicts
from perception.setup.services.errors import Problems, SetupError
from perception.setup.services.plan import save_plan_item, save_training, set_point_roles, set_system_owner
from perception.setup.services.reader import Reader
from perception.setup.services.refs import Refs, codes_of, looked_up, usernames_of
from perception.setup.services.standard_io import export_standards, restore_standard

FORMAT = "perception-setup/1"
SECTIONS = (
    "regions",
    "collection_points",
    "customers",
    "contacts",
    "tiers",
    "services",
    "subscriptions",
    "strategy",
    "standards",
    "slas",
    "plan",
    "roles",
    "training",
)


@dataclass(frozen=True)
class ImportResult:
    entries: dict[str, int]
    changes: int
    dry_run: bool


def load_text(text: str | bytes, fmt: str | None = None) -> Any:
    """Parse YAML or JSON text (JSON is YAML, but JSON errors are clearer with the JSON parser)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    try:
        if fmt == "json" or (fmt is None and text.lstrip().startswith("{")):
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SetupError.one(
            "$", f"无法解析文档：{exc}", f"The document cannot be parsed: {exc}", code="unparsable"
        ) from exc


class _Dumper(yaml.SafeDumper):
    """Safe YAML that also writes the vocabularies' StrEnum members (a row written in this session
    still holds the member, not the plain text it is stored as)."""


_Dumper.add_multi_representer(enum.StrEnum, lambda dumper, value: dumper.represent_str(value.value))


def dump_text(doc: dict[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2)
    return yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


# --- export -------------------------------------------------------------------------------------


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
            for nested in ("services", "holidays", "indicators", "promises", "escalations", "reports")
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

_READERS: dict[str, Callable[[Any, str, Problems], Any]] = {
    "regions": schema.read_region,
    "collection_points": schema.read_point,
    "customers": schema.read_customer,
    "contacts": schema.read_contact,
    "tiers": schema.read_tier,
    "services": schema.read_service,
    "subscriptions": schema.read_subscription,
    "strategy": schema.read_strategy,
    "standards": schema.read_standard,
    "slas": schema.read_sla,
    "plan": schema.read_plan,
    "training": schema.read_training,
}


def read_document(
    doc: Any, sections: tuple[str, ...] = SECTIONS, *, default_timezone: str = DEFAULT_TIMEZONE
) -> tuple[dict[str, list[tuple[str, Any]]], Any]:
    """Every entry read into its definition (path, def); raises SetupError naming every bad field."""
    readers = _READERS | {
        "regions": partial(schema.read_region, default_timezone=default_timezone),
        "slas": partial(schema.read_sla, default_timezone=default_timezone),
    }
    p = Problems()
    r = Reader(doc, "", p)
    if r.data.get("format", FORMAT) != FORMAT:
        r.bad("format", f"不支持的格式，应为 {FORMAT}", f"Unsupported format: expected {FORMAT}.")
    for key in r.data:
        if key != "format" and key not in SECTIONS:
            r.bad(key, f"未知的部分“{key}”", f"Unknown section '{key}'.")
    defs: dict[str, list[tuple[str, Any]]] = {}
    for section in sections:
        if section in readers:
            defs[section] = [(path, readers[section](value, path, p)) for path, value in r.items(section)]
    roles = r.data.get("roles") if "roles" in sections else None
    if roles is not None:
        Reader(roles, "roles", p)  # records a problem if it is not an object
    p.raise_if_any()
    return defs, roles


def _ordered_standards(entries: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Standards that others name as their experience target come first."""
    codes = {d.code for _, d in entries}
    placed: set[str] = set()
    out: list[tuple[str, Any]] = []
    pending = list(entries)
    while pending:
        ready = [
            e
            for e in pending
            if e[1].experience_standard is None
            or e[1].experience_standard not in codes
            or e[1].experience_standard in placed
        ]
        ready = ready or pending[:1]  # a cycle: the reference problem will name it
        for entry in ready:
            out.append(entry)
            placed.add(entry[1].code)
            pending.remove(entry)
    return out


def _apply_roles(session: Session, roles: Any, p: Problems) -> None:
    r = Reader(roles, "roles", p)
    refs = Refs(session, p)
    if "system_owner" in r.data:
        owner = refs.user(r.text("system_owner"), r.at("system_owner"))
        try:
            set_system_owner(session, owner, r.at("system_owner"))
        except SetupError as exc:
            p.extend(exc.problems)
    for path, entry in r.items("collection_points"):
        er = Reader(entry, path, p)
        point = refs.by_code(CollectionPoint, er.req("code"), er.at("code"))
        lead = refs.user(er.text("lead"), er.at("lead"))
        organiser = refs.user(er.text("organiser"), er.at("organiser"))
        if point is not None:
            try:
                set_point_roles(session, point, lead, organiser, path)
            except SetupError as exc:
                p.extend(exc.problems)


class _Undo(Exception):
    """Raised inside the import's savepoint so that it is rolled back (problems, or a dry run)."""


def import_document(
    session: Session,
    doc: Any,
    user: User | None = None,
    *,
    dry_run: bool = False,
    sections: tuple[str, ...] = SECTIONS,
    default_timezone: str = DEFAULT_TIMEZONE,
) -> ImportResult:
    """Validate and apply a document all-or-nothing (see the module docstring). Regions and
    agreements that name no time zone get ``default_timezone`` (callers pass the organisation's)."""
    defs, roles = read_document(doc, sections, default_timezone=default_timezone)
    p = Problems()
    before = session.scalar(select(func.max(AuditEntry.id))) or 0
    appliers: dict[str, Callable[[Any, str], Any]] = {
        "regions": lambda d, path: catalog.save_region(session, d, path, p),
        "collection_points": lambda d, path: catalog.save_point(session, d, path, p),
        "customers": lambda d, path: catalog.save_customer(session, d, path, p),
        "contacts": lambda d, path: catalog.save_contact(session, d, path, p),
        "tiers": lambda d, path: catalog.save_tier(session, d, path, p),
        "services": lambda d, path: catalog.save_service(session, d, path, p),
        "subscriptions": lambda d, path: catalog.save_subscription(session, d, path, p),
        "strategy": lambda d, path: catalog.save_strategy(session, d, path, p),
        "standards": lambda d, path: restore_standard(session, d, path, p, user),
        "slas": lambda d, path: save_sla(session, d, path, p),
        "plan": lambda d, path: save_plan_item(session, d, path, p),
        "training": lambda d, path: save_training(session, d, path, p),
    }
    try:
        # The savepoint is released when every entry applied cleanly; any exception inside,
        # _Undo included, rolls the whole document back.
        with session.begin_nested():
            for section in sections:
                entries = defs.get(section, [])
                if section == "standards":
                    entries = _ordered_standards(entries)
                if section == "slas":
                    entries = sorted(entries, key=lambda e: e[1].kind == AgreementKind.OLA)
                if section == "roles" and roles is not None:
                    _apply_roles(session, roles, p)
                for path, d in entries:
                    appliers[section](d, path)
            changes = session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.id > before)) or 0
            if p or dry_run:
                raise _Undo
    except _Undo:
        p.raise_if_any()
    counts = {s: len(defs.get(s, [])) for s in sections if s in defs}
    if not dry_run:
        record(session, "import", object_type="setup", summary=f"setup import: {changes} changes, {counts}")
    return ImportResult(counts, int(changes), dry_run)


def export_with_audit(session: Session) -> dict[str, Any]:
    doc = export_document(session)
    record(session, "export", object_type="setup", summary="setup export")
    return doc


__all__ = [
    "FORMAT",
    "SECTIONS",
    "ImportResult",
    "dump_text",
    "export_document",
    "export_with_audit",
    "import_document",
    "load_text",
    "read_document",
]
